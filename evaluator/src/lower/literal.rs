//! The text of string literals: escapes of `"..."` strings, and the escapes and indentation
//! stripping of `''...''` strings, as the reference's lexer and `stripIndentation` do them.
//!
//! Works on slices of the source and hands back borrowed pieces wherever the text is used as
//! written (most of it), so lowering a string costs about one allocation.

use crate::parse::has_byte;
use std::borrow::Cow;

/// A raw piece of a literal: source text between interpolations, or an interpolation.
pub(super) enum Raw<'s, E> {
    Text(&'s str),
    Expr(E),
}

/// A resolved piece: the text it stands for, or an interpolation.
pub(super) enum Piece<'s, E> {
    Text(Cow<'s, str>),
    Expr(E),
}

/// Resolve the pieces of a plain (`indented == false`) or indented string.
pub(super) fn resolve<'s, E>(indented: bool, raw: Vec<Raw<'s, E>>) -> Vec<Piece<'s, E>> {
    if indented {
        return indented_pieces(raw);
    }
    raw.into_iter()
        .map(|r| match r {
            Raw::Text(t) if t.bytes().any(|c| c == b'\\' || c == b'\r') => Piece::Text(Cow::Owned(unescape(t))),
            Raw::Text(t) => Piece::Text(Cow::Borrowed(t)),
            Raw::Expr(e) => Piece::Expr(e),
        })
        .collect()
}

/// The reference's `unescapeStr` for `"..."` strings: `\n \r \t`, any other escaped
/// character stands for itself, and CR or CR LF become LF.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\\' => match it.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some(c) => out.push(c),
                None => {}
            },
            '\r' => {
                out.push('\n');
                if it.peek() == Some(&'\n') {
                    it.next();
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// One token of an indented string as the reference's lexer cuts it: literal text, which
/// counts for indentation (`true`), or an escape such as a quoted dollar, two quotes, a
/// backslash escape, a lone `$` or `'` (`false`), or an interpolation.
enum IndTok<'s, E> {
    Text(&'s str, bool),
    Expr(E),
}

fn lex_indented<'s, E>(text: &'s str, out: &mut Vec<IndTok<'s, E>>) {
    let b = text.as_bytes();
    let n = b.len();
    let mut i = 0;
    let mut run = 0;
    let flush = |run: usize, i: usize, out: &mut Vec<IndTok<'s, E>>| {
        if i > run {
            out.push(IndTok::Text(&text[run..i], true));
        }
    };
    while i < n {
        // Bytes other than `'` and `$` are plain text: skipped eight at a time.
        while let Some(chunk) = b.get(i..i + 8) {
            let w = u64::from_le_bytes(chunk.try_into().unwrap_or([b'$'; 8]));
            if has_byte(w, b'\'') || has_byte(w, b'$') {
                break;
            }
            i += 8;
        }
        if i >= n {
            break;
        }
        if b[i] == b'\'' && i + 1 < n && b[i + 1] == b'\'' {
            let esc: Option<(&'s str, usize)> = match b.get(i + 2) {
                Some(b'$') => Some(("$", 3)),
                Some(b'\'') => Some(("''", 3)),
                Some(b'\\') => Some(match text[i + 3..].chars().next() {
                    Some('n') => ("\n", 4),
                    Some('r') => ("\r", 4),
                    Some('t') => ("\t", 4),
                    Some(c) => (&text[i + 3..i + 3 + c.len_utf8()], 3 + c.len_utf8()),
                    None => ("\\", n - i),
                }),
                _ => None,
            };
            match esc {
                Some((s, len)) => {
                    flush(run, i, out);
                    out.push(IndTok::Text(s, false));
                    i += len;
                    run = i;
                }
                None => i += 2,
            }
            continue;
        }
        if (b[i] == b'\'' && (i + 1 == n || b[i + 1] == b'$')) || (b[i] == b'$' && (i + 1 == n || b[i + 1] == b'\'')) {
            flush(run, i, out);
            out.push(IndTok::Text(if b[i] == b'$' { "$" } else { "'" }, false));
            i += 1;
            run = i;
            continue;
        }
        i += 1;
    }
    flush(run, n, out);
}

/// Indented strings: cut into the reference's tokens, then its `stripIndentation`.
fn indented_pieces<'s, E>(raw: Vec<Raw<'s, E>>) -> Vec<Piece<'s, E>> {
    let mut toks: Vec<IndTok<'s, E>> = Vec::new();
    for (k, r) in raw.into_iter().enumerate() {
        match r {
            Raw::Text(mut t) => {
                if k == 0 {
                    // The opening quotes swallow trailing spaces and one newline.
                    let sp = t.bytes().take_while(|&c| c == b' ').count();
                    if t.as_bytes().get(sp) == Some(&b'\n') {
                        t = &t[sp + 1..];
                    }
                }
                lex_indented(t, &mut toks);
            }
            Raw::Expr(e) => toks.push(IndTok::Expr(e)),
        }
    }
    // The minimum indentation over lines with content.
    let mut at_start = true;
    let mut min_indent = 1_000_000usize;
    let mut cur = 0usize;
    for t in &toks {
        match t {
            IndTok::Text(s, true) => {
                for c in s.bytes() {
                    if at_start {
                        if c == b' ' {
                            cur += 1;
                        } else if c == b'\n' {
                            cur = 0;
                        } else {
                            at_start = false;
                            min_indent = min_indent.min(cur);
                        }
                    } else if c == b'\n' {
                        at_start = true;
                        cur = 0;
                    }
                }
            }
            _ => {
                if at_start {
                    at_start = false;
                    min_indent = min_indent.min(cur);
                }
            }
        }
    }
    // Strip that many spaces from each line: the kept bytes of a token are slices of it.
    let mut out: Vec<Piece<'s, E>> = Vec::with_capacity(toks.len());
    let mut at_start = true;
    let mut dropped = 0usize;
    let n = toks.len();
    let mut kept: Vec<&'s str> = Vec::new();
    for (k, t) in toks.into_iter().enumerate() {
        let s = match t {
            IndTok::Expr(e) => {
                at_start = false;
                dropped = 0;
                out.push(Piece::Expr(e));
                continue;
            }
            IndTok::Text(s, _) => s,
        };
        kept.clear();
        let mut seg = 0;
        for (idx, c) in s.bytes().enumerate() {
            if at_start {
                if c == b' ' {
                    if dropped < min_indent {
                        if idx > seg {
                            kept.push(&s[seg..idx]);
                        }
                        seg = idx + 1;
                    }
                    dropped += 1;
                } else if c == b'\n' {
                    dropped = 0;
                } else {
                    at_start = false;
                    dropped = 0;
                }
            } else if c == b'\n' {
                at_start = true;
            }
        }
        if s.len() > seg {
            kept.push(&s[seg..]);
        }
        if k + 1 == n {
            // The last line is dropped when it is only spaces.
            let mut last: String = kept.concat();
            if let Some(p) = last.rfind('\n') {
                if last[p + 1..].bytes().all(|c| c == b' ') {
                    last.truncate(p + 1);
                }
            }
            out.push(Piece::Text(Cow::Owned(last)));
        } else {
            out.extend(kept.iter().map(|k| Piece::Text(Cow::Borrowed(*k))));
        }
    }
    out
}
