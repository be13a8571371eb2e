let
  f = { a, b ? a * 2, ... }@args: [ a b (builtins.attrNames args) ];
  g = x: y: x - y;
  compose = f: g: x: f (g x);
in
[
  (f { a = 1; })
  (f { a = 1; b = 5; extra = true; })
  (builtins.functionArgs f)
  (builtins.functionArgs g)
  (g 10 3)
  ((compose (x: x * 2) (x: x + 1)) 5)
  (builtins.isFunction g)
  (builtins.map (g 100) [ 1 2 3 ])
]
