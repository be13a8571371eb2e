//! The lexer: source text to a vector of tokens, without whitespace and comments.
//!
//! It cuts tokens exactly as rnix's tokenizer does on valid input (paths, URIs, numbers, string
//! bodies and interpolations are context dependent, so it keeps the same context stack), and
//! returns `None` wherever rnix would produce an error token or the input is unusual (non-ASCII
//! outside strings and comments, exotic whitespace): the caller then falls back to rnix.

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum T {
    LBrace,
    RBrace,
    LBrack,
    RBrack,
    LParen,
    RParen,
    Semi,
    Colon,
    Comma,
    Dot,
    Ellipsis,
    Assign,
    Question,
    At,
    Not,
    Eq,
    NEq,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Impl,
    Update,
    Concat,
    Add,
    Sub,
    Mul,
    Div,
    KwAssert,
    KwElse,
    KwIf,
    KwIn,
    KwInherit,
    KwLet,
    /// `or`: a keyword after a select, an identifier elsewhere.
    KwOr,
    KwRec,
    KwThen,
    KwWith,
    Ident,
    Int,
    Float,
    Uri,
    PathAbs,
    PathRel,
    PathHome,
    /// A piece of a path after an interpolation (`/c` in `./a/${b}/c`).
    PathSeg,
    PathSearch,
    /// `"` (plain) or `''` (indented).
    StrStart,
    /// Raw, still escaped text of a string; never empty.
    StrContent,
    StrEnd,
    /// `${`, in a string, a path or an attribute name.
    InterpStart,
    InterpEnd,
    Eof,
}

#[derive(Copy, Clone, Debug)]
pub struct Token {
    pub kind: T,
    pub start: u32,
    pub end: u32,
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum Ctx {
    String { indented: bool },
    Interp { braces: u32 },
    Path,
}

/// Character classes of the lexer, one bit each, looked up in [`CLASSES`]: one load instead
/// of a chain of range tests per byte of every identifier and path.
const PATH: u8 = 1;
const URI: u8 = 2;
const IDENT: u8 = 4;
/// A path character other than `/`: what [`Lexer::path_run`] measures.
const PATH_PIECE: u8 = 8;
/// Bytes a string body cannot skip over: `"`, `\\`, `$`, `'`.
const STR_SPECIAL: u8 = 16;

static CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let alnum = b.is_ascii_alphanumeric();
        let path = alnum || matches!(b, b'/' | b'_' | b'.' | b'+' | b'-');
        let uri =
            path || matches!(b, b'%' | b'?' | b':' | b'@' | b'&' | b'=' | b'$' | b',' | b'!' | b'~' | b'*' | b'\'');
        let ident = alnum || matches!(b, b'_' | b'-' | b'\'');
        let piece = path && b != b'/';
        let special = matches!(b, b'"' | b'\\' | b'$' | b'\'');
        t[c] = (path as u8 * PATH)
            | (uri as u8 * URI)
            | (ident as u8 * IDENT)
            | (piece as u8 * PATH_PIECE)
            | (special as u8 * STR_SPECIAL);
        c += 1;
    }
    t
};

#[inline(always)]
fn is_path_char(c: u8) -> bool {
    CLASSES[c as usize] & PATH != 0
}

#[inline(always)]
fn is_uri_char(c: u8) -> bool {
    CLASSES[c as usize] & URI != 0
}

#[inline(always)]
fn is_ident_char(c: u8) -> bool {
    CLASSES[c as usize] & IDENT != 0
}

struct Lexer<'a> {
    b: &'a [u8],
    i: usize,
    ctx: Vec<Ctx>,
    out: &'a mut Vec<Token>,
    /// The last run of path characters measured for path/URI detection: `[from, to)`. Runs
    /// are the same from any start inside them, so input like `a.a.a.a…` or `----…` is
    /// measured once instead of once per token.
    run: (usize, usize),
    /// The same for runs that may contain `<` and `/` (after a `<`).
    search: (usize, usize),
}

/// Tokenize `text` into `out` (cleared first); the last token is [`T::Eof`].
pub fn lex(text: &str, out: &mut Vec<Token>) -> Option<()> {
    if text.len() >= u32::MAX as usize {
        return None;
    }
    out.clear();
    let mut lx = Lexer { b: text.as_bytes(), i: 0, ctx: Vec::new(), out, run: (0, 0), search: (0, 0) };
    lx.run()?;
    let end = text.len() as u32;
    lx.out.push(Token { kind: T::Eof, start: end, end });
    Some(())
}

impl Lexer<'_> {
    fn peek(&self, k: usize) -> u8 {
        self.b.get(self.i + k).copied().unwrap_or(0)
    }
    fn push(&mut self, kind: T, start: usize) {
        self.out.push(Token { kind, start: start as u32, end: self.i as u32 });
    }
    fn eat_while(&mut self, f: impl Fn(u8) -> bool) -> usize {
        let s = self.i;
        while self.i < self.b.len() && f(self.b[self.i]) {
            self.i += 1;
        }
        self.i - s
    }
    fn at_interp(&self) -> bool {
        self.peek(0) == b'$' && self.peek(1) == b'{'
    }

    fn run(&mut self) -> Option<()> {
        loop {
            match self.ctx.last().copied() {
                Some(Ctx::String { indented }) => self.string_body(indented)?,
                Some(Ctx::Path) => {
                    if self.at_interp() {
                        let s = self.i;
                        self.i += 2;
                        self.push(T::InterpStart, s);
                        self.ctx.push(Ctx::Interp { braces: 0 });
                    } else if is_path_char(self.peek(0)) {
                        let s = self.i;
                        self.path_rest(s)?;
                        self.push(T::PathSeg, s);
                    } else {
                        self.ctx.pop();
                    }
                }
                _ => {
                    if !self.skip_trivia()? {
                        return if self.ctx.is_empty() { Some(()) } else { None };
                    }
                    self.token()?;
                }
            }
        }
    }

    /// Skip whitespace and comments; false at the end of the input.
    fn skip_trivia(&mut self) -> Option<bool> {
        loop {
            match self.peek(0) {
                b' ' | b'\t' | b'\n' | b'\r' => self.i += 1,
                b'#' => {
                    while self.i < self.b.len() && self.b[self.i] != b'\n' {
                        self.i += 1;
                    }
                }
                b'/' if self.peek(1) == b'*' => {
                    let rest = &self.b[self.i + 2..];
                    let close = rest.windows(2).position(|w| w == b"*/")?;
                    self.i += 2 + close + 2;
                }
                0 if self.i >= self.b.len() => return Some(false),
                _ => return Some(true),
            }
        }
    }

    /// The rest of a path token from `start`: path characters, then either an interpolation
    /// follows (the path continues) or the token must not end in `/` nor contain `//`.
    fn path_rest(&mut self, start: usize) -> Option<()> {
        self.eat_while(is_path_char);
        if self.at_interp() {
            return Some(());
        }
        let s = &self.b[start..self.i];
        if s.ends_with(b"/") || s.windows(2).any(|w| w == b"//") {
            return None;
        }
        self.ctx.pop();
        Some(())
    }

    fn path(&mut self, kind: T, start: usize) -> Option<()> {
        self.ctx.push(Ctx::Path);
        self.path_rest(start)?;
        self.push(kind, start);
        Some(())
    }

    fn token(&mut self) -> Option<()> {
        let s = self.i;
        let c = self.peek(0);
        if c >= 0x80 {
            return None;
        }
        if c == b'.' && self.peek(1) == b'.' && self.peek(2) == b'.' {
            self.i += 3;
            self.push(T::Ellipsis, s);
            return Some(());
        }
        // Paths and URIs, detected the way rnix does.
        let c1 = self.peek(1);
        if c == b'/' {
            if c1 == b'/' {
                self.i += 2;
                self.push(T::Update, s);
                return Some(());
            }
            if is_path_char(c1) || (c1 == b'$' && self.peek(2) == b'{') {
                self.i += 1;
                return self.path(T::PathAbs, s);
            }
        } else if c == b'~' {
            if c1 != b'/' {
                return None;
            }
            self.i += 2;
            return self.path(T::PathHome, s);
        }
        if matches!(c, b'a'..=b'z' | b'A'..=b'Z' | b'_') {
            // Most identifiers are followed by none of `.`, `+`, `/`, `:`: then their path run
            // (below) ends where they do (or earlier, at a `'`), so they are no path or URI,
            // and the run need not be measured.
            let mut k = self.i + 1;
            while k < self.b.len() && is_ident_char(self.b[k]) {
                k += 1;
            }
            if !matches!(self.b.get(k), Some(b'.' | b'+' | b'/' | b':')) {
                self.i = k;
                self.push(keyword(&self.b[s..k]), s);
                return Some(());
            }
        }
        let search = c == b'<';
        let j = if search { self.search_run() } else { self.path_run() };
        let (l1, l2) = (self.b.get(j).copied().unwrap_or(0), self.b.get(j + 1).copied().unwrap_or(0));
        let mut uri = false;
        let mut search_path = false;
        match (l1, l2) {
            (b'/', b'/') | (b'/', b'*') => {}
            (b'/', 0) => {}
            (b'/', d) if d >= 0x80 || d == 0x0b || d == 0x0c => return None,
            (b'/', d) if !d.is_ascii_whitespace() && c != b'/' => {
                self.i += 1;
                return self.path(T::PathRel, s);
            }
            (b'>', _) => search_path = true,
            // A `_` before the colon makes it no URI (rnix's rule); only looked for here.
            (b':', d) if is_uri_char(d) && !self.b[self.i..j].contains(&b'_') => uri = true,
            _ => {}
        }
        self.i += 1;
        let kind = match c {
            b'=' if c1 == b'=' => self.two(T::Eq),
            b'!' if c1 == b'=' => self.two(T::NEq),
            b'!' => T::Not,
            b'{' => {
                if let Some(Ctx::Interp { braces }) = self.ctx.last_mut() {
                    *braces += 1;
                }
                T::LBrace
            }
            b'}' => match self.ctx.last_mut() {
                Some(Ctx::Interp { braces: 0 }) => {
                    self.ctx.pop();
                    T::InterpEnd
                }
                Some(Ctx::Interp { braces }) => {
                    *braces -= 1;
                    T::RBrace
                }
                _ => T::RBrace,
            },
            b'[' => T::LBrack,
            b']' => T::RBrack,
            b'@' => T::At,
            b':' => T::Colon,
            b',' => T::Comma,
            b'.' if c1.is_ascii_digit() => {
                self.eat_while(|d| d.is_ascii_digit());
                self.exponent()?
            }
            b'.' => T::Dot,
            b'=' => T::Assign,
            b'?' => T::Question,
            b';' => T::Semi,
            b'(' => T::LParen,
            b')' => T::RParen,
            b'+' if c1 == b'+' => self.two(T::Concat),
            b'-' if c1 == b'>' => self.two(T::Impl),
            b'+' => T::Add,
            b'-' => T::Sub,
            b'*' => T::Mul,
            b'/' => T::Div,
            // The pipe operators are an experimental feature: rnix reports them.
            b'<' if c1 == b'|' => return None,
            b'<' if search_path => {
                if self.eat_while(is_path_char) == 0 {
                    T::Lt
                } else if self.peek(0) != b'>' {
                    return None;
                } else {
                    self.i += 1;
                    T::PathSearch
                }
            }
            b'&' if c1 == b'&' => self.two(T::And),
            b'|' if c1 == b'>' => return None,
            b'|' if c1 == b'|' => self.two(T::Or),
            b'<' if c1 == b'=' => self.two(T::Le),
            b'<' => T::Lt,
            b'>' if c1 == b'=' => self.two(T::Ge),
            b'>' => T::Gt,
            b'$' if c1 == b'{' => {
                self.i += 1;
                self.ctx.push(Ctx::Interp { braces: 0 });
                T::InterpStart
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                if uri {
                    self.eat_while(|d| is_ident_char(d) || is_uri_char(d));
                    T::Uri
                } else {
                    self.eat_while(is_ident_char);
                    keyword(&self.b[s..self.i])
                }
            }
            b'"' => {
                self.ctx.push(Ctx::String { indented: false });
                T::StrStart
            }
            b'\'' if c1 == b'\'' => {
                self.i += 1;
                self.ctx.push(Ctx::String { indented: true });
                T::StrStart
            }
            b'0'..=b'9' => {
                if c == b'0' && c1 != b'.' {
                    self.eat_while(|d| d.is_ascii_digit());
                    T::Int
                } else {
                    self.eat_while(|d| d.is_ascii_digit());
                    if self.peek(0) == b'.' {
                        self.i += 1;
                        self.eat_while(|d| d.is_ascii_digit());
                        self.exponent()?
                    } else {
                        T::Int
                    }
                }
            }
            _ => return None,
        };
        self.push(kind, s);
        Some(())
    }

    /// End of the run of path characters other than `/` from here.
    fn path_run(&mut self) -> usize {
        let (from, to) = self.run;
        if !(from <= self.i && self.i < to) {
            let mut j = self.i;
            while j < self.b.len() && CLASSES[self.b[j] as usize] & PATH_PIECE != 0 {
                j += 1;
            }
            self.run = (self.i, j);
        }
        self.run.1
    }

    /// Like [`Lexer::path_run`] for a `<`: `<` and `/` count too (rnix's search path test).
    fn search_run(&mut self) -> usize {
        let (from, to) = self.search;
        if !(from <= self.i && self.i < to) {
            let mut j = self.i;
            while j < self.b.len() && (matches!(self.b[j], b'<' | b'/') || is_path_char(self.b[j])) {
                j += 1;
            }
            self.search = (self.i, j);
        }
        self.search.1
    }

    fn two(&mut self, t: T) -> T {
        self.i += 1;
        t
    }

    /// The optional exponent of a float.
    fn exponent(&mut self) -> Option<T> {
        if matches!(self.peek(0), b'e' | b'E') {
            self.i += 1;
            if matches!(self.peek(0), b'+' | b'-') {
                self.i += 1;
            }
            if self.eat_while(|d| d.is_ascii_digit()) == 0 {
                return None;
            }
        }
        Some(T::Float)
    }

    /// The body of a string up to its end or the next interpolation.
    fn string_body(&mut self, indented: bool) -> Option<()> {
        let s = self.i;
        let b = self.b;
        loop {
            // Plain text in tight loops, eight bytes at a time first; the match below sees
            // only the special bytes.
            while let Some(chunk) = b.get(self.i..self.i + 8) {
                let w = u64::from_le_bytes(chunk.try_into().unwrap_or([b'"'; 8]));
                if has_byte(w, b'"') || has_byte(w, b'\\') || has_byte(w, b'$') || has_byte(w, b'\'') {
                    break;
                }
                self.i += 8;
            }
            while self.i < b.len() && CLASSES[b[self.i] as usize] & STR_SPECIAL == 0 {
                self.i += 1;
            }
            let c = *b.get(self.i)?;
            match c {
                b'"' if !indented => {
                    self.content(s);
                    self.ctx.pop();
                    let e = self.i;
                    self.i += 1;
                    self.push(T::StrEnd, e);
                    return Some(());
                }
                b'\\' if !indented => {
                    b.get(self.i + 1)?;
                    self.i += 2;
                }
                b'\'' if indented && b.get(self.i + 1) == Some(&b'\'') => match b.get(self.i + 2) {
                    Some(b'\'') | Some(b'$') => self.i += 3,
                    Some(b'\\') => {
                        b.get(self.i + 3)?;
                        self.i += 4;
                    }
                    _ => {
                        self.content(s);
                        self.ctx.pop();
                        let e = self.i;
                        self.i += 2;
                        self.push(T::StrEnd, e);
                        return Some(());
                    }
                },
                b'\'' if indented && self.i + 1 >= b.len() => return None,
                b'$' if b.get(self.i + 1) == Some(&b'$') => self.i += 2,
                b'$' if b.get(self.i + 1) == Some(&b'{') => {
                    self.content(s);
                    let e = self.i;
                    self.i += 2;
                    self.push(T::InterpStart, e);
                    self.ctx.push(Ctx::Interp { braces: 0 });
                    return Some(());
                }
                _ => self.i += 1,
            }
        }
    }

    fn content(&mut self, s: usize) {
        if self.i > s {
            self.out.push(Token { kind: T::StrContent, start: s as u32, end: self.i as u32 });
        }
    }
}

/// Whether any byte of the eight in `w` is `c` (exact: the classic zero-byte test on `w ^ c…c`).
#[inline(always)]
pub(crate) fn has_byte(w: u64, c: u8) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let v = w ^ (ONES * c as u64);
    v.wrapping_sub(ONES) & !v & HIGHS != 0
}

fn keyword(w: &[u8]) -> T {
    match w {
        b"assert" => T::KwAssert,
        b"else" => T::KwElse,
        b"if" => T::KwIf,
        b"in" => T::KwIn,
        b"inherit" => T::KwInherit,
        b"let" => T::KwLet,
        b"or" => T::KwOr,
        b"rec" => T::KwRec,
        b"then" => T::KwThen,
        b"with" => T::KwWith,
        _ => T::Ident,
    }
}

#[cfg(test)]
mod tests {
    use super::has_byte;

    /// The word test agrees with a byte-by-byte search, including next to 0x80 and 0xFF.
    #[test]
    fn has_byte_is_exact() {
        let samples: [[u8; 8]; 6] = [
            *b"abcdefgh",
            *b"abc\"efgh",
            [0x80, 0x22, 0xff, 0x01, 0x00, 0x7f, 0x23, 0x21],
            [0x23; 8],
            [0x21, 0xa2, 0x22 ^ 0x80, 0x5b, 0x5d, 0x25, 0x26, 0x28],
            [0xff; 8],
        ];
        for s in samples {
            let w = u64::from_le_bytes(s);
            for c in [b'"', b'\\', b'$', b'\'', 0u8, 0xff] {
                assert_eq!(has_byte(w, c), s.contains(&c), "{:?} {}", s, c);
            }
        }
    }
}
