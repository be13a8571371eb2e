//! `toJSON`, `fromJSON` and the `--json` output.
//!
//! The reference serialises with nlohmann::json and parses with its SAX parser; both are
//! reproduced here byte for byte: shortest round-trip floats (`1.0`, `1e+21`), string escapes,
//! the UTF-8 check done when the document is dumped (after the whole value was evaluated), the
//! `__toString`/`outPath` peeling of sets, and the parser's error messages with their line,
//! column and "last read" token.

use crate::Args;
use nix_eval::error::{AddTrace, ErrorKind, EvalError, Result};
use nix_eval::json_escape::{write_json_string, JsonEscapes};
use nix_eval::print;
use nix_eval::source::Pos;
use nix_eval::value::{Attrs, Context, NixString};
use nix_eval::{sym, Attr, BuiltinDef, Eval, Symbol, Value};

pub(crate) const BUILTINS: &[BuiltinDef] = &[
    BuiltinDef { name: "toJSON", arity: 1, global: false, func: to_json },
    BuiltinDef { name: "fromJSON", arity: 1, global: false, func: from_json },
];

// ---- serialisation ------------------------------------------------------------------------

fn to_json(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let mut w = JsonWriter::new(true);
    w.value(ev, &args[0], pos, 0)?;
    let (out, ctx) = w.finish()?;
    Ok(Value::String(NixString::with_context(out, ctx)))
}

/// The JSON text of a value (forcing it deeply), as `--json` prints it.
pub fn to_json_string(ev: &mut Eval, v: &Value, pos: Pos, copy_to_store: bool) -> Result<String> {
    let mut w = JsonWriter::new(copy_to_store);
    w.value(ev, v, pos, 0)?;
    let (out, _) = w.finish()?;
    // `finish` checked that the text is valid UTF-8.
    Ok(String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// A string as nlohmann::json writes it (`toJSON` follows 2.36).
fn escape_json_bytes(out: &mut Vec<u8>, s: &[u8]) {
    write_json_string(out, s, JsonEscapes::Nlohmann);
}

/// nlohmann's complaint about a string that is not valid UTF-8 (its decoder rejects at the
/// first byte that cannot continue a sequence), or None.
fn utf8_error(s: &[u8]) -> Option<String> {
    let e = std::str::from_utf8(s).err()?;
    let start = e.valid_up_to();
    match e.error_len() {
        None => Some(format!("incomplete UTF-8 string; last byte: 0x{:02X}", s[s.len() - 1])),
        Some(len) => {
            // A byte that may start a sequence is accepted; the rejection comes at the first
            // byte that does not continue it.
            let idx = if (0xC2..=0xF4).contains(&s[start]) { start + len } else { start };
            Some(format!("invalid UTF-8 byte at index {}: 0x{:02X}", idx, s[idx]))
        }
    }
}

struct JsonWriter {
    out: Vec<u8>,
    ctx: Context,
    copy_to_store: bool,
    /// The first string that is not valid UTF-8: nlohmann only notices when dumping, i.e.
    /// after the whole value has been evaluated.
    bad_utf8: Option<String>,
}

/// "a function", "the built-in function 'add'", ... as the reference's `showType`.
fn show_type(v: &Value) -> String {
    match v {
        Value::Builtin(b) if b.args.is_empty() => format!("the built-in function '{}'", b.def.name),
        Value::Builtin(b) => format!("the partially applied built-in function '{}'", b.def.name),
        v => v.ty().describe().to_string(),
    }
}

fn while_using(v: Option<&Value>) -> &'static str {
    match v {
        Some(v) if !v.is_thunk() => "using",
        _ => "evaluating",
    }
}

impl JsonWriter {
    fn new(copy_to_store: bool) -> JsonWriter {
        JsonWriter { out: Vec::new(), ctx: Context::new(), copy_to_store, bad_utf8: None }
    }

    fn finish(self) -> Result<(Vec<u8>, Context)> {
        if let Some(e) = self.bad_utf8 {
            return Err(EvalError::new(
                ErrorKind::Other,
                format!("JSON serialization error: [json.exception.type_error.316] {}", e),
            ));
        }
        Ok((self.out, self.ctx))
    }

    fn string(&mut self, s: &[u8]) {
        if self.bad_utf8.is_none() {
            self.bad_utf8 = utf8_error(s);
        }
        escape_json_bytes(&mut self.out, s);
    }

    fn value(&mut self, ev: &mut Eval, v: &Value, pos: Pos, depth: usize) -> Result<()> {
        self.value_copy(ev, v, pos, depth, self.copy_to_store)
    }

    fn value_copy(&mut self, ev: &mut Eval, v: &Value, pos: Pos, depth: usize, copy: bool) -> Result<()> {
        if depth >= ev.settings.max_call_depth {
            return Err(EvalError::at(ErrorKind::StackOverflow, pos, "stack overflow; max-call-depth exceeded"));
        }
        let v = ev.force(v)?;
        match &v {
            Value::Null => self.out.extend_from_slice(b"null"),
            Value::Bool(b) => self.out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Int(i) => self.out.extend_from_slice(i.to_string().as_bytes()),
            Value::Float(f) => self.out.extend_from_slice(json_float(*f).as_bytes()),
            Value::String(s) => {
                if let Some(c) = s.context() {
                    self.ctx.extend(c.iter().cloned());
                }
                self.string(s.as_bytes());
            }
            Value::Path(p) => {
                if copy {
                    let sp = ev.copy_path_to_store(&p.to_str_lossy(), pos)?;
                    self.ctx.insert(sp.clone().into_boxed_str());
                    self.string(sp.as_bytes());
                } else {
                    self.string(p.as_bytes());
                }
            }
            Value::List(l) => {
                self.out.push(b'[');
                for (i, x) in l.iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.value_copy(ev, x, pos, depth + 1, copy)
                        .trace(pos, || format!("while evaluating list element at index {}", i))?;
                }
                self.out.push(b']');
            }
            Value::Attrs(_) => {
                let (peeled, through_to_string) = peel(ev, v.clone(), pos, depth, false)?;
                match &peeled {
                    Value::Attrs(a) => self.object(ev, a, depth, copy)?,
                    // A path reached through `__toString` is not copied (a historical quirk).
                    other => self.value_copy(ev, other, pos, depth + 1, copy && !through_to_string)?,
                }
            }
            Value::Lambda(c) => {
                let p = if c.pos().is_none() { pos } else { c.pos() };
                return Err(EvalError::at(ErrorKind::Type, p, "cannot convert a function to JSON"));
            }
            Value::Builtin(_) => {
                return Err(EvalError::at(ErrorKind::Type, pos, format!("cannot convert {} to JSON", show_type(&v))));
            }
            Value::Thunk(_) => unreachable!("forced"),
        }
        Ok(())
    }

    fn object(&mut self, ev: &mut Eval, a: &Attrs, depth: usize, copy: bool) -> Result<()> {
        self.out.push(b'{');
        for (i, attr) in a.sorted().into_iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            self.string(attr.name.as_str().as_bytes());
            self.out.push(b':');
            let name = attr.name;
            self.value_copy(ev, &attr.value, attr.pos, depth + 1, copy)
                .trace(attr.pos, || format!("while evaluating attribute '{}'", name))?;
        }
        self.out.push(b'}');
        Ok(())
    }
}

/// The reference's `peelToStringOutPath`: follow `__toString` (calling it) and `outPath` until
/// a value that is not a set, or a set with neither. Returns it (forced) and whether a
/// `__toString` was called on the way. What `__toString` yields must end in a string or a path.
fn peel(ev: &mut Eval, v: Value, pos: Pos, depth: usize, through: bool) -> Result<(Value, bool)> {
    let v = ev.force(&v)?;
    let Value::Attrs(a) = &v else {
        if through && !matches!(v, Value::String(_) | Value::Path(_)) {
            return Err(EvalError::at(
                ErrorKind::Type,
                pos,
                format!("`__toString` should return a string, but got {}: {}", v.ty().describe(), print::short(&v)),
            ));
        }
        return Ok((v, through));
    };
    if depth >= ev.settings.max_call_depth {
        return Err(EvalError::at(ErrorKind::StackOverflow, pos, "stack overflow; max-call-depth exceeded"));
    }
    if let Some(attr) = a.get_attr(sym::TO_STRING) {
        let (f, ipos) = (attr.value.clone(), attr.pos);
        let r = ev.call(&f, v.clone(), ipos).trace(ipos, || "while calling the `__toString` attribute".into())?;
        let used = while_using(Some(&r));
        return peel(ev, r, ipos, depth + 1, true)
            .trace(ipos, || format!("while {} the result of the `__toString` attribute", used));
    }
    if let Some(attr) = a.get_attr(sym::OUT_PATH) {
        let (x, ipos) = (attr.value.clone(), attr.pos);
        let forced = ev.force(&x).trace(ipos, || "while evaluating the `outPath` attribute".into())?;
        return peel(ev, forced, ipos, depth + 1, through).trace(ipos, || "while using the `outPath` attribute".into());
    }
    if through {
        return Err(EvalError::at(
            ErrorKind::Type,
            pos,
            format!("`__toString` must return a string, but got {}: {}", v.ty().describe(), print::short(&v)),
        ));
    }
    Ok((v, through))
}

/// Floats as nlohmann::json dumps them: the shortest digits that round-trip, printed like
/// `%g` with a decimal exponent range of [-4, 15) (`1.0`, `0.0001`, `1e-05`, `1e+16`).
pub(crate) fn json_float(f: f64) -> String {
    if !f.is_finite() {
        return "null".into();
    }
    let mut out = String::new();
    if f.is_sign_negative() {
        out.push('-');
    }
    let f = f.abs();
    if f == 0.0 {
        out.push_str("0.0");
        return out;
    }
    // Shortest round-trip digits and exponent: "d.ddde±x".
    let sci = format!("{:e}", f);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    let k = digits.len() as i32;
    // Position of the decimal point relative to the start of the digits.
    let n = exp + 1;
    const MIN_EXP: i32 = -4;
    const MAX_EXP: i32 = 15;
    if k <= n && n <= MAX_EXP {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (n - k) as usize));
        out.push_str(".0");
    } else if 0 < n && n <= MAX_EXP {
        out.push_str(&digits[..n as usize]);
        out.push('.');
        out.push_str(&digits[n as usize..]);
    } else if MIN_EXP < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-n) as usize));
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let e = n - 1;
        out.push('e');
        out.push(if e < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", e.abs()));
    }
    out
}

// ---- parsing ------------------------------------------------------------------------------

/// The reference's message for a string with a NUL byte (shown as ␀).
pub(crate) fn null_byte_error(s: &[u8]) -> String {
    let shown = String::from_utf8_lossy(s).replace('\0', "␀");
    format!("input string '{}' cannot be represented as Nix string because it contains null bytes", shown)
}

fn from_json(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a = Args::new("fromJSON", args, pos);
    let s = a.string_no_ctx(ev, 0)?;
    // As the reference, only the JSON parser's own errors (nlohmann's `json.exception`s) get the
    // frame; a number out of range or a null byte is an evaluation error without it.
    match parse_json(s.as_bytes(), pos) {
        Err(e) if !e.msg.starts_with("[json.exception.") => Err(e),
        r => r.trace(pos, || "while decoding a JSON string".into()),
    }
}

/// Parse a JSON text into a value, as the reference (nlohmann's SAX parser) does.
pub(crate) fn parse_json(text: &[u8], pos: Pos) -> Result<Value> {
    let mut p = Parser { lx: Lexer::new(text), last: Tok::Uninitialized, pos };
    p.next()?;
    let v = p.value()?;
    if p.next()? != Tok::EndOfInput {
        return Err(p.syntax_error(Tok::EndOfInput, "value"));
    }
    Ok(v)
}

#[derive(Copy, Clone, PartialEq, Debug)]
enum Tok {
    Uninitialized,
    True,
    False,
    Null,
    String,
    Unsigned(u64),
    Integer(i64),
    Float(f64),
    BeginArray,
    BeginObject,
    EndArray,
    EndObject,
    NameSeparator,
    ValueSeparator,
    ParseError,
    EndOfInput,
    LiteralOrValue,
}

fn tok_name(t: Tok) -> &'static str {
    match t {
        Tok::Uninitialized => "<uninitialized>",
        Tok::True => "true literal",
        Tok::False => "false literal",
        Tok::Null => "null literal",
        Tok::String => "string literal",
        Tok::Unsigned(_) | Tok::Integer(_) | Tok::Float(_) => "number literal",
        Tok::BeginArray => "'['",
        Tok::BeginObject => "'{'",
        Tok::EndArray => "']'",
        Tok::EndObject => "'}'",
        Tok::NameSeparator => "':'",
        Tok::ValueSeparator => "','",
        Tok::ParseError => "<parse error>",
        Tok::EndOfInput => "end of input",
        Tok::LiteralOrValue => "'[', '{', or a literal",
    }
}

const EOF: i32 = -1;

/// nlohmann's lexer, including its position bookkeeping and the "last read" token string.
struct Lexer<'a> {
    input: &'a [u8],
    idx: usize,
    current: i32,
    next_unget: bool,
    chars_read_total: usize,
    chars_read_current_line: usize,
    lines_read: usize,
    token_string: Vec<u8>,
    token_buffer: Vec<u8>,
    error_message: &'static str,
}

impl<'a> Lexer<'a> {
    fn new(input: &'a [u8]) -> Lexer<'a> {
        Lexer {
            input,
            idx: 0,
            current: EOF,
            next_unget: false,
            chars_read_total: 0,
            chars_read_current_line: 0,
            lines_read: 0,
            token_string: Vec::new(),
            token_buffer: Vec::new(),
            error_message: "",
        }
    }

    fn get(&mut self) -> i32 {
        self.chars_read_total += 1;
        self.chars_read_current_line += 1;
        if self.next_unget {
            self.next_unget = false;
        } else {
            self.current = match self.input.get(self.idx) {
                Some(&b) => {
                    self.idx += 1;
                    b as i32
                }
                None => EOF,
            };
        }
        if self.current != EOF {
            self.token_string.push(self.current as u8);
        }
        if self.current == b'\n' as i32 {
            self.lines_read += 1;
            self.chars_read_current_line = 0;
        }
        self.current
    }

    fn unget(&mut self) {
        self.next_unget = true;
        self.chars_read_total -= 1;
        if self.chars_read_current_line == 0 {
            if self.lines_read > 0 {
                self.lines_read -= 1;
            }
        } else {
            self.chars_read_current_line -= 1;
        }
        if self.current != EOF {
            self.token_string.pop();
        }
    }

    fn reset(&mut self) {
        self.token_buffer.clear();
        self.token_string.clear();
        if self.current != EOF {
            self.token_string.push(self.current as u8);
        }
    }

    fn token_string(&self) -> String {
        let mut out = Vec::new();
        for &c in &self.token_string {
            if c <= 0x1f {
                out.extend_from_slice(format!("<U+{:04X}>", c).as_bytes());
            } else {
                out.push(c);
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    fn skip_bom(&mut self) -> bool {
        if self.get() == 0xEF {
            return self.get() == 0xBB && self.get() == 0xBF;
        }
        self.unget();
        true
    }

    fn scan(&mut self) -> Tok {
        if self.chars_read_total == 0 && !self.skip_bom() {
            self.error_message = "invalid BOM; must be 0xEF 0xBB 0xBF if given";
            return Tok::ParseError;
        }
        loop {
            self.get();
            if !matches!(self.current, 0x20 | 0x09 | 0x0a | 0x0d) {
                break;
            }
        }
        match self.current {
            EOF | 0 => Tok::EndOfInput,
            c => match c as u8 {
                b'[' => Tok::BeginArray,
                b']' => Tok::EndArray,
                b'{' => Tok::BeginObject,
                b'}' => Tok::EndObject,
                b':' => Tok::NameSeparator,
                b',' => Tok::ValueSeparator,
                b't' => self.scan_literal(b"true", Tok::True),
                b'f' => self.scan_literal(b"false", Tok::False),
                b'n' => self.scan_literal(b"null", Tok::Null),
                b'"' => self.scan_string(),
                b'-' | b'0'..=b'9' => self.scan_number(),
                _ => {
                    self.error_message = "invalid literal";
                    Tok::ParseError
                }
            },
        }
    }

    fn scan_literal(&mut self, text: &[u8], tok: Tok) -> Tok {
        for &c in &text[1..] {
            if self.get() != c as i32 {
                self.error_message = "invalid literal";
                return Tok::ParseError;
            }
        }
        tok
    }

    fn get_codepoint(&mut self) -> Option<u32> {
        let mut cp = 0u32;
        for factor in [12, 8, 4, 0] {
            let c = self.get();
            let d = match c {
                0x30..=0x39 => c - 0x30,
                0x41..=0x46 => c - 0x37,
                0x61..=0x66 => c - 0x57,
                _ => return None,
            };
            cp += (d as u32) << factor;
        }
        Some(cp)
    }

    fn next_byte_in_range(&mut self, ranges: &[(i32, i32)]) -> bool {
        self.token_buffer.push(self.current as u8);
        for &(lo, hi) in ranges {
            let c = self.get();
            if lo <= c && c <= hi {
                self.token_buffer.push(c as u8);
            } else {
                self.error_message = "invalid string: ill-formed UTF-8 byte";
                return false;
            }
        }
        true
    }

    fn push_codepoint(&mut self, cp: u32) {
        let mut buf = [0u8; 4];
        let s = char::from_u32(cp).unwrap_or('\u{fffd}').encode_utf8(&mut buf);
        self.token_buffer.extend_from_slice(s.as_bytes());
    }

    fn scan_string(&mut self) -> Tok {
        self.reset();
        loop {
            let c = self.get();
            match c {
                EOF => {
                    self.error_message = "invalid string: missing closing quote";
                    return Tok::ParseError;
                }
                0x22 => return Tok::String,
                0x5c => {
                    let e = self.get();
                    match e {
                        0x22 => self.token_buffer.push(b'"'),
                        0x5c => self.token_buffer.push(b'\\'),
                        0x2f => self.token_buffer.push(b'/'),
                        0x62 => self.token_buffer.push(0x08),
                        0x66 => self.token_buffer.push(0x0c),
                        0x6e => self.token_buffer.push(b'\n'),
                        0x72 => self.token_buffer.push(b'\r'),
                        0x74 => self.token_buffer.push(b'\t'),
                        0x75 => {
                            let Some(cp1) = self.get_codepoint() else {
                                self.error_message = "invalid string: '\\u' must be followed by 4 hex digits";
                                return Tok::ParseError;
                            };
                            let mut cp = cp1;
                            if (0xD800..=0xDBFF).contains(&cp1) {
                                if self.get() == 0x5c && self.get() == 0x75 {
                                    let Some(cp2) = self.get_codepoint() else {
                                        self.error_message = "invalid string: '\\u' must be followed by 4 hex digits";
                                        return Tok::ParseError;
                                    };
                                    if (0xDC00..=0xDFFF).contains(&cp2) {
                                        cp = (cp1 << 10) + cp2 - 0x35FDC00;
                                    } else {
                                        self.error_message =
                                            "invalid string: surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF";
                                        return Tok::ParseError;
                                    }
                                } else {
                                    self.error_message =
                                        "invalid string: surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF";
                                    return Tok::ParseError;
                                }
                            } else if (0xDC00..=0xDFFF).contains(&cp1) {
                                self.error_message =
                                    "invalid string: surrogate U+DC00..U+DFFF must follow U+D800..U+DBFF";
                                return Tok::ParseError;
                            }
                            self.push_codepoint(cp);
                        }
                        _ => {
                            self.error_message = "invalid string: forbidden character after backslash";
                            return Tok::ParseError;
                        }
                    }
                }
                0x00..=0x1f => {
                    self.error_message = CONTROL_MESSAGES[c as usize];
                    return Tok::ParseError;
                }
                0x20..=0x7f => self.token_buffer.push(c as u8),
                0xC2..=0xDF => {
                    if !self.next_byte_in_range(&[(0x80, 0xBF)]) {
                        return Tok::ParseError;
                    }
                }
                0xE0 => {
                    if !self.next_byte_in_range(&[(0xA0, 0xBF), (0x80, 0xBF)]) {
                        return Tok::ParseError;
                    }
                }
                0xE1..=0xEC | 0xEE | 0xEF => {
                    if !self.next_byte_in_range(&[(0x80, 0xBF), (0x80, 0xBF)]) {
                        return Tok::ParseError;
                    }
                }
                0xED => {
                    if !self.next_byte_in_range(&[(0x80, 0x9F), (0x80, 0xBF)]) {
                        return Tok::ParseError;
                    }
                }
                0xF0 => {
                    if !self.next_byte_in_range(&[(0x90, 0xBF), (0x80, 0xBF), (0x80, 0xBF)]) {
                        return Tok::ParseError;
                    }
                }
                0xF1..=0xF3 => {
                    if !self.next_byte_in_range(&[(0x80, 0xBF), (0x80, 0xBF), (0x80, 0xBF)]) {
                        return Tok::ParseError;
                    }
                }
                0xF4 => {
                    if !self.next_byte_in_range(&[(0x80, 0x8F), (0x80, 0xBF), (0x80, 0xBF)]) {
                        return Tok::ParseError;
                    }
                }
                _ => {
                    self.error_message = "invalid string: ill-formed UTF-8 byte";
                    return Tok::ParseError;
                }
            }
        }
    }

    /// nlohmann's number automaton, written as the grammar it recognises:
    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`. Characters are read one at a
    /// time and the first one that does not fit is put back, as the automaton does, so the
    /// positions and the `last read` text of its messages are the same.
    fn scan_number(&mut self) -> Tok {
        self.reset();
        #[derive(PartialEq)]
        enum Kind {
            Unsigned,
            Integer,
            Float,
        }
        let mut kind = Kind::Unsigned;
        let mut c = self.current;
        if c == b'-' as i32 {
            kind = Kind::Integer;
            self.token_buffer.push(b'-');
            c = self.get();
        }
        let next = if c == b'0' as i32 {
            self.token_buffer.push(b'0');
            Some(self.get())
        } else {
            self.digits(c, "invalid number; expected digit after '-'")
        };
        let Some(mut c) = next else { return Tok::ParseError };
        if c == b'.' as i32 {
            kind = Kind::Float;
            self.token_buffer.push(b'.');
            let next = self.get();
            let Some(n) = self.digits(next, "invalid number; expected digit after '.'") else { return Tok::ParseError };
            c = n;
        }
        if c == b'e' as i32 || c == b'E' as i32 {
            kind = Kind::Float;
            self.token_buffer.push(c as u8);
            let mut next = self.get();
            let msg = if next == b'+' as i32 || next == b'-' as i32 {
                self.token_buffer.push(next as u8);
                next = self.get();
                "invalid number; expected digit after exponent sign"
            } else {
                "invalid number; expected '+', '-', or digit after exponent"
            };
            let Some(n) = self.digits(next, msg) else { return Tok::ParseError };
            c = n;
        }
        debug_assert!(!is_digit(c));
        self.unget();
        let text = std::str::from_utf8(&self.token_buffer).unwrap_or("0");
        match kind {
            Kind::Unsigned => {
                if let Ok(u) = text.parse::<u64>() {
                    return Tok::Unsigned(u);
                }
            }
            Kind::Integer => {
                if let Ok(i) = text.parse::<i64>() {
                    return Tok::Integer(i);
                }
            }
            Kind::Float => {}
        }
        Tok::Float(text.parse::<f64>().unwrap_or(f64::NAN))
    }

    /// A run of digits starting with `c`: they go into the token and the first character
    /// after them is returned (to be looked at, or put back). `None`, with `msg` as the
    /// error, when `c` is not a digit.
    fn digits(&mut self, mut c: i32, msg: &'static str) -> Option<i32> {
        if !is_digit(c) {
            self.error_message = msg;
            return None;
        }
        while is_digit(c) {
            self.token_buffer.push(c as u8);
            c = self.get();
        }
        Some(c)
    }
}

/// An ASCII digit (`c` is a byte, or `EOF`).
fn is_digit(c: i32) -> bool {
    (0x30..=0x39).contains(&c)
}

const CONTROL_MESSAGES: [&str; 32] = [
    "invalid string: control character U+0000 (NUL) must be escaped to \\u0000",
    "invalid string: control character U+0001 (SOH) must be escaped to \\u0001",
    "invalid string: control character U+0002 (STX) must be escaped to \\u0002",
    "invalid string: control character U+0003 (ETX) must be escaped to \\u0003",
    "invalid string: control character U+0004 (EOT) must be escaped to \\u0004",
    "invalid string: control character U+0005 (ENQ) must be escaped to \\u0005",
    "invalid string: control character U+0006 (ACK) must be escaped to \\u0006",
    "invalid string: control character U+0007 (BEL) must be escaped to \\u0007",
    "invalid string: control character U+0008 (BS) must be escaped to \\u0008 or \\b",
    "invalid string: control character U+0009 (HT) must be escaped to \\u0009 or \\t",
    "invalid string: control character U+000A (LF) must be escaped to \\u000A or \\n",
    "invalid string: control character U+000B (VT) must be escaped to \\u000B",
    "invalid string: control character U+000C (FF) must be escaped to \\u000C or \\f",
    "invalid string: control character U+000D (CR) must be escaped to \\u000D or \\r",
    "invalid string: control character U+000E (SO) must be escaped to \\u000E",
    "invalid string: control character U+000F (SI) must be escaped to \\u000F",
    "invalid string: control character U+0010 (DLE) must be escaped to \\u0010",
    "invalid string: control character U+0011 (DC1) must be escaped to \\u0011",
    "invalid string: control character U+0012 (DC2) must be escaped to \\u0012",
    "invalid string: control character U+0013 (DC3) must be escaped to \\u0013",
    "invalid string: control character U+0014 (DC4) must be escaped to \\u0014",
    "invalid string: control character U+0015 (NAK) must be escaped to \\u0015",
    "invalid string: control character U+0016 (SYN) must be escaped to \\u0016",
    "invalid string: control character U+0017 (ETB) must be escaped to \\u0017",
    "invalid string: control character U+0018 (CAN) must be escaped to \\u0018",
    "invalid string: control character U+0019 (EM) must be escaped to \\u0019",
    "invalid string: control character U+001A (SUB) must be escaped to \\u001A",
    "invalid string: control character U+001B (ESC) must be escaped to \\u001B",
    "invalid string: control character U+001C (FS) must be escaped to \\u001C",
    "invalid string: control character U+001D (GS) must be escaped to \\u001D",
    "invalid string: control character U+001E (RS) must be escaped to \\u001E",
    "invalid string: control character U+001F (US) must be escaped to \\u001F",
];

struct Parser<'a> {
    lx: Lexer<'a>,
    last: Tok,
    pos: Pos,
}

impl<'a> Parser<'a> {
    fn next(&mut self) -> Result<Tok> {
        self.last = self.lx.scan();
        Ok(self.last)
    }

    fn error(&self, msg: String) -> Box<EvalError> {
        EvalError::at(ErrorKind::Other, self.pos, msg)
    }

    fn syntax_error(&self, expected: Tok, context: &str) -> Box<EvalError> {
        let mut msg = String::from("syntax error ");
        if !context.is_empty() {
            msg.push_str(&format!("while parsing {} ", context));
        }
        msg.push_str("- ");
        if self.last == Tok::ParseError {
            msg.push_str(&format!("{}; last read: '{}'", self.lx.error_message, self.lx.token_string()));
        } else {
            msg.push_str(&format!("unexpected {}", tok_name(self.last)));
        }
        if expected != Tok::Uninitialized {
            msg.push_str(&format!("; expected {}", tok_name(expected)));
        }
        self.parse_error(&msg)
    }

    fn parse_error(&self, what: &str) -> Box<EvalError> {
        self.error(format!(
            "[json.exception.parse_error.101] parse error at line {}, column {}: {}",
            self.lx.lines_read + 1,
            self.lx.chars_read_current_line,
            what
        ))
    }

    fn string_value(&self) -> Result<NixString> {
        let b = &self.lx.token_buffer;
        if b.contains(&0) {
            return Err(self.error(null_byte_error(b)));
        }
        Ok(NixString::new(b.as_slice()))
    }

    /// A value starting at the current token (already scanned).
    fn value(&mut self) -> Result<Value> {
        match self.last {
            Tok::BeginObject => {
                let mut attrs: Vec<Attr> = Vec::new();
                if self.next()? == Tok::EndObject {
                    return Ok(Value::Attrs(Attrs::empty()));
                }
                loop {
                    if self.last != Tok::String {
                        return Err(self.syntax_error(Tok::String, "object key"));
                    }
                    let key = self.string_value()?;
                    if self.next()? != Tok::NameSeparator {
                        return Err(self.syntax_error(Tok::NameSeparator, "object separator"));
                    }
                    self.next()?;
                    let v = self.value()?;
                    attrs.push(Attr { name: Symbol::from_bytes(key.as_bytes()), pos: Pos::NONE, value: v });
                    match self.next()? {
                        Tok::ValueSeparator => {
                            self.next()?;
                        }
                        Tok::EndObject => break,
                        _ => return Err(self.syntax_error(Tok::EndObject, "object")),
                    }
                }
                // Later keys win.
                attrs.reverse();
                Ok(Value::Attrs(Attrs::from_vec(attrs)))
            }
            Tok::BeginArray => {
                let mut items = Vec::new();
                if self.next()? == Tok::EndArray {
                    return Ok(Value::list(items));
                }
                loop {
                    items.push(self.value()?);
                    match self.next()? {
                        Tok::ValueSeparator => {
                            self.next()?;
                        }
                        Tok::EndArray => break,
                        _ => return Err(self.syntax_error(Tok::EndArray, "array")),
                    }
                }
                Ok(Value::list(items))
            }
            Tok::Float(f) => {
                if !f.is_finite() {
                    return Err(self.error(format!(
                        "[json.exception.out_of_range.406] number overflow parsing '{}'",
                        self.lx.token_string()
                    )));
                }
                Ok(Value::Float(f))
            }
            Tok::False => Ok(Value::Bool(false)),
            Tok::True => Ok(Value::Bool(true)),
            Tok::Null => Ok(Value::Null),
            Tok::Integer(i) => Ok(Value::Int(i)),
            Tok::Unsigned(u) => {
                if u > i64::MAX as u64 {
                    return Err(self.error(format!("unsigned json number {} outside of Nix integer range", u)));
                }
                Ok(Value::Int(u as i64))
            }
            Tok::String => Ok(Value::String(self.string_value()?)),
            Tok::ParseError => Err(self.syntax_error(Tok::Uninitialized, "value")),
            Tok::EndOfInput if self.lx.chars_read_total == 1 => Err(self.parse_error(
                "attempting to parse an empty input; check that your input string or stream contains the expected JSON",
            )),
            _ => Err(self.syntax_error(Tok::LiteralOrValue, "value")),
        }
    }
}
