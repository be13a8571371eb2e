//! NAR pieces the fetchers need beyond `nix-store-core`'s file-tree dumper.
//!
//! Git trees are serialised straight from the object database (no checkout),
//! so the fetchers need the NAR token writer itself; and `path:` inputs need the
//! NAR's size and newest mtime, which are computed from `lstat` alone (sizes are
//! arithmetic: every token is a length word plus padded bytes) instead of a
//! second full read of the tree.

use std::fs;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Writes NAR tokens (length word, bytes, zero padding to 8).
pub(crate) struct NarSink<'w> {
    pub out: &'w mut dyn Write,
}

impl NarSink<'_> {
    pub fn tok(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(&(bytes.len() as u64).to_le_bytes())?;
        self.out.write_all(bytes)?;
        let rem = bytes.len() % 8;
        if rem != 0 {
            self.out.write_all(&[0u8; 8][..8 - rem])?;
        }
        Ok(())
    }

    pub fn toks(&mut self, t: &[&str]) -> io::Result<()> {
        t.iter().try_for_each(|s| self.tok(s.as_bytes()))
    }

    pub fn magic(&mut self) -> io::Result<()> {
        self.tok(b"nix-archive-1")
    }

    pub fn regular(&mut self, executable: bool, data: &[u8]) -> io::Result<()> {
        self.toks(&["(", "type", "regular"])?;
        if executable {
            self.toks(&["executable", ""])?;
        }
        self.tok(b"contents")?;
        self.tok(data)?;
        self.tok(b")")
    }

    pub fn symlink(&mut self, target: &[u8]) -> io::Result<()> {
        self.toks(&["(", "type", "symlink", "target"])?;
        self.tok(target)?;
        self.tok(b")")
    }

    pub fn dir_start(&mut self) -> io::Result<()> {
        self.toks(&["(", "type", "directory"])
    }

    pub fn entry_start(&mut self, name: &[u8]) -> io::Result<()> {
        self.toks(&["entry", "(", "name"])?;
        self.tok(name)?;
        self.tok(b"node")
    }

    /// Closes an entry or a directory.
    pub fn close(&mut self) -> io::Result<()> {
        self.tok(b")")
    }
}

fn tok_len(n: u64) -> u64 {
    8 + n.div_ceil(8) * 8
}

/// (NAR size, newest mtime) of the tree at `path` (the root included), from `lstat` only.
pub(crate) fn nar_stats(path: &Path) -> io::Result<(u64, i64)> {
    let mut size = tok_len(13);
    let mut mtime = i64::MIN;
    node_stats(path, &mut size, &mut mtime)?;
    Ok((size, mtime))
}

fn node_stats(path: &Path, size: &mut u64, mtime: &mut i64) -> io::Result<()> {
    let m = fs::symlink_metadata(path)?;
    *mtime = (*mtime).max(m.mtime());
    let t = m.file_type();
    // "(" "type" <kind> ... ")"
    *size += tok_len(1) * 2 + tok_len(4);
    if t.is_symlink() {
        *size += tok_len(7) + tok_len(6) + tok_len(fs::read_link(path)?.as_os_str().len() as u64);
    } else if t.is_dir() {
        *size += tok_len(9);
        for e in fs::read_dir(path)? {
            let e = e?;
            // "entry" "(" "name" <name> "node" <node> ")"
            *size += tok_len(5) + tok_len(1) * 2 + tok_len(4) * 2 + tok_len(e.file_name().as_bytes().len() as u64);
            node_stats(&e.path(), size, mtime)?;
        }
    } else {
        *size += tok_len(7) + tok_len(8) + tok_len(m.len());
        if m.mode() & 0o100 != 0 {
            *size += tok_len(10) + tok_len(0);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_size_equals_dump_size() {
        let dir = std::env::temp_dir().join(format!("rnix-narstats-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("sub")).unwrap();
        fs::write(dir.join("a.txt"), "hello\n").unwrap();
        fs::write(dir.join("sub/x"), "").unwrap();
        std::os::unix::fs::symlink("a.txt", dir.join("l")).unwrap();
        let mut buf = vec![];
        nix_store_core::nar::dump_path(&dir, &mut |_, _| true, &mut buf).unwrap();
        assert_eq!(nar_stats(&dir).unwrap().0, buf.len() as u64);
        fs::remove_dir_all(&dir).unwrap();
    }
}
