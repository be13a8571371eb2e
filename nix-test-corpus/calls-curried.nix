# Applications of several arguments: curried lambdas (with and without formals),
# builtins given all or only some of their arguments, partial applications kept
# and reused, functors, and arguments that are never forced.
let
  add3 = a: b: c: a + b + c;
  withFormals = { x, y ? 10 }: { z }: x + y + z;
  atPattern = args@{ p, ... }: q: [ p q (builtins.attrNames args) ];
  add1 = add3 1;
  add1and2 = add3 1 2;
  constFirst = a: b: a;
  addB = builtins.add;
  inc = builtins.add 1;
  sub = builtins.sub;
  functor = { __functor = self: a: b: self.base + a * b; base = 100; };
  elemAt = builtins.elemAt;
  twice = f: x: f (f x);
  compose = f: g: x: f (g x);
  letBody = a: let k = a * 2; in b: k + b;
in
[
  (add3 1 2 3)
  (add1 2 3)
  (add1and2 3)
  (map add1and2 [ 10 20 ])
  (map (add3 1 1) [ 1 2 ])
  (withFormals { x = 1; } { z = 2; })
  (withFormals { x = 1; y = 2; } { z = 3; })
  (atPattern { p = 1; r = 2; } 3)
  (constFirst 7 (throw "never forced"))
  (addB 2 3)
  (inc 41)
  (sub 10 3)
  (builtins.foldl' builtins.add 0 [ 1 2 3 4 ])
  (builtins.foldl' (acc: x: acc * 10 + x) 0 [ 1 2 3 ])
  (functor 2 3)
  (elemAt [ 1 2 3 ] 2)
  (elemAt [ (a: b: a - b) ] 0 10 4)
  (twice (add3 1 1) 0)
  (compose inc (builtins.mul 2) 5)
  (letBody 3 4)
  (builtins.genList (add3 0 1) 3)
  (builtins.mapAttrs (name: value: name + value) { a = "x"; b = "y"; })
  (builtins.zipAttrsWith (name: values: builtins.length values) [ { a = 1; } { a = 2; b = 3; } ])
  (let f = builtins.add 1; in [ f ] == [ f ])
  (let f = add3 1; g = add3 1; in [ f ] == [ g ])
  (builtins.isFunction (add3 1 2))
  (builtins.functionArgs (withFormals { x = 1; }))
]
