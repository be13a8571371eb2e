//! `flake check` and `flake show` through the binary: with `-j N` (worker processes) the
//! output — stdout, stderr, exit status — is byte for byte that of the single-process run,
//! errors included; `flake check --shard I/N` splits the configurations and derivations so
//! that the shards together report every error once; the progress lines (`evaluating
//! flake...`, `-vv`'s `checking …` lines, `flake show`'s `evaluating '…'...` lines) and
//! the trees equal the reference's (CppNix 2.8, when installed) on the shared `fleet`
//! fixture. Skips without `../shared` or the release binary.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A flake with good and broken units of every kind the workers take: hosts, checks,
/// packages, a Hydra jobset; plus cheap outputs checked by the parent (a bad overlay).
const FLAKE: &str = r#"{
  inputs.nixpkgs.url = "NIXPKGS";
  outputs = { self, nixpkgs }:
    let
      system = "x86_64-linux";
      host = name: extra: nixpkgs.lib.nixosSystem {
        inherit system;
        modules = [ ./minimal.nix { networking.hostName = name; } extra ];
      };
      drv = name: derivation { inherit name system; builder = "/bin/sh"; args = [ "-c" "echo > $out" ]; };
    in {
      nixosConfigurations = {
        good = host "good" { };
        broken = host "broken" { boot.kernelPackages = throw "this host is broken"; };
        other = host "other" { services.openssh.enable = true; };
      };
      checks.${system} = {
        fine = drv "fine";
        fails = throw "this check fails";
        notDrv = "a string";
        toplevel = self.nixosConfigurations.good.config.system.build.toplevel;
      };
      packages.${system}.hello = drv "hello";
      hydraJobs.tests = { a = drv "a"; b.c = throw "job b.c fails"; };
      overlays.bad = x: y: { };
      extra = 1;
    };
}
"#;

fn flake_dir(shared: &Path, tag: &str) -> PathBuf {
    let dir = scratch(tag);
    let np = format!("path:{}/nixpkgs/nixos-20.09", shared.display());
    std::fs::write(dir.join("flake.nix"), FLAKE.replace("NIXPKGS", &np)).unwrap();
    std::fs::copy(shared.join("configs/minimal.nix"), dir.join("minimal.nix")).unwrap();
    let locked = rnix(&dir, &["flake", "lock"]);
    assert!(locked.status.success(), "flake lock: {}", stderr(&locked));
    dir
}

fn rnix(dir: &Path, args: &[&str]) -> Output {
    rnix_env(dir, args, &[])
}

fn rnix_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let store = store().display().to_string();
    isolate(&mut Command::new(bin()))
        .envs(env.iter().copied())
        .args(args)
        .args(["--store", &store, "--no-eval-cache"])
        .current_dir(dir)
        .output()
        .expect("run rnix-eval")
}

/// The paths named by `while checking the … 'PATH'` lines.
fn checked_with_errors(o: &Output) -> Vec<String> {
    stderr(o)
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("… while checking "))
        .filter_map(|l| l.split('\'').nth(1).map(String::from))
        .collect()
}

#[test]
fn check_with_workers_prints_what_one_process_prints_and_shards_cover_every_error_once() {
    let Some(shared) = shared() else { return };
    let dir = flake_dir(&shared, "check-pool");
    let one = rnix(&dir, &["flake", "check"]);
    let err = stderr(&one);
    assert_eq!(one.status.code(), Some(1), "{err}");
    for needle in [
        "evaluating flake...\n",
        "note: rnix-eval evaluates the checks without building them",
        "this host is broken",
        "this check fails",
        "flake attribute 'checks.x86_64-linux.notDrv' is not a derivation",
        "job b.c fails",
        "overlay does not take an argument named 'final'",
        "warning: unknown flake output 'extra'",
        "error: some errors were encountered during the evaluation",
    ] {
        assert!(err.contains(needle), "no '{needle}' in:\n{err}");
    }
    for j in ["2", "3"] {
        let pooled = rnix(&dir, &["flake", "check", "-j", j]);
        assert_eq!(pooled.status.code(), Some(1));
        assert_eq!(stderr(&pooled), err, "flake check -j {j} differs from one process");
        assert_eq!(stdout(&pooled), stdout(&one));
    }
    // `--no-build` drops the note, `--quiet` the progress line; nothing else changes.
    let quiet = rnix(&dir, &["flake", "check", "--no-build", "--quiet", "-j", "2"]);
    let expect: String = err
        .lines()
        .filter(|l| !l.starts_with("evaluating flake") && !l.starts_with("note: "))
        .map(|l| l.to_owned() + "\n")
        .collect();
    assert_eq!(stderr(&quiet), expect);

    // Shards: each unit's error in exactly one shard; the cheap checks (the overlay) in all.
    let whole: BTreeSet<String> = checked_with_errors(&one).into_iter().collect();
    let mut seen = Vec::new();
    for (i, j) in [("1/2", "1"), ("2/2", "2")] {
        let o = rnix(&dir, &["flake", "check", "--shard", i, "-j", j]);
        assert!(stderr(&o).contains("overlay does not take an argument named 'final'"), "{}", stderr(&o));
        seen.extend(checked_with_errors(&o).into_iter().filter(|p| !p.starts_with("overlays")));
    }
    seen.push("overlays.bad".into());
    let union: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(union.len(), seen.len(), "a unit was reported by two shards: {seen:?}");
    assert_eq!(union, whole);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn show_with_workers_prints_what_one_process_prints_even_on_an_error() {
    let Some(shared) = shared() else { return };
    let dir = flake_dir(&shared, "show-pool");
    // `checks.x86_64-linux.fails` throws: the tree stops there, in both modes.
    let one = rnix(&dir, &["flake", "show"]);
    assert_eq!(one.status.code(), Some(1));
    assert!(stderr(&one).contains("this check fails"), "{}", stderr(&one));
    // The first derivations are shown in the parent until a worker would have started;
    // with the hook at 0 every one is shown by a worker.
    for in_process_ms in ["0", "250", "60000"] {
        let pooled = rnix_env(&dir, &["flake", "show", "-j", "2"], &[("RNIX_FLAKE_SHOW_IN_PROCESS_MS", in_process_ms)]);
        assert_eq!(pooled.status.code(), Some(1));
        assert_eq!(stdout(&pooled), stdout(&one), "{in_process_ms} ms");
        assert_eq!(stderr(&pooled), stderr(&one), "{in_process_ms} ms");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The shared `fleet` fixture, committed; (dir, the override arguments).
fn fleet(shared: &Path, tag: &str) -> (PathBuf, Vec<String>) {
    let dir = scratch(tag);
    fixture(shared, "fleet", &dir);
    let np = format!("path:{}/nixpkgs/nixos-20.09", shared.display());
    (dir, vec!["--override-input".into(), "nixpkgs".into(), np, "--no-write-lock-file".into()])
}

fn reference_nix() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("nix")).find(|p| p.is_file())
}

fn theirs(dir: &Path, args: &[String]) -> Option<Output> {
    let nix = reference_nix()?;
    let conf = scratch("check-show-nixconf");
    Command::new(nix)
        .args(["--extra-experimental-features", "nix-command flakes"])
        .args(args)
        .current_dir(dir)
        .env("XDG_CONFIG_HOME", &conf)
        .env("XDG_CACHE_HOME", conf.join("cache"))
        .env("NIX_CONF_DIR", &conf)
        .output()
        .ok()
}

/// The progress and warning lines of a run (what 2.8 and rnix-eval both print), without
/// the per-file lines of `-v` and the fetchers' lines.
fn progress(o: &Output) -> Vec<String> {
    stderr(o)
        .lines()
        .filter(|l| l.starts_with("evaluating '") || l.starts_with("evaluating flake") || l.starts_with("checking "))
        .map(String::from)
        .collect()
}

#[test]
fn fleet_show_and_check_progress_equal_the_reference() {
    let Some(shared) = shared() else { return };
    let (dir, ov) = fleet(&shared, "check-show-fleet");
    let args = |a: &[&str]| -> Vec<String> { a.iter().map(|s| s.to_string()).chain(ov.iter().cloned()).collect() };
    let run = |a: &[String]| rnix(&dir, &a.iter().map(String::as_str).collect::<Vec<_>>());

    let show_json = run(&args(&["flake", "show", "--json"]));
    let golden = std::fs::read_to_string(shared.join("golden/flake-show-fleet.json")).unwrap();
    assert_eq!(stdout(&show_json).trim_end(), golden.trim_end());
    let show_json2 = run(&args(&["flake", "show", "--json", "-j", "2"]));
    assert_eq!(stdout(&show_json2), stdout(&show_json));

    let show = run(&args(&["flake", "show"]));
    assert!(show.status.success(), "{}", stderr(&show));
    let show2 = run(&args(&["flake", "show", "-j", "2"]));
    assert_eq!((stdout(&show2), stderr(&show2)), (stdout(&show), stderr(&show)));
    let all_by_workers = [("RNIX_FLAKE_SHOW_IN_PROCESS_MS", "0")];
    let show2 = rnix_env(
        &dir,
        &args(&["flake", "show", "-j", "2"]).iter().map(String::as_str).collect::<Vec<_>>(),
        &all_by_workers,
    );
    assert_eq!((stdout(&show2), stderr(&show2)), (stdout(&show), stderr(&show)));
    assert!(progress(&show).contains(&"evaluating 'nixosConfigurations.alpha'...".to_owned()));

    let check = run(&args(&["flake", "check", "-vv", "--no-build"]));
    assert!(check.status.success(), "{}", stderr(&check));
    let check2 = run(&args(&["flake", "check", "-vv", "--no-build", "-j", "2"]));
    assert_eq!(progress(&check2), progress(&check));
    assert!(progress(&check).contains(&"checking NixOS configuration 'nixosConfigurations.beta'...".to_owned()));
    let plain = run(&args(&["flake", "check", "--no-build"]));
    assert_eq!(progress(&plain), vec!["evaluating flake...".to_owned()]);

    if let Some(t) = theirs(&dir, &args(&["flake", "show"])) {
        assert!(t.status.success(), "nix flake show: {}", stderr(&t));
        assert_eq!(stdout(&show), stdout(&t), "flake show tree differs from the reference");
        assert_eq!(progress(&show), progress(&t), "flake show progress differs from the reference");
    }
    // 2.8 visits a set's attributes in the order of its symbols' addresses in memory, which
    // changes from run to run (2.36: creation order, which rnix-eval follows): the same
    // lines, each output's own lines right after it, in some order of outputs and of their
    // attributes.
    let by_output = |lines: Vec<String>| -> BTreeSet<Vec<String>> {
        let mut groups: Vec<Vec<String>> = Vec::new();
        for l in lines {
            match groups.last_mut() {
                Some(g) if !l.starts_with("checking flake output") && !l.starts_with("evaluating flake") => g.push(l),
                _ => groups.push(vec![l]),
            }
        }
        groups
            .into_iter()
            .map(|mut g| {
                g[1..].sort();
                g
            })
            .collect()
    };
    for a in [&["flake", "check", "-vv", "--no-build"][..], &["flake", "check", "--no-build"][..]] {
        if let Some(t) = theirs(&dir, &args(a)) {
            assert!(t.status.success(), "nix {a:?}: {}", stderr(&t));
            let ours = run(&args(a));
            assert_eq!(progress(&ours)[0], "evaluating flake...");
            assert_eq!(progress(&t)[0], "evaluating flake...");
            assert_eq!(
                by_output(progress(&ours)),
                by_output(progress(&t)),
                "{a:?}: progress differs from the reference"
            );
        }
    }
    remove_with_store(&dir);
}
