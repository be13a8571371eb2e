//! POSIX extended regular expressions with the exact behaviour of CppNix 2.8,
//! i.e. of libstdc++'s `std::regex(pattern, std::regex::extended)` (GCC 12)
//! as used by `builtins.match` (`std::regex_match`) and `builtins.split`
//! (`std::sregex_iterator`).
//!
//! Notable consequences of matching libstdc++ rather than textbook POSIX:
//! * submatches are *not* POSIX leftmost-longest: `match "(a|ab)(c|bcd)(d*)"
//!   "abcd"` is `["a" "bcd" ""]` (the first path in DFS order that reaches the
//!   longest overall end wins);
//! * a search may return a match that is not the longest at its start
//!   (`split "a*(ab)*" "aab"` matches `"aa"`), because a greedy repeat never
//!   tries to stop early once looping found any match;
//! * escaping an ordinary character (`\d`, `\w`, `\s`, `\]`, `\-`, ...) is an
//!   error (CppNix is built with `-std=c++17`, so `__STRICT_ANSI__`); only
//!   `\` followed by one of `.[\()*+?{|^$` is accepted;
//! * `[a-z-9]` is invalid, bracket ranges compare bytes as *signed* chars,
//!   character classes use the "C" locale, `.` matches anything but NUL;
//! * patterns needing more than 100000 NFA states fail with the "memory
//!   limit exceeded" error (e.g. `a{100000}`).
//!
//! Inputs are byte strings; UTF-8 sequences are just bytes.

mod compile;
mod exec;

#[cfg(test)]
mod tests;

pub use compile::ErrorKind;
use exec::{execute, with_scratch, Flags, Mode, Prog};
use std::fmt;

/// A pattern rejected by the compiler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegexError {
    pub kind: ErrorKind,
    pub pattern: Vec<u8>,
}

impl RegexError {
    /// True for the `error_space` case (too many NFA states), which CppNix
    /// reports as "memory limit exceeded by regular expression".
    pub fn is_space(&self) -> bool {
        self.kind == ErrorKind::Space
    }
}

impl fmt::Display for RegexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pat = String::from_utf8_lossy(&self.pattern);
        if self.is_space() {
            write!(f, "memory limit exceeded by regular expression '{}'", pat)
        } else {
            write!(f, "invalid regular expression '{}'", pat)
        }
    }
}

impl std::error::Error for RegexError {}

/// A compiled pattern.
pub struct Regex {
    prog: Prog,
}

impl fmt::Debug for Regex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Regex").field("groups", &self.group_count()).finish()
    }
}

/// Group spans: index 0 is group 1 (for `match_full`) or the whole match
/// (for `search`); `None` for groups that did not participate.
pub type Captures = Vec<Option<(usize, usize)>>;

impl Regex {
    /// Compiles like `std::regex(pattern, std::regex::extended)`.
    pub fn new(pattern: &[u8]) -> Result<Regex, RegexError> {
        match compile::compile(pattern) {
            Ok(nfa) => Ok(Regex { prog: Prog::new(&nfa) }),
            Err(kind) => Err(RegexError { kind, pattern: pattern.to_vec() }),
        }
    }

    /// Number of capture groups (not counting the whole match).
    pub fn group_count(&self) -> usize {
        self.prog.n_groups.saturating_sub(1)
    }

    /// `std::regex_match`: the whole of `s` must match. Returns the spans of
    /// groups `1..=n`, `None` for a group that did not participate.
    pub fn match_full(&self, s: &[u8]) -> Option<Captures> {
        if !self.prog.may_match_full(s) {
            return None;
        }
        let flags = Flags { prev_avail: false, not_null: false, continuous: false };
        with_scratch(|sc| execute(&self.prog, s, 0, Mode::Exact, &flags, 1, sc))
    }

    /// `std::regex_search` on `s[start..]` (positions are absolute; for
    /// `start > 0` the byte before `start` counts as available, so `^` only
    /// matches at 0). Returns group 0 (the whole match) followed by groups
    /// `1..=n`.
    #[cfg(test)]
    pub fn search(&self, s: &[u8], start: usize) -> Option<Captures> {
        self.search_flags(s, start, false, false)
    }

    fn search_flags(&self, s: &[u8], start: usize, not_null: bool, continuous: bool) -> Option<Captures> {
        if start > s.len() {
            return None;
        }
        let flags = Flags { prev_avail: start > 0, not_null, continuous };
        with_scratch(|sc| execute(&self.prog, s, start, Mode::Prefix, &flags, 0, sc))
    }

    /// All matches `std::sregex_iterator` yields over `s` (what
    /// `builtins.split` iterates over), each as from [`Regex::search`]:
    /// element 0 is the whole match. The text between matches is
    /// `s[prev_end..m[0].start]`, with `prev_end` starting at 0; the final
    /// suffix is `s[last_end..]`. Empty matches are handled like libstdc++:
    /// after an empty match at `p` it first tries a non-empty match anchored
    /// at `p`, then searches from `p + 1`; an empty match at the end stops.
    pub fn split_matches(&self, s: &[u8]) -> Vec<Captures> {
        let mut out: Vec<Captures> = Vec::new();
        let mut cur = self.search_flags(s, 0, false, false);
        while let Some(m) = cur {
            let (b, e) = m[0].unwrap_or((s.len(), s.len()));
            out.push(m);
            let mut start = e;
            if b == e {
                if start == s.len() {
                    break;
                }
                if let Some(m2) = self.search_flags(s, start, true, true) {
                    cur = Some(m2);
                    continue;
                }
                start += 1;
            }
            cur = self.search_flags(s, start, false, false);
        }
        out
    }

    /// `builtins.split` result shape: alternating non-matching byte strings
    /// and capture lists (`None` = group did not participate).
    #[cfg(test)]
    pub fn split<'s>(&self, s: &'s [u8]) -> Vec<SplitItem<'s>> {
        let matches = self.split_matches(s);
        let mut out = Vec::with_capacity(matches.len() * 2 + 1);
        let mut prev = 0;
        for m in &matches {
            let (b, e) = m[0].unwrap_or((s.len(), s.len()));
            out.push(SplitItem::Text(&s[prev..b]));
            out.push(SplitItem::Groups(m[1..].iter().map(|g| g.map(|(x, y)| &s[x..y])).collect()));
            prev = e;
        }
        out.push(SplitItem::Text(&s[prev..]));
        out
    }
}

/// Testing aid: memoise from the very first step of every match (the memo
/// is normally only switched on for inputs that cause a lot of backtracking).
#[cfg(test)]
pub fn set_memo_always(on: bool) {
    exec::MEMO_ALWAYS.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// One element of a `builtins.split` result.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg(test)]
pub enum SplitItem<'s> {
    Text(&'s [u8]),
    Groups(Vec<Option<&'s [u8]>>),
}
