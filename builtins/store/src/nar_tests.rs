//! Tests for `nar.rs`. Every expected value was printed by CppNix 2.8.0; the fixture tree is
//! `test_support::make_fixture` (the same script ran under /tmp/ref/fix for the reference).

use std::os::unix::fs::symlink;

use super::*;
use crate::test_support::{drop_sub_and_symlinks, drop_symlinks_and_e_acute, make_fixture, TempDir};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn dump(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    dump_path(path, &mut |_, _| true, &mut out).unwrap();
    out
}

/// Provenance: `nix-store --dump fix | sha256sum`, `nix-store --dump fix | wc -c`,
/// `nix-hash --type sha256 --base32 fix`, `nix --extra-experimental-features nix-command hash path fix`.
#[test]
fn fixture_tree() {
    let tmp = TempDir::new();
    let fix = tmp.path().join("fix");
    make_fixture(&fix);
    assert_eq!(dump(&fix).len(), 2960);
    let h = nar_hash_path(&fix, &mut |_, _| true).unwrap();
    assert_eq!(h.to_base16(), "e1594d0438f41cb5767d0940a0fc7a9ff26577fda13bce67e698c271d397b844");
    assert_eq!(h.to_nix32(), "0i5qjz9p3hlqwrkwwfx1zmvnbwlzgbya0h09gmvba77l7024sng1");
    assert_eq!(h.to_sri(), "sha256-4VlNBDj0HLV2fQlAoPx6n/Jld/2hO85n5pjCcdOXuEQ=");
}

/// Provenance: the stored copies of `builtins.path { name = "filtered"; filter = … }` and
/// `builtins.filterSource …` (paths.nix, instantiated with `--store /tmp/ref/st2`), then
/// `nix-hash --type sha256 <stored dir>` and `nix-store --dump <stored dir> | wc -c`.
#[test]
fn filtered_trees() {
    let tmp = TempDir::new();
    let fix = tmp.path().join("fix");
    make_fixture(&fix);
    let mut seen = Vec::new();
    let mut filter = |p: &Path, t: FileType| {
        seen.push(p.strip_prefix(&fix).unwrap().to_owned());
        drop_sub_and_symlinks(p, t)
    };
    let h = nar_hash_path(&fix, &mut filter).unwrap();
    assert_eq!(h.to_base16(), "86dad42b993b1f13e3f8eb0f35c83b232750b19d805e8e28070cf2f8c244f706");
    // The root is never offered, and nothing below a rejected directory is.
    assert!(!seen.iter().any(|p| p.as_os_str().is_empty()));
    assert!(seen.iter().any(|p| p == Path::new("sub")));
    assert!(!seen.iter().any(|p| p.starts_with("sub") && p != Path::new("sub")));
    assert!(seen.iter().any(|p| p == Path::new("bin/run.sh")));

    let mut out = Vec::new();
    dump_path(&fix, &mut drop_sub_and_symlinks, &mut out).unwrap();
    assert_eq!(out.len(), 1880);

    let h = nar_hash_path(&fix, &mut drop_symlinks_and_e_acute).unwrap();
    assert_eq!(h.to_base16(), "964cf78dbe8096fea181634fbf30cd170b1b5e4c274f1504165e534ef7b3ea21");
}

/// Provenance: `nix-store --dump builder.sh | sha256sum` / `| wc -c` (builder.sh = `echo hello > $out\n`),
/// `nix-store --dump fix/bin/run.sh` via its stored copy (`nix-hash --type sha256 …-run.sh`, 168 bytes),
/// and `nix-store --dump empty | xxd -p` for an empty file.
#[test]
fn single_files() {
    let tmp = TempDir::new();
    let b = tmp.path().join("builder.sh");
    fs::write(&b, "echo hello > $out\n").unwrap();
    assert_eq!(dump(&b).len(), 136);
    assert_eq!(
        nar_hash_path(&b, &mut |_, _| true).unwrap().to_base16(),
        "8492c36e27b262a6bab04c430b8d53f2405d55dec8405257e16d14ba0bb9d501"
    );

    let fix = tmp.path().join("fix");
    make_fixture(&fix);
    let run = fix.join("bin/run.sh");
    assert_eq!(dump(&run).len(), 168);
    assert_eq!(
        nar_hash_path(&run, &mut |_, _| true).unwrap().to_base16(),
        "b002b25fd7ea7dc451c1753d9865ab8dff2391e936c299e1d67c3acd35da2278"
    );

    let empty = tmp.path().join("empty");
    fs::write(&empty, "").unwrap();
    assert_eq!(
        hex(&dump(&empty)),
        "0d000000000000006e69782d617263686976652d3100000001000000000000002800000000000000\
         040000000000000074797065000000000700000000000000726567756c617200080000000000000063\
         6f6e74656e7473000000000000000001000000000000002900000000000000"
    );
}

/// Provenance: `ln -s some/target lnk; nix-store --dump lnk | xxd -p` (a symlink at the root is
/// archived, not followed).
#[test]
fn root_symlink_bytes() {
    let tmp = TempDir::new();
    let lnk = tmp.path().join("lnk");
    symlink("some/target", &lnk).unwrap();
    assert_eq!(
        hex(&dump(&lnk)),
        "0d000000000000006e69782d617263686976652d310000000100000000000000280000000000000004\
         000000000000007479706500000000070000000000000073796d6c696e6b0006000000000000007461\
         7267657400000b00000000000000736f6d652f746172676574000000000001000000000000002900000000000000"
    );
}

/// Provenance: `mkfifo withfifo/ff; nix-store --dump withfifo` fails with
/// `error: file 'withfifo/ff' has an unsupported type`.
#[test]
fn fifo_is_an_error_not_a_panic() {
    let tmp = TempDir::new();
    let dir = tmp.path().join("withfifo");
    fs::create_dir(&dir).unwrap();
    let fifo = dir.join("ff");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !status.is_ok_and(|s| s.success()) {
        return; // no mkfifo on this machine: nothing to check
    }
    let err = nar_hash_path(&dir, &mut |_, _| true).unwrap_err();
    assert_eq!(err.to_string(), format!("file '{}' has an unsupported type", fifo.display()));
    // A filter that drops it makes the tree archivable.
    assert!(nar_hash_path(&dir, &mut |_, t| t != FileType::Unknown).is_ok());
    assert!(nar_hash_path(&tmp.path().join("missing"), &mut |_, _| true).is_err());
}
