//! `path:` inputs: a whole directory, unfiltered, copied as `source`.
//!
//! 2.8's `lastModified` for a path is the newest mtime in the tree (root
//! included) — except that it comes out as 0 when the NAR is larger than the
//! 32 MiB `nar-buffer-size` (a quirk of how the local store consumes the dump)
//! and when the path is already a valid `source` store path. Relative paths
//! (`path:./sub`) resolve against the input's parent directory and may not
//! leave the parent's store path.

use std::path::{Path, PathBuf};

use nix_store_core::{FileIngestionMethod, Store, StorePath, STORE_DIR};

use super::{nar::nar_stats, Tree};
use crate::error::{bail, Error, Result};
use crate::input::Input;

/// The NAR size above which 2.8 records `lastModified = 0`.
const NAR_BUFFER_SIZE: u64 = 32 * 1024 * 1024;

pub(crate) fn fetch(input: &Input, store: &dyn Store) -> Result<Tree> {
    let path = crate::attrs::get_str(input.attrs(), "path")?;
    let abs = if path.starts_with('/') {
        path.to_owned()
    } else {
        let Some(parent) = input.parent() else {
            bail!("cannot fetch input '{input}' because it uses a relative path");
        };
        let parent = crate::flakeref::abs_path(parent, Path::new("/"));
        let abs = crate::flakeref::abs_path(path, Path::new(&parent));
        if let Ok((sp, _)) = StorePath::parse_prefix(&parent) {
            let sp = sp.to_absolute();
            if abs != sp && !abs.starts_with(&format!("{sp}/")) {
                bail!("relative path '{path}' points outside of its parent's store path '{sp}'");
            }
        }
        abs
    };
    // A logical store path is read from wherever the store keeps it; one the store does
    // not have (a path of the host's `/nix/store` with `--store DIR`) from the host, and
    // copied into the store as the reference does.
    let disk: PathBuf = if abs.starts_with(&format!("{STORE_DIR}/")) {
        store.real_path(&abs).filter(|p| p.symlink_metadata().is_ok()).unwrap_or_else(|| abs.clone().into())
    } else {
        abs.clone().into()
    };
    let mut locked = input.clone();
    let already = StorePath::parse(&abs).ok().filter(|sp| sp.name() == "source" && store.exists(&abs));
    let (store_path, nar_hash, mtime) = match already {
        Some(sp) => {
            let h = nix_store_core::nar::nar_hash_path(&disk, &mut |_, _| true).map_err(Error::from)?;
            (sp.to_absolute(), h, 0)
        }
        None => {
            let (size, mtime) =
                nar_stats(&disk).map_err(|e| Error::from(e).prefixed(&format!("getting status of '{abs}': ")))?;
            let progress = crate::progress::Activity::copying(Path::new(&abs));
            let (sp, h) = store.add_path("source", &disk, FileIngestionMethod::Recursive, &mut |entry, _| {
                progress.visit(entry);
                true
            })?;
            (sp, h, if size > NAR_BUFFER_SIZE { 0 } else { mtime.max(0) as u64 })
        }
    };
    locked.set_attr("lastModified", mtime);
    Ok(Tree { input: locked, store_path, nar_hash, warnings: vec![], dirty_rev: None })
}
