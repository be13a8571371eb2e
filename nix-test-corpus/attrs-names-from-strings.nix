# Attribute names that come from strings at run time (dynamic keys, selections, `?`,
# removeAttrs, hasAttr/getAttr, catAttrs, listToAttrs, fromJSON), ASCII and not, names seen
# before as identifiers and names never seen before.
let
  names = [ "plain" "café" "naïve-üml" "日本" "" "with space" "never-seen-before-x" ];
  set = builtins.listToAttrs (map (n: { name = n; value = builtins.stringLength n; }) names);
  dyn = builtins.foldl' (acc: n: acc // { ${n} = "v-${n}"; }) { } names;
  json = builtins.fromJSON ''{ "caf\u00e9": 1, "\u65e5\u672c": [ 2 ], "plain": { "x": 3 } }'';
in {
  selected = map (n: set.${n}) names;
  has = map (n: set ? ${n}) (names ++ [ "absent" "caf" "日" ]);
  removed = builtins.attrNames (builtins.removeAttrs set [ "café" "日本" "absent" ]);
  got = map (n: builtins.getAttr n dyn) names;
  hasAttr = map (n: builtins.hasAttr n dyn) [ "plain" "naïve-üml" "nope" ];
  cat = builtins.catAttrs "café" [ set { } dyn ];
  json = [ json."café" (builtins.head json."日本") json.plain.x (builtins.attrNames json) ];
  inter = builtins.intersectAttrs { "café" = null; zzz = null; } set;
}
