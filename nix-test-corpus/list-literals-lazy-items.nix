# List literals: empty, one item, many, items that are constants, variables, lambdas and
# expressions (left unevaluated until used: an item that throws is only an error when it is
# forced), nested lists, and lists built in a loop.
let
  x = 1;
  f = n: [ n (n + 1) (throw "item ${toString n} is never forced") ];
  many = builtins.genList (i: [ i [ i ] [ ] ]) 50;
in {
  empty = [ ];
  one = [ x ];
  mixed = [ 1 "s" x (x + 1) (y: y) null [ x [ x ] ] ];
  lazy = [ (builtins.length (f 3)) (builtins.head (f 5)) (builtins.elemAt (f 7) 1) ];
  tried = builtins.tryEval (builtins.elemAt (f 9) 2);
  many = builtins.foldl' (acc: l: acc + builtins.head l + builtins.length (builtins.elemAt l 1)) 0 many;
  functions = builtins.length [ (a: a) (b: b) ];
}
