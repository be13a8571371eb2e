let
  base = { a = 1; b = { c = 2; }; };
  name = "dyn";
in
rec {
  inherit (base) a;
  inherit name;
  x.y.z = 1;
  x.y.w = 2;
  ${name} = "dynamic attribute";
  "quoted attr" = true;
  hasC = base ? b.c;
  hasD = base ? b.d;
  orDefault = base.b.d or "default";
  selfRef = a + 10;
  merged = base // { b = "replaced"; e = 5; };
  names = builtins.attrNames { zeta = 1; alpha = 2; Mid = 3; _u = 4; };
}
