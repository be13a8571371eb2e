# `+` reports a bad right operand at that operand, as the reference does.
let
  n = 1;
in
n + 2.5 + "a"
