#!/usr/bin/env bash
# Regenerates expected-drvpaths.tsv with the reference nix-instantiate (CppNix 2.8).
# Usage: tests/nixos-configs/regenerate-expected.sh  (needs ../shared next to the checkout)
set -euo pipefail
cd "$(dirname "$0")"
nixos=$(cd ../../../shared/nixpkgs/nixos-20.09/nixos && pwd)
out=expected-drvpaths.tsv.new
sed -n '/^#/p' expected-drvpaths.tsv > "$out"
for c in *.nix; do
  p=$(HOME=/fake-home NIX_PATH= nix-instantiate --eval --strict --readonly-mode \
        -E "(import $nixos { configuration = ./$c; }).system.drvPath" | tr -d '"')
  printf '%s\t%s\n' "$c" "$p" >> "$out"
done
mv "$out" expected-drvpaths.tsv
