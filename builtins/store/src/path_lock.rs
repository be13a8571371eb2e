//! Nix's per-path locks (`PathLocks` in CppNix 2.8), so that `rnix-eval` and `nix` can
//! add the same path to one store at the same time.
//!
//! Before writing `/nix/store/<name>`, Nix takes an exclusive `flock` on
//! `<real store dir>/<name>.lock` (created with mode 0600). When it is done it
//! unlinks the lock file and then writes one byte into it before closing: a
//! process that was waiting for the lock and gets it on the unlinked file sees a
//! non-empty file, knows the lock is stale and starts over. This module does
//! exactly the same, so both sides exclude each other.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::nar::with_path;

/// An exclusive lock on one store path; dropping it deletes the lock file as Nix does.
#[derive(Debug)]
pub(crate) struct PathLock {
    file: File,
    lock_path: PathBuf,
}

impl PathLock {
    /// Locks the physical store path `path` (`path.lock`), waiting for another holder.
    pub(crate) fn acquire(path: &Path) -> io::Result<PathLock> {
        let lock_path = lock_path(path);
        loop {
            let file = open_lock_file(&lock_path)?;
            file.lock().map_err(|e| with_path(e, "acquiring lock on", &lock_path))?;
            if let Some(lock) = Self::unless_stale(file, lock_path.clone())? {
                return Ok(lock);
            }
        }
    }

    /// Locks `path` if nobody holds it; `None` if somebody does.
    pub(crate) fn try_acquire(path: &Path) -> io::Result<Option<PathLock>> {
        loop {
            let lock_path = lock_path(path);
            let file = open_lock_file(&lock_path)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => return Ok(None),
                Err(TryLockError::Error(e)) => return Err(with_path(e, "acquiring lock on", &lock_path)),
            }
            if let Some(lock) = Self::unless_stale(file, lock_path)? {
                return Ok(Some(lock));
            }
        }
    }

    /// The lock, unless its file was deleted by the holder before us (then it is non-empty).
    fn unless_stale(file: File, lock_path: PathBuf) -> io::Result<Option<PathLock>> {
        let meta = file.metadata().map_err(|e| with_path(e, "statting lock file", &lock_path))?;
        Ok((meta.len() == 0).then_some(PathLock { file, lock_path }))
    }
}

impl Drop for PathLock {
    /// Unlinks the lock file, marks it stale for anybody already waiting on it, unlocks.
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.lock_path);
        let _ = self.file.write_all(b"d");
    }
}

/// `path.lock`, as Nix names a path's lock file.
fn lock_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".lock");
    PathBuf::from(s)
}

/// Opens (creating, mode 0600) a lock file.
pub(crate) fn open_lock_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(|e| with_path(e, "opening lock file", path))
}
