//! Permanent GC roots, as `nix-instantiate --add-root` makes them (CppNix 2.8's
//! `addPermRoot`): a symlink `ROOT-LINK -> /nix/store/...`, and an indirect root
//! `STATE/gcroots/auto/<nix32 sha1 of ROOT-LINK> -> ROOT-LINK` so the collector finds
//! it. `--indirect` is implied (2.8 ignores it). Both links replace an older one
//! atomically (a temp link renamed over it). A daemon store makes the indirect link
//! itself (`AddIndirectRoot`); [`crate::Store::add_perm_root`] picks the way per store.

use std::fs;
use std::path::{Path, PathBuf};

use crate::hash::{Hash, HashAlgo};
use crate::local_db::LocalLayout;
use crate::nar::with_path;
use crate::store::StoreError;
use crate::STORE_DIR;

/// Makes `gc_root` (absolute, canonical) a GC root of `store_path` in the store at `layout`.
pub fn add_perm_root(layout: &LocalLayout, store_path: &str, gc_root: &Path) -> Result<PathBuf, StoreError> {
    make_root_link(store_path, gc_root)?;
    add_indirect_root(layout, gc_root)?;
    Ok(gc_root.to_path_buf())
}

/// The first half of 2.8's `addPermRoot`, the same for every store kind: refuses a root
/// inside the store or over a file that is not a link into the store, then points
/// `gc_root` at `store_path`. The store then records it as an indirect root.
pub fn make_root_link(store_path: &str, gc_root: &Path) -> Result<(), StoreError> {
    let in_store = |p: &Path| p.starts_with(STORE_DIR) && p != Path::new(STORE_DIR);
    if in_store(gc_root) {
        return Err(StoreError::Db(format!(
            "creating a garbage collector root ({}) in the Nix store is forbidden \
             (are you running nix-build inside the store?)",
            gc_root.display()
        )));
    }
    if let Ok(meta) = fs::symlink_metadata(gc_root) {
        let points_into_store = meta.file_type().is_symlink() && fs::read_link(gc_root).is_ok_and(|t| in_store(&t));
        if !points_into_store {
            return Err(StoreError::Db(format!("cannot create symlink '{}'; already exists", gc_root.display())));
        }
    }
    make_symlink(gc_root, Path::new(store_path))
}

/// A local store's `addIndirectRoot`: `STATE/gcroots/auto/<nix32 sha1 of LINK> -> LINK`.
pub fn add_indirect_root(layout: &LocalLayout, link: &Path) -> Result<(), StoreError> {
    let name = link.to_string_lossy();
    let hash = Hash::digest(HashAlgo::Sha1, name.as_bytes()).to_nix32();
    make_symlink(&layout.state_dir.join("gcroots/auto").join(hash), link)
}

/// Points `link` at `target`, creating its directory and replacing an old link atomically.
fn make_symlink(link: &Path, target: &Path) -> Result<(), StoreError> {
    if let Some(dir) = link.parent() {
        fs::create_dir_all(dir).map_err(|e| with_path(e, "creating directory", dir))?;
    }
    let mut tmp = link.as_os_str().to_owned();
    tmp.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        std::time::UNIX_EPOCH.elapsed().map_or(0, |d| d.subsec_nanos())
    ));
    let tmp = PathBuf::from(tmp);
    std::os::unix::fs::symlink(target, &tmp).map_err(|e| with_path(e, "creating symlink", &tmp))?;
    fs::rename(&tmp, link).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        with_path(e, &format!("cannot rename '{}' to", tmp.display()), link)
    })?;
    Ok(())
}
