//! `rnix-eval eval-jobs` through the binary: a generated fleet flake over the shared NixOS
//! 20.09 tree (every host's drvPath equals `rnix-eval .#nixosConfigurations.HOST` run one
//! by one; a broken host is an `error` line while the others succeed; workers replaced
//! after every job with `--max-memory-size 1`), the shared `fleet` fixture against the
//! reference's goldens, shards whose union is the whole, and a worker that crashes or
//! recurses without end reported for its attribute while the run goes on.
//! Skips without `../shared` or the release binary.

mod common;

use common::*;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

fn eval_jobs(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(bin());
    isolate(&mut c).arg("eval-jobs").args(args).current_dir(dir);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run rnix-eval eval-jobs")
}

/// The JSON lines of a successful run, by `attr`.
fn lines(o: &Output) -> BTreeMap<String, Json> {
    assert!(o.status.success(), "eval-jobs failed:\n{}", stderr(o));
    stdout(o)
        .lines()
        .map(|l| {
            let j: Json = serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
            (j["attr"].as_str().expect("attr").to_owned(), j)
        })
        .collect()
}

/// `NIX_SHOW_STATS` of a run (the last stderr line that is JSON).
fn stats(o: &Output) -> Json {
    stderr(o).lines().rev().find_map(|l| serde_json::from_str(l).ok()).expect("stats line")
}

const FLEET: &str = r#"{
  inputs.nixpkgs.url = "NIXPKGS";
  outputs = { self, nixpkgs }:
    let
      host = name: config: extra: nixpkgs.lib.nixosSystem {
        system = "x86_64-linux";
        modules = [ config { networking.hostName = nixpkgs.lib.mkForce name; } extra ];
      };
    in {
      nixosConfigurations = {
        small-a = host "small-a" ./minimal.nix { };
        small-b = host "small-b" ./minimal.nix { services.openssh.enable = true; };
        web = host "web" ./container.nix { };
        broken = host "broken" ./minimal.nix { boot.kernelPackages = throw "this host is broken"; };
      };
    };
}
"#;

#[test]
fn fleet_hosts_equal_one_by_one_and_a_broken_host_is_an_error_line() {
    let Some(shared) = shared() else { return };
    let dir = scratch("eval-jobs-fleet");
    let np = format!("path:{}/nixpkgs/nixos-20.09", shared.display());
    std::fs::write(dir.join("flake.nix"), FLEET.replace("NIXPKGS", &np)).unwrap();
    for c in ["minimal.nix", "container.nix"] {
        std::fs::copy(shared.join("configs").join(c), dir.join(c)).unwrap();
    }
    let store = scratch("eval-jobs-fleet-store");
    let store_s = store.display().to_string();
    // Outside the flake: a `path:` flake is copied whole by every worker that starts, so
    // roots written into it while another worker copies it would change it under the copy.
    let roots = scratch("eval-jobs-fleet-gcroots");
    let roots_s = roots.display().to_string();
    let args = [
        "--flake",
        ".#nixosConfigurations",
        "--workers",
        "2",
        "--max-memory-size",
        "1",
        "--store",
        &store_s,
        "--gc-roots-dir",
        &roots_s,
    ];
    let o = eval_jobs(&dir, &args, &[("NIX_SHOW_STATS", "1")]);
    let got = lines(&o);
    assert_eq!(got.keys().collect::<Vec<_>>(), ["broken", "small-a", "small-b", "web"], "{}", stdout(&o));
    let err = got["broken"]["error"].as_str().expect("broken host has an error");
    assert!(err.contains("this host is broken"), "{err}");
    assert!(got["broken"].get("drvPath").is_none());
    let st = stats(&o);
    // Every job passes a 1 MiB limit, so every worker is replaced after each attribute.
    assert!(st["restarts"].as_u64().unwrap() >= 4, "{st}");
    assert_eq!(st["crashes"], 0, "{st}");
    for host in ["small-a", "small-b", "web"] {
        let j = &got[host];
        assert_eq!(j["attrPath"], serde_json::json!([host]));
        assert_eq!(j["system"], "x86_64-linux");
        let drv = j["drvPath"].as_str().unwrap();
        assert!(j["name"].as_str().unwrap().starts_with(&format!("nixos-system-{host}-20.09")), "{j}");
        assert!(j["outputs"]["out"].as_str().unwrap().starts_with("/nix/store/"), "{j}");
        // Written to the store, with a GC root.
        assert!(store.join(drv.trim_start_matches('/')).is_file(), "{drv} not in the store");
        let root = roots.join(Path::new(drv).file_name().unwrap());
        assert_eq!(std::fs::read_link(&root).unwrap(), Path::new(drv));
        // The same as evaluating that host alone.
        let inst = format!(".#nixosConfigurations.{host}");
        let alone = ok(&dir, &["--store", &store_s, "--no-write-lock-file", &inst]);
        assert_eq!(alone.trim(), drv, "{host}");
    }
    // Distinct hosts, distinct systems.
    assert_ne!(got["small-a"]["drvPath"], got["small-b"]["drvPath"]);
    remove_with_store(&store);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&roots);
}

#[test]
fn fleet_fixture_checks_equal_the_reference_goldens() {
    let Some(shared) = shared() else { return };
    let dir = scratch("eval-jobs-fixture");
    let flake = dir.join("fleet");
    fixture(&shared, "fleet", &flake);
    let np = format!("path:{}/nixpkgs/nixos-20.09", shared.display());
    let store = store().display().to_string();
    let args = ["--flake", ".#checks.x86_64-linux", "--override-input", "nixpkgs", &np, "--store", &store, "--meta"];
    let o = eval_jobs(&flake, &args, &[]);
    let got = lines(&o);
    assert_eq!(got.keys().collect::<Vec<_>>(), ["alpha", "motd"]);
    let golden_alpha = golden(&shared, "fleet", "nixosConfigurations.alpha.config.system.build.toplevel.drvPath");
    assert_eq!(got["alpha"]["drvPath"], golden_alpha.as_str());
    assert_eq!(got["motd"]["drvPath"], golden(&shared, "fleet", "checks.x86_64-linux.motd.drvPath").as_str());
    assert!(got["motd"]["meta"].is_object(), "--meta gives an object: {}", got["motd"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Seven derivations at the top, two in a set marked `recurseForDerivations`, one in a set
/// that is not (skipped unless `--force-recurse`), and a value that is no derivation.
const JOBS: &str = r#"
  let d = name: derivation { inherit name; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" name ]; };
  in {
    a = d "a"; b = d "b"; c = d "c"; e = d "e"; f = d "f"; g = d "g"; h = d "h";
    nested = { recurseForDerivations = true; x = d "x"; y = d "y"; };
    hidden = { z = d "z"; };
    number = 3;
  }
"#;

#[test]
fn walk_follows_recurse_for_derivations_and_shards_cover_the_whole() {
    let Some(_) = shared() else { return };
    let dir = scratch("eval-jobs-shards");
    let run = |extra: &[&str]| {
        let mut args = vec!["--expr", JOBS, "--store", "dummy://", "--workers", "2"];
        args.extend(extra);
        lines(&eval_jobs(&dir, &args, &[]))
    };
    let whole = run(&[]);
    let want = ["a", "b", "c", "e", "f", "g", "h", "nested.x", "nested.y"];
    assert_eq!(whole.keys().collect::<Vec<_>>(), want);
    assert_eq!(whole["nested.x"]["attrPath"], serde_json::json!(["nested", "x"]));
    assert_eq!(whole["a"]["outputs"].as_object().unwrap().keys().collect::<Vec<_>>(), ["out"]);
    let forced = run(&["--force-recurse"]);
    assert!(forced.contains_key("hidden.z") && forced.len() == want.len() + 1);
    let mut union = BTreeMap::new();
    for i in 1..=3 {
        let part = run(&["--shard", &format!("{i}/3")]);
        assert!(!part.is_empty() && part.len() < whole.len(), "shard {i}/3: {part:?}");
        for (k, v) in part {
            assert!(union.insert(k.clone(), v).is_none(), "{k} in two shards");
        }
    }
    assert_eq!(union, whole);
    // `--arg` and `--argstr` reach the top-level function.
    let f = r#"{ n ? 0, s ? "" }: { j = derivation { name = "j${toString n}${s}"; system = "x"; builder = "/b"; }; }"#;
    let args = ["--expr", f, "--store", "dummy://", "--arg", "n", "1 + 1", "--argstr", "s", "-x"];
    assert_eq!(lines(&eval_jobs(&dir, &args, &[]))["j"]["name"], "j2-x");
    let bad = eval_jobs(&dir, &["--expr", "{}", "--shard", "4/3"], &[]);
    assert_eq!(bad.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_crashed_worker_or_endless_recursion_is_one_error_line() {
    let Some(_) = shared() else { return };
    let dir = scratch("eval-jobs-crash");
    let expr = r#"
      let d = name: derivation { inherit name; system = "x86_64-linux"; builder = "/bin/sh"; };
      in { a = d "a"; boom = d "boom"; deep = let f = x: f (x + 1) + 1; in f 0; z = d "z"; }
    "#;
    let args = ["--expr", expr, "--store", "dummy://", "--workers", "1"];
    let o = eval_jobs(&dir, &args, &[("RNIX_EVAL_JOBS_TEST_ABORT_ON", "boom"), ("NIX_SHOW_STATS", "1")]);
    let got = lines(&o);
    assert_eq!(got.keys().collect::<Vec<_>>(), ["a", "boom", "deep", "z"]);
    assert!(got["a"]["drvPath"].is_string() && got["z"]["drvPath"].is_string());
    let boom = got["boom"]["error"].as_str().unwrap();
    assert!(boom.contains("killed by signal 6"), "{boom}");
    let deep = got["deep"]["error"].as_str().unwrap();
    assert!(deep.contains("stack overflow") || deep.contains("recursion"), "{deep}");
    assert_eq!(stats(&o)["crashes"], 1);
    // A root that does not evaluate fails the run.
    let o = eval_jobs(&dir, &["--expr", "throw \"no root\"", "--store", "dummy://"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no root"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Jobs that keep `n` strings alive each (300,000 ≈ 26 MiB), so a worker's memory grows
/// job by job as an evaluation of many hosts does.
fn memory_jobs(jobs: &[(&str, u32)]) -> String {
    let mut s = String::from(
        r#"let d = name: n: let l = builtins.genList (i: "${name}-${toString i}") n; in
             derivation { name = builtins.seq (builtins.deepSeq l null) name; system = "x"; builder = "/b"; }
             // { keep = l; };
           in {"#,
    );
    for (name, n) in jobs {
        s.push_str(&format!(" {name} = d \"{name}\" {n};"));
    }
    s + " }"
}

/// A run of `expr` on one worker under `--max-memory-size limit_mib`: its lines and stats.
fn limited(dir: &Path, expr: &str, limit_mib: u64) -> (BTreeMap<String, Json>, Json) {
    let limit = limit_mib.to_string();
    let args = ["--expr", expr, "--store", "dummy://", "--workers", "1", "--max-memory-size", &limit];
    let o = eval_jobs(dir, &args, &[("NIX_SHOW_STATS", "1")]);
    (lines(&o), stats(&o))
}

fn kib(st: &Json, key: &str) -> u64 {
    st[key].as_u64().unwrap_or_else(|| panic!("{key} in {st}"))
}

#[test]
fn workers_are_replaced_before_they_would_pass_the_memory_limit() {
    let Some(_) = shared() else { return };
    let dir = scratch("eval-jobs-memory");
    // Six jobs of about the same size: the predicted growth replaces a worker in time.
    let small =
        memory_jobs(&[("a", 300000), ("b", 300000), ("c", 300000), ("e", 300000), ("f", 300000), ("g", 300000)]);
    let (whole, unlimited) = limited(&dir, &small, 4096);
    assert_eq!(whole.len(), 6);
    assert_eq!(kib(&unlimited, "restarts"), 0, "{unlimited}");
    // Each job on a fresh worker (a 1 MiB limit): the largest single-job peak.
    let (alone, fresh) = limited(&dir, &small, 1);
    assert_eq!(alone, whole);
    assert_eq!(kib(&fresh, "overLimitJobs"), 7, "the root and six jobs: {fresh}");
    let (one_job, all_jobs) = (kib(&fresh, "maxWorkerPeakKiB"), kib(&unlimited, "maxWorkerPeakKiB"));
    assert!(all_jobs > one_job + 80 * 1024, "jobs keep their memory: {one_job} KiB, {all_jobs} KiB");
    let limit_mib = (one_job + all_jobs) / 2 / 1024;
    let (got, st) = limited(&dir, &small, limit_mib);
    assert_eq!(got, whole, "the same lines as without a limit");
    assert!(kib(&st, "predictiveRestarts") >= 1, "{st}");
    assert!(kib(&st, "maxWorkerPeakKiB") <= limit_mib * 1024, "limit {limit_mib} MiB: {st}");
    assert_eq!(kib(&st, "overLimitJobs"), 0, "{st}");
    assert_eq!(kib(&st, "limitRestarts"), 0, "{st}");

    // A job that grows twice as much as any before it, on a warm worker: the guard
    // stops that worker below the limit and a fresh one evaluates the job again.
    let mixed = memory_jobs(&[("a", 900000), ("zbig", 2000000)]);
    let (whole, unlimited) = limited(&dir, &mixed, 4096);
    let (alone, fresh) = limited(&dir, &mixed, 1);
    assert_eq!(alone, whole);
    let (warm_peak, fresh_peak) = (kib(&unlimited, "maxWorkerPeakKiB"), kib(&fresh, "maxWorkerPeakKiB"));
    assert!(warm_peak > fresh_peak + 40 * 1024, "{warm_peak} KiB after a, {fresh_peak} KiB alone");
    let limit_mib = (warm_peak + fresh_peak) / 2 / 1024;
    let (got, st) = limited(&dir, &mixed, limit_mib);
    assert_eq!(got, whole, "the retried job's line is the same");
    assert_eq!(kib(&st, "retries"), 1, "{st}");
    assert_eq!(kib(&st, "predictiveRestarts"), 0, "{st}");
    assert!(kib(&st, "maxWorkerPeakKiB") <= limit_mib * 1024, "limit {limit_mib} MiB: {st}");
    assert_eq!(kib(&st, "workersStarted"), 2, "{st}");

    // A job that alone needs more than the limit cannot be kept under it: it finishes on
    // a fresh worker (same line), is counted, and that worker is replaced.
    let limit_mib = fresh_peak / 1024 - 20;
    let (got, st) = limited(&dir, &mixed, limit_mib);
    assert_eq!(got, whole);
    assert_eq!(kib(&st, "overLimitJobs"), 1, "limit {limit_mib} MiB: {st}");
    assert!(kib(&st, "maxWorkerPeakKiB") > limit_mib * 1024, "{st}");
    let _ = std::fs::remove_dir_all(&dir);
}
