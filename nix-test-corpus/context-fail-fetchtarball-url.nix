# builtins.fetchTarball's url attribute must not refer to a store path.
let d = derivation { name = "a"; builder = "/bin/sh"; system = "x86_64-linux"; }; in
builtins.fetchTarball { url = "${d}"; }
