builtins.fetchTree { type = "path"; path = ./.; }
