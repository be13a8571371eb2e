//! Store backends: where `toFile`, `.drv` files and imported sources go.
//!
//! The evaluator needs very little from a store: compute the path of some
//! text or some file tree, optionally write it, and ask whether a path exists.
//! [`Store`] is exactly that. [`DirStore`] writes a chroot-style store
//! (`ROOT/nix/store/<hash>-<name>`) the way CppNix 2.8 lays one out (atomic
//! rename into place, read-only modes, mtime 1). [`ReadOnlyStore`] computes the
//! same paths and writes nothing, for `--readonly-mode` / `--eval`.
//! Paths handed out are always logical `/nix/store/...` strings.

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use crate::hash::{Hash, HashAlgo, Hasher};
use crate::nar::{nar_hash_path, os_reason, sorted_entries, with_path, FileType, PathFilter};
use crate::store_path::{
    make_fixed_output_path, make_text_path, FileIngestionMethod, StorePath, StorePathError,
    STORE_DIR,
};

/// The narrow store interface the evaluator uses.
pub trait Store {
    /// The logical store directory, always `/nix/store` (it is part of every hash).
    fn store_dir(&self) -> &str {
        STORE_DIR
    }

    /// Adds a text file (`toFile`, `.drv`) with the given references (absolute store paths);
    /// returns its path. An existing path is left alone.
    fn add_text(
        &self,
        name: &str,
        contents: &[u8],
        references: &BTreeSet<String>,
    ) -> Result<String, StoreError>;

    /// Imports `src` as Nix does for `./file` interpolation and `builtins.path`:
    /// - `Recursive`: the NAR of the (filtered) tree, sha256, `source` path;
    /// - `Flat`: a regular file's bytes, sha256, `fixed:out:` path (stored non-executable);
    /// - `Text`: a regular file's bytes as a text path without references.
    ///
    /// `filter` sees every entry below the root (recursive only), once each.
    /// Returns the path and the sha256 it was made from (the NAR hash for `Recursive`,
    /// the file hash otherwise).
    fn add_path(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
        filter: &mut PathFilter<'_>,
    ) -> Result<(String, Hash), StoreError>;

    /// True if the store path (or a path below one) is present.
    fn exists(&self, path: &str) -> bool;

    /// Where a `/nix/store/...` path (or a path below one) lives on disk, if this store has a disk.
    fn real_path(&self, path: &str) -> Option<PathBuf>;
}

/// A store rooted at a directory: files live in `ROOT/nix/store`, like `nix-instantiate --store ROOT`.
#[derive(Clone, Debug)]
pub struct DirStore {
    root: PathBuf,
}

impl DirStore {
    /// A store whose files go to `root/nix/store` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> DirStore {
        DirStore { root: root.into() }
    }

    /// The directory given to [`DirStore::new`].
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn dir(&self) -> PathBuf {
        physical(&self.root, STORE_DIR)
    }

    /// Moves a finished temp file or tree to `sp`, or discards it if `sp` appeared meanwhile.
    fn commit(&self, tmp: &Path, sp: &StorePath) -> Result<String, StoreError> {
        let dest = self.dir().join(sp.base_name());
        if let Err(e) = fs::rename(tmp, &dest) {
            remove_tree(tmp);
            if fs::symlink_metadata(&dest).is_err() {
                return Err(with_path(e, "renaming to", &dest).into());
            }
        }
        Ok(sp.to_absolute())
    }

    fn present(&self, sp: &StorePath) -> bool {
        fs::symlink_metadata(self.dir().join(sp.base_name())).is_ok()
    }

    /// A fresh name in the store directory (created if needed); same directory, so rename is atomic.
    fn temp_path(&self) -> Result<PathBuf, StoreError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = self.dir();
        fs::create_dir_all(&dir).map_err(|e| with_path(e, "creating directory", &dir))?;
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        Ok(dir.join(format!(".tmp-rnix-{}-{n}", std::process::id())))
    }

    fn add_flat(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
    ) -> Result<(String, Hash), StoreError> {
        // The path is only known after hashing, so hash while copying into a temp file.
        let tmp = self.temp_path()?;
        let result = (|| {
            let mut out = File::create(&tmp).map_err(|e| with_path(e, "creating file", &tmp))?;
            let hash = {
                let mut tee = Tee {
                    file: &mut out,
                    hasher: Hasher::new(HashAlgo::Sha256),
                };
                copy_flat(src, &mut tee)?;
                tee.hasher.finish()
            };
            let sp = flat_path(name, method, &hash)?;
            if self.present(&sp) {
                remove_tree(&tmp);
                return Ok((sp.to_absolute(), hash));
            }
            finish_file(&out, &tmp, false)?;
            drop(out);
            Ok((self.commit(&tmp, &sp)?, hash))
        })();
        if result.is_err() {
            remove_tree(&tmp);
        }
        result
    }

    fn add_recursive(
        &self,
        name: &str,
        src: &Path,
        filter: &mut PathFilter<'_>,
    ) -> Result<(String, Hash), StoreError> {
        // Hash first (calling the user's filter once per entry, remembering its answers),
        // then copy only if the path is new, replaying the answers. The copy is hashed
        // again, so a tree that changed in between is caught instead of stored wrongly.
        let mut rejected = HashSet::new();
        let hash = nar_hash_path(src, &mut |p: &Path, t: FileType| {
            let keep = filter(p, t);
            if !keep {
                rejected.insert(p.to_owned());
            }
            keep
        })?;
        let sp = make_fixed_output_path(
            FileIngestionMethod::Recursive,
            &hash,
            name,
            &BTreeSet::new(),
        )?;
        if self.present(&sp) {
            return Ok((sp.to_absolute(), hash));
        }
        let tmp = self.temp_path()?;
        let copied = copy_tree(src, &tmp, &mut |p: &Path| !rejected.contains(p))
            .and_then(|()| nar_hash_path(&tmp, &mut |_, _| true));
        match copied {
            Ok(h) if h == hash => Ok((self.commit(&tmp, &sp)?, hash)),
            Ok(_) => {
                remove_tree(&tmp);
                Err(StoreError::Changed(src.display().to_string()))
            }
            Err(e) => {
                remove_tree(&tmp);
                Err(e.into())
            }
        }
    }
}

impl Store for DirStore {
    fn add_text(
        &self,
        name: &str,
        contents: &[u8],
        references: &BTreeSet<String>,
    ) -> Result<String, StoreError> {
        let sp = make_text_path(name, &Hash::digest(HashAlgo::Sha256, contents), references)?;
        if self.present(&sp) {
            return Ok(sp.to_absolute());
        }
        let tmp = self.temp_path()?;
        let written = (|| {
            let mut f = File::create(&tmp).map_err(|e| with_path(e, "creating file", &tmp))?;
            f.write_all(contents)
                .map_err(|e| with_path(e, "writing to file", &tmp))?;
            finish_file(&f, &tmp, false)
        })();
        if let Err(e) = written {
            remove_tree(&tmp);
            return Err(e.into());
        }
        self.commit(&tmp, &sp)
    }

    fn add_path(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
        filter: &mut PathFilter<'_>,
    ) -> Result<(String, Hash), StoreError> {
        match method {
            FileIngestionMethod::Recursive => self.add_recursive(name, src, filter),
            _ => self.add_flat(name, src, method),
        }
    }

    fn exists(&self, path: &str) -> bool {
        self.real_path(path)
            .is_some_and(|p| fs::symlink_metadata(p).is_ok())
    }

    fn real_path(&self, path: &str) -> Option<PathBuf> {
        in_store(path).then(|| physical(&self.root, path))
    }
}

/// Computes every path a [`DirStore`] would, and writes nothing. With a root, it
/// answers `exists` and `real_path` from that (read-only) directory store.
#[derive(Clone, Debug, Default)]
pub struct ReadOnlyStore {
    root: Option<PathBuf>,
}

impl ReadOnlyStore {
    /// A store with nothing in it.
    pub fn new() -> ReadOnlyStore {
        ReadOnlyStore { root: None }
    }

    /// Reads (never writes) the directory store at `root`.
    pub fn over(root: impl Into<PathBuf>) -> ReadOnlyStore {
        ReadOnlyStore {
            root: Some(root.into()),
        }
    }
}

impl Store for ReadOnlyStore {
    fn add_text(
        &self,
        name: &str,
        contents: &[u8],
        references: &BTreeSet<String>,
    ) -> Result<String, StoreError> {
        Ok(
            make_text_path(name, &Hash::digest(HashAlgo::Sha256, contents), references)?
                .to_absolute(),
        )
    }

    fn add_path(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
        filter: &mut PathFilter<'_>,
    ) -> Result<(String, Hash), StoreError> {
        let (sp, hash) = match method {
            FileIngestionMethod::Recursive => {
                let hash = nar_hash_path(src, filter)?;
                let sp = make_fixed_output_path(method, &hash, name, &BTreeSet::new())?;
                (sp, hash)
            }
            _ => {
                let mut hasher = Hasher::new(HashAlgo::Sha256);
                copy_flat(src, &mut hasher)?;
                let hash = hasher.finish();
                (flat_path(name, method, &hash)?, hash)
            }
        };
        Ok((sp.to_absolute(), hash))
    }

    fn exists(&self, path: &str) -> bool {
        self.real_path(path)
            .is_some_and(|p| fs::symlink_metadata(p).is_ok())
    }

    fn real_path(&self, path: &str) -> Option<PathBuf> {
        let root = self.root.as_ref()?;
        in_store(path).then(|| physical(root, path))
    }
}

/// True if `path` is a valid store path or lies below one.
fn in_store(path: &str) -> bool {
    StorePath::parse_prefix(path).is_ok()
}

/// `ROOT` + the absolute logical path.
fn physical(root: &Path, logical: &str) -> PathBuf {
    root.join(logical.trim_start_matches('/'))
}

fn flat_path(
    name: &str,
    method: FileIngestionMethod,
    hash: &Hash,
) -> Result<StorePath, StorePathError> {
    make_fixed_output_path(method, hash, name, &BTreeSet::new())
}

/// Streams a regular file (following symlinks, as Nix's `readFile` does) into `out`.
fn copy_flat(src: &Path, out: &mut dyn Write) -> io::Result<()> {
    fs::metadata(src).map_err(|e| with_path(e, "getting status of", src))?;
    let mut f = File::open(src).map_err(|e| with_path(e, "opening file", src))?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("reading from file: {}", os_reason(&e)),
                ))
            }
        };
        out.write_all(&buf[..n])?;
    }
}

/// Writes to a file and a hash at once.
struct Tee<'a> {
    file: &'a mut File,
    hasher: Hasher,
}

impl Write for Tee<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Nix's canonical metadata for stored files: mode 0444 (0555 if executable), mtime 1.
fn finish_file(f: &File, path: &Path, executable: bool) -> io::Result<()> {
    let mode = if executable { 0o555 } else { 0o444 };
    f.set_modified(UNIX_EPOCH + Duration::from_secs(1))
        .and_then(|()| f.set_permissions(fs::Permissions::from_mode(mode)))
        .map_err(|e| with_path(e, "canonicalising", path))
}

/// Copies the entries `keep` accepts, giving everything Nix's canonical metadata.
fn copy_tree(src: &Path, dst: &Path, keep: &mut dyn FnMut(&Path) -> bool) -> io::Result<()> {
    let meta = fs::symlink_metadata(src).map_err(|e| with_path(e, "getting status of", src))?;
    match FileType::of(&meta) {
        FileType::Regular => {
            let mut out = File::create(dst).map_err(|e| with_path(e, "creating file", dst))?;
            let mut input = File::open(src).map_err(|e| with_path(e, "opening file", src))?;
            io::copy(&mut input, &mut out).map_err(|e| with_path(e, "copying", src))?;
            finish_file(&out, dst, meta.permissions().mode() & 0o100 != 0)
        }
        FileType::Symlink => {
            let target =
                fs::read_link(src).map_err(|e| with_path(e, "reading symbolic link", src))?;
            symlink(target, dst).map_err(|e| with_path(e, "creating symlink", dst))
        }
        FileType::Directory => {
            fs::create_dir(dst).map_err(|e| with_path(e, "creating directory", dst))?;
            for name in sorted_entries(src)? {
                let child = src.join(&name);
                if keep(&child) {
                    copy_tree(&child, &dst.join(&name), keep)?;
                }
            }
            fs::set_permissions(dst, fs::Permissions::from_mode(0o555))
                .and_then(|()| File::open(dst)?.set_modified(UNIX_EPOCH + Duration::from_secs(1)))
                .map_err(|e| with_path(e, "canonicalising", dst))
        }
        FileType::Unknown => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("file '{}' has an unsupported type", src.display()),
        )),
    }
}

/// Best-effort removal of a temp file or a (read-only) temp tree.
fn remove_tree(path: &Path) {
    fn unlock(path: &Path) {
        if fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
            let _ = fs::set_permissions(path, fs::Permissions::from_mode(0o755));
            if let Ok(entries) = fs::read_dir(path) {
                entries.flatten().for_each(|e| unlock(&e.path()));
            }
        }
    }
    unlock(path);
    let _ = fs::remove_dir_all(path).or_else(|_| fs::remove_file(path));
}

/// Why a store operation failed.
#[derive(Debug)]
pub enum StoreError {
    /// The name or computed path is invalid.
    Path(StorePathError),
    /// A filesystem error; the message already names the file, in Nix's style.
    Io(io::Error),
    /// The source tree changed between hashing and copying.
    Changed(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Path(e) => e.fmt(f),
            StoreError::Io(e) => f.write_str(&os_reason(e)),
            StoreError::Changed(p) => write!(
                f,
                "path '{p}' changed while it was being added to the store"
            ),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Path(e) => Some(e),
            StoreError::Io(e) => Some(e),
            StoreError::Changed(_) => None,
        }
    }
}

impl From<StorePathError> for StoreError {
    fn from(e: StorePathError) -> Self {
        StoreError::Path(e)
    }
}

impl From<io::Error> for StoreError {
    fn from(e: io::Error) -> Self {
        StoreError::Io(e)
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
