# Selections along paths (static and dynamic names, evaluated and unevaluated values,
# `or` defaults where a name is missing or a value along the path is not a set) and `//`
# of sets, lazily bound ones and nested ones; attribute names handed out as strings.
let
  deep = { a = { b = { c = 1; d = null; }; s = "str"; n = 5; }; l = [ 1 ]; };
  lazy = let x = { y = { z = "lazy"; }; }; in x;
  k = "b";
  upd = deep // { a = deep.a // { n = 6; }; extra = true; };
in {
  found = [ deep.a.b.c deep.a.${k}.c deep.a.b.d lazy.y.z upd.a.n upd.a.b.c ];
  defaults = [
    (deep.a.b.zz or "missing-last") (deep.a.zz.c or "missing-middle") (deep.a.s.c or "not-a-set")
    (deep.l.x or "list") (deep.a.n.m.o or "int") (deep.a.${k}.c or "unused") (lazy.y.w or lazy.y.z)
  ];
  updates = [ (builtins.attrNames upd) (builtins.attrNames upd.a) ({ } // { }) ({ a = 1; } // { }) ({ } // { b = 2; }) ];
  lazyUpdate = (let f = s: s // { tag = "t"; }; in f (f lazy)).tag;
  nameStrings = builtins.attrValues (builtins.mapAttrs (n: v: n + "!") upd);
  has = [ (deep ? a.b.c) (deep ? a.b.zz) (deep ? a.s.c) (deep ? ${k}) (upd ? extra) (upd.a ? n) ];
}
