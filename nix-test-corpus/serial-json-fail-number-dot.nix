builtins.fromJSON "[1.]"
