# foldl' must be strict in the accumulator and must not recurse per element.
builtins.foldl' (a: b: a + b) 0 (builtins.genList (x: x) 1000000)
