# A function is never equal to itself when compared directly.
let id = x: x; in
assert id == id;
0
