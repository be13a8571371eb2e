# An indented string is no attribute name (the reference rejects it; rnix accepts it).
{ a = 1; }.''a''
