# A path plus strings, and a path with interpolations, are canonical paths (no context).
[
  (/tmp + "/a/../b/./c")
  (/tmp + "")
  /tmp/${"x"}/./y/../z
  (builtins.typeOf (/tmp + "/${"s"}"))
]
