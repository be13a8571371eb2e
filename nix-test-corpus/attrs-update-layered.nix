# `//` with one big side (>= 1024 names) and one small side shares the big side (a layered
# set): everything observable must be the flat result. Names are made in reverse order so
# the evaluator's symbol order differs from name order.
let
  inherit (builtins) genList listToAttrs attrNames attrValues length hashString toJSON
    mapAttrs intersectAttrs removeAttrs unsafeGetAttrPos hasAttr getAttr foldl' elemAt;
  big = n: prefix: listToAttrs (genList (i: { name = "${prefix}${toString (n - i)}"; value = n - i; }) n);
  digest = s: hashString "sha256" (toJSON s);
  b = big 2000 "p";
  # right side small: overlay wins, new names land between the base's
  r1 = b // { p5 = "five"; p1999 = "last"; q = 1; a = 0; "p1000x" = 2; };
  # a chain of small overlays (lib.extends), each replacing and adding
  chain = foldl' (acc: i: acc // { "p${toString i}" = "c${toString i}"; "new${toString i}" = i; }) b (genList (i: i * 7) 40);
  # left side small: the big side wins on shared names
  l1 = { p5 = "lost"; zz = "kept"; a = "kept-a"; } // b;
  # small // layered, layered // small, layered // layered (same base), both big
  l2 = { p7 = "lost"; new14 = "lost"; only = "left"; } // chain;
  r2 = r1 // { q = 2; p6 = null; };
  both = r1 // chain;
  both2 = chain // r1;
  # the overlay grows past half of the base: flat again, still the same set
  grow = foldl' (acc: i: acc // listToAttrs (genList (j: { name = "g${toString i}_${toString j}"; value = j; }) 100)) b (genList (i: i) 15);
  # exactly at the thresholds
  b1024 = big 1024 "t";
  b1023 = big 1023 "t";
  half = listToAttrs (genList (i: { name = "h${toString i}"; value = i; }) 512);
  halfPlus = half // { h512 = 512; };
  edges = [ (b1024 // half) (b1024 // halfPlus) (b1023 // half) (half // b1024) (halfPlus // b1024) ((b1024 // half) // { t1 = "x"; }) ];
  sets = { inherit r1 chain l1 l2 r2 both both2 grow; e0 = elemAt edges 0; e1 = elemAt edges 1; e2 = elemAt edges 2; e3 = elemAt edges 3; e4 = elemAt edges 4; e5 = elemAt edges 5; };
  summary = s: {
    len = length (attrNames s);
    names = digest (attrNames s);
    values = digest (attrValues s);
    json = digest s;
    first = elemAt (attrNames s) 0;
    last = elemAt (attrNames s) (length (attrNames s) - 1);
    mapped = digest (mapAttrs (n: v: n) s);
    inter = intersectAttrs { p5 = 0; q = 0; zz = 0; only = 0; t1 = 0; h3 = 0; missing = 0; } s;
    removed = length (attrNames (removeAttrs s [ "p5" "q" "a" "t1" "h0" ]));
  };
in
mapAttrs (_: summary) sets // {
  lookups = [ r1.p5 r1.p4 r1.p1999 r1.q (r1.p1000x) chain.p14 chain.new14 chain.p15 l1.p5 l1.zz l1.a l2.p7 l2.new14 l2.only r2.q r2.p6 r2.p5 both.p14 both.q both2.p5 both2.p14 (hasAttr "p2001" r1) (getAttr "p2000" chain) ];
  equal = [ (r1 == r1) (chain == (b // chain)) (r1 == b) (l1 == (b // { zz = "kept"; a = "kept-a"; })) (both == (chain // r1)) (grow == (b // grow)) ((b1024 // half) == (half // b1024)) ];
  positions = map (s: let p = unsafeGetAttrPos "p5" s; in if p == null then null else { inherit (p) line column; }) [ b r1 chain l1 r2 ];
  qpos = (unsafeGetAttrPos "q" r2).line;
  rec' = (rec { x = 1; __overrides = big 1100 "o"; } // { y = 2; }).o5;
  drv = (derivation (big 1030 "e" // { name = "layered"; builder = "/bin/sh"; system = "x86_64-linux"; e5 = "five"; })).drvPath;
  printed = builtins.removeAttrs (big 1100 "w" // { w3 = "three"; }) (genList (i: "w${toString (i + 4)}") 1097);
}
