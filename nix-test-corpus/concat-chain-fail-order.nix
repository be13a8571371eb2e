# The reference checks the innermost pair of a `++` chain first: the set, not the string.
[ 1 ] ++ "a" ++ [ 2 ] ++ { }
