1 + builtins.add 1
