#!/usr/bin/env python3
"""Fleet benchmark: `rnix-eval eval-jobs` on a generated flake of NixOS hosts.

Generates (in a temporary directory, committed as a git repository so that the
evaluation cache applies) a flake with HOSTS hosts (default 24): half over the
shared NixOS 20.09 tree, half over 24.11, each built from ../shared/configs
(minimal, container, server; desktop is left out to keep one run in minutes)
with its own `networking.hostName`, time zone and an extra user. Then measures:

  scaling   `eval-jobs --flake .#nixosConfigurations --workers 1` vs `--workers 2`
            (wall time, speed-up; the goal of issue 16 is >= 1.8x on 2 cores; the
            CPU time of all processes shows the work the workers duplicate and
            the load average how many cores were really free); both must print
            the same drv paths
  memory    `--workers 2 --max-memory-size MIB`: first with a 1 MiB limit, so every job
            runs on a fresh worker: the largest single-job peak of a fresh worker. Then
            with limits that make sense for it (default: 2.5 times that peak, where a
            worker keeps several jobs; that peak + 25%, which every worker can keep with
            about one job each; and that peak - 25%, where the jobs that alone need more
            cannot be kept under it, counted as over-limit), each printing the limit,
            the highest worker RSS — reported by the workers (VmHWM per job) and seen
            from outside (VmRSS/VmHWM of every worker process, polled every 10 ms) —,
            the restarts (predicted, after a job, jobs evaluated again after the guard
            stopped a worker) and whether max <= limit
  shards    the union of `--shard 1/3`, `2/3`, `3/3` equals the unsharded output
  cache     `rnix-eval .#nixosConfigurations.HOST` and `flake show`: the first run
            (evaluates) and the median of RUNS hits (goals: <= 50 ms and <= 100 ms)

Every eval-jobs run writes its .drv files into a fresh directory store (as
nix-eval-jobs writes them into the store), all removed at the end; the cache
runs use a private directory store and cache home.

Usage:
    bench/fleet.py [--hosts N] [-n RUNS] [--max-memory-size MIB[,MIB…]] [--bin PATH]
                   [--skip scaling,memory,shards,cache] [--json FILE]

Only the Python 3 standard library is needed. Run on an otherwise idle machine.
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import REPO, find_rnix  # noqa: E402

SHARED = REPO.parent / "shared"
RELEASES = {
    "2009": ("nixos-20.09", SHARED / "configs"),
    "2411": ("nixos-24.11", SHARED / "configs" / "24.11"),
}
CONFIGS = ["minimal", "container", "server"]
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"]


def make_flake(root, hosts):
    root.mkdir(parents=True, exist_ok=True)
    inputs, entries = [], []
    for rel, (tree, cfgdir) in RELEASES.items():
        inputs.append(f'  inputs.nixpkgs{rel}.url = "path:{SHARED / "nixpkgs" / tree}";')
        for c in CONFIGS:
            shutil.copy(cfgdir / f"{c}.nix", root / f"{c}-{rel}.nix")
    for i in range(hosts):
        rel = "2009" if i % 2 == 0 else "2411"
        cfg = CONFIGS[(i // 2) % len(CONFIGS)]
        name = f"host{i:02d}-{cfg}-{rel}"
        entries.append(
            f'    {name} = host nixpkgs{rel} "{name}" ./{cfg}-{rel}.nix ({{ lib, ... }}: {{\n'
            f'      time.timeZone = lib.mkForce "{ZONES[i % len(ZONES)]}";\n'
            f'      users.users.ops{i} = {{ isNormalUser = true; uid = {2000 + i}; }};\n'
            f"    }});"
        )
    names = ", ".join(f"nixpkgs{r}" for r in RELEASES)
    text = "{\n" + "\n".join(inputs) + f"""
  outputs = {{ self, {names} }}:
    let
      host = nixpkgs: name: config: extra: nixpkgs.lib.nixosSystem {{
        system = "x86_64-linux";
        modules = [ config {{ networking.hostName = nixpkgs.lib.mkForce name; }} extra ];
      }};
      pkgs = import nixpkgs2009 {{ system = "x86_64-linux"; }};
    in {{
      packages.x86_64-linux = {{ inherit (pkgs) hello git; }};
      nixosConfigurations = {{
{chr(10).join(entries)}
      }};
    }};
}}
"""
    (root / "flake.nix").write_text(text)
    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.org",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.org")
    for cmd in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"]):
        subprocess.run(cmd, cwd=root, check=True, env=env)
    return env


def cpu_of_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(cmd, cwd, env=None):
    t = time.monotonic()
    c = cpu_of_children()
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    p.cpu = cpu_of_children() - c
    if p.returncode != 0:
        print(f"  {' '.join(cmd[1:])}: exit {p.returncode}: {p.stderr.strip()[-500:]}", flush=True)
    return time.monotonic() - t, p


def status_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children_of(pid):
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                # The parent's pid follows the command name (in parentheses) and the state.
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    kids.append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    return kids


def run_polled(cmd, cwd, env):
    """run(), polling the resident memory of the process's children (the workers) every
    10 ms: returns (wall s, completed process, highest VmRSS/VmHWM seen in KiB, workers)."""
    t = time.monotonic()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = {"max": 0, "pids": set()}
    done = threading.Event()

    def poll():
        while not done.is_set():
            for kid in children_of(p.pid):
                seen["pids"].add(kid)
                seen["max"] = max(seen["max"], status_kib(kid, "VmRSS:"), status_kib(kid, "VmHWM:"))
            done.wait(0.01)

    th = threading.Thread(target=poll, daemon=True)
    th.start()
    out, err = p.communicate()
    done.set()
    th.join()
    wall = time.monotonic() - t
    cp = subprocess.CompletedProcess(cmd, p.returncode, out, err)
    if p.returncode != 0:
        print(f"  {' '.join(cmd[1:])}: exit {p.returncode}: {err.strip()[-500:]}", flush=True)
    return wall, cp, seen["max"], len(seen["pids"])


STORES = []


def fresh_store(tmp):
    d = tmp / f"jobs-store-{len(STORES)}"
    STORES.append(d)
    return str(d)


def stats_of(stderr):
    for line in reversed(stderr.splitlines()):
        try:
            return json.loads(line)
        except ValueError:
            continue
    return {}


def jobs_of(stdout):
    out = {}
    for line in stdout.splitlines():
        j = json.loads(line)
        out[j["attr"]] = j.get("drvPath") or ("error: " + j.get("error", "")[:200])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=24)
    ap.add_argument("-n", "--runs", type=int, default=5, help="cache hits measured (median)")
    ap.add_argument("--max-memory-size", default="",
                    help="limits, MiB, comma-separated (default: from the largest fresh single-job peak)")
    ap.add_argument("--bin")
    ap.add_argument("--skip", default="")
    ap.add_argument("--json")
    a = ap.parse_args()
    rnix = find_rnix(a.bin)
    if not rnix or not (SHARED / "nixpkgs" / "nixos-24.11").exists():
        sys.exit("needs the rnix-eval binary and ../shared/nixpkgs")
    skip = set(a.skip.split(","))
    tmp = Path(tempfile.mkdtemp(prefix="rnix-fleet-"))
    results = {"bin": rnix, "hosts": a.hosts, "nproc": os.cpu_count(), "load": os.getloadavg()[0]}
    try:
        flake = tmp / "fleet"
        env = make_flake(flake, a.hosts)
        store = tmp / "store"
        env["XDG_CACHE_HOME"] = str(tmp / "cache")
        t, p = run([rnix, "flake", "lock", "--store", str(store)], flake, env)
        if p.returncode != 0:
            sys.exit(p.stderr)
        subprocess.run(["git", "add", "-A"], cwd=flake, check=True, env=env)
        subprocess.run(["git", "commit", "-q", "-m", "fleet"], cwd=flake, check=True, env=env)
        def base():
            return [rnix, "eval-jobs", "--flake", ".#nixosConfigurations", "--store", fresh_store(tmp)]
        senv = dict(env, NIX_SHOW_STATS="1")
        whole = None
        if "scaling" not in skip:
            for w in (1, 2):
                t, p = run(base() + ["--workers", str(w)], flake, senv)
                jobs = jobs_of(p.stdout)
                errors = sum(1 for v in jobs.values() if v.startswith("error"))
                results[f"workers{w}"] = {"s": round(t, 2), "cpu_s": round(p.cpu, 2), "jobs": len(jobs),
                                          "errors": errors, "stats": stats_of(p.stderr)}
                st = results[f"workers{w}"]["stats"]
                print(f"--workers {w}: {t:.2f} s wall, {p.cpu:.2f} s CPU (all processes), {len(jobs)} jobs, "
                      f"{errors} errors, load {os.getloadavg()[0]:.1f}; slots: start-up {st.get('startupS')} s, "
                      f"jobs {st.get('busyS')} s, idle {st.get('idleS')} s, {st.get('workersStarted')} workers "
                      f"started, {st.get('restarts')} restarts", flush=True)
                if whole is None:
                    whole = jobs
                elif jobs != whole:
                    print("  MISMATCH between --workers 1 and 2", flush=True)
                    results["workers_match"] = False
            s = results["workers1"]["s"] / results["workers2"]["s"]
            results["speedup"] = round(s, 2)
            print(f"speed-up 2 vs 1 worker: {s:.2f}x (goal >= 1.8x)", flush=True)
        if "memory" not in skip:
            results["memory"] = []

            def limited(lim):
                t, p, outside, pids = run_polled(base() + ["--workers", "2", "--max-memory-size", str(lim)], flake, senv)
                st = stats_of(p.stderr)
                reported = st.get("maxWorkerPeakKiB", 0)
                r = {"limit_mib": lim, "s": round(t, 2), "load": round(os.getloadavg()[0], 2),
                     "max_reported_mib": reported // 1024, "max_outside_mib": outside // 1024,
                     "under_limit": max(reported, outside) <= lim * 1024, "worker_processes": pids,
                     "stats": st, "match": whole is None or jobs_of(p.stdout) == whole}
                results["memory"].append(r)
                print(f"--max-memory-size {lim}: {t:.2f} s (load {r['load']}), max worker RSS "
                      f"{r['max_reported_mib']} MiB reported / {r['max_outside_mib']} MiB seen from outside, "
                      f"max <= limit: {r['under_limit']}; restarts {st.get('restarts')} = predicted "
                      f"{st.get('predictiveRestarts')} + after a job {st.get('limitRestarts')} + retried "
                      f"{st.get('retries')}; over-limit jobs {st.get('overLimitJobs')} (a job that alone needs "
                      f"more on a fresh worker); largest growth of one job {st.get('maxJobGrowthKiB', 0) // 1024} "
                      f"MiB; {pids} worker processes; same output: {r['match']}", flush=True)
                return r

            if a.max_memory_size:
                limits = [int(x) for x in a.max_memory_size.split(",")]
            else:
                # Every job on a fresh worker: the largest single-job peak of a fresh worker.
                fresh = limited(1)["max_reported_mib"]
                results["fresh_single_job_peak_mib"] = fresh
                print(f"largest single-job peak of a fresh worker: {fresh} MiB", flush=True)
                limits = [fresh * 5 // 2, fresh * 5 // 4, fresh * 3 // 4]
            for lim in limits:
                limited(lim)
        if "shards" not in skip:
            union, ok = {}, True
            for i in (1, 2, 3):
                t, p = run(base() + ["--workers", "2", "--shard", f"{i}/3"], flake, env)
                part = jobs_of(p.stdout)
                ok = ok and not (set(part) & set(union))
                union.update(part)
                print(f"--shard {i}/3: {t:.2f} s, {len(part)} jobs", flush=True)
            if whole is None:
                whole = jobs_of(run(base() + ["--workers", "2"], flake, env)[1].stdout)
            results["shards_union_equal"] = ok and union == whole
            print(f"union of shards equals the whole: {results['shards_union_equal']}", flush=True)
        if "cache" not in skip:
            host = sorted(whole)[0] if whole else "host00-minimal-2009"
            for what, cmd in (("build", [rnix, f".#nixosConfigurations.{host}"]), ("show", [rnix, "flake", "show"])):
                cmd = cmd + ["--store", str(store)]
                first, p = run(cmd, flake, env)
                hits = [run(cmd, flake, env)[0] for _ in range(a.runs)]
                same = run(cmd, flake, env)[1].stdout == p.stdout
                miss = [run(cmd + ["--no-eval-cache"], flake, env)[0]]
                results[f"cache_{what}"] = {"first_s": round(first, 3), "hit_median_s": round(statistics.median(hits), 4),
                                            "no_cache_s": round(miss[0], 3), "same_output": same}
                print(f"cache {what}: first {first:.3f} s, hit median {statistics.median(hits) * 1000:.0f} ms, "
                      f"--no-eval-cache {miss[0]:.3f} s, same output: {same}", flush=True)
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(tmp)], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=2))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
