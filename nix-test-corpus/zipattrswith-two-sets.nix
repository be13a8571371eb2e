# zipAttrsWith over exactly two sets (recursiveUpdate's case, merged without sorting):
# names of either side, value lists in list order, empty sides, names out of symbol order,
# the function applied lazily, and equality of integers inside and outside lists.
let
  z = builtins.zipAttrsWith (n: vs: { inherit n vs; });
  late = { zz = 1; b = 2; m = 3; };
  early = { m = 30; a = 10; zz = 40; q = 50; };
  lazy = builtins.zipAttrsWith (n: vs: throw "forced ${n}") [ { x = 1; } { y = 2; } ];
in [
  (z [ late early ])
  (z [ early late ])
  (z [ { } early ])
  (z [ late { } ])
  (z [ { } { } ])
  (builtins.attrNames lazy)
  (builtins.zipAttrsWith (n: builtins.length) [ { a = 1; b = 2; } { b = 3; c = throw "lazy"; } ])
  (1 == 1) (1 == 2) ([ 1 2 ] == [ 1 2 ]) ([ 1 ] == [ 2 ]) (1 == 1.0) ({ a = 1; } == { a = 1; })
]
