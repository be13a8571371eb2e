//! Source files and positions.
//!
//! Every parsed text is registered once in a process-wide table and gets a [`FileId`]. AST nodes
//! carry a [`Pos`] (file id + byte offset, 8 bytes); line and column are computed only when an
//! error or `unsafeGetAttrPos`/`__curPos` needs them.

use std::sync::{Arc, LazyLock, RwLock};

/// A registered source text (an index into the source table).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct FileId(pub u32);

/// A position in a registered source, packed into 32 bits (attribute sets store one per
/// attribute): every file gets a range of the position space at registration, so a position
/// is `base(file) + offset + 1`, and 0 means "no position".
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Pos(u32);

impl Pos {
    /// No position.
    pub const NONE: Pos = Pos(0);
    /// Whether this is [`Pos::NONE`].
    pub fn is_none(self) -> bool {
        self.0 == 0
    }
    /// The position `offset` bytes into `file`.
    pub fn new(file: FileId, offset: u32) -> Pos {
        Pos::in_file(file_base(file), offset)
    }
    /// Like [`Pos::new`] with the file's base already looked up (lowering does this once).
    #[inline]
    pub fn in_file(base: u32, offset: u32) -> Pos {
        Pos(base.saturating_add(offset).saturating_add(1))
    }
    /// The file and byte offset of this position.
    pub fn split(self) -> Option<(FileId, u32)> {
        if self.is_none() {
            return None;
        }
        let bases = BASES.read().unwrap();
        let raw = self.0 - 1;
        let i = match bases.binary_search(&raw) {
            Ok(i) => i,
            Err(0) => return None,
            Err(i) => i - 1,
        };
        Some((FileId(i as u32), raw - bases[i]))
    }
    /// A position a few bytes further on in the same file.
    pub fn shifted(self, by: u32) -> Pos {
        if self.is_none() {
            self
        } else {
            Pos(self.0.saturating_add(by))
        }
    }
}

/// The first position of each registered file, in registration order (increasing).
static BASES: LazyLock<RwLock<Vec<u32>>> = LazyLock::new(Default::default);

/// Where `file`'s range of positions starts.
pub fn file_base(file: FileId) -> u32 {
    BASES.read().unwrap().get(file.0 as usize).copied().unwrap_or(u32::MAX)
}

/// What a source is: a file on disk (its absolute path) or a text without a file.
#[derive(Clone, Debug)]
pub enum Origin {
    /// A file.
    File(String),
    /// `-E`/`--expr` text, shown as «string».
    String,
    /// Text read from standard input, shown as «stdin».
    Stdin,
}

/// A registered source: where it came from and its text.
pub struct SourceFile {
    /// Where the text came from.
    pub origin: Origin,
    /// The text as parsed.
    pub text: Arc<str>,
    /// Offsets where lines start, computed when a position is first shown: most files
    /// never need it, and scanning all 12 MB of a NixOS system's sources costs time.
    line_starts: std::sync::OnceLock<Vec<u32>>,
}

impl SourceFile {
    /// The name messages show: the path, «string» or «stdin».
    pub fn name(&self) -> String {
        match &self.origin {
            Origin::File(p) => p.clone(),
            Origin::String => "«string»".into(),
            Origin::Stdin => "«stdin»".into(),
        }
    }
    fn line_starts(&self) -> &[u32] {
        self.line_starts.get_or_init(|| {
            let mut starts = vec![0u32];
            let bytes = self.text.as_bytes();
            for (i, &b) in bytes.iter().enumerate() {
                // Nix counts "\r\n", "\n" and a bare "\r" as line ends.
                if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                    starts.push(i as u32 + 1);
                }
            }
            starts
        })
    }
    /// 1-based line and column of a byte offset (columns count bytes, as Nix does).
    pub fn line_col(&self, offset: u32) -> (u32, u32) {
        let starts = self.line_starts();
        let line = match starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        (line as u32 + 1, offset - starts[line] + 1)
    }
    /// The text of a 1-based line, without its terminator.
    pub fn line_text(&self, line: u32) -> Option<&str> {
        let i = line.checked_sub(1)? as usize;
        let starts = self.line_starts();
        let start = *starts.get(i)? as usize;
        let end = starts.get(i + 1).map(|&e| e as usize).unwrap_or(self.text.len());
        let s = &self.text[start..end];
        Some(s.trim_end_matches(['\n', '\r']))
    }
    /// The number of lines.
    pub fn line_count(&self) -> u32 {
        self.line_starts().len() as u32
    }
}

static SOURCES: LazyLock<RwLock<Vec<Arc<SourceFile>>>> = LazyLock::new(Default::default);

/// Registers a text (for the rest of the process) and gives its id.
pub fn add_source(origin: Origin, text: Arc<str>) -> FileId {
    let mut w = SOURCES.write().unwrap();
    let mut bases = BASES.write().unwrap();
    let base = match (bases.last(), w.last()) {
        (Some(&b), Some(prev)) => b.saturating_add(prev.text.len() as u32).saturating_add(1),
        _ => 0,
    };
    bases.push(base);
    w.push(Arc::new(SourceFile { origin, text, line_starts: std::sync::OnceLock::new() }));
    FileId(w.len() as u32 - 1)
}

/// The registered source `id`.
pub fn source(id: FileId) -> Option<Arc<SourceFile>> {
    SOURCES.read().unwrap().get(id.0 as usize).cloned()
}

/// A position resolved for display: file name, line, column.
#[derive(Clone)]
pub struct Location {
    /// The source.
    pub file: Arc<SourceFile>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in bytes.
    pub column: u32,
}

impl Pos {
    /// File, line and column of this position (none for [`Pos::NONE`]).
    pub fn resolve(self) -> Option<Location> {
        let (id, offset) = self.split()?;
        let file = source(id)?;
        let (line, column) = file.line_col(offset);
        Some(Location { file, line, column })
    }
}

/// Source text as the lexer sees it: CR LF and a lone CR become LF (the reference treats
/// them as line ends, and turns them into LF inside strings). Bytes that are not UTF-8 are
/// kept, each as a private-use character that [`source_string`] turns back into the byte.
pub fn normalize_source(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                push_normalized(&mut out, s);
                break;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                push_normalized(&mut out, std::str::from_utf8(good).unwrap_or(""));
                let n = e.error_len().unwrap_or(bad.len()).max(1);
                for &b in &bad[..n] {
                    out.push(char::from_u32(RAW_BYTE_BASE + b as u32).unwrap_or('\u{FFFD}'));
                }
                rest = &bad[n..];
            }
        }
    }
    out
}

const RAW_BYTE_BASE: u32 = 0x10FF00;

fn push_normalized(out: &mut String, s: &str) {
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\r' {
            out.push('\n');
            if it.peek() == Some(&'\n') {
                it.next();
            }
        } else {
            out.push(c);
        }
    }
}

/// A string literal's value: the private-use stand-ins of [`normalize_source`] become the
/// raw bytes they stand for.
pub fn source_string(t: String) -> crate::value::NixString {
    // Every stand-in is encoded with the lead byte 0xF4; most strings have none.
    if !t.as_bytes().contains(&0xF4) || !t.chars().any(|c| c as u32 >= RAW_BYTE_BASE) {
        return crate::value::NixString::from(t);
    }
    let mut b = Vec::with_capacity(t.len());
    for c in t.chars() {
        let u = c as u32;
        if (RAW_BYTE_BASE..RAW_BYTE_BASE + 256).contains(&u) {
            b.push((u - RAW_BYTE_BASE) as u8);
        } else {
            let mut buf = [0u8; 4];
            b.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
    crate::value::NixString::new(b)
}
