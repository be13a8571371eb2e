# What list and set builtins force when their result is only partly used, and what reaches
# tryEval.
let
  t = builtins.tryEval;
in
{
  lengthOfMap = builtins.length (map (x: throw "x") [ 1 2 ]);
  headOfGenList = builtins.head (builtins.genList (x: if x == 1 then throw "a" else x) 3);
  elemAtOfMap = builtins.elemAt (map (x: if x == 2 then throw "a" else x) [ 1 2 3 ]) 0;
  filterKeeps = builtins.length (builtins.filter (x: true) [ (throw "a") 1 ]);
  concatMapLength = builtins.length (builtins.concatMap (x: [ x x ]) [ (throw "a") ]);
  foldlLazyElements = builtins.foldl' (a: b: a + 1) 0 [ (throw "a") 1 ];
  foldlForcesAccumulator = t (builtins.foldl' (a: b: b) 0 [ (throw "a") 1 ]);
  anyStops = builtins.any (x: x) [ true (throw "a") ];
  allStops = builtins.all (x: x) [ false (throw "a") ];
  partitionForcesElements = t (builtins.length (builtins.partition (x: true) [ (throw "a") ]).right);
  groupByLength = builtins.length (builtins.groupBy (x: "k") [ (throw "a") ]).k;
  listToAttrsNames = builtins.attrNames (builtins.listToAttrs [ { name = "a"; value = throw "a"; } ]);
  mapAttrsNames = builtins.attrNames (builtins.mapAttrs (n: v: throw "a") { a = 1; });
  zipAttrsWithNames = builtins.attrNames (builtins.zipAttrsWith (n: v: throw "a") [ { a = 1; } ]);
  attrValuesLength = builtins.length (builtins.attrValues { a = throw "a"; });
  catAttrsLength = builtins.length (builtins.catAttrs "a" [ { a = throw "a"; } ]);
  closureLength = builtins.length (builtins.genericClosure {
    startSet = [ { key = 1; a = throw "a"; } ];
    operator = x: [ ];
  });
  seqShallow = builtins.seq [ (throw "a") ] 1;
  tryDeepSeq = t (builtins.deepSeq { a = { b = assert false; 1; }; } 1);
  tryInsideMap = t (builtins.head (map (x: assert x > 1; x) [ 1 ]));
  trySort = t (builtins.sort (a: b: throw "a") [ 1 2 ]);
  tryEquality = t (let x = throw "a"; in [ x ] == [ x ]);
  tryToJSON = t (builtins.toJSON { a = throw "a"; });
}
