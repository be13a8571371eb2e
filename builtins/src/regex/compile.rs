//! Pattern compiler: a faithful port of libstdc++'s (GCC 12) `std::regex`
//! scanner and compiler for the `std::regex::extended` grammar, as compiled
//! into CppNix with `-std=c++17` (i.e. `__STRICT_ANSI__`: escaping an
//! ordinary character is an error).
//!
//! The NFA is built exactly the way `_Compiler` builds it (same states, same
//! insertion order, same `_M_clone` behaviour), so that both the shape the
//! executor walks and the `_GLIBCXX_REGEX_STATE_LIMIT` accounting match the
//! reference. The parser is iterative: deeply nested groups cannot overflow
//! the native stack.

use std::collections::{BTreeMap, HashMap};

/// libstdc++'s `_GLIBCXX_REGEX_STATE_LIMIT`.
const STATE_LIMIT: usize = 100_000;

/// Why a pattern was rejected (mirrors `std::regex_constants::error_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// `error_collate`: bad collating element / class name.
    Collate,
    /// `error_ctype`: bad `[:class:]` syntax.
    Ctype,
    /// `error_escape`: trailing or invalid backslash escape.
    Escape,
    /// `error_brack`: unbalanced `[`.
    Brack,
    /// `error_paren`: unbalanced parentheses or unexpected token.
    Paren,
    /// `error_brace`: unbalanced `{`.
    Brace,
    /// `error_badbrace`: invalid contents of `{...}`.
    BadBrace,
    /// `error_range`: invalid range in a bracket expression.
    Range,
    /// `error_space`: the NFA would exceed the state limit.
    Space,
    /// NUL byte in the pattern (libstdc++ `_S_null`).
    Null,
}

type R<T> = Result<T, ErrorKind>;

const INVALID: i32 = -1;

/// One NFA state as libstdc++ stores it (before dummy elimination).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NOp {
    Dummy,
    Accept,
    /// `_M_alt` is tried first (left alternative), then `_M_next`.
    Alt,
    /// Greedy repeat: `_M_alt` = "once more", `_M_next` = "exit".
    Repeat,
    SubBegin(u32),
    SubEnd(u32),
    LineBegin,
    LineEnd,
    /// Matches one byte: index into `Nfa::sets`.
    Match(u32),
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct NState {
    pub op: NOp,
    pub next: i32,
    pub alt: i32,
}

impl NState {
    fn new(op: NOp) -> NState {
        NState { op, next: INVALID, alt: INVALID }
    }
    fn has_alt(&self) -> bool {
        matches!(self.op, NOp::Alt | NOp::Repeat)
    }
}

/// A 256-bit byte set.
pub(crate) type ByteSet = [u64; 4];

#[inline]
pub(crate) fn set_has(set: &ByteSet, b: u8) -> bool {
    (set[(b >> 6) as usize] >> (b & 63)) & 1 != 0
}

fn set_add(set: &mut ByteSet, b: u8) {
    set[(b >> 6) as usize] |= 1u64 << (b & 63);
}

pub(crate) struct Nfa {
    pub states: Vec<NState>,
    /// Byte sets referenced by `NOp::Match` (deduplicated).
    pub sets: Vec<ByteSet>,
    /// Number of sub-expressions including the implicit group 0.
    pub sub_count: u32,
}

#[derive(Clone, Copy)]
struct Seq {
    start: i32,
    end: i32,
}

// ---------------------------------------------------------------------------
// Scanner (port of `_Scanner<char>` for the extended grammar)
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tok {
    OrdChar,
    AnyChar,
    LineBegin,
    LineEnd,
    Or,
    Closure0,
    Closure1,
    Opt,
    SubBegin,
    SubEnd,
    BracketBegin,
    BracketNegBegin,
    BracketEnd,
    BracketDash,
    IntervalBegin,
    IntervalEnd,
    Comma,
    DupCount,
    CollSymbol,
    CharClassName,
    EquivClassName,
    Eof,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ScanState {
    Normal,
    InBracket,
    InBrace,
}

/// `_M_extended_spec_char`.
const SPEC: &[u8] = b".[\\()*+?{|^$";

fn is_spec(c: u8) -> bool {
    // strchr() also finds the terminating NUL.
    c == 0 || SPEC.contains(&c)
}

struct Scanner<'a> {
    p: &'a [u8],
    cur: usize,
    state: ScanState,
    token: Tok,
    value: Vec<u8>,
    at_bracket_start: bool,
}

impl<'a> Scanner<'a> {
    fn new(p: &'a [u8]) -> R<Scanner<'a>> {
        let mut s = Scanner {
            p,
            cur: 0,
            state: ScanState::Normal,
            token: Tok::Eof,
            value: Vec::new(),
            at_bracket_start: false,
        };
        s.advance()?;
        Ok(s)
    }

    fn set_char(&mut self, c: u8) {
        self.token = Tok::OrdChar;
        self.value.clear();
        self.value.push(c);
    }

    fn advance(&mut self) -> R<()> {
        if self.cur == self.p.len() {
            self.token = Tok::Eof;
            return Ok(());
        }
        match self.state {
            ScanState::Normal => self.scan_normal(),
            ScanState::InBracket => self.scan_in_bracket(),
            ScanState::InBrace => self.scan_in_brace(),
        }
    }

    fn scan_normal(&mut self) -> R<()> {
        let c = self.p[self.cur];
        self.cur += 1;
        if !is_spec(c) {
            self.set_char(c);
            return Ok(());
        }
        match c {
            b'\\' => {
                if self.cur == self.p.len() {
                    return Err(ErrorKind::Escape);
                }
                // _M_eat_escape_posix
                let c2 = self.p[self.cur];
                if c2 != 0 && SPEC.contains(&c2) {
                    self.set_char(c2);
                } else {
                    // __STRICT_ANSI__: escaping an ordinary character is an error.
                    return Err(ErrorKind::Escape);
                }
                self.cur += 1;
            }
            b'(' => self.token = Tok::SubBegin,
            b')' => self.token = Tok::SubEnd,
            b'[' => {
                self.state = ScanState::InBracket;
                self.at_bracket_start = true;
                if self.cur < self.p.len() && self.p[self.cur] == b'^' {
                    self.token = Tok::BracketNegBegin;
                    self.cur += 1;
                } else {
                    self.token = Tok::BracketBegin;
                }
            }
            b'{' => {
                self.state = ScanState::InBrace;
                self.token = Tok::IntervalBegin;
            }
            0 => return Err(ErrorKind::Null),
            b'^' => self.token = Tok::LineBegin,
            b'$' => self.token = Tok::LineEnd,
            b'.' => self.token = Tok::AnyChar,
            b'*' => self.token = Tok::Closure0,
            b'+' => self.token = Tok::Closure1,
            b'?' => self.token = Tok::Opt,
            b'|' => self.token = Tok::Or,
            _ => unreachable!("all special characters handled"),
        }
        Ok(())
    }

    fn scan_in_bracket(&mut self) -> R<()> {
        let c = self.p[self.cur];
        self.cur += 1;
        if c == b'-' {
            self.token = Tok::BracketDash;
        } else if c == b'[' {
            if self.cur == self.p.len() {
                return Err(ErrorKind::Brack);
            }
            let n = self.p[self.cur];
            match n {
                b'.' | b':' | b'=' => {
                    self.cur += 1;
                    self.token = match n {
                        b'.' => Tok::CollSymbol,
                        b':' => Tok::CharClassName,
                        _ => Tok::EquivClassName,
                    };
                    self.eat_class(n)?;
                }
                _ => self.set_char(c),
            }
        } else if c == b']' && !self.at_bracket_start {
            self.token = Tok::BracketEnd;
            self.state = ScanState::Normal;
        } else {
            self.set_char(c);
        }
        self.at_bracket_start = false;
        Ok(())
    }

    fn scan_in_brace(&mut self) -> R<()> {
        let c = self.p[self.cur];
        self.cur += 1;
        if c.is_ascii_digit() {
            self.token = Tok::DupCount;
            self.value.clear();
            self.value.push(c);
            while self.cur < self.p.len() && self.p[self.cur].is_ascii_digit() {
                self.value.push(self.p[self.cur]);
                self.cur += 1;
            }
        } else if c == b',' {
            self.token = Tok::Comma;
        } else if c == b'}' {
            self.state = ScanState::Normal;
            self.token = Tok::IntervalEnd;
        } else {
            return Err(ErrorKind::BadBrace);
        }
        Ok(())
    }

    fn eat_class(&mut self, ch: u8) -> R<()> {
        self.value.clear();
        while self.cur < self.p.len() && self.p[self.cur] != ch {
            self.value.push(self.p[self.cur]);
            self.cur += 1;
        }
        let err = if ch == b':' { ErrorKind::Ctype } else { ErrorKind::Collate };
        if self.cur == self.p.len() {
            return Err(err);
        }
        self.cur += 1; // skip ch
        if self.cur == self.p.len() {
            return Err(err);
        }
        let c = self.p[self.cur];
        self.cur += 1;
        if c != b']' {
            return Err(err);
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// C-locale character classification (what libstdc++ sees: classic "C" ctype)
// ---------------------------------------------------------------------------

const C_ALNUM: u16 = 1 << 0;
const C_ALPHA: u16 = 1 << 1;
const C_BLANK: u16 = 1 << 2;
const C_CNTRL: u16 = 1 << 3;
const C_DIGIT: u16 = 1 << 4;
const C_GRAPH: u16 = 1 << 5;
const C_LOWER: u16 = 1 << 6;
const C_PRINT: u16 = 1 << 7;
const C_PUNCT: u16 = 1 << 8;
const C_SPACE: u16 = 1 << 9;
const C_UPPER: u16 = 1 << 10;
const C_XDIGIT: u16 = 1 << 11;
/// `_RegexMask::_S_under` ([[:w:]] also matches '_').
const C_UNDER: u16 = 1 << 12;

fn ctype_mask(b: u8) -> u16 {
    let mut m = 0;
    if b.is_ascii_alphanumeric() {
        m |= C_ALNUM;
    }
    if b.is_ascii_alphabetic() {
        m |= C_ALPHA;
    }
    if b == b' ' || b == b'\t' {
        m |= C_BLANK;
    }
    if b < 32 || b == 127 {
        m |= C_CNTRL;
    }
    if b.is_ascii_digit() {
        m |= C_DIGIT;
    }
    if (33..=126).contains(&b) {
        m |= C_GRAPH;
    }
    if b.is_ascii_lowercase() {
        m |= C_LOWER;
    }
    if (32..=126).contains(&b) {
        m |= C_PRINT;
    }
    if b.is_ascii_punctuation() {
        m |= C_PUNCT;
    }
    if matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        m |= C_SPACE;
    }
    if b.is_ascii_uppercase() {
        m |= C_UPPER;
    }
    if b.is_ascii_hexdigit() {
        m |= C_XDIGIT;
    }
    m
}

fn isctype(b: u8, class: u16) -> bool {
    (ctype_mask(b) & class & !C_UNDER) != 0 || (class & C_UNDER != 0 && b == b'_')
}

/// `regex_traits::lookup_classname` (names are lower-cased first).
fn lookup_classname(name: &[u8]) -> u16 {
    let lower: Vec<u8> = name.iter().map(|c| c.to_ascii_lowercase()).collect();
    match &lower[..] {
        b"d" => C_DIGIT,
        b"w" => C_ALNUM | C_UNDER,
        b"s" => C_SPACE,
        b"alnum" => C_ALNUM,
        b"alpha" => C_ALPHA,
        b"blank" => C_BLANK,
        b"cntrl" => C_CNTRL,
        b"digit" => C_DIGIT,
        b"graph" => C_GRAPH,
        b"lower" => C_LOWER,
        b"print" => C_PRINT,
        b"punct" => C_PUNCT,
        b"space" => C_SPACE,
        b"upper" => C_UPPER,
        b"xdigit" => C_XDIGIT,
        _ => 0,
    }
}

const COLLATE_NAMES: [&str; 128] = [
    "NUL",
    "SOH",
    "STX",
    "ETX",
    "EOT",
    "ENQ",
    "ACK",
    "alert",
    "backspace",
    "tab",
    "newline",
    "vertical-tab",
    "form-feed",
    "carriage-return",
    "SO",
    "SI",
    "DLE",
    "DC1",
    "DC2",
    "DC3",
    "DC4",
    "NAK",
    "SYN",
    "ETB",
    "CAN",
    "EM",
    "SUB",
    "ESC",
    "IS4",
    "IS3",
    "IS2",
    "IS1",
    "space",
    "exclamation-mark",
    "quotation-mark",
    "number-sign",
    "dollar-sign",
    "percent-sign",
    "ampersand",
    "apostrophe",
    "left-parenthesis",
    "right-parenthesis",
    "asterisk",
    "plus-sign",
    "comma",
    "hyphen",
    "period",
    "slash",
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "colon",
    "semicolon",
    "less-than-sign",
    "equals-sign",
    "greater-than-sign",
    "question-mark",
    "commercial-at",
    "A",
    "B",
    "C",
    "D",
    "E",
    "F",
    "G",
    "H",
    "I",
    "J",
    "K",
    "L",
    "M",
    "N",
    "O",
    "P",
    "Q",
    "R",
    "S",
    "T",
    "U",
    "V",
    "W",
    "X",
    "Y",
    "Z",
    "left-square-bracket",
    "backslash",
    "right-square-bracket",
    "circumflex",
    "underscore",
    "grave-accent",
    "a",
    "b",
    "c",
    "d",
    "e",
    "f",
    "g",
    "h",
    "i",
    "j",
    "k",
    "l",
    "m",
    "n",
    "o",
    "p",
    "q",
    "r",
    "s",
    "t",
    "u",
    "v",
    "w",
    "x",
    "y",
    "z",
    "left-curly-bracket",
    "vertical-line",
    "right-curly-bracket",
    "tilde",
    "DEL",
];

/// `regex_traits::lookup_collatename`: the character named, if any.
fn lookup_collatename(name: &[u8]) -> Option<u8> {
    COLLATE_NAMES.iter().position(|n| n.as_bytes() == name).map(|i| i as u8)
}

/// `_BracketMatcher` under construction.
struct Bracket {
    chars: Vec<u8>,
    ranges: Vec<(i8, i8)>,
    class_set: u16,
    /// Lower-cased characters of `[[=x=]]` equivalence classes.
    equiv: Vec<u8>,
    negated: bool,
}

impl Bracket {
    fn make_range(&mut self, l: u8, r: u8) -> R<()> {
        // `char` is signed on the reference platform.
        if (l as i8) > (r as i8) {
            return Err(ErrorKind::Range);
        }
        self.ranges.push((l as i8, r as i8));
        Ok(())
    }

    fn to_set(&self) -> ByteSet {
        let mut set = [0u64; 4];
        for b in 0..=255u8 {
            let c = b as i8;
            let hit = self.chars.contains(&b)
                || self.ranges.iter().any(|&(l, r)| l <= c && c <= r)
                || (self.class_set != 0 && isctype(b, self.class_set))
                || self.equiv.contains(&b.to_ascii_lowercase());
            if hit != self.negated {
                set_add(&mut set, b);
            }
        }
        set
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    None,
    Char(u8),
    Class,
}

// ---------------------------------------------------------------------------
// Compiler (port of `_Compiler`)
// ---------------------------------------------------------------------------

struct Compiler<'a> {
    sc: Scanner<'a>,
    value: Vec<u8>,
    states: Vec<NState>,
    sets: Vec<ByteSet>,
    set_ids: HashMap<ByteSet, u32>,
    sub_count: u32,
    paren_stack: Vec<u32>,
}

/// One open `(`...`)` (or the whole pattern) while parsing.
struct Frame {
    /// The `subexpr_begin` state of the group; `None` for the top level.
    group: Option<i32>,
    /// Disjunction accumulated so far (alternatives before the last `|`).
    disj: Option<Seq>,
    /// Terms of the alternative being parsed.
    terms: Vec<Seq>,
}

impl<'a> Compiler<'a> {
    fn match_token(&mut self, t: Tok) -> R<bool> {
        if self.sc.token == t {
            std::mem::swap(&mut self.value, &mut self.sc.value);
            self.sc.value.clear();
            self.sc.advance()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn insert(&mut self, s: NState) -> R<i32> {
        self.states.push(s);
        if self.states.len() > STATE_LIMIT {
            return Err(ErrorKind::Space);
        }
        Ok(self.states.len() as i32 - 1)
    }

    fn insert_op(&mut self, op: NOp) -> R<i32> {
        self.insert(NState::new(op))
    }

    fn insert_set(&mut self, set: ByteSet) -> R<i32> {
        let next = self.sets.len() as u32;
        let idx = *self.set_ids.entry(set).or_insert(next);
        if idx == next {
            self.sets.push(set);
        }
        self.insert_op(NOp::Match(idx))
    }

    fn insert_repeat(&mut self, next: i32, alt: i32) -> R<i32> {
        self.insert(NState { op: NOp::Repeat, next, alt })
    }

    fn append(&mut self, seq: &mut Seq, id: i32) {
        self.states[seq.end as usize].next = id;
        seq.end = id;
    }

    fn append_seq(&mut self, seq: &mut Seq, other: Seq) {
        self.states[seq.end as usize].next = other.start;
        seq.end = other.end;
    }

    /// `_StateSeq::_M_clone`, including its exact state-insertion behaviour.
    fn clone_seq(&mut self, seq: Seq) -> R<Seq> {
        let mut m: BTreeMap<i32, i32> = BTreeMap::new();
        let mut stack = vec![seq.start];
        while let Some(u) = stack.pop() {
            let dup = self.states[u as usize];
            let id = self.insert(dup)?;
            m.insert(u, id);
            if dup.has_alt() && dup.alt != INVALID && !m.contains_key(&dup.alt) {
                stack.push(dup.alt);
            }
            if u == seq.end {
                continue;
            }
            if dup.next != INVALID && !m.contains_key(&dup.next) {
                stack.push(dup.next);
            }
        }
        for (_, &v) in m.iter() {
            let st = self.states[v as usize];
            let mut next = st.next;
            if next != INVALID {
                next = m.get(&next).copied().unwrap_or(INVALID);
            }
            let mut alt = st.alt;
            if st.has_alt() && alt != INVALID {
                alt = m.get(&alt).copied().unwrap_or(INVALID);
            }
            let s = &mut self.states[v as usize];
            s.next = next;
            s.alt = alt;
        }
        let start = m.get(&seq.start).copied().unwrap_or(seq.start);
        let end = m.get(&seq.end).copied().unwrap_or(start);
        Ok(Seq { start, end })
    }

    /// `_M_cur_int_value(10)`: `long` accumulation, truncated to `int`.
    fn cur_int_value(&self) -> i64 {
        let mut v: i64 = 0;
        for &c in &self.value {
            v = v.wrapping_mul(10).wrapping_add((c - b'0') as i64);
        }
        v as i32 as i64
    }

    /// `_M_quantifier`: applies one quantifier to `e`, if the current
    /// token is one.
    fn quantifier(&mut self, e: Seq) -> R<Option<Seq>> {
        if self.match_token(Tok::Closure0)? {
            let r = self.insert_repeat(INVALID, e.start)?;
            let mut e = e;
            self.append(&mut e, r);
            Ok(Some(Seq { start: r, end: r }))
        } else if self.match_token(Tok::Closure1)? {
            let r = self.insert_repeat(INVALID, e.start)?;
            let mut e = e;
            self.append(&mut e, r);
            Ok(Some(e))
        } else if self.match_token(Tok::Opt)? {
            let end = self.insert_op(NOp::Dummy)?;
            let r = self.insert_repeat(INVALID, e.start)?;
            let mut e = e;
            self.append(&mut e, end);
            let mut rs = Seq { start: r, end: r };
            self.append(&mut rs, end);
            Ok(Some(rs))
        } else if self.match_token(Tok::IntervalBegin)? {
            if !self.match_token(Tok::DupCount)? {
                return Err(ErrorKind::BadBrace);
            }
            let r = e;
            let d = self.insert_op(NOp::Dummy)?;
            let mut e = Seq { start: d, end: d };
            let min_rep = self.cur_int_value();
            let mut infi = false;
            let mut n: i64 = 0;
            if self.match_token(Tok::Comma)? {
                if self.match_token(Tok::DupCount)? {
                    n = self.cur_int_value() - min_rep;
                } else {
                    infi = true;
                }
            }
            if !self.match_token(Tok::IntervalEnd)? {
                return Err(ErrorKind::Brace);
            }
            let mut i = 0;
            while i < min_rep {
                let c = self.clone_seq(r)?;
                self.append_seq(&mut e, c);
                i += 1;
            }
            if infi {
                let mut tmp = self.clone_seq(r)?;
                let s = self.insert_repeat(INVALID, tmp.start)?;
                self.append(&mut tmp, s);
                self.append(&mut e, s);
            } else {
                if n < 0 {
                    return Err(ErrorKind::BadBrace);
                }
                let end = self.insert_op(NOp::Dummy)?;
                let mut stack = Vec::new();
                let mut i = 0;
                while i < n {
                    let tmp = self.clone_seq(r)?;
                    let alt = self.insert_repeat(tmp.start, end)?;
                    stack.push(alt);
                    self.append_seq(&mut e, Seq { start: alt, end: tmp.end });
                    i += 1;
                }
                self.append(&mut e, end);
                for a in stack {
                    let s = &mut self.states[a as usize];
                    std::mem::swap(&mut s.next, &mut s.alt);
                }
            }
            Ok(Some(e))
        } else {
            Ok(None)
        }
    }

    fn try_char(&mut self) -> R<bool> {
        self.match_token(Tok::OrdChar)
    }

    /// `_M_insert_bracket_matcher` (the opening token is already consumed).
    fn bracket(&mut self, negated: bool) -> R<i32> {
        let mut m = Bracket { chars: Vec::new(), ranges: Vec::new(), class_set: 0, equiv: Vec::new(), negated };
        let mut last = Last::None;
        if self.try_char()? {
            last = Last::Char(self.value[0]);
        } else if self.match_token(Tok::BracketDash)? {
            last = Last::Char(b'-');
        }
        // _M_expression_term loop
        loop {
            if self.match_token(Tok::BracketEnd)? {
                break;
            }
            macro_rules! push_char {
                ($c:expr) => {{
                    if let Last::Char(p) = last {
                        m.chars.push(p);
                    }
                    last = Last::Char($c);
                }};
            }
            macro_rules! push_class {
                () => {{
                    if let Last::Char(p) = last {
                        m.chars.push(p);
                    }
                    last = Last::Class;
                }};
            }
            if self.match_token(Tok::CollSymbol)? {
                let c = lookup_collatename(&self.value).ok_or(ErrorKind::Collate)?;
                m.chars.push(c);
                push_char!(c);
            } else if self.match_token(Tok::EquivClassName)? {
                push_class!();
                let c = lookup_collatename(&self.value).ok_or(ErrorKind::Collate)?;
                m.equiv.push(c.to_ascii_lowercase());
            } else if self.match_token(Tok::CharClassName)? {
                push_class!();
                let mask = lookup_classname(&self.value);
                if mask == 0 {
                    return Err(ErrorKind::Collate);
                }
                m.class_set |= mask;
            } else if self.try_char()? {
                push_char!(self.value[0]);
            } else if self.match_token(Tok::BracketDash)? {
                if self.match_token(Tok::BracketEnd)? {
                    push_char!(b'-');
                    break;
                } else if last == Last::Class {
                    return Err(ErrorKind::Range);
                } else if let Last::Char(l) = last {
                    if self.try_char()? {
                        m.make_range(l, self.value[0])?;
                        last = Last::None;
                    } else if self.match_token(Tok::BracketDash)? {
                        m.make_range(l, b'-')?;
                        last = Last::None;
                    } else {
                        return Err(ErrorKind::Range);
                    }
                } else {
                    return Err(ErrorKind::Range);
                }
            } else {
                return Err(ErrorKind::Brack);
            }
        }
        if let Last::Char(c) = last {
            m.chars.push(c);
        }
        self.insert_set(m.to_set())
    }

    /// Links the terms of a finished alternative (`_M_alternative`).
    fn finish_alternative(&mut self, terms: &mut Vec<Seq>) -> R<Seq> {
        let d = self.insert_op(NOp::Dummy)?;
        let mut tail = Seq { start: d, end: d };
        while let Some(mut t) = terms.pop() {
            self.append_seq(&mut t, tail);
            tail = t;
        }
        Ok(tail)
    }

    fn compile(&mut self) -> R<()> {
        // _Compiler::_Compiler
        let s0 = self.insert_subexpr_begin()?;
        debug_assert_eq!(s0, 0);
        let mut top = Seq { start: s0, end: s0 };
        let mut stack: Vec<Frame> = vec![Frame { group: None, disj: None, terms: Vec::new() }];
        loop {
            // --- _M_term ---
            if self.match_token(Tok::LineBegin)? {
                let id = self.insert_op(NOp::LineBegin)?;
                stack.last_mut().unwrap().terms.push(Seq { start: id, end: id });
                continue;
            }
            if self.match_token(Tok::LineEnd)? {
                let id = self.insert_op(NOp::LineEnd)?;
                stack.last_mut().unwrap().terms.push(Seq { start: id, end: id });
                continue;
            }
            // --- _M_atom ---
            let atom: Seq;
            if self.match_token(Tok::AnyChar)? {
                let mut set = [!0u64; 4];
                set[0] &= !1; // POSIX '.' matches anything but NUL
                let id = self.insert_set(set)?;
                atom = Seq { start: id, end: id };
            } else if self.try_char()? {
                let mut set = [0u64; 4];
                set_add(&mut set, self.value[0]);
                let id = self.insert_set(set)?;
                atom = Seq { start: id, end: id };
            } else if self.match_token(Tok::SubBegin)? {
                let b = self.insert_subexpr_begin()?;
                stack.push(Frame { group: Some(b), disj: None, terms: Vec::new() });
                continue;
            } else if self.match_token(Tok::BracketNegBegin)? {
                let id = self.bracket(true)?;
                atom = Seq { start: id, end: id };
            } else if self.match_token(Tok::BracketBegin)? {
                let id = self.bracket(false)?;
                atom = Seq { start: id, end: id };
            } else {
                // No term: the alternative ends here.
                let mut terms = std::mem::take(&mut stack.last_mut().unwrap().terms);
                let alt = self.finish_alternative(&mut terms)?;
                let prev = stack.last_mut().unwrap().disj.take();
                let disj = match prev {
                    None => alt,
                    Some(mut alt1) => {
                        let mut alt2 = alt;
                        let end = self.insert_op(NOp::Dummy)?;
                        self.append(&mut alt1, end);
                        self.append(&mut alt2, end);
                        let a = self.insert(NState { op: NOp::Alt, next: alt2.start, alt: alt1.start })?;
                        Seq { start: a, end }
                    }
                };
                stack.last_mut().unwrap().disj = Some(disj);
                if self.match_token(Tok::Or)? {
                    continue;
                }
                let frame = stack.pop().unwrap();
                let disj = frame.disj.unwrap();
                match frame.group {
                    None => {
                        if !self.match_token(Tok::Eof)? {
                            return Err(ErrorKind::Paren);
                        }
                        self.append_seq(&mut top, disj);
                        let e = self.insert_subexpr_end()?;
                        self.append(&mut top, e);
                        let a = self.insert_op(NOp::Accept)?;
                        self.append(&mut top, a);
                        return Ok(());
                    }
                    Some(b) => {
                        if !self.match_token(Tok::SubEnd)? {
                            return Err(ErrorKind::Paren);
                        }
                        let mut r = Seq { start: b, end: b };
                        self.append_seq(&mut r, disj);
                        let e = self.insert_subexpr_end()?;
                        self.append(&mut r, e);
                        atom = r;
                    }
                }
            }
            // --- quantifiers ---
            let mut a = atom;
            while let Some(q) = self.quantifier(a)? {
                a = q;
            }
            stack.last_mut().unwrap().terms.push(a);
        }
    }

    fn insert_subexpr_begin(&mut self) -> R<i32> {
        let id = self.sub_count;
        self.sub_count += 1;
        self.paren_stack.push(id);
        self.insert_op(NOp::SubBegin(id))
    }

    fn insert_subexpr_end(&mut self) -> R<i32> {
        let id = self.paren_stack.pop().unwrap_or(0);
        self.insert_op(NOp::SubEnd(id))
    }

    /// `_NFA::_M_eliminate_dummy`.
    fn eliminate_dummy(&mut self) {
        let n = self.states.len();
        for i in 0..n {
            let mut guard = 0;
            while self.states[i].next >= 0 && self.states[self.states[i].next as usize].op == NOp::Dummy && guard <= n {
                self.states[i].next = self.states[self.states[i].next as usize].next;
                guard += 1;
            }
            if self.states[i].has_alt() {
                let mut guard = 0;
                while self.states[i].alt >= 0 && self.states[self.states[i].alt as usize].op == NOp::Dummy && guard <= n
                {
                    self.states[i].alt = self.states[self.states[i].alt as usize].next;
                    guard += 1;
                }
            }
        }
    }
}

/// Compiles `pattern` like `std::regex(pattern, std::regex::extended)`.
pub(crate) fn compile(pattern: &[u8]) -> Result<Nfa, ErrorKind> {
    let sc = Scanner::new(pattern)?;
    let mut c = Compiler {
        sc,
        value: Vec::new(),
        states: Vec::new(),
        sets: Vec::new(),
        set_ids: HashMap::new(),
        sub_count: 0,
        paren_stack: Vec::new(),
    };
    c.compile()?;
    c.eliminate_dummy();
    Ok(Nfa { states: c.states, sets: c.sets, sub_count: c.sub_count })
}
