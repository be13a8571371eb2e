//! A store opened at its first use.
//!
//! `nix-instantiate --store unix://SOCKET --eval -E 1` prints `1` even when no daemon
//! listens there: 2.8 connects only when something is added to or asked of the store. The
//! command line opens every store up front, so a store whose opening can fail (a daemon's
//! socket) is wrapped in a [`LazyStore`]: nothing happens until a method needs the store,
//! then it is opened once; an opening that failed fails every later call the same way.

use crate::hash::Hash;
use crate::nar::PathFilter;
use crate::store::{Store, StoreError};
use crate::store_path::FileIngestionMethod;
use std::cell::OnceCell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Opens the real store; the error is the message shown to the user.
type Opener = Box<dyn Fn() -> Result<Rc<dyn Store>, String>>;

/// A [`Store`] that opens the store it stands for when first needed.
pub struct LazyStore {
    open: Opener,
    opened: OnceCell<Result<Rc<dyn Store>, String>>,
}

impl LazyStore {
    /// A store that `open` makes at the first call that needs it.
    pub fn new(open: impl Fn() -> Result<Rc<dyn Store>, String> + 'static) -> LazyStore {
        LazyStore { open: Box::new(open), opened: OnceCell::new() }
    }

    fn store(&self) -> Result<&Rc<dyn Store>, StoreError> {
        self.opened.get_or_init(|| (self.open)()).as_ref().map_err(|m| StoreError::Db(m.clone()))
    }
}

impl Store for LazyStore {
    fn add_text(&self, name: &str, contents: &[u8], references: &BTreeSet<String>) -> Result<String, StoreError> {
        self.store()?.add_text(name, contents, references)
    }

    fn add_path(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
        filter: &mut PathFilter<'_>,
    ) -> Result<(String, Hash), StoreError> {
        self.store()?.add_path(name, src, method, filter)
    }

    fn add_path_deferred(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
        filter: &mut PathFilter<'_>,
    ) -> Result<(String, Hash), StoreError> {
        self.store()?.add_path_deferred(name, src, method, filter)
    }

    /// False when the store cannot be opened (the next call that can fail says why).
    fn exists(&self, path: &str) -> bool {
        self.store().is_ok_and(|s| s.exists(path))
    }

    fn real_path(&self, path: &str) -> Option<PathBuf> {
        self.store().ok()?.real_path(path)
    }

    /// Nothing to wait for in a store never opened.
    fn flush(&self) -> Result<(), StoreError> {
        match self.opened.get() {
            Some(Ok(s)) => s.flush(),
            _ => Ok(()),
        }
    }

    fn build(&self, drv: &str, outputs: &[(String, String)]) -> Result<(), StoreError> {
        self.store()?.build(drv, outputs)
    }

    fn add_perm_root(&self, store_path: &str, gc_root: &Path) -> Result<Option<PathBuf>, StoreError> {
        self.store()?.add_perm_root(store_path, gc_root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ReadOnlyStore;
    use std::cell::Cell;

    #[test]
    fn opens_once_at_first_use_and_repeats_a_failure() {
        let calls = Rc::new(Cell::new(0));
        let c = calls.clone();
        let lazy = LazyStore::new(move || {
            c.set(c.get() + 1);
            Ok(Rc::new(ReadOnlyStore::new()) as Rc<dyn Store>)
        });
        assert_eq!(calls.get(), 0);
        lazy.flush().unwrap();
        assert_eq!(calls.get(), 0, "flush of an unopened store opens nothing");
        let p = lazy.add_text("a", b"b", &BTreeSet::new()).unwrap();
        let q = lazy.add_text("a", b"b", &BTreeSet::new()).unwrap();
        assert_eq!(p, q);
        assert_eq!(calls.get(), 1);

        let failing = LazyStore::new(|| Err("cannot connect to the Nix daemon at '/x'".to_string()));
        for _ in 0..2 {
            let e = failing.add_text("a", b"b", &BTreeSet::new()).unwrap_err();
            assert_eq!(e.to_string(), "cannot connect to the Nix daemon at '/x'");
        }
        assert!(!failing.exists("/nix/store/x"));
    }
}
