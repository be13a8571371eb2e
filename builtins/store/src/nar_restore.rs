//! Unpacking a NAR into a directory (what `nix-store --restore` does).
//!
//! A store behind a daemon may keep its files where this machine cannot read
//! them (another root, another host). To read a path there, the daemon store
//! asks for its NAR (`NarFromPath`) and unpacks it here. The NAR comes from a
//! socket: it is read as a stream, consuming exactly its own bytes, file
//! contents are copied through a fixed buffer, names and link targets are
//! bounded, and anything malformed (a `..` or `/` in a name, entries out of
//! order, an unknown token) is an error, never a write outside `dest`.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

/// Longest token other than file contents (names, link targets): Linux's `PATH_MAX`.
const MAX_TOKEN: u64 = 4096;
/// Deepest directory nesting accepted.
const MAX_DEPTH: usize = 256;

/// Unpacks the NAR read from `r` at `dest`, which must not exist yet.
pub fn restore_nar(r: &mut dyn Read, dest: &Path) -> io::Result<()> {
    let mut nar = NarReader { r };
    nar.expect("nix-archive-1")?;
    nar.node(dest, 0)
}

struct NarReader<'r> {
    r: &'r mut dyn Read,
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("bad archive: {}", msg.into()))
}

impl NarReader<'_> {
    fn u64(&mut self) -> io::Result<u64> {
        let mut b = [0u8; 8];
        self.r.read_exact(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn skip_padding(&mut self, len: u64) -> io::Result<()> {
        let rem = (len % 8) as usize;
        if rem != 0 {
            let mut pad = [0u8; 8];
            self.r.read_exact(&mut pad[..8 - rem])?;
            if pad[..8 - rem].iter().any(|&b| b != 0) {
                return Err(bad("non-zero padding"));
            }
        }
        Ok(())
    }

    fn token(&mut self) -> io::Result<Vec<u8>> {
        let len = self.u64()?;
        if len > MAX_TOKEN {
            return Err(bad(format!("a {len}-byte token")));
        }
        let mut buf = vec![0u8; len as usize];
        self.r.read_exact(&mut buf)?;
        self.skip_padding(len)?;
        Ok(buf)
    }

    fn expect(&mut self, want: &str) -> io::Result<()> {
        let got = self.token()?;
        if got != want.as_bytes() {
            return Err(bad(format!("expected '{want}', got '{}'", String::from_utf8_lossy(&got))));
        }
        Ok(())
    }

    /// Copies `len` bytes of contents into `out`.
    fn contents(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let len = self.u64()?;
        let mut left = len;
        let mut buf = vec![0u8; 64 * 1024];
        while left > 0 {
            let n = left.min(buf.len() as u64) as usize;
            self.r.read_exact(&mut buf[..n])?;
            out.write_all(&buf[..n])?;
            left -= n as u64;
        }
        self.skip_padding(len)
    }

    fn node(&mut self, path: &Path, depth: usize) -> io::Result<()> {
        if depth > MAX_DEPTH {
            return Err(bad("directories nested too deeply"));
        }
        self.expect("(")?;
        self.expect("type")?;
        match self.token()?.as_slice() {
            b"regular" => {
                let mut tag = self.token()?;
                let executable = tag == b"executable";
                if executable {
                    self.expect("")?;
                    tag = self.token()?;
                }
                if tag != b"contents" {
                    return Err(bad("expected 'contents'"));
                }
                let file = File::create(path)?;
                let mut out = BufWriter::new(file);
                self.contents(&mut out)?;
                let file = out.into_inner().map_err(|e| e.into_error())?;
                if executable {
                    file.set_permissions(fs::Permissions::from_mode(0o755))?;
                }
            }
            b"symlink" => {
                self.expect("target")?;
                let target = self.token()?;
                symlink(std::ffi::OsStr::from_bytes(&target), path)?;
            }
            b"directory" => {
                fs::create_dir(path)?;
                let mut prev: Option<Vec<u8>> = None;
                loop {
                    match self.token()?.as_slice() {
                        b")" => return Ok(()),
                        b"entry" => {}
                        other => return Err(bad(format!("unexpected '{}'", String::from_utf8_lossy(other)))),
                    }
                    self.expect("(")?;
                    self.expect("name")?;
                    let name = self.token()?;
                    if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') || name.contains(&0) {
                        return Err(bad(format!("invalid file name '{}'", String::from_utf8_lossy(&name))));
                    }
                    if prev.as_ref().is_some_and(|p| *p >= name) {
                        return Err(bad("directory entries not sorted"));
                    }
                    self.expect("node")?;
                    self.node(&path.join(std::ffi::OsStr::from_bytes(&name)), depth + 1)?;
                    self.expect(")")?;
                    prev = Some(name);
                }
            }
            other => return Err(bad(format!("unknown file type '{}'", String::from_utf8_lossy(other)))),
        }
        self.expect(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nar::dump_path;

    fn scratch(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("rnix-nar-restore-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_dumped_tree_restores_to_the_same_nar() {
        let d = scratch("roundtrip");
        let src = d.join("src");
        fs::create_dir_all(src.join("sub/deeper")).unwrap();
        fs::write(src.join("a.txt"), b"hello").unwrap();
        fs::write(src.join("sub/run"), vec![7u8; 100_000]).unwrap();
        fs::set_permissions(src.join("sub/run"), fs::Permissions::from_mode(0o755)).unwrap();
        fs::write(src.join("sub/deeper/empty"), b"").unwrap();
        symlink("../a.txt", src.join("sub/link")).unwrap();
        let mut nar = Vec::new();
        dump_path(&src, &mut |_, _| true, &mut nar).unwrap();
        // Trailing bytes stay unread: the NAR ends itself.
        let mut input = nar.clone();
        input.extend_from_slice(b"after");
        let mut reader = io::Cursor::new(input);
        restore_nar(&mut reader, &d.join("out")).unwrap();
        assert_eq!(reader.position() as usize, nar.len());
        let mut again = Vec::new();
        dump_path(&d.join("out"), &mut |_, _| true, &mut again).unwrap();
        assert_eq!(again, nar);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn names_that_leave_the_directory_are_refused() {
        let d = scratch("evil");
        let src = d.join("src");
        fs::create_dir_all(&src).unwrap();
        fs::write(src.join("xx"), b"x").unwrap();
        let mut nar = Vec::new();
        dump_path(&src, &mut |_, _| true, &mut nar).unwrap();
        // "xx" (8-byte padded) -> ".." keeps the layout.
        let pos = nar.windows(2).position(|w| w == b"xx").unwrap();
        nar[pos..pos + 2].copy_from_slice(b"..");
        let err = restore_nar(&mut io::Cursor::new(&nar), &d.join("out")).unwrap_err();
        assert!(err.to_string().contains("invalid file name '..'"), "{err}");
        // Truncated input is an error too.
        let err = restore_nar(&mut io::Cursor::new(&nar[..nar.len() / 2]), &d.join("out2")).unwrap_err();
        assert!(!err.to_string().is_empty());
        fs::remove_dir_all(&d).unwrap();
    }
}
