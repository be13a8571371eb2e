//! Locking and updating git, path, follows, `flake = false` and indirect inputs through the
//! command line, compared byte for byte with the lock files CppNix 2.8 wrote for the same
//! trees (`data/make-lock-fixtures.sh` at its fixed directory), and a github input fetched,
//! locked and verified from a server on 127.0.0.1.

mod common;

use common::*;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
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
    if !bin().exists() {
        eprintln!("skipping: the rnix-eval binary is absent (cargo build --release first)");
        return;
    }
    fixtures("0");
    let top = Path::new(DEST).join("top");
    let store = format!("{DEST}-store");
    let reg = format!("{DEST}/registry.json");
    let run_reg = |args: &[&str]| {
        let mut a = args.to_vec();
        a.extend(["--store", store.as_str()]);
        Command::new(bin()).args(&a).current_dir(&top).env("RNIX_FLAKE_REGISTRY", &reg)
            .env("XDG_CONFIG_HOME", format!("{DEST}/noconf")).output().unwrap()
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
    assert!(stderr(&o).starts_with(&format!("warning: not writing modified lock file of flake 'path:{DEST}/top':\n• Updated input 'dep2':")), "{}", stderr(&o));
    assert_eq!(lock(), data("lock-initial.lock"));
}

const REV: &str = "0123456789abcdef0123456789abcdef01234567";
/// `nix hash path` (2.8) of the tree in [`tarball`].
const NAR: &str = "sha256-+gklZlLAudjsO97Sc6Jc4C17rVNsj1lmoO/CPXeIsJI=";
const PATH: &str = "/nix/store/3v85ap2fwcik8qhf4x0rifm57q562gjh-source";

fn tarball() -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(vec![], flate2::Compression::default());
    let mut b = tar::Builder::new(gz);
    let mut add = |path: &str, kind: tar::EntryType, mode: u32, data: &[u8], link: Option<&str>| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_mtime(1609459200);
        h.set_size(data.len() as u64);
        if let Some(l) = link {
            h.set_link_name(l).unwrap();
        }
        b.append_data(&mut h, path, data).unwrap();
    };
    add("owner-repo-0123456/", tar::EntryType::Directory, 0o755, b"", None);
    add("owner-repo-0123456/a.txt", tar::EntryType::Regular, 0o644, b"hello\n", None);
    add("owner-repo-0123456/sub/", tar::EntryType::Directory, 0o755, b"", None);
    add("owner-repo-0123456/sub/run.sh", tar::EntryType::Regular, 0o755, b"#!/bin/sh\n", None);
    add("owner-repo-0123456/l", tar::EntryType::Symlink, 0o777, b"", Some("a.txt"));
    b.into_inner().unwrap().finish().unwrap()
}

fn serve(routes: HashMap<String, Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut req = vec![];
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let line = String::from_utf8_lossy(&req).lines().next().unwrap_or("").to_owned();
            let path = line.split(' ').nth(1).unwrap_or("").to_owned();
            let (status, body) = match routes.get(&path) {
                Some(b) => ("200 OK", b.clone()),
                None => ("404 Not Found", b"not found".to_vec()),
            };
            let _ = write!(s, "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let _ = s.write_all(&body);
        }
    });
    base
}

#[test]
fn github_input_fetched_locked_and_verified() {
    if !bin().exists() {
        eprintln!("skipping: the rnix-eval binary is absent (cargo build --release first)");
        return;
    }
    let base = serve(HashMap::from([
        ("/repos/owner/repo/commits/HEAD".to_owned(), format!(r#"{{"sha":"{REV}"}}"#).into_bytes()),
        (format!("/repos/owner/repo/tarball/{REV}"), tarball()),
    ]));
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
        Command::new(bin()).args(&a).current_dir(&top).env("RNIX_GITHUB_API", &base)
            .env("XDG_CACHE_HOME", dir.join(cache)).env("XDG_CONFIG_HOME", dir.join("noconf")).output().unwrap()
    };
    let store = dir.join("store").display().to_string();
    let o = run_gh("c1", &store, &["flake", "lock"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lock: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(top.join("flake.lock")).unwrap()).unwrap();
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
    let bad = std::fs::read_to_string(top.join("flake.lock")).unwrap().replace(NAR, "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    std::fs::write(top.join("flake.lock"), bad).unwrap();
    let store2 = dir.join("store2").display().to_string();
    let o = run_gh("c2", &store2, &["eval", "--raw", ".#a"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("NAR hash mismatch in input 'github:owner/repo/"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}
