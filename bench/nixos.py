#!/usr/bin/env python3
"""NixOS benchmark: rnix-eval vs the reference nix-instantiate on real systems.

For every config C of ../shared/configs (NixOS 20.09) and ../shared/configs/24.11
(nixpkgs 24.11; `--trees` chooses) and each mode:

  ro     read-only evaluation of the toplevel drv path, for both sides
             --eval --strict --readonly-mode \\
             -E '(import NIXOS { configuration = C; }).system.drvPath'
  store  instantiating into a fresh store directory, for both sides
             NIXOS -A system -I nixos-config=C --store DIR
         (a new DIR per run, all removed at the end of the benchmark); both
         sides write the files and register them in DIR/nix/var/nix/db, and
         the number of paths each side registered is printed (they must agree)
  daemon the same through a private nix-daemon, for both sides
             NIXOS -A system -I nixos-config=C --store unix://DIR/socket
         (a new `nix-daemon --store DIR/store` per run, started before the
         clock starts and stopped after; its registered paths are counted too)

rnix-eval (`rnix-eval instantiate ...`) and nix-instantiate run N times each
(default 5), alternating A/B (A B, then B A, ...). Prints the median wall time
the median user+sys CPU time and peak RSS (wait4) of each side, the ratios rnix/nix, whether
stdout matched between the sides, and whether it equals the golden drv path
(../shared/golden/nixos-{20.09,24.11}.drvpaths.tsv). It also prints the goals
of issue #15 for the read-only runs: both desktops at most 0.5x wall time, 0.6x
user+sys CPU and 0.6x peak RSS; every other config at most 0.6x wall time and
0.7x peak RSS. For the desktops it prints the goals of issue #13: store at most
0.5x wall time, daemon at most 0.6x.

Usage:
    bench/nixos.py [-n RUNS] [--config NAME ...] [--modes ro,store,daemon] [--trees 20.09,24.11]
                   [--bin PATH] [--nix PATH] [--timeout SECS]
                   [--markdown] [--json FILE]

Only the Python 3 standard library is needed. Run on an otherwise idle
machine; the VM is noisy, so look at the medians.
"""

import argparse
import datetime
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import (REPO, SIDES, find_rnix, fmt_mib, fmt_progress, fmt_ratio, fmt_s,  # noqa: E402
                      print_table, ratios, run_alternating, run_once, summarise_runs)

SHARED = REPO.parent / "shared"
# tree -> (NixOS directory, directory of its configs, golden drv paths, name prefix)
TREES = {
    "20.09": (SHARED / "nixpkgs" / "nixos-20.09" / "nixos", SHARED / "configs",
              SHARED / "golden" / "nixos-20.09.drvpaths.tsv", ""),
    "24.11": (SHARED / "nixpkgs" / "nixos-24.11" / "nixos", SHARED / "configs" / "24.11",
              SHARED / "golden" / "nixos-24.11.drvpaths.tsv", "24.11/"),
}

# issue #15, read-only runs: (desktop?, what) -> the ratio it must not exceed
GOALS = {(True, "time"): 0.5, (True, "cpu"): 0.6, (True, "rss"): 0.6,
         (False, "time"): 0.6, (False, "rss"): 0.7}
# issue #13, desktops: mode -> the wall-time ratio it must not exceed
WRITE_GOALS = {"store": 0.5, "daemon": 0.6}


def golden_paths(tree):
    """Golden drv paths of a tree's configs, by config name."""
    out = {}
    golden, prefix = TREES[tree][2], TREES[tree][3]
    if golden.exists():
        for line in golden.read_text().splitlines():
            if "\t" in line and not line.startswith("#"):
                cfg, path = line.split("\t", 1)
                out[prefix + Path(cfg).stem] = path.strip()
    return out


def nix_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


def command(side, exe, mode, nixos, config, store):
    """The argv of one run (`store`: the fresh directory of mode store, the daemon URL of mode daemon)."""
    pre = [exe, "instantiate"] if side == "rnix" else [exe]
    if mode == "ro":
        expr = (f"(import (/. + {nix_string(str(nixos))}) "
                f"{{ configuration = /. + {nix_string(str(config))}; }}).system.drvPath")
        return pre + ["--eval", "--strict", "--readonly-mode", "-E", expr]
    return pre + [str(nixos), "-A", "system", "-I", f"nixos-config={config}", "--store", str(store)]


def normalise(stdout):
    return stdout.decode(errors="replace").strip().strip('"')


def start_daemon(dir):
    """A `nix-daemon --store DIR/store` on DIR/socket, answering (a reference client got a
    full handshake: its first worker creates the store); returns (process, store URL)."""
    dir.mkdir(parents=True)
    socket = dir / "socket"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIX_")}
    env.update(NIX_DAEMON_SOCKET_PATH=str(socket), NIX_CONFIG="substituters =\n")
    proc = subprocess.Popen(["nix-daemon", "--store", str(dir / "store")], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"unix://{socket}"
    deadline = time.monotonic() + 30
    while subprocess.run(["nix", "--extra-experimental-features", "nix-command", "store", "ping", "--store", url],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            sys.exit(f"nixos.py: nix-daemon --store {dir / 'store'} did not answer")
        time.sleep(0.1)
    return proc, url


def bench_one(args, sides, mode, nixos, name, config, tmp):
    def run(side, i):
        # A new directory per run, removed only at the end of the whole benchmark:
        # after mass deletions ext4 skips the just-freed inodes for minutes, scanning
        # them on every file creation, which would make the next runs (of both sides)
        # measure the file system rather than the evaluators.
        tag = name.replace('/', '-')
        if mode == "daemon":
            daemon, url = start_daemon(tmp / f"daemon-{tag}-{side}-{i}")
            try:
                return run_once(command(side, sides[side], mode, nixos, config, url), str(tmp), args.timeout)
            finally:
                daemon.kill()
                daemon.wait()
        store = tmp / f"store-{tag}-{side}-{i}"
        argv = command(side, sides[side], mode, nixos, config, store)
        return run_once(argv, str(tmp), args.timeout)

    return run_alternating(args.runs, run)


def registered_paths(store):
    """How many paths the store database under `store` holds (None without one)."""
    db = store / "nix/var/nix/db/db.sqlite"
    if not db.exists():
        return None
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute("select count(*) from ValidPaths").fetchone()[0]
    finally:
        con.close()


def remove_store(path):
    """Store files and directories are read-only: restore write permission first."""
    if not path.exists():
        return
    for p in [path, *path.rglob("*")]:
        try:
            if p.is_dir() and not p.is_symlink():
                p.chmod(0o755)
        except OSError:
            pass
    shutil.rmtree(path, ignore_errors=True)


def summarise(res, golden):
    """The row of one config and mode: stdouts compared normalised, and whether rnix-eval's
    is the golden drv path."""
    row = summarise_runs(res, normalise)
    if golden and res["rnix"][0][0] == 0:
        row["golden"] = "yes" if row["rnix"]["stdout"] == golden else "NO"
    else:
        row["golden"] = "-"
    row.update(ratios(row))
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--runs", type=int, default=5)
    ap.add_argument("--config", action="append", help="config name (minimal, desktop, ...); repeatable")
    ap.add_argument("--modes", default="ro,store", help="comma-separated: ro, store, daemon")
    ap.add_argument("--trees", default="20.09,24.11", help="comma-separated: 20.09, 24.11")
    ap.add_argument("--bin", help="rnix-eval binary (default: $RNIX_EVAL, target/release/rnix-eval)")
    ap.add_argument("--nix", default=shutil.which("nix-instantiate"), help="reference nix-instantiate")
    ap.add_argument("--timeout", type=float, default=600.0, help="per run (s)")
    ap.add_argument("--json", help="write the results as JSON to this file")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table (for README.md)")
    args = ap.parse_args()

    rnix = find_rnix(args.bin)
    if not rnix or not Path(rnix).exists():
        sys.exit("nixos.py: rnix-eval not found; build it (cargo build --release) or pass --bin/RNIX_EVAL")
    if not args.nix:
        sys.exit("nixos.py: nix-instantiate not found (apt-get install -y nix-bin) or pass --nix")
    trees = [t.strip() for t in args.trees.split(",") if t.strip()]
    if not trees or any(t not in TREES for t in trees):
        sys.exit("nixos.py: --trees takes 20.09 and/or 24.11")
    for t in trees:
        if not TREES[t][0].is_dir():
            sys.exit(f"nixos.py: {TREES[t][0]} is missing (the shared data next to the checkout)")
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or any(m not in ("ro", "store", "daemon") for m in modes):
        sys.exit("nixos.py: --modes takes ro, store and/or daemon")
    if "daemon" in modes and not (shutil.which("nix-daemon") and shutil.which("nix")):
        sys.exit("nixos.py: mode daemon needs nix-daemon and nix (apt-get install -y nix-bin)")
    # (tree, name, file): names of 24.11 configs are "24.11/NAME"; --config NAME picks
    # NAME in every tree chosen, --config 24.11/NAME only that one.
    configs = [(t, TREES[t][3] + c.stem, c) for t in trees for c in sorted(TREES[t][1].glob("*.nix"))]
    if args.config:
        configs = [c for c in configs if c[1] in args.config or c[2].stem in args.config]
        missing = set(args.config) - {c[1] for c in configs} - {c[2].stem for c in configs}
        if missing:
            sys.exit(f"nixos.py: no such config: {', '.join(sorted(missing))}")
    goldens = {k: v for t in trees for k, v in golden_paths(t).items()}
    sides = {"rnix": rnix, "nix": args.nix}
    started = datetime.datetime.now().astimezone()
    print(f"rnix-eval: {rnix}\nreference: {args.nix}\nruns: {args.runs} per side, alternating\n",
          file=sys.stderr)

    tmp = Path(tempfile.mkdtemp(prefix="rnix-bench-nixos-"))
    rows = []
    try:
        for tree, name, config in configs:
            for mode in modes:
                res = bench_one(args, sides, mode, TREES[tree][0], name, config, tmp)
                row = {"config": name, "mode": mode, **summarise(res, goldens.get(name))}
                rows.append(row)
                print(f"{name:16} {mode:5} {fmt_progress(row, 6)} | "
                      f"{row['output']}, golden {row['golden']}", file=sys.stderr, flush=True)
                if mode in ("store", "daemon"):
                    first = {"store": "store-{}-{}-0", "daemon": "daemon-{}-{}-0/store"}[mode]
                    counts = {side: registered_paths(tmp / first.format(name.replace('/', '-'), side))
                              for side in SIDES}
                    verdict = "agree" if len(set(counts.values())) == 1 else "DIFFER"
                    print(f"{'':16} {mode:5} registered paths: "
                          + ", ".join(f"{side} {counts[side]}" for side in SIDES) + f" ({verdict})",
                          file=sys.stderr, flush=True)
                for side in SIDES:
                    if row["output"].startswith(f"{side} failed"):
                        print(f"    {side} stderr: {row[side]['stderr']}", file=sys.stderr)
    finally:
        remove_store(tmp)

    hdr = ["config", "mode", "rnix s", "nix s", "rnix/nix time", "rnix cpu s", "nix cpu s",
           "rnix MiB", "nix MiB", "rnix/nix RSS", "stdout", "golden"]
    table = [[row["config"], row["mode"], fmt_s(row["rnix"]["median_s"]), fmt_s(row["nix"]["median_s"]),
              fmt_ratio(row["rnix"]["median_s"], row["nix"]["median_s"]),
              fmt_s(row["rnix"]["median_cpu_s"]), fmt_s(row["nix"]["median_cpu_s"]),
              fmt_mib(row["rnix"]["median_maxrss_kib"]), fmt_mib(row["nix"]["median_maxrss_kib"]),
              fmt_ratio(row["rnix"]["median_maxrss_kib"], row["nix"]["median_maxrss_kib"]),
              row["output"], row["golden"]] for row in rows]
    print_table(hdr, table, args.markdown)
    print(f"\n{started:%Y-%m-%d}: median of {args.runs} runs each (wall time; user+sys CPU and peak RSS from wait4); "
          f"A/B alternated; ratio < 1 means rnix-eval is faster/smaller")
    goals = []
    write_goals = []
    for row in rows:
        desktop = row["config"] in ("desktop", "24.11/desktop")
        limit = WRITE_GOALS.get(row["mode"])
        if desktop and limit is not None and row.get("time_ratio") is not None:
            verdict = "met" if row["time_ratio"] <= limit else "NOT met"
            write_goals.append(f"{row['config']} {row['mode']} time: {row['time_ratio']:.2f}x "
                               f"(goal <= {limit}x) {verdict}")
        if row["mode"] != "ro":
            continue
        for what, key in (("time", "time_ratio"), ("cpu", "cpu_ratio"), ("rss", "rss_ratio")):
            limit = GOALS.get((desktop, what))
            if limit is not None and row.get(key) is not None:
                verdict = "met" if row[key] <= limit else "NOT met"
                goals.append(f"{row['config']} ro {what}: {row[key]:.2f}x (goal <= {limit}x) {verdict}")
    if goals:
        print("issue #15 goals (read-only):\n  " + "\n  ".join(goals))
    if write_goals:
        print("issue #13 goals (writing):\n  " + "\n  ".join(write_goals))
    if args.json:
        Path(args.json).write_text(json.dumps({"date": started.isoformat(), "rnix": rnix, "nix": args.nix,
                                               "runs": args.runs, "results": rows}, indent=2))


if __name__ == "__main__":
    main()
