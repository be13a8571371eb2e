# Sets of the same size whose names differ, and sets of different sizes.
let
  sameSize = builtins.tryEval (assert { left = 1; } == { right = 1; }; 0);
in
assert sameSize == { success = false; value = false; };
assert { x = null; } == { x = null; y = null; };
0
