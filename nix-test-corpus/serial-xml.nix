# toXML: every kind of value, escaping, function patterns, derivations (repeated rule).
let
  drv = { type = "derivation"; drvPath = "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x.drv"; outPath = "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x"; name = "x"; };
  v = {
    i = -42;
    f = [ 1.5 0.1 1.0e21 123456789.0 1.0e-5 3.0 ];
    s = "quote \" lt < gt > amp & nl \n tab \t apos ' dollar $";
    b = [ true false ];
    n = null;
    p = ./serial-xml.nix;
    fun = { z, x ? 1, y, ... }@args: x;
    fun2 = { b, a }: a;
    fun3 = x: x;
    prim = builtins.toXML;
    prim2 = builtins.seq 1;
    d = [ drv drv { type = "derivation"; name = "nodrvpath"; } ];
    nested = { "a b" = { c = [ [ ] { } ]; }; };
  };
in
[ (builtins.toXML v) (builtins.toXML "x") (builtins.toXML [ ]) ]
