# Failed search-path lookups are the reference's ThrownError, which tryEval catches:
# nixpkgs' impure.nix probes <nixpkgs-overlays> this way. throw/assert are caught too;
# `throw` of a non-string is a type error, not a throw.
{
  overlays = builtins.tryEval <nixpkgs-overlays>;
  missing = (builtins.tryEval <nonexistent/file.nix>).success;
  findFile = (builtins.tryEval (builtins.findFile [ ] "x")).success;
  corepkgs = (builtins.tryEval (import <nix/fetchurl.nix>)).success;
  thrown = builtins.tryEval (throw "x");
  asserted = builtins.tryEval (assert false; 1);
  nested = builtins.tryEval (builtins.tryEval (throw "x"));
  value = builtins.tryEval 1;
}
