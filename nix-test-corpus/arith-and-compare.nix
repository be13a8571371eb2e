[
  (1 + 2 * 3) (7 / 2) (-7 / 2) (7 - 10) (builtins.div 9 4)
  (1.5 + 2) (10 / 4.0) (0.5 * 3) 3.0 (builtins.typeOf 1.0) (builtins.typeOf (1 + 1.0))
  (1 < 2) (2 <= 2) ("a" < "b") ([ 1 2 ] < [ 1 3 ]) (1 == 1.0) ({ a = 1; } == { a = 1; })
  (builtins.bitAnd 12 10) (builtins.bitOr 12 10) (builtins.bitXor 12 10)
  (builtins.lessThan 3 4) (builtins.ceil 1.5) (builtins.floor (-1.5))
  9223372036854775807 (-9223372036854775807 - 1)
]
