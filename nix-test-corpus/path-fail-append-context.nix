# Appending a string that refers to a store path to a path is refused (`+`).
let d = derivation { name = "d"; system = "x86_64-linux"; builder = "/bin/sh"; };
in /tmp + "/${d}"
