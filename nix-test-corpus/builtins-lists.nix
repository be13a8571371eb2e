let
  xs = builtins.genList (i: i * 3 - 7) 8;
in
[
  xs
  (builtins.sort builtins.lessThan xs)
  (builtins.sort (a: b: a > b) [ 3 1 2 ])
  (builtins.filter (x: x > 0) xs)
  (builtins.foldl' (acc: x: acc + x) 0 xs)
  (builtins.elemAt xs 3)
  (builtins.head xs) (builtins.tail [ 1 2 3 ])
  (builtins.length xs)
  (builtins.concatMap (x: [ x x ]) [ 1 2 ])
  (builtins.concatLists [ [ 1 ] [ ] [ 2 3 ] ])
  (builtins.elem 5 xs) (builtins.elem 2 xs)
  (builtins.any (x: x > 10) xs) (builtins.all (x: x > -10) xs)
  (builtins.partition (x: x < 0) xs)
  (builtins.groupBy (x: if x < 0 then "neg" else "nonneg") xs)
  ([ 1 2 ] ++ [ 3 ])
  (builtins.listToAttrs [ { name = "a"; value = 1; } { name = "a"; value = 2; } { name = "b"; value = 3; } ])
]
