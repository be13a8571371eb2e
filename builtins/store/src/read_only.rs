//! [`ReadOnlyStore`]: the store of a read-only evaluation (`--readonly-mode`, `--dry-run`,
//! `--eval` without `--read-write-mode`, `dummy://`). It computes every path a writing
//! store would and writes nothing, and opens no database until import from derivation
//! asks about validity.
//!
//! Import from derivation is where it still needs the store it stands for, because
//! CppNix 2.8 asks it there even in read-only mode (`EvalState::realiseContext`): the
//! `.drv` must be valid there (else "path '…drv' is not valid"), and then
//! - a daemon builds the outputs (`BuildPaths`): read-only mode only stops the client
//!   from writing, so a `.drv` instantiated earlier is built and read as in read-write mode;
//! - a local store reads outputs that are already valid and otherwise refuses, with
//!   2.8's "cannot substitute path '…' - no write access to the Nix store";
//! - `dummy://` has nothing valid.
//!
//! `--add-root` makes its roots here too, as 2.8's `addPermRoot` ignores read-only mode.

use std::cell::OnceCell;
use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use rusqlite::Connection;

use crate::daemon::LazyDaemonStore;
use crate::hash::{Hash, HashAlgo};
use crate::local_db::{self, LocalLayout};
use crate::nar::PathFilter;
use crate::store::{in_store, physical, source_path, Store, StoreError};
use crate::store_path::{make_text_path, FileIngestionMethod, StorePath};

/// Computes every path a [`DirStore`](crate::DirStore) would, and writes nothing. Over a
/// local store or a daemon it answers `exists` and `real_path` from there and asks it about
/// import from derivation (see the module header).
#[derive(Debug, Default)]
pub struct ReadOnlyStore {
    backing: Backing,
}

#[derive(Default)]
enum Backing {
    /// `dummy://`: nothing is valid, nothing can be read.
    #[default]
    Nothing,
    /// A local store below `root`, its database opened read-only when first needed.
    Local { root: PathBuf, layout: LocalLayout, db: OnceCell<Option<Connection>> },
    /// A daemon, connected when first needed (a read-only evaluation that never builds
    /// does not need it to be up).
    Daemon(LazyDaemonStore),
}

impl fmt::Debug for Backing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backing::Nothing => f.write_str("Nothing"),
            Backing::Local { root, .. } => f.debug_struct("Local").field("root", root).finish_non_exhaustive(),
            Backing::Daemon(d) => f.debug_struct("Daemon").field("socket", &d.socket()).finish_non_exhaustive(),
        }
    }
}

impl ReadOnlyStore {
    /// A store with nothing in it (`dummy://`).
    pub fn new() -> ReadOnlyStore {
        ReadOnlyStore { backing: Backing::Nothing }
    }

    /// Reads (never writes) the local store at `root`.
    pub fn over(root: impl Into<PathBuf>) -> ReadOnlyStore {
        let root = root.into();
        let layout = LocalLayout::new(&root);
        ReadOnlyStore { backing: Backing::Local { root, layout, db: OnceCell::new() } }
    }

    /// Stands for the store of the daemon listening on `socket`: writes nothing there, but
    /// builds through it for import from derivation (connecting then).
    pub fn over_daemon(socket: impl Into<PathBuf>) -> ReadOnlyStore {
        ReadOnlyStore { backing: Backing::Daemon(LazyDaemonStore::new(socket)) }
    }

    /// Whether the local store's database has `path` (no database: nothing is valid).
    fn valid_locally(layout: &LocalLayout, db: &OnceCell<Option<Connection>>, path: &str) -> bool {
        let conn = db.get_or_init(|| local_db::open_reader(layout).ok().flatten());
        conn.as_ref().is_some_and(|c| local_db::is_valid(c, path).unwrap_or(false))
    }
}

/// 2.8's `InvalidPathError` for the `.drv` of import from derivation.
fn drv_not_valid(drv: &str) -> StoreError {
    StoreError::Build(format!(
        "path '{drv}' is not valid (import from derivation needs the derivation in the store, which a \
         read-only evaluation does not write: --readonly-mode, --dry-run, --eval without --read-write-mode, \
         dummy://)"
    ))
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
        if !in_store(path) {
            return None;
        }
        match &self.backing {
            Backing::Nothing => None,
            Backing::Local { root, .. } => Some(physical(root, path)),
            // Once connected (for a build), the daemon knows where its paths are readable.
            Backing::Daemon(d) => match d.connected() {
                Some(daemon) => daemon.real_path(path),
                None => Some(physical(Path::new("/"), path)),
            },
        }
    }

    fn build(&self, drv: &str, outputs: &[(String, String)]) -> Result<(), StoreError> {
        match &self.backing {
            Backing::Nothing => Err(drv_not_valid(drv)),
            Backing::Local { layout, db, .. } => {
                if !Self::valid_locally(layout, db, drv) {
                    return Err(drv_not_valid(drv));
                }
                match outputs.iter().find(|(_, p)| !(Self::valid_locally(layout, db, p) && self.exists(p))) {
                    None => Ok(()),
                    Some((_, missing)) => Err(StoreError::Build(format!(
                        "cannot substitute path '{missing}' - no write access to the Nix store (import from \
                         derivation needs a build, which a read-only evaluation of a local store cannot start)"
                    ))),
                }
            }
            Backing::Daemon(d) => {
                let daemon = d.connect()?;
                let drv_path = StorePath::parse(drv)?;
                let valid = daemon.is_valid_path(&drv_path).map_err(|e| StoreError::Build(e.to_string()))?;
                if !valid {
                    return Err(drv_not_valid(drv));
                }
                daemon.build(drv, outputs)
            }
        }
    }

    fn add_perm_root(&self, store_path: &str, gc_root: &Path) -> Result<Option<PathBuf>, StoreError> {
        match &self.backing {
            Backing::Nothing => Ok(None),
            Backing::Local { layout, .. } => crate::gc_roots::add_perm_root(layout, store_path, gc_root).map(Some),
            Backing::Daemon(d) => d.connect()?.add_perm_root(store_path, gc_root),
        }
    }
}
