#!/usr/bin/env bash
# make-lock-fixtures.sh DEST [STEP]: flakes for the lock tests (tests/flake_lock.rs).
# STEP 0 (default) creates: dep2 (git flake), dep1 (git flake with input dep2), raw (a plain
# directory), sub (a path: flake) and top (a path: flake whose inputs are a git flake with a
# nested follows override, a git flake, a flake = false path, a path flake and an indirect
# input resolved through a registry file, DEST/registry.json). STEP 1 adds a commit to dep2.
# The expected lock files (data/lock-*.lock) were written by CppNix 2.8 from exactly these
# trees at DEST=/tmp/rnix-flake-lock; any change here must be replayed against it.
set -euo pipefail
dest=$1; step=${2:-0}
export GIT_AUTHOR_NAME=f GIT_AUTHOR_EMAIL=f@e GIT_COMMITTER_NAME=f GIT_COMMITTER_EMAIL=f@e
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
g() { git -c init.defaultBranch=main "$@"; }
at() { GIT_AUTHOR_DATE="$1" GIT_COMMITTER_DATE="$1" "${@:2}"; }
if [ "$step" = 1 ]; then
  cd "$dest/dep2" && echo three > three.txt && g add -A && at 2024-03-01T00:00:00Z g commit -q -m three
  exit 0
fi
rm -rf "$dest"; mkdir -p "$dest"; cd "$dest"
mkdir dep2 && cd dep2 && g init -q . && echo '{ outputs = { self }: { v = 2; }; }' > flake.nix && g add -A
at 2024-01-01T00:00:00Z g commit -q -m one
echo two > two.txt && g add -A && at 2024-02-01T00:00:00Z g commit -q -m two && cd ..
mkdir dep1 && cd dep1 && g init -q .
echo "{ inputs.dep2.url = \"git+file://$dest/dep2\"; outputs = { self, dep2 }: { v = 1; d2 = dep2.v; }; }" > flake.nix
g add -A && at 2024-01-01T00:00:00Z g commit -q -m one && cd ..
mkdir raw && echo data > raw/data.txt
mkdir sub && echo '{ outputs = { self }: { s = "sub"; }; }' > sub/flake.nix
mkdir reg && echo '{ outputs = { self }: { r = "reg"; }; }' > reg/flake.nix
for d in raw sub reg; do find $d -exec touch -h -d @1709251200 {} +; done
echo "{\"version\":2,\"flakes\":[{\"from\":{\"type\":\"indirect\",\"id\":\"regflake\"},\"to\":{\"type\":\"path\",\"path\":\"$dest/reg\"}}]}" > registry.json
mkdir top && cat > top/flake.nix <<EON
{
  inputs.dep1.url = "git+file://$dest/dep1";
  inputs.dep1.inputs.dep2.follows = "dep2";
  inputs.dep2.url = "git+file://$dest/dep2";
  inputs.raw = { url = "path:$dest/raw"; flake = false; };
  inputs.sub.url = "path:$dest/sub";
  outputs = { self, dep1, dep2, raw, sub, regflake }: {
    v = [ dep1.v dep1.d2 dep2.v sub.s regflake.r (builtins.readFile "\${raw}/data.txt") ];
    same = dep1.inputs.dep2.outPath == dep2.outPath;
  };
}
EON
