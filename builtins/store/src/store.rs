//! Store backends: where `toFile`, `.drv` files and imported sources go.
//!
//! The evaluator needs very little from a store: compute the path of some
//! text or some file tree, optionally write it, and ask whether a path exists.
//! [`Store`] is exactly that. [`DirStore`] is a local store: it writes
//! `ROOT/nix/store/<hash>-<name>` the way CppNix 2.8 lays one out (atomic
//! rename into place, read-only modes, mtime 1) and registers each path in the
//! store database under `ROOT/nix/var/nix` (`local_db.rs`), hashing on the
//! caller's thread and writing on a background one. [`ReadOnlyStore`](crate::ReadOnlyStore)
//! (`read_only.rs`) computes the same paths and writes nothing, for `--readonly-mode` /
//! `--eval` / `dummy://`.
//! Paths handed out are always logical `/nix/store/...` strings.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;

use crate::hash::{Hash, HashAlgo, Hasher};
use crate::local_db::{self, LocalDb, LocalLayout};
use crate::nar::{nar_hash_path, os_reason, with_path, FileType, PathFilter};
use crate::store_path::{
    make_fixed_output_path, make_text_path, FileIngestionMethod, StorePath, StorePathError, STORE_DIR,
};
use crate::writer::{Job, Registration, Ticket, Writer};

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

    /// Import from derivation: makes the outputs of the derivation `drv` (a `.drv` path
    /// added to this store) valid, as `(name, path)` pairs, by asking whoever owns the
    /// store to build or substitute them (never by building here). Outputs already valid
    /// are not built again. A store that cannot build says so.
    fn build(&self, drv: &str, outputs: &[(String, String)]) -> Result<(), StoreError> {
        if outputs.iter().all(|(_, p)| self.exists(p)) {
            return Ok(());
        }
        Err(StoreError::Build(format!("path '{drv}' is not valid")))
    }

    /// `nix-instantiate --add-root`: makes `gc_root` (absolute) a symlink to `store_path`
    /// and registers it as an indirect GC root of this store, as 2.8's `addPermRoot`.
    /// `None` for a store without GC roots (`dummy://`): nothing is made. (No default: a
    /// wrapping store must pass it on, or roots would silently not be made.)
    fn add_perm_root(&self, store_path: &str, gc_root: &Path) -> Result<Option<PathBuf>, StoreError>;
}

/// A local store rooted at a directory: files live in `ROOT/nix/store` and are registered
/// in `ROOT/nix/var/nix/db/db.sqlite`, like `nix-instantiate --store ROOT` (root `/` is the
/// system store).
///
/// Adding computes the path at once and leaves the writing and registering to a background
/// thread (see `writer.rs`). [`Store::add_path`] waits for its copy; [`Store::add_text`] and
/// [`Store::add_path_deferred`] do not. [`Store::exists`] and [`Store::real_path`] wait for
/// a path still being written, [`Store::flush`] waits for all of them, and so does dropping
/// the store. The store's state (directories, big lock, database) is opened on the first add.
#[derive(Debug)]
pub struct DirStore {
    root: PathBuf,
    layout: LocalLayout,
    /// Created with the store directory on the first add.
    state: Mutex<Option<DirState>>,
    /// A read-only connection for validity questions, once the database exists.
    reader: Mutex<Option<Connection>>,
}

#[derive(Debug)]
struct DirState {
    /// Base names this store queued, with the ticket that says when each is written.
    added: HashMap<String, Ticket>,
    writer: Writer,
}

impl DirStore {
    /// A store whose files go to `root/nix/store` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> DirStore {
        let root = root.into();
        let layout = LocalLayout::new(&root);
        DirStore { root, layout, state: Mutex::new(None), reader: Mutex::new(None) }
    }

    /// The directory given to [`DirStore::new`].
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where this store keeps its files and state.
    pub fn layout(&self) -> &LocalLayout {
        &self.layout
    }

    fn lock(&self) -> MutexGuard<'_, Option<DirState>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `job()` to write `sp` unless this store queued it already; returns `sp`.
    /// (Whether the database has it already is the writer's question, asked under the
    /// path's lock.)
    fn put(&self, sp: &StorePath, registration: Registration, job: impl FnOnce() -> Job) -> Result<String, StoreError> {
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
                self.is_valid(&sp.to_absolute())
            }
        });
        if !queued {
            let ticket = state.writer.submit(base, job(), registration)?;
            state.added.insert(base.to_owned(), ticket);
        }
        Ok(sp.to_absolute())
    }

    /// Opens the store's state (directories, lock, database) and starts the writer.
    fn open(&self) -> Result<DirState, StoreError> {
        let db = LocalDb::open(&self.layout)?;
        let dir = self.layout.real_store_dir.clone();
        let writer = Writer::spawn(dir.clone(), db).map_err(|e| with_path(e, "starting the writer for", &dir))?;
        Ok(DirState { added: HashMap::new(), writer })
    }

    /// True if the database has `path` (a `/nix/store/<name>` path).
    fn is_valid(&self, path: &str) -> bool {
        let mut reader = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        if reader.is_none() {
            *reader = local_db::open_reader(&self.layout).ok().flatten();
        }
        reader.as_ref().is_some_and(|conn| local_db::is_valid(conn, path).unwrap_or(false))
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
        let hash = Hash::digest(HashAlgo::Sha256, contents);
        let sp = make_text_path(name, &hash, references)?;
        let registration = Registration { references: references.clone(), ca: Some(content_address(TEXT, &hash)) };
        self.put(&sp, registration, || Job::Text(contents.to_vec()))
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
        let ca = match method {
            FileIngestionMethod::Recursive => content_address("fixed:r:", &hash),
            FileIngestionMethod::Flat => content_address("fixed:", &hash),
            FileIngestionMethod::Text => content_address(TEXT, &hash),
        };
        let registration = Registration { references: BTreeSet::new(), ca: Some(ca) };
        let job = || match method {
            FileIngestionMethod::Recursive => Job::Tree { src, rejected, hash },
            _ => Job::Flat { src, hash },
        };
        Ok((self.put(&sp, registration, job)?, hash))
    }

    /// Valid in the database (Nix's `isValidPath`) and, below it, present on disk.
    fn exists(&self, path: &str) -> bool {
        let Ok((sp, _)) = StorePath::parse_prefix(path) else {
            return false;
        };
        self.real_path(path).is_some_and(|p| fs::symlink_metadata(p).is_ok()) && self.is_valid(&sp.to_absolute())
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

    /// Runs the installed `nix-store --realise` on this store (after writing everything
    /// queued, so the `.drv` and its inputs are registered).
    fn build(&self, drv: &str, outputs: &[(String, String)]) -> Result<(), StoreError> {
        if !outputs.is_empty() && outputs.iter().all(|(_, p)| self.exists(p)) {
            return Ok(());
        }
        self.flush()?;
        let names: Vec<&str> = outputs.iter().map(|(n, _)| n.as_str()).collect();
        crate::realise::nix_store_realise(&self.root, drv, &names)
    }

    fn add_perm_root(&self, store_path: &str, gc_root: &Path) -> Result<Option<PathBuf>, StoreError> {
        crate::gc_roots::add_perm_root(&self.layout, store_path, gc_root).map(Some)
    }
}

/// The `text:` content-address prefix (`toFile`, `.drv`).
const TEXT: &str = "text:";

/// A content address as the database stores it: `PREFIX` + `sha256:` + nix32 hash.
fn content_address(prefix: &str, hash: &Hash) -> String {
    format!("{prefix}{}", hash.to_string(crate::hash::HashFormat::Nix32, true))
}

/// True if `path` is a valid store path or lies below one.
pub(crate) fn in_store(path: &str) -> bool {
    StorePath::parse_prefix(path).is_ok()
}

/// `ROOT` + the absolute logical path.
pub(crate) fn physical(root: &Path, logical: &str) -> PathBuf {
    root.join(logical.trim_start_matches('/'))
}

/// The path [`Store::add_path`] gives `src`, and the sha256 it is made from: the NAR hash
/// of the tree as `filter` lets it through for `Recursive`, the file's bytes otherwise
/// (`filter` is not asked then). Every store names a source this one way, whether or not
/// it goes on to copy it.
pub(crate) fn source_path(
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
    /// The store database or the store's state failed; the message says what was done.
    Db(String),
    /// Building for import from derivation failed or is impossible; the message says why.
    Build(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Path(e) => e.fmt(f),
            StoreError::Io(e) => f.write_str(&os_reason(e)),
            StoreError::Changed(p) => write!(f, "path '{p}' changed while it was being added to the store"),
            StoreError::Db(m) | StoreError::Build(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Path(e) => Some(e),
            StoreError::Io(e) => Some(e),
            StoreError::Changed(_) | StoreError::Db(_) | StoreError::Build(_) => None,
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
