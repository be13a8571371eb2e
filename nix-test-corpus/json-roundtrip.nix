let
  v = { str = "a\"b\\c\né"; int = -3; float = 1.5; list = [ true false null ]; nested = { x = { }; }; };
in
[
  (builtins.toJSON v)
  (builtins.fromJSON (builtins.toJSON v) == v)
  (builtins.fromJSON ''{"b": [1, 2.5, "x", null], "a": {"c": false}}'')
  (builtins.toJSON [ 1 2.5 "" ])
  (builtins.toJSON "unicode: ☃")
]
