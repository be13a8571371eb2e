//! The evaluator's view of the file system.
//!
//! Everything that reads files (import, readFile, readDir, pathExists, ...) goes through
//! [`EvalIo`], so the flake layer can impose pure-mode restrictions and a store layer can serve
//! store paths, without the evaluator knowing either.

use std::io;
use std::path::Path;

/// The type of a directory entry, as `builtins.readDir` names it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FileType {
    /// A regular file.
    Regular,
    /// A directory.
    Directory,
    /// A symbolic link (not followed).
    Symlink,
    /// Anything else (sockets, fifos, devices).
    Unknown,
}

impl FileType {
    /// `"regular"`, `"directory"`, `"symlink"` or `"unknown"`.
    pub fn as_nix(self) -> &'static str {
        match self {
            FileType::Regular => "regular",
            FileType::Directory => "directory",
            FileType::Symlink => "symlink",
            FileType::Unknown => "unknown",
        }
    }
}

/// The file access of an evaluation (see the module header).
pub trait EvalIo {
    /// The contents of a file (`import`, `readFile`).
    fn read_file(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Entries (name, type) in any order.
    fn read_dir(&self, path: &Path) -> io::Result<Vec<(String, FileType)>>;
    /// The type of `path` itself (not following a final symlink); NotFound if absent.
    fn file_type(&self, path: &Path) -> io::Result<FileType>;
    /// Whether access to `path` is allowed at all (pure mode forbids paths outside the
    /// allowed roots); the error message is the reference's.
    fn check_access(&self, _path: &Path) -> Result<(), String> {
        Ok(())
    }
}

/// Plain file system access.
pub struct StdIo;

fn ft(m: &std::fs::FileType) -> FileType {
    if m.is_symlink() {
        FileType::Symlink
    } else if m.is_dir() {
        FileType::Directory
    } else if m.is_file() {
        FileType::Regular
    } else {
        FileType::Unknown
    }
}

impl EvalIo for StdIo {
    fn read_file(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }
    fn read_dir(&self, path: &Path) -> io::Result<Vec<(String, FileType)>> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(path)? {
            let e = e?;
            out.push((e.file_name().to_string_lossy().into_owned(), ft(&e.file_type()?)));
        }
        Ok(out)
    }
    fn file_type(&self, path: &Path) -> io::Result<FileType> {
        Ok(ft(&std::fs::symlink_metadata(path)?.file_type()))
    }
}
