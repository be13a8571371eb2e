builtins.attrNames "${derivation { name = "a"; system = "x"; builder = "/bin/sh"; }}"
