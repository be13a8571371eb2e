# An `if` whose condition compares values that cannot be compared, inside a call: the
# comparison's own error, with the frames of the call around it.
let
  f = n: if n < "a" then 1 else 2;
in
f 1
