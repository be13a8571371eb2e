//! NAR ("Nix ARchive") serialisation of a filesystem tree, streamed.
//!
//! A NAR is the only thing Nix hashes for recursive (source) imports, so its
//! bytes must match `nix-store --dump` exactly: length-prefixed, 8-byte padded
//! tokens; regular files with an `executable` marker iff the owner-execute bit
//! is set; symlinks verbatim; directory entries in raw byte order; nothing
//! else (no times, owners or other permission bits). The writer streams file
//! contents, so hashing a large tree never holds it in memory.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::hash::{Hash, HashAlgo, Hasher};

/// What a filter is told about an entry (the strings `builtins.path`'s filter receives).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    /// A regular file.
    Regular,
    /// A directory.
    Directory,
    /// A symbolic link (never followed).
    Symlink,
    /// Sockets, fifos, devices: passed to the filter, but an error to archive.
    Unknown,
}

impl FileType {
    /// `"regular"`, `"directory"`, `"symlink"` or `"unknown"`.
    pub fn as_str(self) -> &'static str {
        match self {
            FileType::Regular => "regular",
            FileType::Directory => "directory",
            FileType::Symlink => "symlink",
            FileType::Unknown => "unknown",
        }
    }

    /// Classifies `lstat` metadata.
    pub fn of(meta: &fs::Metadata) -> FileType {
        let t = meta.file_type();
        if t.is_symlink() {
            FileType::Symlink
        } else if t.is_dir() {
            FileType::Directory
        } else if t.is_file() {
            FileType::Regular
        } else {
            FileType::Unknown
        }
    }
}

/// Decides, for each entry below the root, whether it is archived. It gets the
/// entry's path (root joined with the names on the way) and its `lstat` type.
/// A rejected directory drops its whole subtree. The root is never offered.
pub type PathFilter<'a> = dyn FnMut(&Path, FileType) -> bool + 'a;

const MAGIC: &str = "nix-archive-1";

/// Writes the NAR of `path` (not following a symlink at the root) into `out`.
///
/// `out` receives many small writes: wrap files or sockets in a `BufWriter`.
pub fn dump_path(path: &Path, filter: &mut PathFilter<'_>, out: &mut dyn Write) -> io::Result<()> {
    let mut w = NarWriter { out };
    w.str(MAGIC.as_bytes())?;
    let meta = fs::symlink_metadata(path).map_err(|e| with_path(e, "getting status of", path))?;
    w.node(path, &meta, filter)
}

/// sha256 of the NAR of `path`, streamed (what `nix hash path` prints, and what
/// the `source` store-path rule hashes).
pub fn nar_hash_path(path: &Path, filter: &mut PathFilter<'_>) -> io::Result<Hash> {
    let mut hasher = Hasher::new(HashAlgo::Sha256);
    dump_path(path, filter, &mut hasher)?;
    Ok(hasher.finish())
}

/// Writes the NAR of a regular file with these bytes (what [`dump_path`] gives for it).
pub fn dump_bytes(contents: &[u8], executable: bool, out: &mut dyn Write) -> io::Result<()> {
    let mut w = NarWriter { out };
    w.strs(&[MAGIC, "(", "type", "regular"])?;
    if executable {
        w.strs(&["executable", ""])?;
    }
    w.str(b"contents")?;
    w.str(contents)?;
    w.str(b")")
}

/// The sha256 and the size of a NAR streamed into it: what a store database records
/// for a path (`narHash`, `narSize`).
pub struct NarSummary {
    hasher: Hasher,
    size: u64,
}

impl NarSummary {
    /// Nothing seen yet.
    pub fn new() -> NarSummary {
        NarSummary { hasher: Hasher::new(HashAlgo::Sha256), size: 0 }
    }

    /// The sha256 and the byte count of everything written.
    pub fn finish(self) -> (Hash, u64) {
        (self.hasher.finish(), self.size)
    }
}

impl Default for NarSummary {
    fn default() -> Self {
        NarSummary::new()
    }
}

impl Write for NarSummary {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.hasher.update(buf);
        self.size += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Adds the path to an I/O error the way Nix words them: `<doing> '<path>': <reason>`.
pub(crate) fn with_path(e: io::Error, doing: &str, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{doing} '{}': {}", path.display(), os_reason(&e)))
}

/// The error text without Rust's ` (os error N)` suffix.
pub(crate) fn os_reason(e: &io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) if s.ends_with(')') => s[..i].to_owned(),
        _ => s,
    }
}

struct NarWriter<'w> {
    out: &'w mut dyn Write,
}

impl NarWriter<'_> {
    /// A token: u64 LE length, the bytes, zero padding to a multiple of 8.
    fn str(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(&(bytes.len() as u64).to_le_bytes())?;
        self.out.write_all(bytes)?;
        self.pad(bytes.len() as u64)
    }

    fn pad(&mut self, len: u64) -> io::Result<()> {
        let rem = (len % 8) as usize;
        if rem != 0 {
            self.out.write_all(&[0u8; 8][..8 - rem])?;
        }
        Ok(())
    }

    fn strs(&mut self, tokens: &[&str]) -> io::Result<()> {
        tokens.iter().try_for_each(|t| self.str(t.as_bytes()))
    }

    fn node(&mut self, path: &Path, meta: &fs::Metadata, filter: &mut PathFilter<'_>) -> io::Result<()> {
        self.strs(&["(", "type"])?;
        match FileType::of(meta) {
            FileType::Regular => {
                self.str(b"regular")?;
                if meta.permissions().mode() & 0o100 != 0 {
                    self.strs(&["executable", ""])?;
                }
                self.str(b"contents")?;
                self.contents(path, meta.len())?;
            }
            FileType::Symlink => {
                let target = fs::read_link(path).map_err(|e| with_path(e, "reading symbolic link", path))?;
                self.strs(&["symlink", "target"])?;
                self.str(target.as_os_str().as_bytes())?;
            }
            FileType::Directory => {
                self.str(b"directory")?;
                for name in sorted_entries(path)? {
                    let child = path.join(&name);
                    let child_meta =
                        fs::symlink_metadata(&child).map_err(|e| with_path(e, "getting status of", &child))?;
                    if !filter(&child, FileType::of(&child_meta)) {
                        continue;
                    }
                    self.strs(&["entry", "(", "name"])?;
                    self.str(name.as_bytes())?;
                    self.str(b"node")?;
                    self.node(&child, &child_meta, filter)?;
                    self.str(b")")?;
                }
            }
            FileType::Unknown => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("file '{}' has an unsupported type", path.display()),
                ))
            }
        }
        self.str(b")")
    }

    /// Streams exactly `len` bytes of the file; a file that changes size meanwhile is an error.
    fn contents(&mut self, path: &Path, len: u64) -> io::Result<()> {
        let file = File::open(path).map_err(|e| with_path(e, "opening file", path))?;
        self.out.write_all(&len.to_le_bytes())?;
        let copied = io::copy(&mut file.take(len), self.out).map_err(|e| with_path(e, "reading file", path))?;
        if copied != len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("file '{}' changed while it was being archived", path.display()),
            ));
        }
        self.pad(len)
    }
}

/// Directory entry names, sorted by raw bytes (as Nix's `std::map<std::string, …>`).
pub(crate) fn sorted_entries(dir: &Path) -> io::Result<Vec<std::ffi::OsString>> {
    let read = fs::read_dir(dir).map_err(|e| with_path(e, "opening directory", dir))?;
    let mut names = read
        .map(|e| e.map(|e| e.file_name()))
        .collect::<io::Result<Vec<_>>>()
        .map_err(|e| with_path(e, "reading directory", dir))?;
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    Ok(names)
}

#[cfg(test)]
#[path = "nar_tests.rs"]
mod tests;
