# a regex (like a version or hash algorithm) must not have a string context
let s = builtins.appendContext "x" { "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-foo.drv" = { outputs = [ "out" ]; }; };
in builtins.match s "x"
