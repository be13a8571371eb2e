# pathExists of a file path followed by "/" or "/." is false: that asks for a directory.
let f = builtins.toString ./paths-exists-trailing-dot.nix; in
[
  (builtins.pathExists f)
  (builtins.pathExists (f + "/"))
  (builtins.pathExists (f + "/."))
  (builtins.pathExists (f + "/./."))
  (builtins.pathExists (builtins.toString ./. + "/."))
]
