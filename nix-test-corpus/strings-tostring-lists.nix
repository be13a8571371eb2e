# toString of lists: no separator after an empty list element
[
  (toString [ [ ] "a" ])
  (toString [ "a" [ ] "b" ])
  (toString [ "a" [ ] ])
  (toString [ [ ] [ ] "x" ])
  (toString [ "" "" ])
  (toString [ null "a" ])
]
