let
  x = "world";
  n = 42;
in
[
  "hello ${x}"
  "n = ${toString n}"
  "escapes: \" \\ \n \t \${x} $${x} $x"
  ''
    indented ${x}
      keeps relative indentation
    dollar: ''${x} quote: ''' backslash-n: ''\n tab: ''\t
  ''
  ''  leading and trailing  ''
  "${"nested ${"interpolation ${x}"}"}"
  (builtins.substring 1 3 "abcdef")
  (builtins.stringLength "héllo")
  (builtins.replaceStrings [ "a" "b" ] [ "A" "BB" ] "aabbcc")
  (builtins.split "(,)" "a,b,c")
  (builtins.match "([a-z]+)-([0-9]+)" "pkg-123")
  (builtins.concatStringsSep ", " [ "x" "y" "z" ])
  (toString [ 1 "a" null true false 2.5 ])
  (builtins.hashString "sha256" "abc")
]
