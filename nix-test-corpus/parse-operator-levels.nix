# Every binary and unary operator against its neighbours in precedence, as the fast parser
# climbs them (issue #15: one call per operand instead of one per level).
let
  s = { a = { b = 1; }; c = true; };
  f = x: x;
  g = x: -x;
in [
  (1 + 2 * 3 - 4 / 2)
  (10 - 3 - 2)
  (2 * 3 * 4 / 6)
  ([ 1 ] ++ [ 2 ] ++ [ 3 ] ++ [ ])
  ({ a = 1; } // { b = 2; } // { a = 3; })
  (!true || true)
  (!(true || true))
  (! s ? a)
  (! s ? z || false)
  (-1 + 2)
  (- 2 * 3)
  (-f 2)
  (g (-3))
  (let h = 5; in h -3)
  (1 - -1)
  (s ? a.b && s.c)
  (s ? a ? b)
  ((s ? a) == true)
  (1 < 2 == true)
  (true == 1 < 2)
  (1 + 1 == 2 && 2 * 2 == 4 || false)
  (false -> false -> false)
  ((false -> false) -> false)
  (true -> s.c && !false)
  (!false -> true)
  ({ } // { a = !true; } == { a = false; })
  ([ 1 ] ++ [ 2 ] == [ 1 2 ])
  (1 + 2 < 2 + 2)
  (!false == true)
  (true && false == false)
  (s.a.b or 5 + 1)
  (s.z or 5 + 1)
  (s.a ? b)
  ((a_b: a_b) 4)
  (x: x_y: x_y)
  a:b_c
  http://x_y.z/a_b?c=d
  "a$b'c\\d$${x} \${y}"
  ''a$b'c\d$${x} ''${y} ''' '''x''
  ''
    a ''' $ ' $ 'x
      b
  ''
]
