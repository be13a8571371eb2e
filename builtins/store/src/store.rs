//! Store backends: where `toFile`, `.drv` files and imported sources go.
//!
//! The evaluator needs very little from a store: compute the path of some
//! text or some file tree, optionally write it, and ask whether a path exists.
//! [`Store`] is exactly that. [`DirStore`] writes a chroot-style store
//! (`ROOT/nix/store/<hash>-<name>`) the way CppNix 2.8 lays one out (atomic
//! rename into place, read-only modes, mtime 1), hashing on the caller's thread
//! and writing on a background one. [`ReadOnlyStore`] computes the same paths
//! and writes nothing, for `--readonly-mode` / `--eval`.
//! Paths handed out are always logical `/nix/store/...` strings.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use crate::hash::{Hash, HashAlgo, Hasher};
use crate::nar::{nar_hash_path, os_reason, with_path, FileType, PathFilter};
use crate::store_path::{
    make_fixed_output_path, make_text_path, FileIngestionMethod, StorePath, StorePathError, STORE_DIR,
};
use crate::writer::{Job, Ticket, Writer};

/// The narrow store interface the evaluator uses.
pub trait Store {
    /// The logical store directory, always `/nix/store` (it is part of every hash).
    fn store_dir(&self) -> &str {
        STORE_DIR
    }

    /// Adds a text file (`toFile`, `.drv`) with the given references (absolute store paths);
    /// returns its path. An existing path is left alone. The store may write the file after
    /// returning (see [`Store::add_path_deferred`]).
    fn add_text(&self, name: &str, contents: &[u8], references: &BTreeSet<String>) -> Result<String, StoreError>;

    /// Imports `src` as Nix does for `./file` interpolation and `builtins.path`:
    /// - `Recursive`: the NAR of the (filtered) tree, sha256, `source` path;
    /// - `Flat`: a regular file's bytes, sha256, `fixed:out:` path (stored non-executable);
    /// - `Text`: a regular file's bytes as a text path without references.
    ///
    /// `filter` sees every entry below the root (recursive only), once each.
    /// Returns the path and the sha256 it was made from (the NAR hash for `Recursive`,
    /// the file hash otherwise), once the copy is in the store: `src` may go away then.
    fn add_path(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
        filter: &mut PathFilter<'_>,
    ) -> Result<(String, Hash), StoreError>;

    /// [`Store::add_path`] for a source that stays as it is: the store may copy it after
    /// returning (in the background), but before [`Store::exists`] or [`Store::real_path`]
    /// answer for the result and before [`Store::flush`] returns. A source that changes
    /// meanwhile makes the write fail (reported by a later add or by `flush`).
    fn add_path_deferred(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
        filter: &mut PathFilter<'_>,
    ) -> Result<(String, Hash), StoreError> {
        self.add_path(name, src, method, filter)
    }

    /// True if the store path (or a path below one) is present.
    fn exists(&self, path: &str) -> bool;

    /// Where a `/nix/store/...` path (or a path below one) lives on disk, if this store has a disk.
    fn real_path(&self, path: &str) -> Option<PathBuf>;

    /// Waits until everything added is on disk. A store that writes in the background
    /// returns the first write error no earlier call returned; each error is returned once.
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A store rooted at a directory: files live in `ROOT/nix/store`, like `nix-instantiate --store ROOT`.
///
/// Adding computes the path at once and leaves the writing to a background thread (see
/// `writer.rs`). [`Store::add_path`] waits for its copy; [`Store::add_text`] and
/// [`Store::add_path_deferred`] do not. [`Store::exists`] and [`Store::real_path`] wait for
/// a path still being written, [`Store::flush`] waits for all of them, and so does dropping
/// the store. What is already in the directory is read once, on the first add.
#[derive(Debug)]
pub struct DirStore {
    root: PathBuf,
    /// Created with the store directory on the first add.
    state: Mutex<Option<DirState>>,
}

#[derive(Debug)]
struct DirState {
    /// Base names found in the store directory when it was opened.
    on_disk: HashSet<String>,
    /// Base names this store queued, with the ticket that says when each is written.
    added: HashMap<String, Ticket>,
    writer: Writer,
}

impl DirStore {
    /// A store whose files go to `root/nix/store` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> DirStore {
        DirStore { root: root.into(), state: Mutex::new(None) }
    }

    /// The directory given to [`DirStore::new`].
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn lock(&self) -> MutexGuard<'_, Option<DirState>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `job()` to write `sp` unless it is there already; returns `sp`.
    fn put(&self, sp: &StorePath, job: impl FnOnce() -> Job) -> Result<String, StoreError> {
        let mut guard = self.lock();
        let state = match &mut *guard {
            Some(s) => s,
            none => none.insert(self.open()?),
        };
        let base = sp.base_name();
        let queued = state.added.get(base).is_some_and(|&ticket| {
            // Once a write has failed, one queued earlier may be missing: look.
            !state.writer.ever_failed() || {
                state.writer.wait(ticket);
                fs::symlink_metadata(physical(&self.root, &sp.to_absolute())).is_ok()
            }
        });
        if !queued && !state.on_disk.contains(base) {
            let ticket = state.writer.submit(base, job())?;
            state.added.insert(base.to_owned(), ticket);
        }
        Ok(sp.to_absolute())
    }

    /// Creates the store directory, lists it, and starts the writer.
    fn open(&self) -> Result<DirState, StoreError> {
        let dir = physical(&self.root, STORE_DIR);
        fs::create_dir_all(&dir).map_err(|e| with_path(e, "creating directory", &dir))?;
        let entries = fs::read_dir(&dir).map_err(|e| with_path(e, "opening directory", &dir))?;
        let mut on_disk = HashSet::new();
        for e in entries {
            let e = e.map_err(|e| with_path(e, "reading directory", &dir))?;
            if let Ok(name) = e.file_name().into_string() {
                on_disk.insert(name);
            }
        }
        let writer = Writer::spawn(dir.clone()).map_err(|e| with_path(e, "starting the writer for", &dir))?;
        Ok(DirState { on_disk, added: HashMap::new(), writer })
    }

    /// Waits until the store path holding `path` is on disk, if this store is writing it.
    /// With `report`, returns the first write error not reported yet.
    fn settle(&self, path: &str, report: bool) -> Result<(), StoreError> {
        let Ok((sp, _)) = StorePath::parse_prefix(path) else {
            return Ok(());
        };
        let guard = self.lock();
        let Some(state) = &*guard else {
            return Ok(());
        };
        let Some(&ticket) = state.added.get(sp.base_name()) else {
            return Ok(());
        };
        state.writer.wait(ticket);
        if report {
            state.writer.take_error()
        } else {
            Ok(())
        }
    }
}

impl Store for DirStore {
    fn add_text(&self, name: &str, contents: &[u8], references: &BTreeSet<String>) -> Result<String, StoreError> {
        let sp = make_text_path(name, &Hash::digest(HashAlgo::Sha256, contents), references)?;
        self.put(&sp, || Job::Text(contents.to_vec()))
    }

    fn add_path(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
        filter: &mut PathFilter<'_>,
    ) -> Result<(String, Hash), StoreError> {
        let (path, hash) = self.add_path_deferred(name, src, method, filter)?;
        self.settle(&path, true)?;
        Ok((path, hash))
    }

    fn add_path_deferred(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
        filter: &mut PathFilter<'_>,
    ) -> Result<(String, Hash), StoreError> {
        let src = src.to_owned();
        // The filter runs once per entry, here; the copy replays its answers.
        let mut rejected = HashSet::new();
        let (sp, hash) = source_path(name, &src, method, &mut |p: &Path, t: FileType| {
            let keep = filter(p, t);
            if !keep {
                rejected.insert(p.to_owned());
            }
            keep
        })?;
        let job = || match method {
            FileIngestionMethod::Recursive => Job::Tree { src, rejected, hash },
            _ => Job::Flat { src, hash },
        };
        Ok((self.put(&sp, job)?, hash))
    }

    fn exists(&self, path: &str) -> bool {
        self.real_path(path).is_some_and(|p| fs::symlink_metadata(p).is_ok())
    }

    fn real_path(&self, path: &str) -> Option<PathBuf> {
        if !in_store(path) {
            return None;
        }
        // A failed write is reported by the next add or by `flush`; the path is then absent.
        let _ = self.settle(path, false);
        Some(physical(&self.root, path))
    }

    fn flush(&self) -> Result<(), StoreError> {
        match &*self.lock() {
            Some(state) => state.writer.flush(),
            None => Ok(()),
        }
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
        ReadOnlyStore { root: Some(root.into()) }
    }
}

impl Store for ReadOnlyStore {
    fn add_text(&self, name: &str, contents: &[u8], references: &BTreeSet<String>) -> Result<String, StoreError> {
        Ok(make_text_path(name, &Hash::digest(HashAlgo::Sha256, contents), references)?.to_absolute())
    }

    fn add_path(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
        filter: &mut PathFilter<'_>,
    ) -> Result<(String, Hash), StoreError> {
        let (sp, hash) = source_path(name, src, method, filter)?;
        Ok((sp.to_absolute(), hash))
    }

    fn exists(&self, path: &str) -> bool {
        self.real_path(path).is_some_and(|p| fs::symlink_metadata(p).is_ok())
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

/// The path [`Store::add_path`] gives `src`, and the sha256 it is made from: the NAR hash
/// of the tree as `filter` lets it through for `Recursive`, the file's bytes otherwise
/// (`filter` is not asked then). Every store names a source this one way, whether or not
/// it goes on to copy it.
fn source_path(
    name: &str,
    src: &Path,
    method: FileIngestionMethod,
    filter: &mut PathFilter<'_>,
) -> Result<(StorePath, Hash), StoreError> {
    let hash = match method {
        FileIngestionMethod::Recursive => nar_hash_path(src, filter)?,
        _ => flat_hash(src)?,
    };
    let sp = make_fixed_output_path(method, &hash, name, &BTreeSet::new())?;
    Ok((sp, hash))
}

/// sha256 of a regular file's bytes.
fn flat_hash(src: &Path) -> io::Result<Hash> {
    let mut hasher = Hasher::new(HashAlgo::Sha256);
    copy_flat(src, &mut hasher)?;
    Ok(hasher.finish())
}

/// Streams a regular file (following symlinks, as Nix's `readFile` does) into `out`.
pub(crate) fn copy_flat(src: &Path, out: &mut dyn Write) -> io::Result<()> {
    fs::metadata(src).map_err(|e| with_path(e, "getting status of", src))?;
    let mut f = File::open(src).map_err(|e| with_path(e, "opening file", src))?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io::Error::new(e.kind(), format!("reading from file: {}", os_reason(&e)))),
        };
        out.write_all(&buf[..n])?;
    }
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
            StoreError::Changed(p) => write!(f, "path '{p}' changed while it was being added to the store"),
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
