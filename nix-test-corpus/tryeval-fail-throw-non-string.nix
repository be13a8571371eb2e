# throw coerces its message as an interpolation does: an integer is a type error, which
# tryEval does not catch.
(builtins.tryEval (throw 1)).success
