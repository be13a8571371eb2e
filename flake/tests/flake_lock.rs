//! Locking and updating git, path, follows, `flake = false` and indirect inputs through the
//! command line, compared byte for byte with the lock files CppNix 2.8 wrote for the same
//! trees (`data/make-lock-fixtures.sh` at its fixed directory), and a github input fetched,
//! locked and verified from a server on 127.0.0.1.

mod common;

use common::*;
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

/// The reference's lock files name this directory, so the fixtures must live there.
const DEST: &str = "/tmp/rnix-flake-lock";

fn data(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)).unwrap()
}

fn fixtures(step: &str) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/make-lock-fixtures.sh");
    let ok = Command::new("bash").arg(script).arg(DEST).arg(step).status().map(|s| s.success()).unwrap_or(false);
    assert!(ok, "make-lock-fixtures.sh failed");
}

#[test]
fn lock_and_update_against_the_reference() {
    if !bin_built() {
        return;
    }
    fixtures("0");
    let top = Path::new(DEST).join("top");
    let store = format!("{DEST}-store");
    let reg = format!("{DEST}/registry.json");
    let run_reg = |args: &[&str]| {
        let mut a = args.to_vec();
        a.extend(["--store", store.as_str()]);
        isolate(&mut Command::new(bin()))
            .args(&a)
            .current_dir(&top)
            .env("RNIX_FLAKE_REGISTRY", &reg)
            .env("XDG_CONFIG_HOME", format!("{DEST}/noconf"))
            .output()
            .unwrap()
    };
    let lock = || std::fs::read_to_string(top.join("flake.lock")).unwrap();
    let o = run_reg(&["flake", "lock"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o), format!("warning: creating lock file '{DEST}/top/flake.lock'\n"));
    assert_eq!(lock(), data("lock-initial.lock"));
    let o = run_reg(&["eval", "--json", ".#v"]);
    assert_eq!(stdout(&o), r#"[1,2,2,"sub","reg","data\n"]"#, "{}", stderr(&o));
    assert_eq!(stdout(&run_reg(&["eval", ".#same"])), "true\n");

    // A new commit in dep2: kept by `flake lock`, taken by --update-input and `flake update`.
    fixtures("1");
    let o = run_reg(&["flake", "lock"]);
    assert!(o.status.success() && stderr(&o).is_empty(), "{}", stderr(&o));
    assert_eq!(lock(), data("lock-initial.lock"));
    let o = run_reg(&["flake", "lock", "--update-input", "dep2"]);
    assert!(stderr(&o).contains("• Updated input 'dep2':"), "{}", stderr(&o));
    assert_eq!(lock(), data("lock-update-dep2.lock"));
    std::fs::write(top.join("flake.lock"), data("lock-initial.lock")).unwrap();
    let o = run_reg(&["flake", "update", "dep2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(lock(), data("lock-update-dep2.lock"));
    std::fs::write(top.join("flake.lock"), data("lock-initial.lock")).unwrap();
    assert!(run_reg(&["flake", "update"]).status.success());
    assert_eq!(lock(), data("lock-update-all.lock"));
    // --no-write-lock-file leaves the file alone and warns with the diff.
    std::fs::write(top.join("flake.lock"), data("lock-initial.lock")).unwrap();
    let o = run_reg(&["eval", ".#same", "--recreate-lock-file", "--no-write-lock-file"]);
    assert!(
        stderr(&o).starts_with(&format!(
            "warning: not writing modified lock file of flake 'path:{DEST}/top':\n• Updated input 'dep2':"
        )),
        "{}",
        stderr(&o)
    );
    assert_eq!(lock(), data("lock-initial.lock"));
}

#[test]
fn github_input_fetched_locked_and_verified() {
    if !bin_built() {
        return;
    }
    let base = serve(
        HashMap::from([
            ("/repos/owner/repo/commits/HEAD".to_owned(), format!(r#"{{"sha":"{REV}"}}"#).into_bytes()),
            (format!("/repos/owner/repo/tarball/{REV}"), tarball(false)),
        ]),
        usize::MAX,
    );
    let dir = scratch("github");
    let top = dir.join("top");
    std::fs::create_dir_all(&top).unwrap();
    std::fs::write(
        top.join("flake.nix"),
        r#"{ inputs.gh = { url = "github:owner/repo"; flake = false; };
             outputs = { self, gh }: { out = gh.outPath; a = builtins.readFile "${gh}/a.txt"; rev = gh.rev; }; }"#,
    )
    .unwrap();
    let run_gh = |cache: &str, store: &str, args: &[&str]| {
        let mut a = args.to_vec();
        a.extend(["--store", store]);
        isolate(&mut Command::new(bin()))
            .args(&a)
            .current_dir(&top)
            .env("RNIX_GITHUB_API", &base)
            .env("XDG_CACHE_HOME", dir.join(cache))
            .env("XDG_CONFIG_HOME", dir.join("noconf"))
            .output()
            .unwrap()
    };
    let store = dir.join("store").display().to_string();
    let o = run_gh("c1", &store, &["flake", "lock"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lock: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(top.join("flake.lock")).unwrap()).unwrap();
    let want = serde_json::json!({
        "locked": {"lastModified": 1609459200, "narHash": NAR, "owner": "owner", "repo": "repo", "rev": REV, "type": "github"},
        "original": {"owner": "owner", "repo": "repo", "type": "github"},
        "flake": false
    });
    assert_eq!(lock["nodes"]["gh"], want);
    let o = run_gh("c1", &store, &["eval", "--json", ".#out"]);
    assert_eq!(stdout(&o), format!("\"{PATH}\""), "{}", stderr(&o));
    let o = run_gh("c1", &store, &["eval", "--raw", ".#a"]);
    assert_eq!(stdout(&o), "hello\n");
    // Verified: a lock with another narHash fails against a fresh cache and store.
    let bad = std::fs::read_to_string(top.join("flake.lock"))
        .unwrap()
        .replace(NAR, "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    std::fs::write(top.join("flake.lock"), bad).unwrap();
    let store2 = dir.join("store2").display().to_string();
    let o = run_gh("c2", &store2, &["eval", "--raw", ".#a"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("NAR hash mismatch in input 'github:owner/repo/"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}
