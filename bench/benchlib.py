"""What bench/micro.py and bench/nixos.py share: finding the binary, timing one run,
alternating the two sides, summarising the runs and printing the results.

Both scripts compare the same two sides, "rnix" (rnix-eval) and "nix" (the reference
nix-instantiate), and report them the same way; only their workloads differ.
Only the Python 3 standard library is needed.
"""

import os
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

SIDES = ("rnix", "nix")


def find_rnix(explicit):
    # Absolute: the runs start in a temporary directory.
    if explicit:
        return os.path.abspath(explicit)
    if os.environ.get("RNIX_EVAL"):
        return os.path.abspath(os.environ["RNIX_EVAL"])
    # The profile-guided build (bench/pgo-build) when it is at least as new as the plain
    # release build; otherwise the newest plain build.
    candidates = [REPO / "target" / p / "rnix-eval" for p in ("pgo", "release", "debug")]
    pgo, release = candidates[0], candidates[1]
    if pgo.exists() and (not release.exists() or pgo.stat().st_mtime >= release.stat().st_mtime):
        return str(pgo)
    for p in candidates[1:]:
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


def run_alternating(runs, run):
    """Calls run(side, i) `runs` times for each side, alternating A/B (A B, then B A, ...)
    so that a drift in the machine's speed weighs on both sides alike; returns
    {side: [run's results, in order]}."""
    res = {side: [] for side in SIDES}
    for i in range(runs):
        order = SIDES if i % 2 == 0 else SIDES[::-1]
        for side in order:
            res[side].append(run(side, i))
    return res


def summarise_runs(res, normalise=None):
    """The row of one workload from run_alternating's results of run_once: per side the
    medians of the runs that exited 0 and the last stderr line of the first run, and
    whether the first runs' stdouts matched. With `normalise` (bytes -> str) the stdouts
    are compared normalised and each side also records its normalised first stdout."""
    row = {}
    for side in SIDES:
        ok = [r for r in res[side] if r[0] == 0]
        row[side] = {
            "ok_runs": len(ok),
            "exits": sorted({str(r[0]) for r in res[side]}),
            "median_s": statistics.median(r[1] for r in ok) if ok else None,
            "min_s": min(r[1] for r in ok) if ok else None,
            "median_cpu_s": statistics.median(r[2] for r in ok) if ok else None,
            "median_maxrss_kib": statistics.median(r[3] for r in ok) if ok else None,
        }
        if normalise:
            row[side]["stdout"] = normalise(res[side][0][4])
        row[side]["stderr"] = (res[side][0][5].strip().splitlines() or [""])[-1][:200]
    a, b = res["rnix"][0], res["nix"][0]
    same = normalise or (lambda stdout: stdout)
    if a[0] != 0:
        row["output"] = f"rnix failed ({a[0]})"
    elif b[0] != 0:
        row["output"] = f"nix failed ({b[0]})"
    else:
        row["output"] = "match" if same(a[4]) == same(b[4]) else "DIFFERENT"
    return row


def ratios(row):
    """rnix/nix of a summarised row's median wall time, user+sys CPU time and peak RSS (None
    if either is missing)."""
    r, n = row["rnix"], row["nix"]
    return {
        "time_ratio": r["median_s"] / n["median_s"] if r["median_s"] and n["median_s"] else None,
        "cpu_ratio": r["median_cpu_s"] / n["median_cpu_s"] if r["median_cpu_s"] and n["median_cpu_s"] else None,
        "rss_ratio": (r["median_maxrss_kib"] / n["median_maxrss_kib"]
                      if r["median_maxrss_kib"] and n["median_maxrss_kib"] else None),
    }


def fmt_s(x):
    return "-" if x is None else (f"{x:.3f}" if x < 10 else f"{x:.2f}")


def fmt_mib(kib):
    return "-" if kib is None else f"{kib / 1024:.0f}"


def fmt_ratio(a, b):
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


def fmt_progress(row, width):
    """The sides' medians and ratios of a summarised row, as the progress lines show them;
    `width` is that of the seconds and of the time ratio."""
    r, n = row["rnix"], row["nix"]
    return (f"rnix {fmt_s(r['median_s']):>{width}}s {fmt_mib(r['median_maxrss_kib']):>5}MiB | "
            f"nix {fmt_s(n['median_s']):>{width}}s {fmt_mib(n['median_maxrss_kib']):>5}MiB | "
            f"time {fmt_ratio(r['median_s'], n['median_s']):>{width}} rss "
            f"{fmt_ratio(r['median_maxrss_kib'], n['median_maxrss_kib']):>6}")


def print_table(hdr, table, markdown):
    """A blank line, then the table: Markdown (for README.md) or aligned plain text."""
    print()
    if markdown:
        print("| " + " | ".join(hdr) + " |")
        print("|" + "|".join("---" for _ in hdr) + "|")
        for t in table:
            print("| " + " | ".join(t) + " |")
    else:
        widths = [max(len(h), *(len(t[i]) for t in table)) if table else len(h) for i, h in enumerate(hdr)]
        print("  ".join(h.ljust(wd) for h, wd in zip(hdr, widths)))
        for t in table:
            print("  ".join(c.ljust(wd) for c, wd in zip(t, widths)))
