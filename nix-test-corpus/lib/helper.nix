# Helper imported by import-relative.nix (not a test case: it lives in a subdirectory).
{ factor ? 2 }:
{
  scale = x: x * factor;
  here = ./.;
  sibling = import ./value.nix;
}
