# match and split: POSIX extended regexes, null for groups that did not participate,
# empty matches in split
with builtins;
[
  (match "a(b)?" "a")
  (match "(a)(b)?" "ab")
  (match "" "")
  (match "a" "aa")
  (match "([[:alpha:]]+)-([[:digit:]]+)" "pkg-123")
  (match "(.*)\\.(nix|cc)" "foo.bar.nix")
  (match "[[:space:]]*([^[:space:]]*)[[:space:]]*" "  hi  ")
  (match "(a|ab)(c|bcd)(d*)" "abcd")
  (split "" "abc")
  (split "a*" "bc")
  (split "a*" "baac")
  (split "^a" "aaa")
  (split "x" "")
  (split "x" "abc")
  (split "(x)|(y)" "axbyc")
  (split "(,)" "a,b,,c")
  (split "[[:space:]]+" "  a b  ")
  (split "(a)*" "aab")
]
