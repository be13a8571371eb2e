# A cyclic value: an error about the stack/recursion depth, quickly and in bounded memory.
let x = [ x ]; in (derivation { name = "a"; builder = "b"; system = "c"; y = x; }).drvPath
