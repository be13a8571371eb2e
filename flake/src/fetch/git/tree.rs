//! Commits as store trees: the NAR of a commit streamed from the object database.
//!
//! Split from [`super`] only for size; like it, this is `gix` territory. The walk
//! re-sorts git's tree order into NAR order (bytewise names), drops what
//! `export-ignore` hides, turns submodules into empty directories (or, with
//! `submodules = true`, into their own commit's tree, found in the submodule's
//! checkout or under `.git/modules`), and can write the same tree to disk when
//! the store needs a copy.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use gix::objs::tree::EntryKind;
use gix::ObjectId;
use nix_store_core::{FileIngestionMethod, Hash, HashAlgo, Hasher, Store};

use super::git_err;
use crate::error::{bail, Error, Result};
use crate::fetch::gitattr::ExportIgnore;
use crate::fetch::nar::NarSink;

/// Hashes the commit's tree as a NAR and adds it to the store (copying only if new).
pub(super) fn add_commit(
    repo: &gix::Repository,
    commit: ObjectId,
    name: &str,
    submodules: bool,
    store: &dyn Store,
) -> Result<(String, Hash)> {
    let tree = repo.find_commit(commit).and_then(|c| c.tree_id()).map_err(|e| git_err("reading commit", e))?.detach();
    let walker =
        TreeWalker { submodules, workdir: repo.workdir().map(Path::to_owned), git_dir: repo.git_dir().to_owned() };
    let mut hasher = Hasher::new(HashAlgo::Sha256);
    {
        let mut sink = NarSink { out: &mut hasher };
        sink.magic()?;
        walker.nar(repo, tree, &mut ExportIgnore::new(repo_info_attributes(repo)), b"", &mut sink)?;
    }
    let hash = hasher.finish();
    let sp = nix_store_core::store_path::make_fixed_output_path(
        FileIngestionMethod::Recursive,
        &hash,
        name,
        &Default::default(),
    )
    .map_err(|e| Error::new(e.to_string()))?
    .to_absolute();
    if store.exists(&sp) {
        return Ok((sp, hash));
    }
    // Unique per export: two fetches of the same tree (threads of one process) must not
    // share, and delete, each other's checkout.
    static EXPORTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let tmp = std::env::temp_dir().join(format!(
        "rnix-git-{}-{}-{}",
        std::process::id(),
        EXPORTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        &hash.to_nix32()[..12]
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    let res = walker
        .checkout(repo, tree, &mut ExportIgnore::new(repo_info_attributes(repo)), b"", &tmp)
        .and_then(|()| Ok(store.add_path(name, &tmp, FileIngestionMethod::Recursive, &mut |_, _| true)?));
    let _ = std::fs::remove_dir_all(&tmp);
    let (path, h) = res?;
    if h != hash {
        bail!("Git tree of '{}' changed while it was being added to the store", repo.git_dir().display());
    }
    Ok((path, h))
}

fn repo_info_attributes(repo: &gix::Repository) -> Vec<u8> {
    std::fs::read(repo.git_dir().join("info/attributes")).unwrap_or_default()
}

/// Walks a commit's tree for the NAR or a checkout, recursing into submodules when asked.
struct TreeWalker {
    submodules: bool,
    workdir: Option<PathBuf>,
    git_dir: PathBuf,
}

/// A tree entry with what `git archive` makes of it.
enum Item {
    Dir(ObjectId),
    File(bool, ObjectId),
    Link(ObjectId),
    /// A submodule: its repository and commit tree, or `None` for an empty directory.
    Sub(Option<Box<(gix::Repository, ObjectId)>>),
}

impl TreeWalker {
    /// The entries of `tree` in NAR order (bytewise by name), export-ignored ones dropped.
    fn entries(
        &self,
        repo: &gix::Repository,
        tree: ObjectId,
        attrs: &mut ExportIgnore,
        prefix: &[u8],
    ) -> Result<Vec<(Vec<u8>, Item)>> {
        let t = repo.find_tree(tree).map_err(|e| git_err("reading tree", e))?;
        let decoded = t.decode().map_err(|e| git_err("decoding tree", e))?;
        if let Some(e) = decoded.entries.iter().find(|e| e.filename == ".gitattributes" && !e.mode.is_tree()) {
            if let Ok(b) = repo.find_blob(e.oid.to_owned()) {
                attrs.push_dir(prefix, &b.data);
            }
        }
        let mut out = vec![];
        for e in &decoded.entries {
            let name = e.filename.to_vec();
            let full = if prefix.is_empty() { name.clone() } else { [prefix, b"/", &name].concat() };
            let is_dir = matches!(e.mode.kind(), EntryKind::Tree | EntryKind::Commit);
            if attrs.is_ignored(&full, is_dir) {
                continue;
            }
            let id = e.oid.to_owned();
            let item = match e.mode.kind() {
                EntryKind::Tree => Item::Dir(id),
                EntryKind::Blob => Item::File(false, id),
                EntryKind::BlobExecutable => Item::File(true, id),
                EntryKind::Link => Item::Link(id),
                EntryKind::Commit => {
                    Item::Sub(if self.submodules { Some(Box::new(self.open_submodule(&full, id)?)) } else { None })
                }
            };
            out.push((name, item));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    fn open_submodule(&self, path: &[u8], commit: ObjectId) -> Result<(gix::Repository, ObjectId)> {
        let rel = std::ffi::OsStr::from_bytes(path);
        let candidates = [self.workdir.as_ref().map(|w| w.join(rel)), Some(self.git_dir.join("modules").join(rel))];
        for c in candidates.into_iter().flatten() {
            if let Ok(sub) = gix::open(&c) {
                if let Ok(tree) = sub.find_commit(commit).and_then(|c| c.tree_id()) {
                    let tree = tree.detach();
                    return Ok((sub, tree));
                }
            }
        }
        bail!("cannot find commit {commit} of submodule '{}'", String::from_utf8_lossy(path))
    }

    fn nar(
        &self,
        repo: &gix::Repository,
        tree: ObjectId,
        attrs: &mut ExportIgnore,
        prefix: &[u8],
        sink: &mut NarSink<'_>,
    ) -> Result<()> {
        let mark = attrs.mark();
        sink.dir_start()?;
        for (name, item) in self.entries(repo, tree, attrs, prefix)? {
            let full = if prefix.is_empty() { name.clone() } else { [prefix, b"/", &name].concat() };
            sink.entry_start(&name)?;
            match item {
                Item::Dir(id) => self.nar(repo, id, attrs, &full, sink)?,
                Item::File(x, id) => sink.regular(x, &blob(repo, id)?)?,
                Item::Link(id) => sink.symlink(&blob(repo, id)?)?,
                Item::Sub(None) => {
                    sink.dir_start()?;
                    sink.close()?;
                }
                Item::Sub(Some(b)) => {
                    let (sub, t) = *b;
                    let inner = TreeWalker {
                        submodules: true,
                        workdir: sub.workdir().map(Path::to_owned),
                        git_dir: sub.git_dir().to_owned(),
                    };
                    inner.nar(&sub, t, &mut ExportIgnore::new(vec![]), b"", sink)?;
                }
            }
            sink.close()?;
        }
        sink.close()?;
        attrs.reset(mark);
        Ok(())
    }

    fn checkout(
        &self,
        repo: &gix::Repository,
        tree: ObjectId,
        attrs: &mut ExportIgnore,
        prefix: &[u8],
        dest: &Path,
    ) -> Result<()> {
        let mark = attrs.mark();
        std::fs::create_dir_all(dest)?;
        for (name, item) in self.entries(repo, tree, attrs, prefix)? {
            let full = if prefix.is_empty() { name.clone() } else { [prefix, b"/", &name].concat() };
            let target = dest.join(std::ffi::OsStr::from_bytes(&name));
            match item {
                Item::Dir(id) => self.checkout(repo, id, attrs, &full, &target)?,
                Item::File(x, id) => {
                    std::fs::write(&target, blob(repo, id)?)?;
                    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(if x { 0o755 } else { 0o644 }))?;
                }
                Item::Link(id) => std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(&blob(repo, id)?), &target)?,
                Item::Sub(None) => std::fs::create_dir_all(&target)?,
                Item::Sub(Some(b)) => {
                    let (sub, t) = *b;
                    let inner = TreeWalker {
                        submodules: true,
                        workdir: sub.workdir().map(Path::to_owned),
                        git_dir: sub.git_dir().to_owned(),
                    };
                    inner.checkout(&sub, t, &mut ExportIgnore::new(vec![]), b"", &target)?;
                }
            }
        }
        attrs.reset(mark);
        Ok(())
    }
}

fn blob(repo: &gix::Repository, id: ObjectId) -> Result<Vec<u8>> {
    Ok(repo.find_blob(id).map_err(|e| git_err("reading blob", e))?.data.clone())
}
