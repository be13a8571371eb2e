//! Test-only helpers: a self-cleaning temp dir and the fixture tree whose
//! hashes were pinned with the reference Nix.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A fresh directory under the system temp dir, removed (read-only parts included) on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("nix-store-core-test-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        make_writable(&self.0);
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn make_writable(path: &Path) {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return;
    };
    if meta.is_dir() {
        let _ = fs::set_permissions(path, fs::Permissions::from_mode(0o755));
        if let Ok(entries) = fs::read_dir(path) {
            for e in entries.flatten() {
                make_writable(&e.path());
            }
        }
    }
}

fn file(path: &Path, contents: &[u8], mode: u32) {
    fs::write(path, contents).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// Builds the fixture tree at `dir` (which must not exist). It is the tree the
/// reference hashes were taken from, made by this script (`mkfix.sh`):
///
/// ```sh
/// mkdir -p "$d/bin" "$d/sub/deeper" "$d/sub/emptydir"
/// printf 'hello\n' > "$d/a.txt"; chmod 0644 "$d/a.txt"
/// printf '#!/bin/sh\necho run\n' > "$d/bin/run.sh"; chmod 0755 "$d/bin/run.sh"
/// printf 'x' > "$d/bin/ro-exec"; chmod 0500 "$d/bin/ro-exec"
/// printf 'y' > "$d/notexec"; chmod 0645 "$d/notexec"
/// printf '12345678' > "$d/eight"
/// ln -s a.txt "$d/link"; ln -s ../nowhere "$d/dangling"
/// : > "$d/sub/deeper/empty"
/// printf 'B' > "$d/B"; printf 'u' > "$d/_u"; printf 'utf8\n' > "$d/é"
/// ```
pub fn make_fixture(d: &Path) {
    fs::create_dir_all(d.join("bin")).unwrap();
    fs::create_dir_all(d.join("sub/deeper")).unwrap();
    fs::create_dir_all(d.join("sub/emptydir")).unwrap();
    file(&d.join("a.txt"), b"hello\n", 0o644);
    file(&d.join("bin/run.sh"), b"#!/bin/sh\necho run\n", 0o755);
    file(&d.join("bin/ro-exec"), b"x", 0o500);
    file(&d.join("notexec"), b"y", 0o645);
    file(&d.join("eight"), b"12345678", 0o644);
    symlink("a.txt", d.join("link")).unwrap();
    symlink("../nowhere", d.join("dangling")).unwrap();
    file(&d.join("sub/deeper/empty"), b"", 0o644);
    file(&d.join("B"), b"B", 0o644);
    file(&d.join("_u"), b"u", 0o644);
    file(&d.join("é"), b"utf8\n", 0o644);
}

/// The filter of `builtins.path { name = "filtered"; filter = p: t: !(t == "directory" &&
/// baseNameOf p == "sub") && t != "symlink"; }` in the reference run.
pub fn drop_sub_and_symlinks(p: &Path, t: crate::nar::FileType) -> bool {
    use crate::nar::FileType;
    !(t == FileType::Directory && p.file_name().is_some_and(|n| n == "sub")) && t != FileType::Symlink
}

/// The filter of `builtins.filterSource (p: t: t != "symlink" && baseNameOf p != "é")`.
pub fn drop_symlinks_and_e_acute(p: &Path, t: crate::nar::FileType) -> bool {
    t != crate::nar::FileType::Symlink && p.file_name().is_none_or(|n| n != "é")
}
