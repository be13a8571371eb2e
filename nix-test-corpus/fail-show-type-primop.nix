builtins.length builtins.add
