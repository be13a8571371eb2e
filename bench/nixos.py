#!/usr/bin/env python3
"""NixOS benchmark: rnix-eval vs the reference nix-instantiate on real systems.

For every config C of ../shared/configs (NixOS 20.09) and each mode:

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
(../shared/golden/nixos-20.09.drvpaths.tsv). For desktop it also prints the
goals of issue #5 (ro: <= 0.8x time and <= 1.0x RSS; store: <= 0.5x time) and of
issue #13 (daemon: <= 0.6x time).

Usage:
    bench/nixos.py [-n RUNS] [--config NAME ...] [--modes ro,store,daemon]
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
NIXOS = SHARED / "nixpkgs" / "nixos-20.09" / "nixos"
CONFIGS = SHARED / "configs"
GOLDEN = SHARED / "golden" / "nixos-20.09.drvpaths.tsv"

# issue #5, desktop.nix: (mode, what) -> the ratio it must not exceed
GOALS = {("ro", "time"): 0.8, ("ro", "rss"): 1.0, ("store", "time"): 0.5, ("daemon", "time"): 0.6}


def golden_paths():
    out = {}
    if GOLDEN.exists():
        for line in GOLDEN.read_text().splitlines():
            if "\t" in line and not line.startswith("#"):
                cfg, path = line.split("\t", 1)
                out[Path(cfg).stem] = path.strip()
    return out


def nix_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


def command(side, exe, mode, config, store):
    """The argv of one run (`store`: the fresh directory of mode store, the daemon URL of mode daemon)."""
    pre = [exe, "instantiate"] if side == "rnix" else [exe]
    if mode == "ro":
        expr = (f"(import (/. + {nix_string(str(NIXOS))}) "
                f"{{ configuration = /. + {nix_string(str(config))}; }}).system.drvPath")
        return pre + ["--eval", "--strict", "--readonly-mode", "-E", expr]
    return pre + [str(NIXOS), "-A", "system", "-I", f"nixos-config={config}", "--store", str(store)]


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
            sys.exit(f"nixos.py: nix-daemon --store {dir / 'store'} did not answer")
        time.sleep(0.1)
    return proc, url


def bench_one(args, sides, mode, config, tmp):
    def run(side, i):
        # A new directory per run, removed only at the end of the whole benchmark:
        # after mass deletions ext4 skips the just-freed inodes for minutes, scanning
        # them on every file creation, which would make the next runs (of both sides)
        # measure the file system rather than the evaluators.
        if mode == "daemon":
            daemon, url = start_daemon(tmp / f"daemon-{config.stem}-{side}-{i}")
            try:
                return run_once(command(side, sides[side], mode, config, url), str(tmp), args.timeout)
            finally:
                daemon.kill()
                daemon.wait()
        store = tmp / f"store-{config.stem}-{side}-{i}"
        argv = command(side, sides[side], mode, config, store)
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
    if not NIXOS.is_dir():
        sys.exit(f"nixos.py: {NIXOS} is missing (the shared data next to the checkout)")
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or any(m not in ("ro", "store", "daemon") for m in modes):
        sys.exit("nixos.py: --modes takes ro, store and/or daemon")
    if "daemon" in modes and not (shutil.which("nix-daemon") and shutil.which("nix")):
        sys.exit("nixos.py: mode daemon needs nix-daemon and nix (apt-get install -y nix-bin)")
    configs = sorted(CONFIGS.glob("*.nix"))
    if args.config:
        configs = [c for c in configs if c.stem in args.config]
        missing = set(args.config) - {c.stem for c in configs}
        if missing:
            sys.exit(f"nixos.py: no such config in {CONFIGS}: {', '.join(sorted(missing))}")
    goldens = golden_paths()
    sides = {"rnix": rnix, "nix": args.nix}
    started = datetime.datetime.now().astimezone()
    print(f"rnix-eval: {rnix}\nreference: {args.nix}\nruns: {args.runs} per side, alternating\n",
          file=sys.stderr)

    tmp = Path(tempfile.mkdtemp(prefix="rnix-bench-nixos-"))
    rows = []
    try:
        for config in configs:
            for mode in modes:
                res = bench_one(args, sides, mode, config, tmp)
                row = {"config": config.stem, "mode": mode, **summarise(res, goldens.get(config.stem))}
                rows.append(row)
                print(f"{config.stem:10} {mode:5} {fmt_progress(row, 6)} | "
                      f"{row['output']}, golden {row['golden']}", file=sys.stderr, flush=True)
                if mode in ("store", "daemon"):
                    first = {"store": "store-{}-{}-0", "daemon": "daemon-{}-{}-0/store"}[mode]
                    counts = {side: registered_paths(tmp / first.format(config.stem, side)) for side in SIDES}
                    verdict = "agree" if len(set(counts.values())) == 1 else "DIFFER"
                    print(f"{'':10} {mode:5} registered paths: "
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
    for row in rows:
        if row["config"] != "desktop":
            continue
        for what, key in (("time", "time_ratio"), ("rss", "rss_ratio")):
            limit = GOALS.get((row["mode"], what))
            if limit is not None and row[key] is not None:
                verdict = "met" if row[key] <= limit else "NOT met"
                goals.append(f"desktop {row['mode']} {what}: {row[key]:.2f}x (goal <= {limit}x) {verdict}")
    if goals:
        print("goals (issues #5, #13): " + "; ".join(goals))
    if args.json:
        Path(args.json).write_text(json.dumps({"date": started.isoformat(), "rnix": rnix, "nix": args.nix,
                                               "runs": args.runs, "results": rows}, indent=2))


if __name__ == "__main__":
    main()
