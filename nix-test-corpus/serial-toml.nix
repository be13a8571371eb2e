# fromTOML: value kinds, tables, arrays of tables, dotted keys, integer bases, floats.
builtins.fromTOML ''
  top = "level"
  int = -0
  big = 9223372036854775807
  small = -9223372036854775808
  hex = 0x7fffffffffffffff
  oct = 0o777
  bin = 0b1010
  float = 6.25e-2
  inf = inf
  ninf = -inf
  bools = [ true, false ]
  mixed = [ 1, "a", [ 2 ], { x = 1 } ]
  multi = """
  line one
  line two"""
  literal = 'C:\no\escapes'
  esc = "tab\tquote\"unicode\u00e9\U0001F600"
  a.b.c = 1
  a.d = 2

  [t]
  "quoted key" = 1
  'single' = 2

  [t.sub]
  x = []

  [[arr]]
  n = 1
  [[arr]]
  [[arr.inner]]
  m = 2
''
