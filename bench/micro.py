#!/usr/bin/env python3
"""Micro benchmarks: rnix-eval vs the reference nix-instantiate.

For every workload F this runs

    rnix-eval instantiate --eval --strict F     (A)
    nix-instantiate --eval --strict F           (B)

N times each (default 5), alternating A/B (A B, then B A, ...), and prints the
median wall time, the peak RSS (from wait4), the ratio rnix/nix and whether
stdout matched.

Workloads: every ../shared/bench/micro/*.nix, plus generated ones (naive fib 25,
foldl' over genList 10^6, building and merging large attribute sets) written
to a temporary directory.

Usage:
    bench/micro.py [-n RUNS] [--bin PATH] [--nix PATH] [--filter SUBSTR]
                   [--timeout SECS] [--json FILE] [--markdown] [--no-shared]
                   [--no-generated] [--list] [FILE.nix ...]

Only the Python 3 standard library is needed. Run one benchmark at a time on
an otherwise idle machine; the VM is noisy, so look at the medians.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import (REPO, find_rnix, fmt_mib, fmt_progress, fmt_ratio, fmt_s,  # noqa: E402
                      print_table, ratios, run_alternating, run_once, summarise_runs)

SHARED_MICRO = REPO.parent / "shared" / "bench" / "micro"

GENERATED = {
    "gen-fib25.nix": """\
# naive fib 25 (242785 calls)
let fib = n: if n < 2 then n else fib (n - 1) + fib (n - 2);
in fib 25
""",
    "gen-foldl-genList-1e6.nix": """\
# foldl' over genList 10^6
builtins.foldl' (acc: x: acc + x * 2) 0 (builtins.genList (x: x) 1000000)
""",
    "gen-attrs-build-merge.nix": """\
# building and merging large attribute sets: listToAttrs of 10^5, `//` of two
# 10^5 sets, a fold of 2000 small sets with `//`, mapAttrs, lookups
let
  n = 100000;
  mk = off: builtins.listToAttrs (builtins.genList (i: { name = "a${toString (i + off)}"; value = i; }) n);
  a = mk 0;
  b = mk (n / 2);
  u = a // b;
  small = builtins.foldl' (acc: i: acc // { "s${toString i}" = i; x = i; }) { } (builtins.genList (i: i) 2000);
  m = builtins.mapAttrs (k: v: v + 1) u;
  lookups = builtins.foldl' (acc: i: acc + m."a${toString (i * 7)}") 0 (builtins.genList (i: i) 10000);
in [ (builtins.length (builtins.attrNames u)) (builtins.length (builtins.attrNames small)) small.x lookups ]
""",
    "gen-attrs-nested-update.nix": """\
# nested attribute sets: 200 x 200 sets built with genAttrs-like code, then a
# recursive merge of the rows
let
  names = k: builtins.genList (i: "${k}${toString i}") 200;
  genAttrs = ns: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) ns);
  grid = genAttrs (names "r") (r: genAttrs (names "c") (c: builtins.stringLength r + builtins.stringLength c));
  rows = builtins.attrValues grid;
  merged = builtins.foldl' (acc: row: acc // builtins.mapAttrs (k: v: v + (acc.${k} or 0)) row) { } rows;
in builtins.foldl' (a: b: a + b) 0 (builtins.attrValues merged)
""",
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*", help="extra .nix workloads")
    ap.add_argument("-n", "--runs", type=int, default=5)
    ap.add_argument("--bin", help="rnix-eval binary (default: $RNIX_EVAL, target/release/rnix-eval)")
    ap.add_argument("--nix", default=shutil.which("nix-instantiate"), help="reference nix-instantiate")
    ap.add_argument("--filter", help="only workloads whose name contains this")
    ap.add_argument("--timeout", type=float, default=300.0, help="per run (s)")
    ap.add_argument("--json", help="write the results as JSON to this file")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table (for README.md)")
    ap.add_argument("--no-shared", action="store_true", help="skip ../shared/bench/micro")
    ap.add_argument("--no-generated", action="store_true", help="skip the generated workloads")
    ap.add_argument("--list", action="store_true", help="list the workloads and exit")
    args = ap.parse_args()

    rnix = find_rnix(args.bin)
    if not args.list:
        if not rnix or not os.path.exists(rnix):
            sys.exit("micro.py: rnix-eval not found; build it (cargo build --release) or pass --bin/RNIX_EVAL")
        if not args.nix:
            sys.exit("micro.py: nix-instantiate not found (apt-get install -y nix-bin) or pass --nix")

    tmp = Path(tempfile.mkdtemp(prefix="rnix-bench-"))
    workloads = []
    if not args.no_shared:
        if SHARED_MICRO.is_dir():
            workloads += sorted(SHARED_MICRO.glob("*.nix"))
        else:
            print(f"NOTE: {SHARED_MICRO} is missing; only generated workloads", file=sys.stderr)
    if not args.no_generated:
        for name, text in GENERATED.items():
            (tmp / name).write_text(text)
            workloads.append(tmp / name)
    workloads += [Path(f).resolve() for f in args.files]
    if args.filter:
        workloads = [w for w in workloads if args.filter in w.name]
    if args.list:
        for w in workloads:
            print(w)
        shutil.rmtree(tmp, ignore_errors=True)
        return

    print(f"rnix-eval: {rnix}\nreference: {args.nix}\nruns: {args.runs} per side, alternating\n", file=sys.stderr)
    rows = []
    for w in workloads:
        sides = {
            "rnix": [rnix, "instantiate", "--eval", "--strict", str(w)],
            "nix": [args.nix, "--eval", "--strict", str(w)],
        }
        res = run_alternating(args.runs, lambda side, i: run_once(sides[side], str(w.parent), args.timeout))
        row = {"workload": w.name, **summarise_runs(res)}
        row.update(ratios(row))
        rows.append(row)
        print(f"{w.name:32} {fmt_progress(row, 7)} | {row['output']}", file=sys.stderr, flush=True)
        if row["output"].startswith("rnix failed"):
            print(f"    rnix stderr: {row['rnix']['stderr']}", file=sys.stderr)

    shutil.rmtree(tmp, ignore_errors=True)

    hdr = ["workload", "rnix s", "nix s", "rnix/nix time", "rnix MiB", "nix MiB", "rnix/nix RSS", "stdout"]
    table = [[row["workload"], fmt_s(row["rnix"]["median_s"]), fmt_s(row["nix"]["median_s"]),
              fmt_ratio(row["rnix"]["median_s"], row["nix"]["median_s"]),
              fmt_mib(row["rnix"]["median_maxrss_kib"]), fmt_mib(row["nix"]["median_maxrss_kib"]),
              fmt_ratio(row["rnix"]["median_maxrss_kib"], row["nix"]["median_maxrss_kib"]),
              row["output"]] for row in rows]
    print_table(hdr, table, args.markdown)
    print(f"\nmedian of {args.runs} runs each (wall time; peak RSS from wait4); "
          f"A/B alternated; ratio < 1 means rnix-eval is faster/smaller")
    if args.json:
        Path(args.json).write_text(json.dumps({"rnix": rnix, "nix": args.nix, "runs": args.runs,
                                               "results": rows}, indent=2))


if __name__ == "__main__":
    main()
