//! Tests for `store.rs`. Expected paths and on-disk metadata come from CppNix 2.8.0:
//! `nix-instantiate --eval --readonly-mode --strict tests/fixtures/paths.nix` for the paths, and
//! `nix-instantiate --store /tmp/ref/st2 -E 'derivation ({ name = "all"; system = "x"; builder = "/b"; }
//! // builtins.removeAttrs (import ./paths.nix) ["phOut" "phDev" "phWeird"])'` followed by
//! `find . -printf '%m %TY %y %p\n'` in `st2/nix/store` for what Nix writes to disk.

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use super::*;
use crate::test_support::{drop_sub_and_symlinks, drop_symlinks_and_e_acute, make_fixture, TempDir};
use crate::ReadOnlyStore;

fn all(_: &Path, _: FileType) -> bool {
    true
}

/// `mode type relative-path` for every entry, sorted, checking mtime = 1 on the way
/// (Nix's `%TY` printed 1970 for all of them; symlinks are left alone).
fn listing(root: &Path) -> Vec<String> {
    fn walk(base: &Path, p: &Path, out: &mut Vec<String>) {
        let m = fs::symlink_metadata(p).unwrap();
        let rel = p.strip_prefix(base).unwrap().display().to_string();
        let kind = if m.is_symlink() {
            'l'
        } else if m.is_dir() {
            'd'
        } else {
            'f'
        };
        if !m.is_symlink() {
            assert_eq!(m.mtime(), 1, "{rel}");
        }
        out.push(format!("{:o} {kind} {rel}", m.mode() & 0o7777));
        if m.is_dir() {
            for e in fs::read_dir(p).unwrap() {
                walk(base, &e.unwrap().path(), out);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort_by(|a, b| a.split(' ').nth(2).cmp(&b.split(' ').nth(2)));
    out
}

/// What Nix wrote for `builtins.path { path = fix; name = "filtered"; filter = … }`.
const FILTERED_LISTING: &[&str] = &[
    "555 d ",
    "444 f B",
    "444 f _u",
    "444 f a.txt",
    "555 d bin",
    "555 f bin/ro-exec",
    "555 f bin/run.sh",
    "444 f eight",
    "444 f notexec",
    "444 f é",
];

#[test]
fn dir_store_imports_like_nix() {
    let tmp = TempDir::new();
    let fix = tmp.path().join("fix");
    make_fixture(&fix);
    let store = DirStore::new(tmp.path().join("root"));
    let rec = FileIngestionMethod::Recursive;

    let (p, h) = store.add_path("fix", &fix, rec, &mut all).unwrap();
    assert_eq!(p, "/nix/store/09vda01r45zf3ngnjylybplanxwnijhg-fix");
    assert_eq!(h.to_nix32(), "0i5qjz9p3hlqwrkwwfx1zmvnbwlzgbya0h09gmvba77l7024sng1");
    let (p, _) = store.add_path("fixture", &fix, rec, &mut all).unwrap();
    assert_eq!(p, "/nix/store/v0rx48s3cm2fq5z8znafahcmk4xx8hrn-fixture");
    let stored = store.real_path(&p).unwrap();
    let l = listing(&stored);
    for line in [
        "555 d ",
        "777 l dangling",
        "777 l link",
        "555 d sub/emptydir",
        "444 f sub/deeper/empty",
        "555 f bin/ro-exec",
        "444 f notexec",
    ] {
        assert!(l.contains(&line.to_owned()), "{line} not in {l:?}");
    }
    assert_eq!(fs::read_link(stored.join("dangling")).unwrap(), Path::new("../nowhere"));
    assert_eq!(nar_hash_path(&stored, &mut all).unwrap(), h);

    let (p, _) = store.add_path("filtered", &fix, rec, &mut drop_sub_and_symlinks).unwrap();
    assert_eq!(p, "/nix/store/9i3ny40z3ybfzb4mapl30dcsjnbybbkw-filtered");
    assert_eq!(listing(&store.real_path(&p).unwrap()), FILTERED_LISTING);

    let (p, _) = store.add_path("fix", &fix, rec, &mut drop_symlinks_and_e_acute).unwrap();
    assert_eq!(p, "/nix/store/g0bphyjlpk4fc8g9pnx87qv89pvhzviw-fix");

    let run = fix.join("bin/run.sh");
    let (p, _) = store.add_path("run.sh", &run, rec, &mut all).unwrap();
    assert_eq!(p, "/nix/store/vhm14mqv1z8hl8qrg4v7zd1rqly2ki3k-run.sh");
    assert_eq!(listing(&store.real_path(&p).unwrap()), ["555 f "]);

    let flat = FileIngestionMethod::Flat;
    let (p, h) = store.add_path("a.txt", &fix.join("a.txt"), flat, &mut all).unwrap();
    assert_eq!(p, "/nix/store/fdwm55r4skpypx1gwzb7x69ckav1rv09-a.txt");
    assert_eq!(h, Hash::digest(HashAlgo::Sha256, b"hello\n"));
    // A flat import of an executable is stored non-executable.
    let (p, _) = store.add_path("run", &run, flat, &mut all).unwrap();
    assert_eq!(p, "/nix/store/d2bizrqygainsqjyyipsyhlhn21xcwwq-run");
    assert_eq!(listing(&store.real_path(&p).unwrap()), ["444 f "]);
    assert_eq!(fs::read(store.real_path(&p).unwrap()).unwrap(), b"#!/bin/sh\necho run\n");

    // Adding again changes nothing and leaves no temp files behind.
    store.add_path("fixture", &fix, rec, &mut all).unwrap();
    store.add_path("run", &run, flat, &mut all).unwrap();
    let names: Vec<String> = fs::read_dir(tmp.path().join("root/nix/store"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    // Besides the paths only Nix's `.links` (no temp or lock files).
    let paths: Vec<&String> = names.iter().filter(|n| *n != ".links").collect();
    assert_eq!(paths.len(), 7, "{names:?}");
    assert!(paths.iter().all(|n| !n.starts_with('.') && !n.ends_with(".lock")), "{names:?}");
}

/// The filter is consulted once per entry below the root, even when the tree is also copied.
#[test]
fn filter_runs_once_per_entry() {
    let tmp = TempDir::new();
    let fix = tmp.path().join("fix");
    make_fixture(&fix);
    let store = DirStore::new(tmp.path().join("root"));
    let mut calls = Vec::new();
    store
        .add_path("filtered", &fix, FileIngestionMethod::Recursive, &mut |p, t| {
            calls.push(p.to_owned());
            drop_sub_and_symlinks(p, t)
        })
        .unwrap();
    let unique: HashSet<_> = calls.iter().collect();
    assert_eq!(unique.len(), calls.len());
    // 10 top-level entries and the 2 in bin; nothing below the rejected `sub`.
    assert_eq!(calls.len(), 12);
}

/// Provenance: `builtins.toFile "hello.txt" "hello\n"` → qa1w9…, and the `dep` `.drv` written by
/// `nix-instantiate --store /tmp/ref/st (drv dep)` → p2qkh…-dep.drv with mode 444, mtime 1.
#[test]
fn add_text_writes_read_only_files() {
    let tmp = TempDir::new();
    let store = DirStore::new(tmp.path());
    let none = BTreeSet::new();
    let p = store.add_text("hello.txt", b"hello\n", &none).unwrap();
    assert_eq!(p, "/nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywp-hello.txt");
    assert!(store.exists(&p));
    assert_eq!(listing(&store.real_path(&p).unwrap()), ["444 f "]);
    assert_eq!(fs::read(tmp.path().join(&p[1..])).unwrap(), b"hello\n");

    let dep = include_bytes!("../tests/fixtures/p2qkh6lklg7zljx468xsl3gwif574nq4-dep.drv");
    let p = store.add_text("dep.drv", dep, &none).unwrap();
    assert_eq!(p, "/nix/store/p2qkh6lklg7zljx468xsl3gwif574nq4-dep.drv");
    assert_eq!(store.add_text("dep.drv", dep, &none).unwrap(), p);

    // Text ingestion of a file is the same rule.
    let f = tmp.path().join("h");
    fs::write(&f, "hello\n").unwrap();
    let (p, _) = store.add_path("hello.txt", &f, FileIngestionMethod::Text, &mut all).unwrap();
    assert_eq!(p, "/nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywp-hello.txt");

    let err = store.add_text("a b", b"x", &none).unwrap_err().to_string();
    assert_eq!(err, "store path 'dm85kbl5cy82j2dzvy1874s14y3salv3-a b' contains illegal character ' '");
}

#[test]
fn read_only_store_computes_and_writes_nothing() {
    let tmp = TempDir::new();
    let fix = tmp.path().join("fix");
    make_fixture(&fix);
    let ro = ReadOnlyStore::new();
    let (p, _) = ro.add_path("filtered", &fix, FileIngestionMethod::Recursive, &mut drop_sub_and_symlinks).unwrap();
    assert_eq!(p, "/nix/store/9i3ny40z3ybfzb4mapl30dcsjnbybbkw-filtered");
    let (p, _) = ro.add_path("a.txt", &fix.join("a.txt"), FileIngestionMethod::Flat, &mut all).unwrap();
    assert_eq!(p, "/nix/store/fdwm55r4skpypx1gwzb7x69ckav1rv09-a.txt");
    let p = ro.add_text("hello.txt", b"hello\n", &BTreeSet::new()).unwrap();
    assert!(!ro.exists(&p));
    assert_eq!(ro.real_path(&p), None);
    assert_eq!(ro.store_dir(), "/nix/store");

    let root = tmp.path().join("root");
    DirStore::new(&root).add_text("hello.txt", b"hello\n", &BTreeSet::new()).unwrap();
    let over = ReadOnlyStore::over(&root);
    assert!(over.exists(&p));
    assert!(!over.exists("/nix/store/l82nr4gna33sc2g8m4hkkr6r983dlbd6-a.txt"));
    assert!(!over.exists("/etc/passwd"));
    assert_eq!(fs::read_dir(&fix).unwrap().count(), 10); // the source is untouched
}

/// Import from derivation in a read-only evaluation of a local store, as 2.8 answers it:
/// a `.drv` the database lacks is "not valid"; with the `.drv` valid, an output the
/// database lacks cannot be built ("cannot substitute … no write access"); valid outputs
/// are fine. (A file without a database row is not valid.) `dummy://` has nothing valid.
#[test]
fn read_only_store_builds_nothing_and_says_why() {
    let tmp = TempDir::new();
    let root = tmp.path().join("root");
    let dir = DirStore::new(&root);
    let drv = dir.add_text("x.drv", b"Derive()", &BTreeSet::new()).unwrap();
    let built = dir.add_text("built", b"out", &BTreeSet::new()).unwrap();
    dir.flush().unwrap();
    drop(dir);
    let missing = "/nix/store/l82nr4gna33sc2g8m4hkkr6r983dlbd6-missing";
    let stray = "/nix/store/fdwm55r4skpypx1gwzb7x69ckav1rv09-stray";
    fs::write(physical(&root, stray), "no row").unwrap();
    let ro = ReadOnlyStore::over(&root);
    let out = |p: &str| vec![("out".to_owned(), p.to_owned())];
    assert!(ro.build(&drv, &out(&built)).is_ok());
    for absent in [missing, stray] {
        let e = ro.build(&drv, &out(absent)).unwrap_err().to_string();
        assert!(e.starts_with(&format!("cannot substitute path '{absent}' - no write access to the Nix store")), "{e}");
        let e = ro.build(absent, &out(&built)).unwrap_err().to_string();
        assert!(e.starts_with(&format!("path '{absent}' is not valid")), "{e}");
    }
    let e = ReadOnlyStore::new().build(&drv, &out(&built)).unwrap_err().to_string();
    assert!(e.starts_with(&format!("path '{drv}' is not valid")), "{e}");
}

/// Provenance: `nix-instantiate --eval --readonly-mode -E 'builtins.path { path = /tmp/ref/fix;
/// recursive = false; }'` → `reading from file: Is a directory`; `builtins.path { path =
/// /tmp/ref/nonexist; }` → `getting status of '/tmp/ref/nonexist': No such file or directory`.
#[test]
fn import_errors() {
    let tmp = TempDir::new();
    let fix = tmp.path().join("fix");
    make_fixture(&fix);
    for store in [&DirStore::new(tmp.path().join("root")) as &dyn Store, &ReadOnlyStore::new()] {
        let err = store.add_path("fix", &fix, FileIngestionMethod::Flat, &mut all).unwrap_err();
        assert_eq!(err.to_string(), "reading from file: Is a directory");
        let missing = tmp.path().join("nonexist");
        let err = store.add_path("x", &missing, FileIngestionMethod::Recursive, &mut all).unwrap_err();
        assert_eq!(err.to_string(), format!("getting status of '{}': No such file or directory", missing.display()));
        assert!(store.add_path("a b", &fix, FileIngestionMethod::Recursive, &mut all).is_err());
    }
    // Nothing was written: the store directory is made by the first successful add.
    assert!(!tmp.path().join("root/nix").exists());
}

/// A file in the store directory without a database row is invalid, as it is to Nix (a
/// killed writer's, or from before the database): adding the path replaces it. A valid
/// path is left alone.
#[test]
fn invalid_leftovers_are_rewritten_valid_paths_are_not() {
    let tmp = TempDir::new();
    let dir = tmp.path().join("nix/store");
    fs::create_dir_all(&dir).unwrap();
    let there = dir.join("qa1w9gdfrba6jl2r57mb3c43863gqywp-hello.txt");
    fs::write(&there, "half-written").unwrap();
    let store = DirStore::new(tmp.path());
    let p = store.add_text("hello.txt", b"hello\n", &BTreeSet::new()).unwrap();
    assert_eq!(p, "/nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywp-hello.txt");
    store.flush().unwrap();
    assert_eq!(fs::read(&there).unwrap(), b"hello\n");
    assert!(store.exists(&p));
    drop(store);

    fs::set_permissions(&there, fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(&there, "left alone").unwrap();
    let store = DirStore::new(tmp.path());
    store.add_text("hello.txt", b"hello\n", &BTreeSet::new()).unwrap();
    store.flush().unwrap();
    assert_eq!(fs::read(&there).unwrap(), b"left alone");
}

/// Writes happen in the background, but whatever asks for a path sees it written, and
/// a dropped store has finished every write.
#[test]
fn queued_writes_are_visible() {
    let tmp = TempDir::new();
    let fix = tmp.path().join("fix");
    make_fixture(&fix);
    let store = DirStore::new(tmp.path().join("root"));
    let none = BTreeSet::new();
    let texts: Vec<String> =
        (0..200).map(|i| store.add_text(&format!("t{i}"), format!("{i}\n").as_bytes(), &none).unwrap()).collect();
    let (tree, _) = store.add_path("fix", &fix, FileIngestionMethod::Recursive, &mut all).unwrap();
    assert!(store.exists(&format!("{tree}/sub/deeper/empty")));
    assert_eq!(fs::read(store.real_path(&texts[199]).unwrap()).unwrap(), b"199\n");
    let late = store.add_text("late", b"late\n", &none).unwrap();
    drop(store);
    assert_eq!(fs::read(tmp.path().join("root").join(&late[1..])).unwrap(), b"late\n");
    let names = fs::read_dir(tmp.path().join("root/nix/store"))
        .unwrap()
        .filter(|e| !e.as_ref().unwrap().file_name().to_string_lossy().starts_with('.'))
        .count();
    assert_eq!(names, 202);
}

/// A write that fails is reported once, by the next add or by `flush`, naming the path.
#[test]
fn write_errors_are_reported_once() {
    let tmp = TempDir::new();
    let root = tmp.path().join("root");
    let store = DirStore::new(&root);
    let none = BTreeSet::new();
    store.add_text("first", b"1", &none).unwrap();
    store.flush().unwrap();
    // Replace the store directory by a file: every later write fails, even as root.
    let dir = root.join("nix/store");
    fs::remove_dir_all(&dir).unwrap();
    fs::write(&dir, "not a directory").unwrap();
    let p = store.add_text("hello.txt", b"hello\n", &none).unwrap();
    assert_eq!(p, "/nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywp-hello.txt");
    let err = store.flush().unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("writing '{p}': opening lock file '{}/", dir.display()))
            && err.ends_with(".lock': Not a directory"),
        "{err}"
    );
    store.flush().unwrap();
    // `real_path` waits for the write, which fails; the next add says so and queues nothing.
    let second = store.add_text("second", b"2", &none).unwrap();
    store.real_path(&second);
    let err = store.add_text("third", b"3", &none).unwrap_err().to_string();
    assert!(err.starts_with("writing '/nix/store/") && err.contains("-second': opening lock file"), "{err}");
    store.flush().unwrap();
    // Once the directory is back, adding a path whose write failed writes it.
    fs::remove_file(&dir).unwrap();
    fs::create_dir(&dir).unwrap();
    store.add_text("hello.txt", b"hello\n", &none).unwrap();
    assert!(store.exists(&p));
    store.flush().unwrap();
}

/// `add_path` has copied when it returns: the caller may remove a temporary source.
/// `add_path_deferred` copies later, but before the path is looked at.
#[test]
fn add_path_copies_before_returning() {
    let tmp = TempDir::new();
    let store = DirStore::new(tmp.path().join("root"));
    let none = BTreeSet::new();
    for i in 0..100 {
        store.add_text(&format!("t{i}"), format!("{i}").as_bytes(), &none).unwrap();
    }
    let src = tmp.path().join("src");
    make_fixture(&src);
    let rec = FileIngestionMethod::Recursive;
    let (p, _) = store.add_path("fixture", &src, rec, &mut all).unwrap();
    fs::remove_dir_all(&src).unwrap();
    assert_eq!(p, "/nix/store/v0rx48s3cm2fq5z8znafahcmk4xx8hrn-fixture");
    store.flush().unwrap();
    let stored = store.real_path(&p).unwrap();
    assert_eq!(fs::read(stored.join("a.txt")).unwrap(), b"hello\n");

    make_fixture(&src);
    let (p, _) = store.add_path_deferred("fix", &src, rec, &mut all).unwrap();
    assert_eq!(p, "/nix/store/09vda01r45zf3ngnjylybplanxwnijhg-fix");
    assert!(store.exists(&format!("{p}/a.txt")));
}

/// A store whose database is newer than CppNix 2.8's is refused, with Nix's words; one
/// that is older is refused too (rnix-eval does not upgrade schemas).
#[test]
fn foreign_schema_versions_are_refused() {
    for (version, says) in
        [("11", "current Nix store schema is version 11, but I only support 10"), ("7", "has schema version 7")]
    {
        let tmp = TempDir::new();
        let db = tmp.path().join("nix/var/nix/db");
        fs::create_dir_all(&db).unwrap();
        fs::write(db.join("schema"), version).unwrap();
        let err = DirStore::new(tmp.path()).add_text("a", b"a", &BTreeSet::new()).unwrap_err().to_string();
        assert!(err.contains(says), "{err}");
    }
}

/// Nix's path locks: a held lock excludes others (in this process too: `flock` locks
/// belong to open files); releasing deletes the lock file.
#[test]
fn path_locks_exclude_and_clean_up() {
    use crate::path_lock::PathLock;
    let tmp = TempDir::new();
    let path = tmp.path().join("0000000000000000000000000000000a-x");
    let held = PathLock::try_acquire(&path).unwrap().expect("free");
    let lock_file = tmp.path().join("0000000000000000000000000000000a-x.lock");
    assert!(lock_file.exists());
    assert!(PathLock::try_acquire(&path).unwrap().is_none(), "a held lock must exclude");
    drop(held);
    assert!(!lock_file.exists(), "the lock file is deleted on release");
    let again = PathLock::acquire(&path).unwrap();
    drop(again);
}
