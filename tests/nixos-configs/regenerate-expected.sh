#!/usr/bin/env bash
# Regenerates RELEASE/expected-drvpaths.tsv with the reference nix-instantiate
# (CppNix 2.8) for each RELEASE given (default: every RELEASE directory here).
# Usage: tests/nixos-configs/regenerate-expected.sh [RELEASE...]
#   (needs ../shared next to the checkout; RELEASE is 20.09, 24.11, 18.03)
# The header of each table (its '#' lines) is kept.
set -euo pipefail
cd "$(dirname "$0")"
releases=("$@")
[ ${#releases[@]} -gt 0 ] || releases=(*/)
for rel in "${releases[@]}"; do
  rel=${rel%/}
  nixos=$(cd "../../../shared/nixpkgs/nixos-$rel/nixos" && pwd)
  (
    cd "$rel"
    out=expected-drvpaths.tsv.new
    sed -n '/^#/p' expected-drvpaths.tsv > "$out" 2>/dev/null || true
    for c in *.nix; do
      p=$(HOME=/fake-home NIX_PATH= nix-instantiate --eval --strict --readonly-mode \
            -E "(import $nixos { configuration = ./$c; }).system.drvPath" | tr -d '"')
      printf '%s\t%s\n' "$c" "$p" >> "$out"
    done
    mv "$out" expected-drvpaths.tsv
  )
done
