# builtins.fetchurl's URL must not refer to a store path (checked before anything is fetched).
let d = derivation { name = "a"; builder = "/bin/sh"; system = "x86_64-linux"; }; in
builtins.fetchurl "${d}"
