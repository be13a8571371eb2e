# The name given to builtins.path must not refer to a store path.
let d = derivation { name = "a"; builder = "/bin/sh"; system = "x86_64-linux"; }; in
builtins.path { path = ./hello.nix; name = "f" + builtins.substring 0 0 d.drvPath; }
