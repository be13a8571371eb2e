builtins.fromJSON "[1, 2.5e-]"
