# The lazy `f name value` applications of mapAttrs and zipAttrsWith, with every kind of `f`:
# a lambda of two arguments, a lambda returning a function it computes,
# a builtin, a partly applied builtin, a set with __functor; and a value that fails, forced
# twice through tryEval (the same error both times), and one that is never forced.
let
  s = { a = 1; b = 2; c = 3; };
  two = n: v: "${n}=${toString v}";
  computed = n: let g = v: "${n}:${toString (v * 10)}"; in if n == "a" then g else (v: g (v + 1));
  functor = { __functor = self: n: v: "${self.tag}${n}${toString v}"; tag = "F-"; };
  failing = builtins.mapAttrs (n: v: if n == "b" then throw "bad ${n}" else v) s;
  lazyFail = builtins.mapAttrs (n: v: throw "never") s;
in {
  two = builtins.mapAttrs two s;
  computed = builtins.mapAttrs computed s;
  builtin = builtins.mapAttrs builtins.seq s;
  getAttr = builtins.mapAttrs builtins.getAttr { a = { a = 5; }; b = { b = 6; }; };
  partial = builtins.mapAttrs (builtins.foldl' (acc: x: acc + x)) { x = [ "1" "2" ]; y = [ ]; };
  functor = builtins.mapAttrs functor s;
  zipped = builtins.zipAttrsWith (n: vs: "${n}:${toString vs}") [ s { b = 20; d = 40; } ];
  zipComputed = builtins.zipAttrsWith (n: if n == "a" then builtins.length else builtins.head) [ { a = 1; } { a = 2; b = 5; } ];
  failing = [ failing.a (builtins.tryEval failing.b) (builtins.tryEval failing.b) failing.c ];
  lazy = builtins.attrNames lazyFail;
}
