# A binding cannot start with an integer.
{ a = 1; 2 = 3; }
