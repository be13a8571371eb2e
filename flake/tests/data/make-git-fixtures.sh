#!/usr/bin/env bash
# make-git-fixtures.sh DEST: deterministic git repositories for the fetcher tests.
# The expected values in tests/git_fetch.rs were produced from these by CppNix 2.8
# (`nix flake metadata --json`), so any change here must be replayed against it.
set -euo pipefail
dest=$1; rm -rf "$dest"; mkdir -p "$dest"; cd "$dest"
export GIT_AUTHOR_NAME=f GIT_AUTHOR_EMAIL=f@e GIT_COMMITTER_NAME=f GIT_COMMITTER_EMAIL=f@e
export GIT_AUTHOR_DATE='2024-01-01T00:00:00Z' GIT_COMMITTER_DATE='2024-01-01T00:00:00Z'
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
g() { git -c protocol.file.allow=always -c init.defaultBranch=main "$@"; }
flake='{ outputs = { self }: { }; }'

# dep2: two commits; dep1: a flake pointing at dep2 (the follows.lock fixture).
mkdir dep2 && cd dep2 && g init -q . && echo '{ outputs = { self }: { v = 2; }; }' > flake.nix && g add -A && g commit -q -m init
echo x > x.txt && g add x.txt && GIT_AUTHOR_DATE='2024-02-01T00:00:00Z' GIT_COMMITTER_DATE='2024-02-01T00:00:00Z' g commit -q -m two && cd ..
mkdir dep1 && cd dep1 && g init -q . && echo '{ inputs.dep2.url = "git+file:///tmp/lx/dep2"; outputs = { self, dep2 }: { v = 1; }; }' > flake.nix && g add -A && g commit -q -m init && cd ..

# gt: every entry type, export-ignore, an untracked file; gt-dirty: the same, then modified and staged.
for r in gt gt-dirty; do
  mkdir $r && cd $r && g init -q .
  echo "$flake" > flake.nix
  echo hello > a.txt
  printf '#!/bin/sh\necho hi\n' > run.sh && chmod +x run.sh
  ln -s a.txt link
  mkdir -p sub/dir && echo deep > sub/dir/file
  printf 'ignored.txt export-ignore\n' > .gitattributes && echo ignored > ignored.txt
  g add -A && g commit -q -m init
  echo untracked > u.txt
  cd ..
done
cd gt-dirty && echo changed >> a.txt && echo staged > s.txt && g add s.txt && cd ..

# nc: no commits, files staged.
mkdir nc && cd nc && g init -q . && echo "$flake" > flake.nix && echo a > a.txt && g add -A && cd ..

# sm: a submodule (subrepo) at mod/.
mkdir subrepo && cd subrepo && g init -q . && echo inner > inner.txt && g add -A && g commit -q -m sub && cd ..
mkdir sm && cd sm && g init -q . && echo "$flake" > flake.nix && g submodule --quiet add ../subrepo mod && g add -A && g commit -q -m init && cd ..
