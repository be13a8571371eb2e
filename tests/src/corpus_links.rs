//! The language corpus as upstream has it, symlinks included.
//!
//! Upstream Nix keeps a few symbolic links in `tests/functional/lang` (a link to a directory,
//! a link into one, a dangling link). A copy of `../shared` made without link support holds
//! them as plain files whose content is the link target, and five cases then see a file where
//! upstream sees a link. So that results do not depend on how `../shared` was copied, the
//! runner uses a prepared copy of the corpus in which every upstream link that arrived as a
//! plain file is a link again. When all links are already links, the shared directory itself
//! is used.
//!
//! The copy lives under the target directory, named by a fingerprint of the source tree
//! (paths, sizes, modification times), built under a temporary name and renamed into place,
//! so concurrent test processes share one copy and never see a half-written one.

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

/// The symbolic links of upstream's `tests/functional/lang` (Nix 2.36), relative to `lang/`:
/// (link, target).
pub const UPSTREAM_LINKS: &[(&str, &str)] = &[
    ("readDir/ldir", "foo"),
    ("readDir/linked", "foo/git-hates-directories"),
    ("symlink-resolution/broken", "nonexistent"),
    ("symlink-resolution/foo/overlays", "../overlays"),
];

/// The upstream links of `conformance/lang` that are plain files holding their target.
pub fn flattened_links(conformance: &Path) -> Vec<(&'static str, &'static str)> {
    let lang = conformance.join("lang");
    UPSTREAM_LINKS
        .iter()
        .copied()
        .filter(|(link, target)| {
            let p = lang.join(link);
            match fs::symlink_metadata(&p) {
                Ok(m) if m.file_type().is_file() => fs::read(&p).is_ok_and(|c| c == target.as_bytes()),
                _ => false,
            }
        })
        .collect()
}

/// `conformance` itself when its links are intact, otherwise a prepared copy under
/// `work_dir` with the links restored.
pub fn prepared_conformance_dir(conformance: &Path, work_dir: &Path) -> io::Result<PathBuf> {
    let flattened = flattened_links(conformance);
    if flattened.is_empty() {
        return Ok(conformance.to_path_buf());
    }
    let mut hasher = DefaultHasher::new();
    fingerprint(conformance, Path::new(""), &mut hasher)?;
    let dest = work_dir.join(format!("conformance-{:016x}", hasher.finish()));
    if dest.join("lang").is_dir() {
        return Ok(dest);
    }
    // One preparation at a time in this process (test threads ask at once); other
    // processes are kept apart by the temporary name and the final rename.
    static PREPARING: Mutex<()> = Mutex::new(());
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let _guard = PREPARING.lock().unwrap_or_else(|e| e.into_inner());
    if dest.join("lang").is_dir() {
        return Ok(dest);
    }
    fs::create_dir_all(work_dir)?;
    let tmp =
        work_dir.join(format!(".conformance-tmp-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)));
    let _ = fs::remove_dir_all(&tmp);
    copy_tree(conformance, &tmp)?;
    for (link, target) in flattened {
        let p = tmp.join("lang").join(link);
        fs::remove_file(&p)?;
        std::os::unix::fs::symlink(target, &p)?;
    }
    match fs::rename(&tmp, &dest) {
        Ok(()) => Ok(dest),
        // Another process renamed its copy first: use that one.
        Err(_) if dest.join("lang").is_dir() => {
            let _ = fs::remove_dir_all(&tmp);
            Ok(dest)
        }
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp);
            Err(e)
        }
    }
}

fn fingerprint(root: &Path, rel: &Path, h: &mut DefaultHasher) -> io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(root.join(rel))?.collect::<io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let rel = rel.join(e.file_name());
        let m = e.metadata()?;
        rel.hash(h);
        m.len().hash(h);
        m.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).hash(h);
        if m.is_dir() {
            fingerprint(root, &rel, h)?;
        }
    }
    Ok(())
}

/// Copies a tree, keeping symbolic links as links; written files are made writable so the
/// copy can be removed (the shared tree is read-only).
fn copy_tree(src: &Path, dst: &Path) -> io::Result<()> {
    fs::create_dir_all(dst)?;
    for e in fs::read_dir(src)? {
        let e = e?;
        let (from, to) = (e.path(), dst.join(e.file_name()));
        let ft = e.file_type()?;
        if ft.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&from)?, &to)?;
        } else if ft.is_dir() {
            copy_tree(&from, &to)?;
        } else {
            fs::copy(&from, &to)?;
            let mut perm = fs::metadata(&to)?.permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perm.set_readonly(false);
            fs::set_permissions(&to, perm)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattened_links_are_restored_and_intact_ones_kept() {
        let base = std::env::temp_dir().join(format!("rnix-corpus-links-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let src = base.join("conformance");
        let lang = src.join("lang");
        fs::create_dir_all(lang.join("readDir/foo")).unwrap();
        fs::create_dir_all(lang.join("symlink-resolution/foo")).unwrap();
        fs::create_dir_all(lang.join("symlink-resolution/overlays")).unwrap();
        fs::write(lang.join("readDir/foo/git-hates-directories"), "").unwrap();
        fs::write(lang.join("readDir/ldir"), "foo").unwrap();
        fs::write(lang.join("readDir/linked"), "foo/git-hates-directories").unwrap();
        fs::write(lang.join("symlink-resolution/broken"), "nonexistent").unwrap();
        fs::write(lang.join("symlink-resolution/foo/overlays"), "../overlays").unwrap();
        assert_eq!(flattened_links(&src).len(), 4);

        let work = base.join("work");
        let prepared = prepared_conformance_dir(&src, &work).unwrap();
        assert_ne!(prepared, src);
        let plang = prepared.join("lang");
        assert!(plang.join("readDir/ldir").is_dir(), "a link to a directory again");
        assert_eq!(fs::read_link(plang.join("symlink-resolution/broken")).unwrap(), Path::new("nonexistent"));
        assert!(flattened_links(&prepared).is_empty());
        // A second call reuses the same copy; a prepared tree is used as it is.
        assert_eq!(prepared_conformance_dir(&src, &work).unwrap(), prepared);
        assert_eq!(prepared_conformance_dir(&prepared, &work).unwrap(), prepared);
        fs::remove_dir_all(&base).unwrap();
    }
}
