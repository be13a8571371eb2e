# Selecting with an attribute name that refers to a store path fails, even with `or`.
let d = derivation { name = "a"; builder = "/bin/sh"; system = "x86_64-linux"; }; in
{ a = 1; }.${d.drvPath} or 2
