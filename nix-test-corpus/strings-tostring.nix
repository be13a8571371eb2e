# toString: what it coerces, paths are not copied, __toString and outPath
[
  (toString null)
  (toString true)
  (toString false)
  (toString 12)
  (toString (-3))
  (toString 1.5)
  (toString [ 1 [ 2 3 ] null "x" ])
  (toString /tmp/x/../y)
  (toString { outPath = "/x"; })
  (toString { __toString = self: "hi ${self.n}"; n = "there"; })
  (toString "")
  (builtins.toString "same")
  (builtins.stringLength (toString 123456))
]
