//! Helpers for the flake tests: the binary, the shared data, fixtures, runs, and a github
//! archive served from 127.0.0.1.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `target/release/rnix-eval`, or `$RNIX_EVAL`.
pub fn bin() -> PathBuf {
    std::env::var_os("RNIX_EVAL")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/rnix-eval"))
}

/// True if the rnix-eval binary is built; else says the test skips.
pub fn bin_built() -> bool {
    let built = bin().exists();
    require_or_skip(built, &bin().display().to_string());
    if !built {
        eprintln!("skipping: the rnix-eval binary is absent (cargo build --release first)");
    }
    built
}

/// `../shared` (or `$RNIX_SHARED`) if it holds the flake fixtures and their goldens.
/// Silent: for tests that need no binary and say themselves why they skip.
pub fn shared_data() -> Option<PathBuf> {
    let p = std::env::var_os("RNIX_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    let found = p.join("golden/flakes.tsv").exists();
    require_or_skip(found, &format!("{}/golden/flakes.tsv", p.display()));
    found.then_some(p)
}

/// With `RNIX_REQUIRE_SHARED` set (as `.ci/run` does), missing shared data or a missing
/// binary fails the test instead of skipping it.
pub fn require_or_skip(present: bool, what: &str) {
    if !present && std::env::var_os("RNIX_REQUIRE_SHARED").is_some_and(|v| !v.is_empty() && v != "0") {
        panic!("{what} is missing and RNIX_REQUIRE_SHARED is set: missing shared data is a failure");
    }
}

/// [`shared_data`] if the rnix-eval binary is built too, else `None` (tests skip).
pub fn shared() -> Option<PathBuf> {
    match shared_data() {
        Some(p) if bin().exists() => Some(p),
        _ => {
            require_or_skip(false, "../shared (flake fixtures) or the rnix-eval binary");
            eprintln!(
                "skipping: ../shared (flake fixtures) or the rnix-eval binary is absent (cargo build --release first)"
            );
            None
        }
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

/// Removes `dir`, which holds store copies: they are read-only, so it makes them writable first.
pub fn remove_with_store(dir: &Path) {
    let _ = Command::new("chmod").args(["-R", "u+w"]).arg(dir).status();
    let _ = std::fs::remove_dir_all(dir);
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

/// This test process's private cache, data and state directories (under the temporary
/// directory, never the user's home).
pub fn private_xdg() -> PathBuf {
    std::env::temp_dir().join(format!("rnix-flake-tests-xdg-{}", std::process::id()))
}

/// Points every per-user directory the binary may write (the evaluation and fetch caches,
/// the fallback store, state) at [`private_xdg`], and the configuration at an empty
/// directory. A test that wants its own cache sets `XDG_CACHE_HOME` after this.
pub fn isolate(c: &mut Command) -> &mut Command {
    let conf = std::env::temp_dir().join("rnix-flake-tests-noconf");
    let _ = std::fs::create_dir_all(&conf);
    let xdg = private_xdg();
    c.env("XDG_CONFIG_HOME", &conf)
        .env("NIX_CONF_DIR", &conf)
        .env("XDG_CACHE_HOME", xdg.join("cache"))
        .env("XDG_DATA_HOME", xdg.join("data"))
        .env("XDG_STATE_HOME", xdg.join("state"))
}

/// Runs `rnix-eval ARGS` in `dir` with a private registry/config environment.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    isolate(&mut Command::new(bin())).args(args).current_dir(dir).output().expect("run rnix-eval")
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

/// The commit of the github repository `owner/repo` that [`tarball`] archives.
pub const REV: &str = "0123456789abcdef0123456789abcdef01234567";
/// `nix hash path` (2.8) of the tree in [`tarball`].
pub const NAR: &str = "sha256-+gklZlLAudjsO97Sc6Jc4C17rVNsj1lmoO/CPXeIsJI=";
/// `nix store add-path` (2.8) of the tree in [`tarball`].
pub const PATH: &str = "/nix/store/3v85ap2fwcik8qhf4x0rifm57q562gjh-source";

/// The github archive of [`REV`]: `owner-repo-0123456/{a.txt, sub/run.sh (executable),
/// l -> a.txt}`, mtime 2021-01-01; with `extra_top`, also a stray top-level file.
pub fn tarball(extra_top: bool) -> Vec<u8> {
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
    if extra_top {
        add("stray.txt", tar::EntryType::Regular, 0o644, b"x", None);
    }
    b.into_inner().unwrap().finish().unwrap()
}

/// Serves `routes` (path → body, else 404) on 127.0.0.1 for at most `max` requests
/// (`usize::MAX`: as long as the test runs), never the internet; returns the base URL.
pub fn serve(routes: HashMap<String, Vec<u8>>, max: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(max) {
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
