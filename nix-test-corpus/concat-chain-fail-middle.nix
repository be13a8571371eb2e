# A non-list in the middle of a `++` chain is reported at its own operator.
let x = 1; in [ 1 ] ++ [ 2 ] ++ x ++ [ 3 ]
