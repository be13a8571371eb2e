# Builtins that must not force what the reference does not force.
with builtins;
let
  boom = throw "forced";
  l = [ 1 boom 3 ];
in
{
  map = length (map (x: x + 1) l);
  mapElem = elemAt (map (x: x + 1) l) 2;
  genList = length (genList (x: boom) 3);
  genListElem = elemAt (genList (x: if x == 1 then boom else x) 3) 2;
  mapAttrs = attrNames (mapAttrs (n: v: boom) { a = 1; b = 2; });
  mapAttrsOne = (mapAttrs (n: v: if n == "a" then boom else v) { a = 1; b = 2; }).b;
  listToAttrs = (listToAttrs [ { name = "a"; value = boom; } { name = "b"; value = 2; } ]).b;
  zipAttrsWith = attrNames (zipAttrsWith (n: vs: boom) [ { a = boom; } { b = 1; } ]);
  attrValues = length (attrValues { a = boom; b = 1; });
  catAttrs = length (catAttrs "a" [ { a = boom; } { b = 1; } { a = 2; } ]);
  removeAttrs = attrNames (removeAttrs { a = boom; b = boom; } [ "a" ]);
  intersectAttrs = attrNames (intersectAttrs { a = boom; } { a = boom; b = 1; });
  concatMap = length (concatMap (x: [ x x ]) l);
  concatLists = length (concatLists [ l l ]);
  filter = length (filter (x: true) l);
  head = head [ 1 boom ];
  tail = length (tail l);
  elemAt = elemAt l 0;
  elem = elem 1 l;
  any = any (x: x == 1) l;
  all = all (x: x != 1) l;
  foldlAcc = foldl' (acc: x: x) boom [ 1 2 ];
  groupBy = attrNames (groupBy (x: "k") l);
  genericClosure = length (genericClosure { startSet = [ { key = 1; v = boom; } ]; operator = x: [ ]; });
  getAttr = getAttr "b" { a = boom; b = 2; };
  hasAttr = hasAttr "a" { a = boom; };
  functionArgs = functionArgs ({ a ? boom, b }: a);
}
