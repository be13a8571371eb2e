# A function in an error message shows its name and where it was defined.
let f = x: x; in "${f}"
