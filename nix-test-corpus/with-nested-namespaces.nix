# Names under nested `with`s: the innermost namespace that has the name wins, a namespace
# that lacks it is skipped, and the same variable sees namespaces of other shapes on every
# call (empty, smaller, larger, names before and after it, a large set made by `//`).
let
  big = builtins.listToAttrs (builtins.genList (i: { name = "k${toString i}"; value = i; }) 1500);
  layered = big // { b = "layered-b"; k7 = "layered-k7"; };
  inner = [
    { } { a = 10; } { b = 20; } { c = 30; d = 4; } { a = 11; b = 21; c = 31; }
    { aa = 0; zz = 0; } { } big layered { c = 32; } { a = 12; }
  ];
  at = ns: with { a = 1; b = 2; c = 3; }; with ns; [ a b c ];
  three = ns: with { x = "outer"; k7 = "outer-k7"; }; with { y = "middle"; }; with ns; [ x y k7 ];
  missing = ns: with ns; builtins.tryEval (if ns ? zzz then zzz else "no zzz");
in {
  at = map at (inner ++ inner);
  three = map three (inner ++ inner);
  missing = map missing inner;
  shadowed = let a = "let"; in with { a = "with"; }; a;
  chain = with { p = 1; }; with { q = 2; }; with { r = 3; }; with { }; [ p q r ];
  lazyNamespace = with (throw "never forced"); let x = 5; in x;
}
