# Sets of one size are compared attribute by attribute: a value is compared (and forced)
# before a later attribute name is found to differ.
{ a = throw "value compared first"; b = 1; } == { a = 2; c = 1; }
