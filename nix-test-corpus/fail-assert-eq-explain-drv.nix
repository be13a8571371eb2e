# Derivations (type = "derivation") compare by outPath only; other attributes are not forced.
let
  mk = out: { type = "derivation"; outPath = out; name = throw "not forced"; };
in
assert { pkg = mk "/nix/store/aaa-x"; } == { pkg = mk "/nix/store/bbb-x"; };
0
