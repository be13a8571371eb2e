# string context: appendContext / getContext round trips, hasContext, discarding
let
  drv = "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-foo.drv";
  src = "/nix/store/baaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-src";
  full = {
    ${drv} = { path = true; allOutputs = true; outputs = [ "out" "dev" "bin" ]; };
    ${src} = { path = true; };
  };
  s = builtins.appendContext "x" full;
  eta = str: str == builtins.appendContext (builtins.unsafeDiscardStringContext str) (builtins.getContext str);
in
[
  (builtins.getContext s)
  (builtins.getContext s == full)
  (builtins.hasContext s)
  (builtins.hasContext "x")
  (builtins.hasContext (builtins.unsafeDiscardStringContext s))
  (builtins.getContext "${s}${s}")
  (builtins.getContext (builtins.unsafeDiscardOutputDependency s))
  (builtins.getContext (builtins.appendContext "y" { ${drv} = { outputs = [ ]; path = false; allOutputs = false; }; }))
  (builtins.getContext (builtins.appendContext s { ${src} = { outputs = [ ]; }; }))
  (eta s)
  (eta "plain")
  (s == "x")
  (builtins.unsafeDiscardStringContext s)
  (builtins.getContext (toString [ s "y" ]))
  (builtins.getContext (builtins.unsafeDiscardStringContext s) == { })
]
