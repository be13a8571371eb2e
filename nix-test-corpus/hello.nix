# The example from the top-level README: a small tour of the language.
let
  name = "rnix-eval";
  greet = who: "Hello, ${who}!";
  squares = map (x: x * x) (builtins.genList (x: x + 1) 5);
in
{
  greeting = greet name;
  inherit squares;
  sum = builtins.foldl' (a: b: a + b) 0 squares;
  nested = rec { a = 1; b = a + 1; c = { d = b * 10; }; };
  isLazy = (builtins.tryEval (throw "never forced")).success || true;
}
