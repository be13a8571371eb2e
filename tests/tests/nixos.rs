//! NixOS 20.09 systems against the reference (issue #5's "done when"):
//!
//! * the toplevel drv paths of `../shared/configs/*.nix` equal
//!   `../shared/golden/nixos-20.09.drvpaths.tsv`;
//! * `instantiate … -A system -I nixos-config=minimal.nix` prints the golden
//!   path (the command line users type);
//! * the desktop closure written into a fresh `--store` is exactly the golden
//!   list `../shared/golden/closures/nixos-20.09-desktop.txt`, each path
//!   recomputed from the bytes written (hence byte-identical to the
//!   reference's files, whose names the list gives);
//! * the configs of `tests/nixos-configs/` that this project wrote (unseen by
//!   the evaluator's authors while developing) give the toplevel drv paths the
//!   reference printed for them (`tests/nixos-configs/expected-drvpaths.tsv`).
//!
//! Without ../shared these tests print a note and pass vacuously.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::*;
use rnix_tests::paths;

fn nixos_dir() -> Option<PathBuf> {
    shared_or_skip("nixpkgs/nixos-20.09/nixos")
}

/// A Nix path expression for an absolute path (safe for any characters).
fn nix_path(p: &Path) -> String {
    format!("(/. + {})", nix_str(&p.to_string_lossy()))
}

/// The toplevel drvPath of `config` from a read-only
/// `--eval --strict` run (one process per config: a NixOS evaluation takes
/// ~0.7 GiB, and several in one process would add up).
fn toplevel(nixos: &Path, config: &Path) -> Result<String, String> {
    let expr = format!("(import {} {{ configuration = {}; }}).system.drvPath", nix_path(nixos), nix_path(config));
    let tmp = TempDir::new("nixos-eval");
    let out = run_in(
        &paths::rnix_eval_for_tests(),
        &["instantiate", "--eval", "--strict", "--readonly-mode", "-E", &expr],
        tmp.path(),
        tmp.path(),
    );
    if out.code() != Some(0) {
        let err = out.stderr_str();
        let tail: Vec<&str> = err.lines().rev().take(8).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!("{}:\n      {}", out.describe_exit(), tail.join("\n      ")));
    }
    let s = out.stdout_str();
    Ok(s.trim().trim_matches('"').to_string())
}

/// Compares the toplevels of `(config file, expected path)` pairs, two
/// evaluations at a time.
fn check_toplevels(nixos: &Path, expected: &[(PathBuf, String)], what: &str) {
    let got = parallel_map(expected, |(c, _)| toplevel(nixos, c));
    let wrong: Vec<String> = expected
        .iter()
        .zip(&got)
        .filter(|((_, want), got)| got.as_ref() != Ok(want))
        .map(|((c, want), got)| match got {
            Ok(got) => format!("{}: got {got}, want {want}", c.display()),
            Err(e) => format!("{}: failed: {e}", c.display()),
        })
        .collect();
    println!("{what}: {}/{} toplevels equal", expected.len() - wrong.len(), expected.len());
    assert_no_problems(&wrong, what);
}

#[test]
fn golden_configs_toplevels() {
    let (Some(nixos), Some(golden)) = (nixos_dir(), shared_or_skip("golden/nixos-20.09.drvpaths.tsv")) else {
        return;
    };
    let shared = paths::shared_dir();
    let expected: Vec<(PathBuf, String)> = read_tsv(&golden).into_iter().map(|(c, p)| (shared.join(c), p)).collect();
    assert_eq!(expected.len(), 4, "{} changed?", golden.display());
    check_toplevels(&nixos, &expected, "golden NixOS configs");
}

/// The command line of the README: `instantiate NIXOS -A system -I nixos-config=…`.
#[test]
fn minimal_instantiate_command_line() {
    let (Some(nixos), Some(golden)) = (nixos_dir(), shared_or_skip("golden/nixos-20.09.drvpaths.tsv")) else {
        return;
    };
    let want = golden_path(&golden, "configs/minimal.nix");
    let config = paths::shared_dir().join("configs/minimal.nix");
    let tmp = TempDir::new("nixos-min");
    let out = run_ok(
        &paths::rnix_eval_for_tests(),
        &[
            "instantiate",
            "--readonly-mode",
            &nixos.to_string_lossy(),
            "-A",
            "system",
            "-I",
            &format!("nixos-config={}", config.display()),
        ],
        tmp.path(),
        tmp.path(),
    );
    assert_eq!(out.trim(), want);
    assert!(store_entries(&tmp.store_dir()).is_empty(), "--readonly-mode wrote files");
}

fn golden_path(tsv: &Path, config: &str) -> String {
    read_tsv(tsv)
        .into_iter()
        .find(|(c, _)| c == config)
        .map(|(_, p)| p)
        .unwrap_or_else(|| panic!("{config} not in {}", tsv.display()))
}

/// The desktop system instantiated into a fresh `--store`: exactly the golden
/// closure (3,030 paths), every one recomputed from the bytes written.
#[test]
fn desktop_closure_byte_identical() {
    let (Some(nixos), Some(golden), Some(closure)) = (
        nixos_dir(),
        shared_or_skip("golden/nixos-20.09.drvpaths.tsv"),
        shared_or_skip("golden/closures/nixos-20.09-desktop.txt"),
    ) else {
        return;
    };
    let want = golden_path(&golden, "configs/desktop.nix");
    let config = paths::shared_dir().join("configs/desktop.nix");
    let tmp = TempDir::new("nixos-desk");
    let store = tmp.path().join("store");
    let out = run_ok(
        &paths::rnix_eval_for_tests(),
        &[
            "instantiate",
            &nixos.to_string_lossy(),
            "-A",
            "system",
            "-I",
            &format!("nixos-config={}", config.display()),
            "--store",
            &store.to_string_lossy(),
        ],
        tmp.path(),
        tmp.path(),
    );
    assert_eq!(out.trim(), want, "printed toplevel");
    let golden_list: BTreeSet<String> = std::fs::read_to_string(&closure)
        .unwrap_or_else(|e| panic!("reading {}: {e}", closure.display()))
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.trim_start_matches("/nix/store/").to_string())
        .collect();
    let store_dir = store.join("nix/store");
    let written = store_entries(&store_dir);
    let mut problems: Vec<String> = Vec::new();
    problems.extend(golden_list.difference(&written).map(|n| format!("not written: {n}")));
    problems.extend(written.difference(&golden_list).map(|n| format!("not in the golden closure: {n}")));
    problems.extend(check_closure(&store_dir, &golden_list));
    let drvs = golden_list.iter().filter(|n| n.ends_with(".drv")).count();
    println!("desktop closure: {} paths written ({drvs} .drv), {} problem(s)", written.len(), problems.len());
    assert_no_problems(&problems, "desktop closure");
}

/// The project's own configs (tests/nixos-configs/), expected values from the
/// reference (see the header of expected-drvpaths.tsv).
#[test]
fn unseen_configs_match_reference() {
    let Some(nixos) = nixos_dir() else { return };
    let dir = paths::workspace_root().join("tests/nixos-configs");
    let expected: Vec<(PathBuf, String)> =
        read_tsv(&dir.join("expected-drvpaths.tsv")).into_iter().map(|(c, p)| (dir.join(c), p)).collect();
    // Every config has an expected value (regenerate-expected.sh adds them).
    let listed: BTreeSet<PathBuf> = expected.iter().map(|(c, _)| c.clone()).collect();
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "nix") {
            assert!(listed.contains(&p), "{} has no line in expected-drvpaths.tsv", p.display());
        }
    }
    check_toplevels(&nixos, &expected, "unseen NixOS configs");
}

/// The configs of tests/nixos-configs/fail/ fail with exit 1 and the
/// reference's message (fail/NAME.err, see tests/nixos-configs/README.md).
#[test]
fn failing_configs_fail_like_the_reference() {
    let Some(nixos) = nixos_dir() else { return };
    let dir = paths::workspace_root().join("tests/nixos-configs");
    let shared = paths::shared_dir();
    let shared = shared.canonicalize().unwrap_or(shared);
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir.join("fail"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "nix"))
        .collect();
    cases.sort();
    assert!(!cases.is_empty());
    let results = parallel_map(&cases, |c| {
        let expr = format!("(import {} {{ configuration = {}; }}).system.drvPath", nix_path(&nixos), nix_path(c));
        let tmp = TempDir::new("nixos-fail");
        run_in(
            &paths::rnix_eval_for_tests(),
            &["instantiate", "--eval", "--strict", "--readonly-mode", "-E", &expr],
            tmp.path(),
            tmp.path(),
        )
    });
    let mut problems = Vec::new();
    for (c, out) in cases.iter().zip(&results) {
        let name = c.file_name().unwrap().to_string_lossy();
        if out.code() != Some(1) {
            problems.push(format!("{name}: {} (want exit 1)", out.describe_exit()));
            continue;
        }
        let stderr = out
            .stderr_str()
            .replace(&dir.to_string_lossy().into_owned(), "/CONFIGS")
            .replace(&shared.to_string_lossy().into_owned(), "/SHARED");
        let err_file = c.with_extension("err");
        let patterns =
            std::fs::read_to_string(&err_file).unwrap_or_else(|e| panic!("reading {}: {e}", err_file.display()));
        for want in patterns.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            if !stderr.contains(want) {
                let first = stderr.lines().next().unwrap_or("");
                problems.push(format!("{name}: stderr lacks {want:?} (starts {first:?})"));
            }
        }
    }
    println!("failing NixOS configs: {}/{} as the reference", cases.len() - problems.len(), cases.len());
    assert_no_problems(&problems, "failing NixOS configs");
}
