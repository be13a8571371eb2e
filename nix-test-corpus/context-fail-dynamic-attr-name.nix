# A dynamic attribute name must not refer to a store path.
let d = derivation { name = "a"; builder = "/bin/sh"; system = "x86_64-linux"; }; in
{ ${"${d}"} = 1; }
