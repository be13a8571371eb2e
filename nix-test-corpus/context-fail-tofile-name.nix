# The name of a builtins.toFile file must not refer to a store path.
let d = derivation { name = "a"; builder = "/bin/sh"; system = "x86_64-linux"; }; in
builtins.toFile ("f" + builtins.substring 0 0 "${d}") "text"
