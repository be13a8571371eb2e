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
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
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


def find_rnix(explicit):
    if explicit:
        return explicit
    if os.environ.get("RNIX_EVAL"):
        return os.environ["RNIX_EVAL"]
    for profile in ("release", "debug"):
        p = REPO / "target" / profile / "rnix-eval"
        if p.exists():
            return str(p)
    return None


def run_once(cmd, cwd, timeout):
    """Run cmd; return (exit, wall_s, cpu_s, maxrss_kib, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIX_")}
    env["HOME"] = env.get("BENCH_HOME", "/fake-home")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                             env=env, start_new_session=True)
        timed_out = []

        def kill():
            timed_out.append(True)
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        exit_desc = "timeout" if timed_out else p.returncode
        return (exit_desc, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss,
                out.read(), err.read().decode(errors="replace"))


def fmt_s(x):
    return "-" if x is None else (f"{x:.3f}" if x < 10 else f"{x:.2f}")


def fmt_mib(kib):
    return "-" if kib is None else f"{kib / 1024:.0f}"


def fmt_ratio(a, b):
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


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
        res = {"rnix": [], "nix": []}
        for i in range(args.runs):
            order = ("rnix", "nix") if i % 2 == 0 else ("nix", "rnix")
            for side in order:
                res[side].append(run_once(sides[side], str(w.parent), args.timeout))
        row = {"workload": w.name}
        for side in ("rnix", "nix"):
            ok = [r for r in res[side] if r[0] == 0]
            row[side] = {
                "ok_runs": len(ok),
                "exits": sorted({str(r[0]) for r in res[side]}),
                "median_s": statistics.median(r[1] for r in ok) if ok else None,
                "min_s": min(r[1] for r in ok) if ok else None,
                "median_cpu_s": statistics.median(r[2] for r in ok) if ok else None,
                "median_maxrss_kib": statistics.median(r[3] for r in ok) if ok else None,
                "stderr": (res[side][0][5].strip().splitlines() or [""])[-1][:200],
            }
        a, b = res["rnix"][0], res["nix"][0]
        if a[0] != 0:
            row["output"] = f"rnix failed ({a[0]})"
        elif b[0] != 0:
            row["output"] = f"nix failed ({b[0]})"
        else:
            row["output"] = "match" if a[4] == b[4] else "DIFFERENT"
        row["time_ratio"] = (row["rnix"]["median_s"] / row["nix"]["median_s"]
                             if row["rnix"]["median_s"] and row["nix"]["median_s"] else None)
        row["rss_ratio"] = (row["rnix"]["median_maxrss_kib"] / row["nix"]["median_maxrss_kib"]
                            if row["rnix"]["median_maxrss_kib"] and row["nix"]["median_maxrss_kib"] else None)
        rows.append(row)
        r, n = row["rnix"], row["nix"]
        print(f"{w.name:32} rnix {fmt_s(r['median_s']):>7}s {fmt_mib(r['median_maxrss_kib']):>5}MiB | "
              f"nix {fmt_s(n['median_s']):>7}s {fmt_mib(n['median_maxrss_kib']):>5}MiB | "
              f"time {fmt_ratio(r['median_s'], n['median_s']):>7} rss "
              f"{fmt_ratio(r['median_maxrss_kib'], n['median_maxrss_kib']):>6} | {row['output']}",
              file=sys.stderr, flush=True)
        if row["output"].startswith("rnix failed"):
            print(f"    rnix stderr: {r['stderr']}", file=sys.stderr)

    shutil.rmtree(tmp, ignore_errors=True)

    hdr = ["workload", "rnix s", "nix s", "rnix/nix time", "rnix MiB", "nix MiB", "rnix/nix RSS", "stdout"]
    table = [[row["workload"], fmt_s(row["rnix"]["median_s"]), fmt_s(row["nix"]["median_s"]),
              fmt_ratio(row["rnix"]["median_s"], row["nix"]["median_s"]),
              fmt_mib(row["rnix"]["median_maxrss_kib"]), fmt_mib(row["nix"]["median_maxrss_kib"]),
              fmt_ratio(row["rnix"]["median_maxrss_kib"], row["nix"]["median_maxrss_kib"]),
              row["output"]] for row in rows]
    print()
    if args.markdown:
        print("| " + " | ".join(hdr) + " |")
        print("|" + "|".join("---" for _ in hdr) + "|")
        for t in table:
            print("| " + " | ".join(t) + " |")
    else:
        widths = [max(len(h), *(len(t[i]) for t in table)) if table else len(h) for i, h in enumerate(hdr)]
        print("  ".join(h.ljust(wd) for h, wd in zip(hdr, widths)))
        for t in table:
            print("  ".join(c.ljust(wd) for c, wd in zip(t, widths)))
    print(f"\nmedian of {args.runs} runs each (wall time; peak RSS from wait4); "
          f"A/B alternated; ratio < 1 means rnix-eval is faster/smaller")
    if args.json:
        Path(args.json).write_text(json.dumps({"rnix": rnix, "nix": args.nix, "runs": args.runs,
                                               "results": rows}, indent=2))


if __name__ == "__main__":
    main()
