# Cyclic values print with «repeated» (--strict printing) and deepSeq stops at a value it
# has seen.
let
  x = { a = x; b = [ x ]; };
  l = [ l ];
in
builtins.deepSeq x [ x l (builtins.attrNames x) (builtins.deepSeq l 1) ]
