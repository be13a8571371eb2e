# builtins.storePath keeps the context of its argument and adds the store path itself.
let
  d = derivation { name = "a"; builder = "/bin/sh"; system = "x86_64-linux"; outputs = [ "out" "dev" ]; };
in
{
  drv = builtins.getContext (builtins.storePath d.drvPath);
  out = builtins.getContext (builtins.storePath "${d.dev}");
  plain = builtins.getContext (builtins.storePath (builtins.unsafeDiscardStringContext d.outPath));
}
