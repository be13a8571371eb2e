# The evaluator's shortcuts on the call path: `if` conditions that compare, integer
# arithmetic of two operands, one- and many-argument lambda calls, and a thunk whose
# evaluation failed being forced again (it must fail again, then give the same answer).
let
  fib = n: if n < 2 then n else fib (n - 1) + fib (n - 2);
  add3 = a: b: c: a + b * c;
  cmp = a: b: [ (if a < b then "lt" else "ge") (if a <= b then 1 else 0) (if a > b then 1 else 0)
                (if a >= b then 1 else 0) (if a == b then 1 else 0) (if a != b then 1 else 0) ];
  failing = if builtins.getEnv "TEST_VAR" == "foo" then throw "first" else 1;
  counted = n: acc: if n == 0 then acc else counted (n - 1) (acc + 2);
  formals = { a, b ? a * 2, ... }@args: a + b + builtins.length (builtins.attrNames args);
in {
  fib = fib 15;
  add3 = [ (add3 1 2 3) (add3 1.5 2 3) (add3 (-4) 2 (-3)) ((add3 1) 2 3) ];
  ints = cmp 1 2 ++ cmp 2 2 ++ cmp 3 2 ++ cmp (-9223372036854775807 - 1) 9223372036854775807;
  mixed = cmp 1 1.5 ++ cmp 2.0 2 ++ cmp "a" "b" ++ cmp [ 1 2 ] [ 1 3 ];
  arith = [ (7 - 9) (7 * -9) (7 / 2) (7 - 0.5) (2 * 0.25) (1 + 2.5) ("a" + "b") ];
  retried = [ (builtins.tryEval failing) (builtins.tryEval failing) ];
  counted = counted 1000 0;
  formals = [ (formals { a = 1; }) (formals { a = 1; b = 5; c = 0; }) ];
}
