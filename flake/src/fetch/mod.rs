//! Fetching an input into the store and locking it (2.8 `Input::fetch`).
//!
//! The dispatcher owns the rules every input type shares, so the per-type
//! modules only produce a tree: if the input already carries everything a lock
//! needs and its store path exists, nothing is contacted; otherwise the type's
//! fetcher runs, the result's `narHash` is recorded and checked against the
//! one the caller locked (the reference's mismatch error, exit status 102), and
//! so are `lastModified` and `revCount`. Types: [`path`], [`git`] (the only
//! user of `gix`), [`tarball`] (plain archives and the git forges' archive API).

pub mod git;
mod gitattr;
mod nar;
pub mod path;
pub mod tarball;

use std::path::PathBuf;

use nix_store_core::{Hash, Store};

use crate::error::{bail, Error, Result};
use crate::input::Input;

/// Settings for fetching.
#[derive(Clone, Debug)]
pub struct FetchOptions {
    /// Accept a dirty git work tree (`allow-dirty`, default true); else it is an error.
    pub allow_dirty: bool,
    /// Report a dirty work tree as a warning (`warn-dirty`, default true).
    pub warn_dirty: bool,
    /// Cache directory root (default `$XDG_CACHE_HOME` or `~/.cache`); `rnix/` is used below it.
    pub cache_dir: Option<PathBuf>,
    /// Show download progress on stderr; `None` = only when stderr is a terminal.
    pub progress: Option<bool>,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions { allow_dirty: true, warn_dirty: true, cache_dir: None, progress: None }
    }
}

impl FetchOptions {
    /// `<cache root>/rnix`.
    pub fn cache_root(&self) -> PathBuf {
        let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        let base = self
            .cache_dir
            .clone()
            .or_else(|| env("XDG_CACHE_HOME"))
            .or_else(|| env("HOME").map(|h| h.join(".cache")))
            .unwrap_or_else(std::env::temp_dir);
        base.join("rnix")
    }
}

/// A fetched, locked input.
#[derive(Clone, Debug)]
pub struct Fetched {
    /// The locked input (`narHash` and the type's lock attributes set).
    pub input: Input,
    /// The logical store path (`/nix/store/<hash>-source`).
    pub store_path: String,
    /// Where the tree can be read on disk, if the store has a disk.
    pub real_path: Option<PathBuf>,
    /// Warnings the reference prints (without the `warning: ` prefix).
    pub warnings: Vec<String>,
    /// For a dirty git tree, the HEAD commit (for newer Nix's `dirtyRev`).
    pub dirty_rev: Option<String>,
}

/// What a type-specific fetcher hands back.
pub(crate) struct Tree {
    pub input: Input,
    pub store_path: String,
    pub nar_hash: Hash,
    pub warnings: Vec<String>,
    pub dirty_rev: Option<String>,
}

/// Fetches `input` into `store` and returns the locked input.
pub fn fetch(input: &Input, store: &dyn Store, opts: &FetchOptions) -> Result<Fetched> {
    let ty = input.input_type();
    if ty == "indirect" {
        bail!("indirect input '{input}' cannot be fetched directly");
    }
    if !["path", "git", "github", "gitlab", "sourcehut", "tarball"].contains(&ty) {
        bail!("cannot fetch unsupported input '{}'", crate::attrs::attrs_to_json_string(input.attrs()));
    }
    if input.has_all_info() {
        if let Some(sp) = input.compute_store_path()? {
            if store.exists(&sp) {
                return Ok(Fetched {
                    input: input.clone(),
                    real_path: store.real_path(&sp),
                    store_path: sp,
                    warnings: vec![],
                    dirty_rev: None,
                });
            }
        }
    }
    let tree = match ty {
        "path" => path::fetch(input, store)?,
        "git" => git::fetch(input, store, opts)?,
        _ => tarball::fetch(input, store, opts)?,
    };
    let mut locked = tree.input;
    locked.set_attr("narHash", tree.nar_hash.to_sri());
    locked.set_parent(input.parent().map(str::to_owned));
    let real_path = store.real_path(&tree.store_path);
    if let Some(prev) = input.get_nar_hash()? {
        if prev != tree.nar_hash {
            let actual = real_path.as_ref().map_or(tree.store_path.clone(), |p| p.display().to_string());
            return Err(Error::with_status(
                format!(
                    "NAR hash mismatch in input '{input}' ({actual}), expected '{}', got '{}'",
                    prev.to_sri(),
                    tree.nar_hash.to_sri()
                ),
                102,
            ));
        }
    }
    if let Some(prev) = input.get_last_modified()? {
        if locked.get_last_modified()? != Some(prev) {
            bail!("'lastModified' attribute mismatch in input '{locked}', expected {prev}");
        }
    }
    if let Some(prev) = input.get_rev_count()? {
        if locked.get_rev_count()? != Some(prev) {
            bail!("'revCount' attribute mismatch in input '{locked}', expected {prev}");
        }
    }
    Ok(Fetched {
        input: locked,
        store_path: tree.store_path,
        real_path,
        warnings: tree.warnings,
        dirty_rev: tree.dirty_rev,
    })
}
