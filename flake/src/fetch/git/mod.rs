//! `git` inputs, read with `gix` (the only module that touches it).
//!
//! Two modes, as in CppNix 2.8. A local work tree with no `ref`/`rev` is
//! checked like `git diff HEAD --quiet`: if clean, the HEAD commit is used;
//! if dirty (or without commits), the files in the index are copied from the
//! working tree, with a warning and no `rev`. Everything else is a commit, and
//! its NAR is streamed straight from the object database (what `git archive`,
//! unpacking and `nix-store --add` would produce: `export-ignore` applied,
//! submodules empty unless `submodules = true`), so the store path is known
//! before anything is copied. Remote repositories are fetched into a cache
//! with the `git` command (as 2.8 does; `gix` is built without networking).

mod tree;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use gix::objs::tree::EntryKind;
use gix::ObjectId;
use nix_store_core::{FileIngestionMethod, Hash, HashAlgo, Hasher, Store};

use super::{FetchOptions, Tree};
use crate::attrs::{get_str, maybe_get_bool};
use crate::error::{bail, Error, Result};
use crate::input::Input;
use crate::url::parse_url;
use tree::add_commit;

fn git_err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(format!("{what}: {e}"))
}

fn open(dir: &Path) -> Result<gix::Repository> {
    gix::open(dir).map_err(|_| Error::new(format!("'{}' is not a Git repository", dir.display())))
}

pub(crate) fn fetch(input: &Input, store: &dyn Store, opts: &FetchOptions) -> Result<Tree> {
    let a = input.attrs();
    let name = input.get_name().to_owned();
    let shallow = maybe_get_bool(a, "shallow")?.unwrap_or(false);
    let submodules = maybe_get_bool(a, "submodules")?.unwrap_or(false);
    let all_refs = maybe_get_bool(a, "allRefs")?.unwrap_or(false);
    let url = parse_url(get_str(a, "url")?)?;
    let is_local = url.scheme == "file" && Path::new(&url.path).join(".git").exists();
    let actual_url = if is_local { url.path.clone() } else { url.base.clone() };
    let mut locked = input.clone();
    let mut warnings = vec![];

    if input.get_ref()?.is_none() && input.get_rev()?.is_none() && is_local {
        let repo = open(Path::new(&actual_url))?;
        let head = repo.head_id().ok().map(|id| id.detach());
        let clean = match head {
            Some(h) => !is_dirty(&repo, h, submodules)?,
            None => false,
        };
        if !clean {
            if !opts.allow_dirty {
                bail!("Git tree '{actual_url}' is dirty");
            }
            if opts.warn_dirty {
                warnings.push(format!("Git tree '{actual_url}' is dirty"));
            }
            let files = tracked_files(&repo, submodules)?;
            let root = crate::flakeref::abs_path(&actual_url, &std::env::current_dir().unwrap_or_default());
            let prefix_len = root.len() + 1;
            let mut filter = |p: &Path, t: nix_store_core::FileType| -> bool {
                let rel = p.as_os_str().as_bytes().get(prefix_len..).unwrap_or_default().to_vec();
                if t == nix_store_core::FileType::Directory {
                    let mut prefix = rel;
                    prefix.push(b'/');
                    files.range(prefix.clone()..).next().is_some_and(|f| f.starts_with(&prefix))
                } else {
                    files.contains(&rel)
                }
            };
            let (store_path, nar_hash) =
                store.add_path(&name, Path::new(&root), FileIngestionMethod::Recursive, &mut filter)?;
            let last_modified = match head {
                Some(h) => commit_time(&repo, h)?,
                None => 0,
            };
            locked.set_attr("lastModified", last_modified);
            let dirty_rev = head.map(|h| h.to_string());
            return Ok(Tree { input: locked, store_path, nar_hash, warnings, dirty_rev });
        }
    }

    let git_ref = match input.get_ref()? {
        Some(r) => r.to_owned(),
        None if is_local => read_head(&open(Path::new(&actual_url))?),
        None => "master".to_owned(),
    };
    locked.set_attr("ref", git_ref.as_str());
    let repo_dir = if is_local {
        PathBuf::from(&actual_url)
    } else {
        fetch_remote(&actual_url, &git_ref, input.get_rev()?.as_deref(), all_refs, opts)?
    };
    let repo = open(&repo_dir)?;
    let rev = match input.get_rev()? {
        Some(r) => r,
        None => {
            let rev = resolve_ref(&repo, &git_ref, is_local)?.to_string();
            if !is_local {
                crate::progress::log(1, || format!("using revision {rev} of repo '{actual_url}'"));
            }
            rev
        }
    };
    if repo.is_shallow().unwrap_or(false) && !shallow {
        bail!("'{actual_url}' is a shallow Git repository, but a non-shallow repository is needed");
    }
    let id = ObjectId::from_hex(rev.as_bytes()).map_err(|e| git_err("invalid revision", e))?;
    if repo.find_commit(id).is_err() {
        bail!(
            "Cannot find Git revision '{rev}' in ref '{git_ref}' of repository '{actual_url}'! Please make sure that the \x1b[1mrev\x1b[0m exists on the \x1b[1mref\x1b[0m you've specified or add \x1b[1mallRefs = true;\x1b[0m to \x1b[1mfetchGit\x1b[0m."
        );
    }
    let (store_path, nar_hash) = add_commit(&repo, id, &name, submodules, store)?;
    locked.set_attr("rev", rev.as_str());
    locked.set_attr("lastModified", commit_time(&repo, id)?);
    if !shallow {
        locked.set_attr("revCount", rev_count(&repo, id)?);
    }
    Ok(Tree { input: locked, store_path, nar_hash, warnings, dirty_rev: None })
}

/// `git rev-parse --abbrev-ref HEAD`: the branch name, or `HEAD` when detached.
fn read_head(repo: &gix::Repository) -> String {
    match repo.head_name() {
        Ok(Some(n)) => n.shorten().to_string(),
        _ => "HEAD".to_owned(),
    }
}

fn resolve_ref(repo: &gix::Repository, r: &str, is_local: bool) -> Result<ObjectId> {
    let not_found = || Error::new(format!("cannot resolve Git reference '{r}'"));
    if r == "HEAD" {
        return repo.head_id().map(|i| i.detach()).map_err(|_| not_found());
    }
    let name = if is_local || r.starts_with("refs/") { r.to_owned() } else { format!("refs/heads/{r}") };
    let mut reference = repo.find_reference(name.as_str()).map_err(|_| not_found())?;
    reference.peel_to_id().map(|i| i.detach()).map_err(|_| not_found())
}

fn commit_time(repo: &gix::Repository, id: ObjectId) -> Result<u64> {
    let c = repo.find_commit(id).map_err(|e| git_err("reading commit", e))?;
    let t = c.time().map_err(|e| git_err("reading commit time", e))?;
    Ok(t.seconds.max(0) as u64)
}

/// `git rev-list --count`: commits reachable from `id`.
fn rev_count(repo: &gix::Repository, id: ObjectId) -> Result<u64> {
    let mut seen = HashSet::from([id]);
    let mut todo = vec![id];
    while let Some(c) = todo.pop() {
        let Ok(commit) = repo.find_commit(c) else {
            continue;
        };
        for p in commit.parent_ids() {
            if seen.insert(p.detach()) {
                todo.push(p.detach());
            }
        }
    }
    Ok(seen.len() as u64)
}

/// Path (bytes, `/`-separated) → (kind, id) for every non-tree entry of a tree.
fn flatten_tree(
    repo: &gix::Repository,
    tree: ObjectId,
    prefix: &[u8],
    out: &mut BTreeMap<Vec<u8>, (EntryKind, ObjectId)>,
) -> Result<()> {
    let t = repo.find_tree(tree).map_err(|e| git_err("reading tree", e))?;
    let decoded = t.decode().map_err(|e| git_err("decoding tree", e))?;
    for e in &decoded.entries {
        let mut p = prefix.to_vec();
        if !p.is_empty() {
            p.push(b'/');
        }
        p.extend_from_slice(e.filename);
        if e.mode.kind() == EntryKind::Tree {
            flatten_tree(repo, e.oid.to_owned(), &p, out)?;
        } else {
            out.insert(p, (e.mode.kind(), e.oid.to_owned()));
        }
    }
    Ok(())
}

/// `git diff HEAD --quiet [--ignore-submodules]` is non-zero.
fn is_dirty(repo: &gix::Repository, head: ObjectId, submodules: bool) -> Result<bool> {
    let commit = repo.find_commit(head).map_err(|e| git_err("reading HEAD", e))?;
    let tree = commit.tree_id().map_err(|e| git_err("reading HEAD", e))?.detach();
    let mut head_files = BTreeMap::new();
    flatten_tree(repo, tree, b"", &mut head_files)?;
    let index = repo.index_or_empty().map_err(|e| git_err("reading the index", e))?;
    let workdir = repo.workdir().map(Path::to_owned).unwrap_or_default();
    let mut seen = HashSet::new();
    for entry in index.entries() {
        let path = entry.path(&index).to_vec();
        let kind = entry.mode.to_tree_entry_mode().map(|m| m.kind());
        if kind == Some(EntryKind::Commit) && !submodules {
            seen.insert(path);
            continue;
        }
        if entry.flags.contains(gix::index::entry::Flags::INTENT_TO_ADD) || entry.stage_raw() != 0 {
            return Ok(true);
        }
        match head_files.get(&path) {
            Some((k, id)) if Some(*k) == kind && *id == entry.id => {}
            _ => return Ok(true),
        }
        let disk = workdir.join(std::ffi::OsStr::from_bytes(&path));
        if kind == Some(EntryKind::Commit) {
            let sub_dirty = match gix::open(&disk) {
                Ok(sub) => match sub.head_id() {
                    Ok(h) if h.detach() == entry.id => is_dirty(&sub, entry.id, true)?,
                    _ => true,
                },
                Err(_) => false, // not checked out: git reports no change
            };
            if sub_dirty {
                return Ok(true);
            }
        } else if worktree_differs(&disk, kind, entry.id)? {
            return Ok(true);
        }
        seen.insert(path);
    }
    Ok(head_files.iter().any(|(p, (k, _))| !seen.contains(p) && (submodules || *k != EntryKind::Commit)))
}

/// True if the file on disk is not the indexed blob (content, type or executable bit).
fn worktree_differs(disk: &Path, kind: Option<EntryKind>, id: ObjectId) -> Result<bool> {
    let Ok(meta) = std::fs::symlink_metadata(disk) else {
        return Ok(true);
    };
    let data = match kind {
        Some(EntryKind::Link) if meta.file_type().is_symlink() => {
            std::fs::read_link(disk)?.as_os_str().as_bytes().to_vec()
        }
        Some(k @ (EntryKind::Blob | EntryKind::BlobExecutable)) if meta.is_file() => {
            if (meta.permissions().mode() & 0o100 != 0) != (k == EntryKind::BlobExecutable) {
                return Ok(true);
            }
            std::fs::read(disk)?
        }
        _ => return Ok(true),
    };
    Ok(blob_id(&data) != id)
}

fn blob_id(data: &[u8]) -> ObjectId {
    let mut h = Hasher::new(HashAlgo::Sha1);
    h.update(format!("blob {}\0", data.len()).as_bytes());
    h.update(data);
    ObjectId::try_from(h.finish().as_bytes()).unwrap_or_else(|_| ObjectId::null(gix::hash::Kind::Sha1))
}

/// `git ls-files [--recurse-submodules]`: index paths (submodule files prefixed).
fn tracked_files(repo: &gix::Repository, submodules: bool) -> Result<BTreeSet<Vec<u8>>> {
    let index = repo.index_or_empty().map_err(|e| git_err("reading the index", e))?;
    let workdir = repo.workdir().map(Path::to_owned).unwrap_or_default();
    let mut files = BTreeSet::new();
    for entry in index.entries() {
        let path = entry.path(&index).to_vec();
        if submodules && entry.mode.is_submodule() {
            if let Ok(sub) = gix::open(workdir.join(std::ffi::OsStr::from_bytes(&path))) {
                for f in tracked_files(&sub, true)? {
                    let mut p = path.clone();
                    p.push(b'/');
                    p.extend_from_slice(&f);
                    files.insert(p);
                }
            }
            continue;
        }
        files.insert(path);
    }
    Ok(files)
}

/// Fetches `git_ref` (or everything, with `allRefs`) of a remote repository into
/// `<cache>/gitv3/<nix32 sha256(url)>` with the `git` command; skipped when `rev` is present.
fn fetch_remote(url: &str, git_ref: &str, rev: Option<&str>, all_refs: bool, opts: &FetchOptions) -> Result<PathBuf> {
    let key = Hash::digest(HashAlgo::Sha256, url.as_bytes()).to_nix32();
    let dir = opts.cache_root().join("gitv3").join(key);
    let run = |args: &[&str]| -> Result<()> {
        let out = std::process::Command::new("git")
            .args(args)
            .output()
            .map_err(|e| Error::new(format!("cannot run git: {e}")))?;
        if !out.status.success() {
            bail!("program 'git' failed: {}", String::from_utf8_lossy(&out.stderr).trim_end());
        }
        Ok(())
    };
    let d = dir.to_string_lossy().into_owned();
    if !dir.exists() {
        std::fs::create_dir_all(dir.parent().unwrap_or(Path::new("/")))?;
        run(&["-c", "init.defaultBranch=master", "init", "--quiet", "--bare", &d])?;
    }
    if let Some(rev) = rev {
        let have = gix::open(&dir)
            .ok()
            .and_then(|r| ObjectId::from_hex(rev.as_bytes()).ok().map(|id| r.find_commit(id).is_ok()));
        if have == Some(true) {
            return Ok(dir);
        }
    }
    let fetch_ref = if all_refs {
        "refs/*".to_owned()
    } else if git_ref.starts_with("refs/") || git_ref == "HEAD" {
        git_ref.to_owned()
    } else {
        format!("refs/heads/{git_ref}")
    };
    let _activity = crate::progress::Activity::fetching_git(url);
    run(&["-C", &d, "fetch", "--quiet", "--force", "--", url, &format!("{fetch_ref}:{fetch_ref}")])?;
    Ok(dir)
}
