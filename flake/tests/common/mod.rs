//! Helpers for the command-line flake tests: the binary, the shared data, fixtures, runs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `target/release/rnix-eval`, or `$RNIX_EVAL`.
pub fn bin() -> PathBuf {
    std::env::var_os("RNIX_EVAL").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/rnix-eval")
    })
}

/// `../shared` (or `$RNIX_SHARED`) if it holds the flake fixtures, else `None` (tests skip).
pub fn shared() -> Option<PathBuf> {
    let p = std::env::var_os("RNIX_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    if p.join("golden/flakes.tsv").exists() && bin().exists() {
        Some(p)
    } else {
        eprintln!("skipping: ../shared (flake fixtures) or the rnix-eval binary is absent (cargo build --release first)");
        None
    }
}

/// A directory store reused across tests and runs (content-addressed, so sharing is safe).
pub fn store() -> PathBuf {
    std::env::temp_dir().join("rnix-flake-tests-store")
}

/// A fresh scratch directory.
pub fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rnix-flake-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `make-fixture.sh FIXTURE DEST`.
pub fn fixture(shared: &Path, name: &str, dest: &Path) {
    let ok = Command::new("bash")
        .arg(shared.join("flakes/make-fixture.sh"))
        .arg(name)
        .arg(dest)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "make-fixture.sh {name} failed");
}

/// Runs `rnix-eval ARGS` in `dir` with a private registry/config environment.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    let conf = std::env::temp_dir().join("rnix-flake-tests-noconf");
    let _ = std::fs::create_dir_all(&conf);
    Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env("XDG_CONFIG_HOME", &conf)
        .env("NIX_CONF_DIR", &conf)
        .output()
        .expect("run rnix-eval")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs and asserts success; returns stdout.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let o = run(dir, args);
    assert!(o.status.success(), "rnix-eval {args:?} failed:\n{}", stderr(&o));
    stdout(&o)
}

/// The golden value of a fixture's field in `golden/flakes.tsv`.
pub fn golden(shared: &Path, fixture: &str, field: &str) -> String {
    let tsv = std::fs::read_to_string(shared.join("golden/flakes.tsv")).unwrap();
    tsv.lines()
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .find(|c| c.len() == 3 && c[0] == fixture && c[1] == field)
        .map(|c| c[2].to_owned())
        .unwrap_or_else(|| panic!("no golden {fixture} {field}"))
}
