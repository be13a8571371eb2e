let
  a = "let";
  s = { a = "with"; b = "with-b"; };
in
with s;
[
  a                                   # let bindings shadow `with`
  b
  (with { b = "inner"; }; b)          # innermost `with` wins among withs
  (let b = "let-b"; in with s; b)     # lexical beats `with` even when inner
  (let x = 1; y = x + 1; in y)
  (let inherit (s) b; in b)
]
