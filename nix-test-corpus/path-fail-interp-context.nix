# The same for a path with interpolations.
let d = derivation { name = "d"; system = "x86_64-linux"; builder = "/bin/sh"; };
in /tmp/${d}/x
