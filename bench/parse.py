#!/usr/bin/env python3
"""Front-end benchmark (issue #15): reading, lexing, parsing and lowering alone, on the files
a NixOS desktop evaluation really parses.

For each tree (20.09, 24.11) it runs rnix-eval once on the read-only desktop evaluation of
bench/nixos.py with `-v`, takes the files of its "evaluating file" lines (2,197 and 4,195),
and hands them to the `parse_bench` example of the evaluator crate, which parses and lowers
them in a loop and prints the best thread CPU time and the throughput (MB/s).

    cargo build --release -p nix-eval --example parse_bench
    bench/parse.py [--trees 20.09,24.11] [--config desktop] [-n ROUNDS] [--bin RNIX_EVAL]
                   [--bench target/release/examples/parse_bench] [--keep DIR]

For instruction counts (deterministic, for A/B on a shared machine), `--keep DIR` leaves the
file lists in DIR; then e.g.
    ROUNDS=1 valgrind --tool=callgrind --toggle-collect='nix_eval::lower::lower_file' \\
        target/release/examples/parse_bench fast < DIR/desktop-20.09.txt

Only the Python 3 standard library is needed.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import REPO, find_rnix  # noqa: E402
from nixos import TREES, command  # noqa: E402


def parsed_files(exe, tree, config):
    """The files rnix-eval reports evaluating for `config` of `tree` (read-only mode)."""
    nixos, configs = TREES[tree][0], TREES[tree][1]
    cmd = command("rnix", exe, "ro", nixos, configs / f"{config}.nix", None)
    cmd.insert(2, "-v")
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if p.returncode != 0:
        sys.exit(f"parse.py: {' '.join(cmd)} failed:\n{p.stderr.decode(errors='replace')[-2000:]}")
    files = []
    for line in p.stderr.decode(errors="replace").splitlines():
        if line.startswith("evaluating file '") and line.endswith("'"):
            path = line[len("evaluating file '"):-1]
            if os.path.isfile(path):  # not the evaluator's built-in files
                files.append(path)
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trees", default="20.09,24.11")
    ap.add_argument("--config", default="desktop")
    ap.add_argument("-n", type=int, default=5, help="rounds (the best is printed)")
    ap.add_argument("--bin", help="rnix-eval that lists the files (default: the newest build)")
    ap.add_argument("--bench", default=str(REPO / "target" / "release" / "examples" / "parse_bench"))
    ap.add_argument("--keep", help="directory to leave the file lists in")
    args = ap.parse_args()
    exe = find_rnix(args.bin)
    if not exe:
        sys.exit("parse.py: no rnix-eval binary; build one or pass --bin")
    if not os.path.exists(args.bench):
        sys.exit(f"parse.py: {args.bench} missing: cargo build --release -p nix-eval --example parse_bench")
    with tempfile.TemporaryDirectory() as tmp:
        outdir = Path(args.keep or tmp)
        outdir.mkdir(parents=True, exist_ok=True)
        for tree in args.trees.split(","):
            files = parsed_files(exe, tree, args.config)
            listing = outdir / f"{args.config}-{tree}.txt"
            listing.write_text("".join(f + "\n" for f in files))
            print(f"{tree}/{args.config}: {len(files)} files", flush=True)
            env = dict(os.environ, ROUNDS=str(args.n))
            with open(listing) as stdin:
                subprocess.run([args.bench, "fast"], stdin=stdin, env=env, check=True)


if __name__ == "__main__":
    main()
