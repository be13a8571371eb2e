let
  d = derivation { name = "hello"; builder = "/bin/sh"; system = "x86_64-linux"; args = [ "-c" "echo hi > $out" ]; };
in
[ d.drvPath d.outPath d.name d.type (builtins.attrNames d) ]
