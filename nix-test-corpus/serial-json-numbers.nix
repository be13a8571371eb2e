# fromJSON's number grammar, `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, each
# branch of it: integers stay integers (unsigned beyond i64 become floats), a fraction or an
# exponent makes a float.
map builtins.fromJSON [
  "0" "-0" "7" "-7" "10" "1234567890" "-1234567890"
  "9223372036854775807" "-9223372036854775808" "-9223372036854775809"
  "0.5" "-0.5" "10.25" "0.0" "1.0" "-1.125"
  "1e2" "1E2" "1e+2" "1e-2" "1E-2" "0e0" "0E+0" "-0e5" "2.5e3" "2.5E-3" "-12.75e+2" "10e10"
  " 42 " "\n-3\t" "[1,-2,3.5,4e1]" "{\"n\":-0.25}"
]
