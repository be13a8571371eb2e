builtins.fromJSON "{\"a\": 2e}"
