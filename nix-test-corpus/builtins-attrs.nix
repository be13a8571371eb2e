let
  s = { b = 2; a = 1; c = 3; };
in
[
  (builtins.attrValues s)
  (builtins.mapAttrs (n: v: "${n}=${toString v}") s)
  (builtins.intersectAttrs { a = null; c = null; z = null; } s)
  (builtins.removeAttrs s [ "a" "nope" ])
  (builtins.catAttrs "x" [ { x = 1; } { y = 2; } { x = 3; } ])
  (builtins.hasAttr "b" s)
  (builtins.getAttr "c" s)
  (builtins.zipAttrsWith (n: vs: vs) [ { a = 1; } { a = 2; b = 3; } ])
  (builtins.attrNames (builtins.listToAttrs (builtins.genList (i: { name = "k${toString i}"; value = i; }) 12)))
]
