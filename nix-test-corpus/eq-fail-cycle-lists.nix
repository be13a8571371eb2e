# A cyclic value: an error about the stack/recursion depth, quickly and in bounded memory.
let x = [ x ]; y = [ y ]; in x == y
