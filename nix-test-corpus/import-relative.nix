let
  h = import ./lib/helper.nix { factor = 3; };
in
[
  (h.scale 7)
  h.sibling.answer
  h.here
  ./lib/value.nix
  (builtins.baseNameOf ./lib/value.nix)
  (builtins.pathExists ./lib/helper.nix)
  (builtins.pathExists ./lib/missing.nix)
  (import ./lib/value.nix).answer
]
