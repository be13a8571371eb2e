# Values whose environments hold themselves (a closure in its own `let`, `rec` sets, unforced
# thunks of their own scope), made by the tens of thousands so that the cycle collector
# (`RNIX_GC=1`, evaluator/src/value/collect.rs) runs while some of them are garbage and
# others are still used: the used ones must keep their values.
let
  n = 30000;
  # Garbage at every step: a `let` whose closure, list and unforced thunks hold its scope.
  churn = builtins.foldl'
    (acc: i: acc + (let f = k: if k == 0 then i else f (k - 1); xs = [ f ]; never = throw "unused"; in f 2 + builtins.length xs))
    0 (builtins.genList (x: x) n);
  # Kept across that churn: closures in their own scopes, used only at the end.
  kept = builtins.genList (i: let g = x: if x == 0 then i else g (x - 1); in g) 1000;
  recs = builtins.genList (i: rec { a = i; b = a * 2; again = b + a; }) 1000;
  fix = f: let x = f x; in x;
  stream = fix (self: { head = 1; next = { head = self.head + 1; back = self; }; });
  failing = let bad = { x = throw "boom"; y = bad.x; }; in builtins.tryEval bad.y;
  later = builtins.foldl' (acc: g: acc + g 3) 0 kept;
  recSum = builtins.foldl' (acc: r: acc + r.again) 0 recs;
in {
  inherit churn later recSum failing;
  cycle = stream.next.back.next.back.next.head;
  churnAgain = builtins.foldl' (acc: i: acc + (let r = rec { a = i; b = a; c = b; }; in r.c)) 0 (builtins.genList (x: x) n);
}
