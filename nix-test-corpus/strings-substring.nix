# substring/stringLength: byte offsets, out-of-range start, negative/huge length, context kept
let
  drv = "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-foo.drv";
  s = builtins.appendContext "héllo wörld" { ${drv} = { outputs = [ "out" ]; }; };
  ctx = x: builtins.getContext x;
in
[
  (builtins.substring 0 3 "héllo")
  (builtins.substring 1 2 "héllo")
  (builtins.substring 2 100 "abcdef")
  (builtins.substring 6 1 "abcdef")
  (builtins.substring 100 1 "abcdef")
  (builtins.substring 3 (-1) "abcdef")
  (builtins.substring 0 0 "abcdef")
  (builtins.substring 0 9223372036854775807 "abcdef")
  (builtins.stringLength "héllo")
  (builtins.stringLength "")
  (builtins.stringLength s)
  (builtins.stringLength { outPath = "abc"; })
  (builtins.substring 1 2 { __toString = self: "xyz"; })
  (ctx (builtins.substring 0 0 s))
  (ctx (builtins.substring 100 5 s))
  (ctx (builtins.substring 2 3 s))
  (builtins.unsafeDiscardStringContext (builtins.substring 7 100 s))
]
