# A list compared with itself is compared element by element: the failing element is forced.
let l = [ 1 (throw "same list element forced") ]; in l == l
