let
  unused = throw "never evaluated";
  xs = [ 1 (throw "not forced by length") 3 ];
  nats = let f = n: { head = n; tail = f (n + 1); }; in f 0;   # infinite, forced only as far as needed
in
[
  (builtins.length xs)
  nats.tail.tail.head
  ({ a = 1; b = unused; }.a)
  (builtins.tryEval (throw "caught"))
  (builtins.tryEval (assert 1 == 2; 3))
  (builtins.tryEval 7)
  (builtins.seq 1 2)
  (if true then "then" else unused)
  (false && unused)
  (true || unused)
]
