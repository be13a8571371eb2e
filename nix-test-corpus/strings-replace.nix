# replaceStrings: first matching pattern wins, empty patterns match between every byte, context
let
  drv = "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-foo.drv";
  r = builtins.appendContext "R" { ${drv} = { outputs = [ "out" ]; }; };
in
[
  (builtins.replaceStrings [ "a" "" ] [ "A" "-" ] "banana")
  (builtins.replaceStrings [ "" "a" ] [ "-" "A" ] "banana")
  (builtins.replaceStrings [ "ab" "a" ] [ "1" "2" ] "aababa")
  (builtins.replaceStrings [ "a" "ab" ] [ "1" "2" ] "aababa")
  (builtins.replaceStrings [ "" ] [ "X" ] "")
  (builtins.replaceStrings [ "" ] [ "" ] "abc")
  (builtins.replaceStrings [ ] [ ] "unchanged")
  (builtins.replaceStrings [ "é" ] [ "e" ] "héllo")
  (builtins.replaceStrings [ "aa" ] [ "b" ] "aaaaa")
  (builtins.replaceStrings [ "${"\n"}" "\t" ] [ "\\n" "\\t" ] "a\nb\tc")
  (builtins.getContext (builtins.replaceStrings [ "x" ] [ r ] "axb"))
  (builtins.getContext (builtins.replaceStrings [ "y" ] [ r ] "axb"))
  (builtins.concatStringsSep ", " [ "a" "b" "c" ])
  (builtins.concatStringsSep "" [ ])
  (builtins.concatStringsSep "-" [ "x" { outPath = "y"; } ])
  (builtins.getContext (builtins.concatStringsSep r [ "only" ]))
  (builtins.getContext (builtins.concatStringsSep "," [ "a" r ]))
]
