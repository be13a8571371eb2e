# builtins.toPath keeps the context of its argument (nixpkgs 18.03's texlive.combine
# lost inputDrvs when it did not), and canonicalises the path without losing it.
let
  d = derivation { name = "a"; builder = "/bin/sh"; system = "x86_64-linux"; outputs = [ "out" "dev" ]; };
  src = builtins.toFile "src" "text";
in
{
  out = builtins.getContext (builtins.toPath d);
  dev = builtins.getContext (builtins.toPath "${d.dev}//x/../y");
  drv = builtins.getContext (builtins.toPath d.drvPath);
  src = builtins.getContext (builtins.toPath src);
  text = builtins.unsafeDiscardStringContext (builtins.toPath "${d.dev}//x/../y");
  path = builtins.hasContext (builtins.toPath ./context-topath.nix);
  # a derivation with an attribute that went through toPath: its path covers its inputDrvs
  dependent = builtins.attrNames (builtins.getContext (derivation {
    name = "b"; builder = "/bin/sh"; system = "x86_64-linux"; p = builtins.toPath d;
  }).drvPath);
}
