//! Pure evaluation's file access: only the fetched trees (and the store) may be read.
//!
//! 2.8's `checkSourcePath`: a path is first canonicalised without following symlinks and
//! must lie in an allowed root (so `root/../..` cannot escape); then symlinks are resolved
//! and the result must still lie in a root (so a symlink inside a flake cannot point out).
//! Roots are logical store paths (`/nix/store/…-source`) with the directory that really
//! holds them (a `--store DIR` keeps them elsewhere); symlinks are resolved there. Paths in
//! the logical store that are not roots (files the evaluation itself wrote: `toFile`, copied
//! sources, `.drv`s) are allowed, provided their real location does not leave the store.
//! The reference's corepkgs (`/__corepkgs__/…`) are always allowed.

use std::cell::RefCell;
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use nix_eval::io::{EvalIo, FileType};
use nix_store_core::Store;

/// The allowed roots: (logical path, where it really is).
#[derive(Clone, Default)]
pub struct AllowedRoots(Rc<RefCell<Vec<(String, PathBuf)>>>);

impl AllowedRoots {
    /// Allows reading `logical` (and everything below it), which lives at `real`.
    pub fn allow(&self, logical: &str, real: PathBuf) {
        let mut v = self.0.borrow_mut();
        if !v.iter().any(|(l, _)| l == logical) {
            v.push((logical.to_owned(), real));
        }
    }

    fn find(&self, path: &str) -> Option<(String, PathBuf)> {
        self.0.borrow().iter().find(|(l, _)| is_dir_or_in_dir(path, l)).cloned()
    }
}

/// File access restricted to the allowed roots.
pub struct PureIo {
    inner: Box<dyn EvalIo>,
    allowed: AllowedRoots,
    store: Rc<dyn Store>,
}

impl PureIo {
    /// Wraps `inner` (which does the actual reading).
    pub fn new(inner: Box<dyn EvalIo>, allowed: AllowedRoots, store: Rc<dyn Store>) -> PureIo {
        PureIo { inner, allowed, store }
    }

    fn check(&self, path: &Path) -> Result<(), String> {
        let Some(p) = path.to_str() else {
            return Err(forbidden("absolute", &path.to_string_lossy()));
        };
        let abs = nix_eval::lower::canon_path(p);
        if abs.starts_with("/__corepkgs__/") {
            return Ok(());
        }
        let store_dir = format!("{}/", nix_store_core::STORE_DIR);
        let (root_logical, root_real) = match self.allowed.find(&abs) {
            Some(r) => r,
            None if abs.starts_with(&store_dir) => {
                let top: String = abs.splitn(5, '/').take(4).collect::<Vec<_>>().join("/");
                match self.store.real_path(&top) {
                    Some(real) => (top, real),
                    None => return Ok(()),
                }
            }
            None => return Err(forbidden("absolute", &abs)),
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

fn forbidden(kind: &str, p: &str) -> String {
    format!("access to {kind} path '{p}' is forbidden in pure eval mode (use '--impure' to override)")
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
