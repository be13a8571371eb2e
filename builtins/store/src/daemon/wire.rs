//! The worker protocol's byte-level encoding, and its numbers.
//!
//! Everything on the daemon socket is a sequence of little-endian `u64`s and
//! byte strings (a `u64` length, the bytes, zero padding to a multiple of 8).
//! Booleans are `u64` 0/1; sets and lists are a count followed by the items.
//! Bulk data (NARs, file contents) of newer operations travels "framed": chunks
//! of `u64` length + raw bytes (no padding), ended by a zero-length chunk.
//! The constants are those of CppNix's `worker-protocol.hh`.

use std::io::{self, Read, Write};

/// What the client sends first.
pub const WORKER_MAGIC_1: u64 = 0x6e69_7863;
/// What the daemon answers.
pub const WORKER_MAGIC_2: u64 = 0x6478_696f;
/// The protocol major version this client speaks (the high byte of a version).
pub const PROTOCOL_MAJOR: u64 = 1;
/// The newest protocol minor this client implements (1.35: the daemon says whether we are trusted).
pub const MAX_MINOR: u8 = 35;
/// The oldest protocol minor this client accepts (CppNix 2.0).
pub const MIN_MINOR: u8 = 21;

/// A protocol version as sent on the wire.
pub fn version(minor: u8) -> u64 {
    PROTOCOL_MAJOR << 8 | u64::from(minor)
}

/// Worker operation codes (`wop*`), only those this client sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Op {
    /// `wopIsValidPath`.
    IsValidPath = 1,
    /// `wopAddToStore` (two request forms: before and from 1.25).
    AddToStore = 7,
    /// `wopAddTextToStore` (used before 1.25).
    AddTextToStore = 8,
    /// `wopBuildPaths`.
    BuildPaths = 9,
    /// `wopAddTempRoot`.
    AddTempRoot = 11,
    /// `wopAddIndirectRoot`.
    AddIndirectRoot = 12,
    /// `wopSetOptions`.
    SetOptions = 19,
    /// `wopQueryPathInfo`.
    QueryPathInfo = 26,
    /// `wopQueryValidPaths`.
    QueryValidPaths = 31,
    /// `wopNarFromPath`.
    NarFromPath = 38,
}

/// A log line (`STDERR_NEXT`).
pub const STDERR_NEXT: u64 = 0x6f6c_6d67;
/// The daemon asks for data (`STDERR_READ`); only old protocol forms of some operations use it.
pub const STDERR_READ: u64 = 0x6461_7461;
/// The daemon sends data for a sink (`STDERR_WRITE`); no operation of this client expects it.
pub const STDERR_WRITE: u64 = 0x6461_7416;
/// The operation finished; its result follows (`STDERR_LAST`).
pub const STDERR_LAST: u64 = 0x616c_7473;
/// The operation failed (`STDERR_ERROR`).
pub const STDERR_ERROR: u64 = 0x6378_7470;
/// An activity (a build, a download) started.
pub const STDERR_START_ACTIVITY: u64 = 0x5354_5254;
/// An activity ended.
pub const STDERR_STOP_ACTIVITY: u64 = 0x5354_4f50;
/// An activity reported a result (a build log line, progress).
pub const STDERR_RESULT: u64 = 0x5253_4c54;

/// Longest string accepted from the daemon: its strings are messages and paths, never bulk data.
pub const MAX_STRING: u64 = 64 << 20;
/// Most items accepted in one set or list from the daemon (a store path set of a big closure fits).
pub const MAX_ITEMS: u64 = 1 << 24;

/// Writes a `u64`.
pub fn write_u64(w: &mut impl Write, n: u64) -> io::Result<()> {
    w.write_all(&n.to_le_bytes())
}

/// Writes a boolean as 0/1.
pub fn write_bool(w: &mut impl Write, b: bool) -> io::Result<()> {
    write_u64(w, u64::from(b))
}

/// Writes a byte string: length, bytes, zero padding to 8.
pub fn write_bytes(w: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    write_u64(w, bytes.len() as u64)?;
    w.write_all(bytes)?;
    write_padding(w, bytes.len() as u64)
}

/// Zero bytes up to the next multiple of 8 after `len` bytes.
pub fn write_padding(w: &mut impl Write, len: u64) -> io::Result<()> {
    let rem = (len % 8) as usize;
    if rem != 0 {
        w.write_all(&[0u8; 8][..8 - rem])?;
    }
    Ok(())
}

/// Writes a string set or list: count, then each string.
pub fn write_strings<'a, I>(w: &mut impl Write, items: I) -> io::Result<()>
where
    I: IntoIterator<Item = &'a str>,
    I::IntoIter: ExactSizeIterator,
{
    let items = items.into_iter();
    write_u64(w, items.len() as u64)?;
    for s in items {
        write_bytes(w, s.as_bytes())?;
    }
    Ok(())
}

/// Reads a `u64`.
pub fn read_u64(r: &mut impl Read) -> io::Result<u64> {
    let mut buf = [0u8; 8];
    r.read_exact(&mut buf)?;
    Ok(u64::from_le_bytes(buf))
}

/// Reads a boolean (any non-zero value is true, as in CppNix).
pub fn read_bool(r: &mut impl Read) -> io::Result<bool> {
    Ok(read_u64(r)? != 0)
}

/// Reads a byte string of at most [`MAX_STRING`] bytes, and its padding.
pub fn read_bytes(r: &mut impl Read) -> io::Result<Vec<u8>> {
    let len = read_u64(r)?;
    if len > MAX_STRING {
        return Err(invalid(format!("the daemon sent a string of {len} bytes")));
    }
    let mut buf = vec![0u8; len as usize];
    r.read_exact(&mut buf)?;
    let rem = (len % 8) as usize;
    if rem != 0 {
        let mut pad = [0u8; 8];
        r.read_exact(&mut pad[..8 - rem])?;
        if pad.iter().any(|&b| b != 0) {
            return Err(invalid("the daemon sent non-zero padding".to_owned()));
        }
    }
    Ok(buf)
}

/// Reads a UTF-8 string (messages are read with [`read_text`], which tolerates anything).
pub fn read_string(r: &mut impl Read) -> io::Result<String> {
    String::from_utf8(read_bytes(r)?).map_err(|_| invalid("the daemon sent a string that is not UTF-8".to_owned()))
}

/// Reads a message string, replacing invalid UTF-8.
pub fn read_text(r: &mut impl Read) -> io::Result<String> {
    Ok(String::from_utf8_lossy(&read_bytes(r)?).into_owned())
}

/// Reads a string set or list.
pub fn read_strings(r: &mut impl Read) -> io::Result<Vec<String>> {
    let n = read_u64(r)?;
    if n > MAX_ITEMS {
        return Err(invalid(format!("the daemon sent a list of {n} items")));
    }
    (0..n).map(|_| read_string(r)).collect()
}

/// An `InvalidData` error: the daemon sent something this client cannot make sense of.
pub fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// Size of one frame of [`FramedWriter`].
const FRAME: usize = 32 * 1024;

/// A writer that sends everything written to it as frames, for the framed bulk data of
/// newer operations (`AddToStore` from protocol 1.25). [`FramedWriter::finish`] sends the
/// terminating empty frame; dropping it without `finish` leaves the stream unterminated.
pub struct FramedWriter<'w, W: Write> {
    out: &'w mut W,
    buf: Vec<u8>,
}

impl<'w, W: Write> FramedWriter<'w, W> {
    /// Frames into `out`.
    pub fn new(out: &'w mut W) -> Self {
        FramedWriter { out, buf: Vec::with_capacity(FRAME) }
    }

    fn send_frame(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            write_u64(self.out, self.buf.len() as u64)?;
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Sends what is buffered and the end marker.
    pub fn finish(mut self) -> io::Result<()> {
        self.send_frame()?;
        write_u64(self.out, 0)
    }
}

impl<W: Write> Write for FramedWriter<'_, W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(FRAME - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == FRAME {
            self.send_frame()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes the NAR of a single non-executable regular file with `len` bytes read from
/// `contents` (CppNix's `dumpString`): the form the pre-1.25 `AddToStore` takes for a
/// flat import. Fails if `contents` has fewer than `len` bytes.
pub fn write_flat_nar(w: &mut impl Write, contents: &mut impl Read, len: u64) -> io::Result<()> {
    for token in ["nix-archive-1", "(", "type", "regular", "contents"] {
        write_bytes(w, token.as_bytes())?;
    }
    write_u64(w, len)?;
    let copied = io::copy(&mut contents.take(len), w)?;
    if copied != len {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "file changed while it was being sent"));
    }
    write_padding(w, len)?;
    write_bytes(w, b")")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_padded_to_eight_bytes() {
        let mut out = Vec::new();
        write_bytes(&mut out, b"abc").unwrap();
        assert_eq!(out, [3, 0, 0, 0, 0, 0, 0, 0, b'a', b'b', b'c', 0, 0, 0, 0, 0]);
        assert_eq!(read_bytes(&mut &out[..]).unwrap(), b"abc");
        let mut aligned = Vec::new();
        write_bytes(&mut aligned, b"12345678").unwrap();
        assert_eq!(aligned.len(), 16);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let mut huge = Vec::new();
        write_u64(&mut huge, MAX_STRING + 1).unwrap();
        assert_eq!(read_bytes(&mut &huge[..]).unwrap_err().kind(), io::ErrorKind::InvalidData);
        let mut dirty = Vec::new();
        write_u64(&mut dirty, 1).unwrap();
        dirty.extend_from_slice(&[b'x', 0, 0, 1, 0, 0, 0, 0]);
        assert_eq!(read_bytes(&mut &dirty[..]).unwrap_err().kind(), io::ErrorKind::InvalidData);
        assert_eq!(read_u64(&mut &[1u8, 2][..]).unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
        let mut many = Vec::new();
        write_u64(&mut many, MAX_ITEMS + 1).unwrap();
        assert!(read_strings(&mut &many[..]).is_err());
    }

    #[test]
    fn framed_data_is_chunked_and_terminated() {
        let data = vec![7u8; FRAME + 5];
        let mut out = Vec::new();
        let mut framed = FramedWriter::new(&mut out);
        framed.write_all(&data).unwrap();
        framed.finish().unwrap();
        let mut r = &out[..];
        let mut got = Vec::new();
        loop {
            let n = read_u64(&mut r).unwrap() as usize;
            if n == 0 {
                break;
            }
            got.extend_from_slice(&r[..n]);
            r = &r[n..];
        }
        assert_eq!(got, data);
        assert!(r.is_empty());
    }

    #[test]
    fn flat_nar_is_what_nix_store_dump_gives_for_a_file() {
        let dir = std::env::temp_dir().join(format!("daemon-wire-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("f");
        std::fs::write(&file, b"hello\n").unwrap();
        let mut expected = Vec::new();
        crate::nar::dump_path(&file, &mut |_, _| true, &mut expected).unwrap();
        let mut got = Vec::new();
        write_flat_nar(&mut got, &mut &b"hello\n"[..], 6).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(got, expected);
        assert!(write_flat_nar(&mut Vec::new(), &mut &b"hi"[..], 6).is_err());
    }
}
