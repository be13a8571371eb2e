with builtins;
let
  s = { b = 1; a = 2; c = { x = 1; }; "with space" = 3; "10" = 1; "9" = 2; A = 0; };
  f = { x, y ? 1, ... }: x;
in {
  names = attrNames s;
  values = attrValues s;
  cat = catAttrs "a" [ { a = 1; } { b = 2; } { a = 3; } ];
  get = getAttr "a" s;
  has = [ (hasAttr "a" s) (hasAttr "zz" s) (hasAttr "never-interned-name-xyz" s) ];
  inter = intersectAttrs { a = 0; c = 0; z = 0; } s;
  inter2 = intersectAttrs s { a = 10; q = 1; };
  l2a = listToAttrs [ { name = "x"; value = 1; } { name = "y"; value = 2; } { name = "x"; value = 3; } ];
  l2a_dup_novalue = listToAttrs [ { name = "x"; value = 1; } { name = "x"; } ];
  mapped = mapAttrs (n: v: "${n}") s;
  lazy = hasAttr "a" (mapAttrs (n: v: throw "no") { a = 1; });
  removed = removeAttrs s [ "a" "zz" "c" "a" ];
  zipped = zipAttrsWith (n: vs: { inherit n vs; }) [ { a = 1; b = 2; } { b = 3; c = 4; } { a = 5; } ];
  grouped = groupBy (x: if x > 2 then "big" else "small") [ 1 2 3 4 5 0 ];
  fa = [ (functionArgs f) (functionArgs (x: x)) (functionArgs map) (functionArgs (map (x: x))) ];
  pos1 = unsafeGetAttrPos "a" s;
  pos2 = unsafeGetAttrPos "zz" s;
  pos3 = unsafeGetAttrPos "a" (mapAttrs (n: v: v) s);
  pos4 = unsafeGetAttrPos "x" (listToAttrs [ { name = "x"; value = 1; } ]);
  pos5 = unsafeGetAttrPos "a" (removeAttrs s [ "b" ]);
  pos6 = unsafeGetAttrPos "a" (intersectAttrs { a = 1; } s);
  pos7 = unsafeGetAttrPos "y" (functionArgs f);
  pos8 = unsafeGetAttrPos "a" (zipAttrsWith (n: v: v) [ s ]);
}
