builtins.readDir ./paths-fail-readdir-file.nix
