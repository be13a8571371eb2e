//! Pure and restricted evaluation's file access: only the allowed roots may be read.
//!
//! 2.8's `checkSourcePath`: a path is first canonicalised without following symlinks and
//! must lie in an allowed root (so `root/../..` cannot escape); then symlinks are resolved
//! and the result must still lie in a root (so a symlink inside a flake cannot point out).
//! Roots are the fetched trees (flake inputs, `fetchTree`: logical store paths
//! `/nix/store/…-source` with the directory that really holds them, since a `--store DIR`
//! keeps them elsewhere; symlinks are resolved there), in restricted mode the search path's
//! directories, and the store paths the evaluation itself made (`toFile`, copied sources,
//! `.drv`s: [`RecordingStore`] notes them), provided their real location does not leave the
//! store. Any other store path is refused, as the reference refuses it. The reference's
//! corepkgs (`/__corepkgs__/…`) are always allowed.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use nix_eval::io::{EvalIo, FileType};
use nix_store_core::nar::PathFilter;
use nix_store_core::{FileIngestionMethod, Hash, Store, StoreError};

#[derive(Default)]
struct Roots {
    /// (logical path, where it really is).
    trees: Vec<(String, PathBuf)>,
    /// Store paths the evaluation made.
    made: BTreeSet<String>,
}

/// The allowed roots, shared by the fetchers, the store and [`PureIo`].
#[derive(Clone, Default)]
pub struct AllowedRoots(Rc<RefCell<Roots>>);

impl AllowedRoots {
    /// Allows reading `logical` (and everything below it), which lives at `real`.
    pub fn allow(&self, logical: &str, real: PathBuf) {
        let mut v = self.0.borrow_mut();
        if !v.trees.iter().any(|(l, _)| l == logical) {
            v.trees.push((logical.to_owned(), real));
        }
    }

    /// Allows reading the store path `path`, which the evaluation made.
    pub fn allow_made(&self, path: &str) {
        self.0.borrow_mut().made.insert(path.to_owned());
    }

    fn find(&self, path: &str) -> Option<(String, PathBuf)> {
        self.0.borrow().trees.iter().find(|(l, _)| is_dir_or_in_dir(path, l)).cloned()
    }

    fn is_made(&self, store_path: &str) -> bool {
        self.0.borrow().made.contains(store_path)
    }
}

/// Which restriction is in force; it words the refusals.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Restriction {
    /// `--pure-eval`, flakes without `--impure`.
    Pure,
    /// `--restrict-eval`.
    Restricted,
}

impl Restriction {
    fn wording(self) -> &'static str {
        match self {
            Restriction::Pure => "in pure eval mode (use '--impure' to override)",
            Restriction::Restricted => "in restricted mode",
        }
    }
}

/// File access restricted to the allowed roots.
pub struct PureIo {
    inner: Box<dyn EvalIo>,
    allowed: AllowedRoots,
    store: Rc<dyn Store>,
    restriction: Restriction,
}

impl PureIo {
    /// Wraps `inner` (which does the actual reading).
    pub fn new(
        inner: Box<dyn EvalIo>,
        allowed: AllowedRoots,
        store: Rc<dyn Store>,
        restriction: Restriction,
    ) -> PureIo {
        PureIo { inner, allowed, store, restriction }
    }

    fn forbidden(&self, p: &str) -> String {
        format!("access to absolute path '{p}' is forbidden {}", self.restriction.wording())
    }

    fn check(&self, path: &Path) -> Result<(), String> {
        let Some(p) = path.to_str() else {
            return Err(self.forbidden(&path.to_string_lossy()));
        };
        let abs = nix_eval::canon_path(p);
        if abs.starts_with("/__corepkgs__/") {
            return Ok(());
        }
        let store_dir = format!("{}/", nix_store_core::STORE_DIR);
        let (root_logical, root_real) = match self.allowed.find(&abs) {
            Some(r) => r,
            None if abs.starts_with(&store_dir) => {
                let top: String = abs.splitn(5, '/').take(4).collect::<Vec<_>>().join("/");
                if !self.allowed.is_made(&top) {
                    return Err(self.forbidden(&abs));
                }
                match self.store.real_path(&top) {
                    Some(real) => (top, real),
                    None => return Ok(()),
                }
            }
            None => return Err(self.forbidden(&abs)),
        };
        let rest = &abs[root_logical.len()..];
        let real = PathBuf::from(format!("{}{}", root_real.display(), rest));
        let Some(canon_real) = canonicalize_existing(&real) else {
            return Ok(());
        };
        let canon_root = std::fs::canonicalize(&root_real).unwrap_or(root_real);
        if canon_real.starts_with(&canon_root) {
            return Ok(());
        }
        // A symlink may still point into another allowed root.
        let s = canon_real.to_string_lossy().into_owned();
        if self.allowed.find(&s).is_some() {
            return Ok(());
        }
        // 2.8 words the second check this way even in pure mode.
        Err(format!("access to canonical path '{s}' is forbidden in restricted mode"))
    }
}

fn is_dir_or_in_dir(path: &str, dir: &str) -> bool {
    path == dir || (path.starts_with(dir) && path.as_bytes().get(dir.len()) == Some(&b'/'))
}

/// The canonical form of `p` with symlinks resolved; for a path that does not exist, its
/// longest existing prefix resolved plus the rest (`None` if nothing exists).
fn canonicalize_existing(p: &Path) -> Option<PathBuf> {
    if let Ok(c) = std::fs::canonicalize(p) {
        return Some(c);
    }
    let mut rest = vec![];
    let mut cur = p.to_path_buf();
    while let Some(parent) = cur.parent().map(Path::to_path_buf) {
        rest.push(cur.file_name()?.to_owned());
        if let Ok(c) = std::fs::canonicalize(&parent) {
            let mut out = c;
            for r in rest.iter().rev() {
                out.push(r);
            }
            return Some(out);
        }
        cur = parent;
    }
    None
}

impl EvalIo for PureIo {
    fn read_file(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.inner.read_file(path)
    }
    fn read_dir(&self, path: &Path) -> io::Result<Vec<(String, FileType)>> {
        self.inner.read_dir(path)
    }
    fn file_type(&self, path: &Path) -> io::Result<FileType> {
        self.inner.file_type(path)
    }
    fn check_access(&self, path: &Path) -> Result<(), String> {
        self.check(path)?;
        self.inner.check_access(path)
    }
}

/// A store that notes every path added through it as made by the evaluation (readable in
/// pure and restricted mode).
pub struct RecordingStore {
    inner: Rc<dyn Store>,
    allowed: AllowedRoots,
}

impl RecordingStore {
    /// Wraps `inner`; the paths it adds are allowed in `allowed`.
    pub fn new(inner: Rc<dyn Store>, allowed: AllowedRoots) -> RecordingStore {
        RecordingStore { inner, allowed }
    }

    fn note<T>(&self, r: Result<(String, T), StoreError>) -> Result<(String, T), StoreError> {
        if let Ok((p, _)) = &r {
            self.allowed.allow_made(p);
        }
        r
    }
}

impl Store for RecordingStore {
    fn store_dir(&self) -> &str {
        self.inner.store_dir()
    }
    fn add_text(&self, name: &str, contents: &[u8], references: &BTreeSet<String>) -> Result<String, StoreError> {
        let p = self.inner.add_text(name, contents, references)?;
        self.allowed.allow_made(&p);
        Ok(p)
    }
    fn add_path(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
        filter: &mut PathFilter<'_>,
    ) -> Result<(String, Hash), StoreError> {
        self.note(self.inner.add_path(name, src, method, filter))
    }
    fn add_path_deferred(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
        filter: &mut PathFilter<'_>,
    ) -> Result<(String, Hash), StoreError> {
        self.note(self.inner.add_path_deferred(name, src, method, filter))
    }
    fn exists(&self, path: &str) -> bool {
        self.inner.exists(path)
    }
    fn real_path(&self, path: &str) -> Option<PathBuf> {
        self.inner.real_path(path)
    }
    fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush()
    }
    fn add_perm_root(&self, store_path: &str, gc_root: &Path) -> Result<Option<PathBuf>, StoreError> {
        self.inner.add_perm_root(store_path, gc_root)
    }
    /// Built outputs (import from derivation) are readable, as 2.8 allows them.
    fn build(&self, drv: &str, outputs: &[(String, String)]) -> Result<(), StoreError> {
        self.inner.build(drv, outputs)?;
        for (_, p) in outputs {
            self.allowed.allow_made(p);
        }
        Ok(())
    }
}
