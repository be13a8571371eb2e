#!/usr/bin/env bash
# Compares rnix-eval with the reference on NixOS 20.09's own VM tests
# (../shared/nixpkgs/nixos-20.09/nixos/tests/*.nix): each file is instantiated
# read-only by both (`--readonly-mode -I nixpkgs=…`), and the printed drv paths
# (one per test, several for test sets) must be equal. Not part of `cargo
# test` (one file takes ~5-20 s per side); a development tool for finding
# mismatches.
#
# Usage: tests/nixos-configs/sweep-nixos-tests.sh [STRIDE [OFFSET]]
#   every STRIDE-th file (default 1 = all 339), starting at OFFSET (default 0).
# Prints OK / BOTHFAIL (both exit non-zero; their first error lines) /
# MISMATCH per file and a summary; exits 1 if any MISMATCH.
# Env: RNIX_EVAL (default target/release/rnix-eval), NIX_INSTANTIATE.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
nixpkgs=$(cd "$root/../shared/nixpkgs/nixos-20.09" && pwd) || { echo "../shared is missing" >&2; exit 2; }
rnix=${RNIX_EVAL:-$root/target/release/rnix-eval}
nix=${NIX_INSTANTIATE:-nix-instantiate}
stride=${1:-1}
offset=${2:-0}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok=0; bothfail=0; mismatch=0; i=0
cd "$nixpkgs/nixos/tests"
for t in *.nix; do
  i=$((i + 1))
  [ $(( (i - 1 - offset) % stride )) -eq 0 ] && [ $((i - 1)) -ge "$offset" ] || continue
  ref=$(env -u NIX_PATH HOME="$tmp" timeout 600 "$nix" --readonly-mode -I "nixpkgs=$nixpkgs" "$t" 2>"$tmp/ref.err")
  got=$(env -u NIX_PATH HOME="$tmp" timeout 600 "$rnix" instantiate --readonly-mode -I "nixpkgs=$nixpkgs" "$t" 2>"$tmp/got.err")
  if [ "$ref" = "$got" ] && [ -n "$ref" ]; then
    ok=$((ok + 1)); echo "OK        $t"
  elif [ -z "$ref" ] && [ -z "$got" ]; then
    bothfail=$((bothfail + 1))
    echo "BOTHFAIL  $t | $(grep -m1 '^error' "$tmp/ref.err" | cut -c1-120) | $(grep -m1 '^error' "$tmp/got.err" | cut -c1-120)"
  else
    mismatch=$((mismatch + 1))
    echo "MISMATCH  $t"
    diff <(echo "$ref") <(echo "$got") | sed 's/^/    /'
    grep -m1 '^error' "$tmp/got.err" | sed 's/^/    rnix: /'
  fi
done
echo "ok $ok, both fail $bothfail, mismatch $mismatch"
[ "$mismatch" -eq 0 ]
