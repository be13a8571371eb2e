//! A daemon's store, connected at its first use.
//!
//! `nix-instantiate --store unix://SOCKET --eval -E 1` prints `1` even when no daemon
//! listens there: 2.8 connects only when something is added to or asked of the store. The
//! command line opens its stores up front, so it opens a daemon's as a [`LazyDaemonStore`]:
//! nothing happens until a method needs the daemon, then it connects once; a connection
//! that failed fails every later call the same way. [`ReadOnlyStore`](crate::ReadOnlyStore)
//! over a daemon connects through it too (only import from derivation and `--add-root` need
//! the daemon there).

use std::cell::OnceCell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::DaemonStore;
use crate::hash::Hash;
use crate::nar::PathFilter;
use crate::store::{Store, StoreError};
use crate::store_path::FileIngestionMethod;

/// The store of the daemon listening on a socket, connected when first needed.
pub struct LazyDaemonStore {
    socket: PathBuf,
    conn: OnceCell<Result<DaemonStore, String>>,
}

impl LazyDaemonStore {
    /// The store of the daemon on `socket`; nothing is connected yet.
    pub fn new(socket: impl Into<PathBuf>) -> LazyDaemonStore {
        LazyDaemonStore { socket: socket.into(), conn: OnceCell::new() }
    }

    /// The socket it connects to.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The daemon, connecting on the first call.
    pub fn connect(&self) -> Result<&DaemonStore, StoreError> {
        self.conn
            .get_or_init(|| {
                DaemonStore::connect(&self.socket)
                    .map_err(|e| format!("cannot open the daemon store at '{}': {e}", self.socket.display()))
            })
            .as_ref()
            .map_err(|m| StoreError::Db(m.clone()))
    }

    /// The daemon if a call connected it already (never connects).
    pub fn connected(&self) -> Option<&DaemonStore> {
        self.conn.get().and_then(|c| c.as_ref().ok())
    }
}

impl Store for LazyDaemonStore {
    fn add_text(&self, name: &str, contents: &[u8], references: &BTreeSet<String>) -> Result<String, StoreError> {
        self.connect()?.add_text(name, contents, references)
    }

    fn add_path(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
        filter: &mut PathFilter<'_>,
    ) -> Result<(String, Hash), StoreError> {
        self.connect()?.add_path(name, src, method, filter)
    }

    fn add_path_deferred(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
        filter: &mut PathFilter<'_>,
    ) -> Result<(String, Hash), StoreError> {
        self.connect()?.add_path_deferred(name, src, method, filter)
    }

    /// False when the daemon cannot be reached (the next call that can fail says why).
    fn exists(&self, path: &str) -> bool {
        self.connect().is_ok_and(|d| d.exists(path))
    }

    fn real_path(&self, path: &str) -> Option<PathBuf> {
        self.connect().ok()?.real_path(path)
    }

    /// Nothing to wait for before the first connection.
    fn flush(&self) -> Result<(), StoreError> {
        self.connected().map_or(Ok(()), |d| d.flush())
    }

    fn build(&self, drv: &str, outputs: &[(String, String)]) -> Result<(), StoreError> {
        self.connect()?.build(drv, outputs)
    }

    fn add_perm_root(&self, store_path: &str, gc_root: &Path) -> Result<Option<PathBuf>, StoreError> {
        self.connect()?.add_perm_root(store_path, gc_root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connects_only_when_used_and_repeats_a_failure() {
        let dir = std::env::temp_dir().join(format!("rnix-lazy-daemon-{}", std::process::id()));
        let socket = dir.join("no-daemon.sock");
        let lazy = LazyDaemonStore::new(&socket);
        lazy.flush().unwrap();
        assert!(lazy.conn.get().is_none(), "flush of an unconnected store connects nothing");
        assert!(lazy.connected().is_none());
        for _ in 0..2 {
            let e = lazy.add_text("a", b"b", &BTreeSet::new()).unwrap_err().to_string();
            assert!(e.starts_with(&format!("cannot open the daemon store at '{}': ", socket.display())), "{e}");
            assert!(e.contains("No such file or directory"), "{e}");
        }
        assert!(lazy.conn.get().is_some(), "the failure is kept");
        assert!(!lazy.exists("/nix/store/x"));
        lazy.flush().unwrap();
    }
}
