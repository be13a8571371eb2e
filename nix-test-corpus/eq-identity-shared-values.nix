# `==` on lists and sets treats the very same value object as equal (after forcing it), as
# CppNix's eqValues does: a variable bound to an earlier variable of the same let/rec shares
# its value (bindings are filled in symbol order, here the order names first appear), an
# attribute selection or a call is a new value, `//` and `attrValues` keep the values.
let
  f = x: x;
  g = f;
  s = { a = x: x; };
  h = y: f;
  lateAlias = laterTarget;
  laterTarget = x: x;
  l = [ (x: x) ];
in
{
  letAlias = [ f ] == [ g ];
  letAliasBeforeTarget = [ laterTarget ] == [ lateAlias ];
  sameVariable = [ f ] == [ f ];
  topLevelFunctions = f == f;
  selections = [ s.a ] == [ s.a ];
  sameSet = s == s;
  updates = s // { } == s // { };
  calls = [ (h 1) ] == [ (h 2) ];
  inherits = { inherit f; } == { inherit f; };
  inheritFrom = { inherit (s) a; } == { inherit (s) a; };
  sameList = l == l;
  argument = (y: [ y ] == [ y ]) f;
  attrValues = builtins.attrValues { a = f; } == [ f ];
  mapped = map (x: x) [ f ] == [ f ];
  recAlias = rec { a = f; b = a; } == { a = f; b = f; };
  elem = builtins.elem f [ f ];
  catAttrs = [ f ] == builtins.catAttrs "a" [ { a = f; } ];
  formalDefault = ({ a, b ? a }: [ a ] == [ b ]) { a = f; };
  formalDefaultChain = ({ a ? f, b ? a, c ? b }: [ a ] == [ c ]) { };
  derivationsByOutPath =
    { type = "derivation"; outPath = "x"; a = 1; } == { type = "derivation"; outPath = "x"; a = 2; };
}
