# builtins.fetchurl's name attribute must not refer to a store path.
let d = derivation { name = "a"; builder = "/bin/sh"; system = "x86_64-linux"; }; in
builtins.fetchurl { url = "https://example.org/x"; name = "n${d.drvPath}"; }
