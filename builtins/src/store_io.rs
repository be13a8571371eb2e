//! File access that sees store paths the evaluation made without (or before) writing them.
//!
//! `import "${./dir}/file.nix"` copies `./dir` into the store and then reads it back from
//! there. In read-only mode nothing was written, and even with a directory store the path
//! lives under `--store DIR`, not at `/nix/store`. This layer maps a path below a store path
//! to the source it was copied from, else to where the store keeps it, before delegating.

use nix_eval::io::{EvalIo, FileType};
use nix_store_core::Store;
use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Store path -> the source directory or file it was made from.
pub type SourceMap = Rc<RefCell<FxHashMap<String, PathBuf>>>;

pub struct StoreIo {
    pub inner: Box<dyn EvalIo>,
    pub sources: SourceMap,
    pub store: Rc<dyn Store>,
}

impl StoreIo {
    fn map(&self, path: &Path) -> PathBuf {
        real_path(&self.sources, self.store.as_ref(), path)
    }
}

/// Where the file at `path` really is: below a store path made from a source, that source;
/// below a store path the store keeps elsewhere (a directory store), there; else `path`.
pub fn real_path(sources: &SourceMap, store: &dyn Store, path: &Path) -> PathBuf {
    {
        let Some(s) = path.to_str() else { return path.to_path_buf() };
        let Some(rest) = s.strip_prefix("/nix/store/") else { return path.to_path_buf() };
        let (base, sub) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let top = format!("/nix/store/{}", base);
        let src = sources.borrow().get(&top).cloned();
        if let Some(src) = src {
            let mapped = PathBuf::from(format!("{}{}", src.display(), sub));
            // A source that is itself in the store (`"${./file}"` in a flake) is where that
            // store path lives (a `--store DIR` keeps it elsewhere).
            if src.starts_with("/nix/store/") && !src.starts_with(&top) {
                return real_path(sources, store, &mapped);
            }
            return mapped;
        }
        if let Some(real) = store.real_path(s) {
            if real.exists() || std::fs::symlink_metadata(&real).is_ok() {
                return real;
            }
        }
        path.to_path_buf()
    }
}

impl EvalIo for StoreIo {
    fn read_file(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.inner.read_file(&self.map(path))
    }
    fn read_dir(&self, path: &Path) -> io::Result<Vec<(String, FileType)>> {
        self.inner.read_dir(&self.map(path))
    }
    fn file_type(&self, path: &Path) -> io::Result<FileType> {
        self.inner.file_type(&self.map(path))
    }
    fn check_access(&self, path: &Path) -> Result<(), String> {
        self.inner.check_access(path)
    }
}
