//! Strings, indented strings and path literals: escapes, indentation stripping, anchoring.

use super::{LResult, Lowerer};
use crate::ast::{Expr, ExprRef};
use crate::parse::syntax::{Part, PathKind, Str};
use crate::source::Pos;
use crate::symbol::sym;
use crate::value::Value;

/// Nix's `canonPath`: absolute, no `.`/`..` components, no repeated or trailing slashes.
pub fn canon_path(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let mut out = String::with_capacity(p.len());
    for c in &parts {
        out.push('/');
        out.push_str(c);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// The value of a string literal without interpolation (for static attribute names).
pub(super) fn literal_text(s: &Str) -> Option<String> {
    let mut raw: Vec<Raw> = Vec::with_capacity(s.parts.len());
    for p in s.parts {
        match p {
            Part::Text(t) => raw.push(Raw::Text(t.to_string())),
            Part::Interp(_) => return None,
        }
    }
    let pieces = if s.indented { indented_pieces(raw) } else { plain_pieces(raw) };
    let mut out = String::new();
    for p in pieces {
        if let Raw::Text(t) = p {
            out.push_str(&t);
        }
    }
    Some(out)
}

impl<'a> Lowerer<'a> {
    pub(super) fn string(&mut self, s: &Str, pos: Pos) -> LResult<ExprRef> {
        let mut raw: Vec<Raw> = Vec::with_capacity(s.parts.len());
        for p in s.parts {
            match p {
                Part::Text(t) => raw.push(Raw::Text(t.to_string())),
                Part::Interp(e) => raw.push(Raw::Expr(self.expr(e)?)),
            }
        }
        let pieces = if s.indented { indented_pieces(raw) } else { plain_pieces(raw) };
        let mut parts: Vec<ExprRef> = Vec::new();
        let mut lit = String::new();
        let mut any_interp = false;
        for p in pieces {
            match p {
                Raw::Text(t) => lit.push_str(&t),
                Raw::Expr(e) => {
                    any_interp = true;
                    if !lit.is_empty() {
                        parts.push(self.string_const(std::mem::take(&mut lit), pos)?);
                    }
                    parts.push(e);
                }
            }
        }
        if !any_interp {
            return self.string_const(lit, pos);
        }
        if !lit.is_empty() {
            parts.push(self.string_const(lit, pos)?);
        }
        Ok(self.alloc(Expr::Interp { pos, parts: self.alloc_slice(parts), is_path: false }))
    }

    fn string_const(&self, t: String, pos: Pos) -> LResult<ExprRef> {
        if t.contains('\0') {
            let shown = t.replace('\0', "␀");
            let at = pos.shifted(1);
            return self.err(at, format!("input string '{}' cannot be represented as Nix string because it contains null bytes", shown));
        }
        Ok(self.konst(Value::String(crate::source::source_string(t))))
    }

    /// `<name>`: `__findFile __nixPath "name"`.
    pub(super) fn search_path(&mut self, inner: &str, pos: Pos) -> LResult<ExprRef> {
        let find = self.alloc(Expr::Var(self.var(sym::FIND_FILE, pos, 0)?));
        let nix_path = self.alloc(Expr::Var(self.var(sym::NIX_PATH, pos, 0)?));
        let name = self.konst(Value::string(inner.to_string()));
        Ok(self.alloc(Expr::Apply { pos, func: find, args: self.alloc_slice(vec![nix_path, name]) }))
    }

    pub(super) fn path(&mut self, kind: PathKind, parts: &[Part], pos: Pos) -> LResult<ExprRef> {
        let mut out: Vec<ExprRef> = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            match part {
                Part::Text(text) => {
                    let s = if i == 0 { self.anchor_path(kind, text, pos)? } else { text.to_string() };
                    out.push(self.konst(Value::string(s)));
                }
                Part::Interp(e) => out.push(self.expr(e)?),
            }
        }
        if out.len() == 1 {
            if let Expr::Const(Value::String(s)) = out[0] {
                return Ok(self.konst(Value::Path(canon_path(&s.to_str_lossy()).into())));
            }
        }
        Ok(self.alloc(Expr::Interp { pos, parts: self.alloc_slice(out), is_path: true }))
    }

    /// Make the leading literal of a path absolute, keeping a trailing slash (it may be
    /// followed by an interpolation).
    fn anchor_path(&self, kind: PathKind, text: &str, pos: Pos) -> LResult<String> {
        let trailing = text.ends_with('/');
        let mut s = match kind {
            PathKind::Abs => {
                self.lint("absolute-path-literals", pos, format!("absolute path literals are not portable. Consider replacing path literal '{}' by a string, relative path, or parameter", text))?;
                canon_path(text)
            }
            PathKind::Home => {
                self.lint("absolute-path-literals", pos, format!("home path literals are not portable. Consider replacing path literal '{}' by a string, relative path, or parameter", text))?;
                let Some(home) = self.ctx.home else {
                    return self.err(pos, "the path '~/...' cannot be resolved: HOME is not set");
                };
                canon_path(&format!("{}/{}", home, &text[2..]))
            }
            PathKind::Rel => {
                if !text.starts_with("./") && !text.starts_with("../") {
                    self.lint("short-path-literals", pos, format!("relative path literal '{}' should be prefixed with '.' for clarity: './{}'", text, text))?;
                }
                canon_path(&format!("{}/{}", self.ctx.base_dir.display(), text))
            }
        };
        if trailing && !s.ends_with('/') {
            s.push('/');
        }
        Ok(s)
    }
}

/// A piece of a string literal: text, or an interpolated expression.
enum Raw {
    Text(String),
    Expr(ExprRef),
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

fn plain_pieces(raw: Vec<Raw>) -> Vec<Raw> {
    raw.into_iter()
        .map(|r| match r {
            Raw::Text(t) => Raw::Text(unescape(&t)),
            e => e,
        })
        .collect()
}

/// One token of an indented string as the reference's lexer cuts it: literal text, which
/// counts for indentation (`true`), or an escape such as a quoted dollar, two quotes, a
/// backslash escape, a lone `$` or `'` (`false`), or an interpolation.
enum IndTok {
    Text(String, bool),
    Expr(ExprRef),
}

fn lex_indented(text: &str, out: &mut Vec<IndTok>) {
    let b = text.as_bytes();
    let mut i = 0;
    let mut run = String::new();
    fn flush(run: &mut String, out: &mut Vec<IndTok>) {
        if !run.is_empty() {
            out.push(IndTok::Text(std::mem::take(run), true));
        }
    }
    while i < b.len() {
        if b[i] == b'\'' && b.get(i + 1) == Some(&b'\'') {
            flush(&mut run, out);
            match b.get(i + 2) {
                Some(b'$') => {
                    out.push(IndTok::Text("$".into(), false));
                    i += 3;
                }
                Some(b'\'') => {
                    out.push(IndTok::Text("''".into(), false));
                    i += 3;
                }
                Some(b'\\') => {
                    let c = text[i + 3..].chars().next().unwrap_or('\\');
                    let esc = match c {
                        'n' => "\n".to_string(),
                        'r' => "\r".to_string(),
                        't' => "\t".to_string(),
                        c => c.to_string(),
                    };
                    out.push(IndTok::Text(esc, false));
                    i += 3 + c.len_utf8();
                }
                _ => {
                    run.push_str("''");
                    i += 2;
                }
            }
            continue;
        }
        if b[i] == b'\'' && (i + 1 == b.len() || b[i + 1] == b'$') {
            flush(&mut run, out);
            out.push(IndTok::Text("'".into(), false));
            i += 1;
            continue;
        }
        if b[i] == b'$' && (i + 1 == b.len() || b[i + 1] == b'\'') {
            flush(&mut run, out);
            out.push(IndTok::Text("$".into(), false));
            i += 1;
            continue;
        }
        let c = text[i..].chars().next().unwrap();
        run.push(c);
        i += c.len_utf8();
    }
    flush(&mut run, out);
}

/// Indented strings: cut into the reference's tokens, then its `stripIndentation`.
fn indented_pieces(raw: Vec<Raw>) -> Vec<Raw> {
    let mut toks: Vec<IndTok> = Vec::new();
    for (k, r) in raw.into_iter().enumerate() {
        match r {
            Raw::Text(mut t) => {
                if k == 0 {
                    // The opening quotes swallow trailing spaces and one newline.
                    let sp = t.bytes().take_while(|&c| c == b' ').count();
                    if t.as_bytes().get(sp) == Some(&b'\n') {
                        t.drain(..=sp);
                    }
                }
                lex_indented(&t, &mut toks);
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
    // Strip that many spaces from each line.
    let mut out: Vec<Raw> = Vec::new();
    let mut at_start = true;
    let mut dropped = 0usize;
    let n = toks.len();
    for (k, t) in toks.into_iter().enumerate() {
        match t {
            IndTok::Expr(e) => {
                at_start = false;
                dropped = 0;
                out.push(Raw::Expr(e));
            }
            IndTok::Text(s, _) => {
                let mut s2 = String::with_capacity(s.len());
                for c in s.chars() {
                    if at_start {
                        if c == ' ' {
                            if dropped >= min_indent {
                                s2.push(c);
                            }
                            dropped += 1;
                        } else if c == '\n' {
                            dropped = 0;
                            s2.push(c);
                        } else {
                            at_start = false;
                            dropped = 0;
                            s2.push(c);
                        }
                    } else {
                        s2.push(c);
                        if c == '\n' {
                            at_start = true;
                        }
                    }
                }
                // The last line is dropped when it is only spaces.
                if k + 1 == n {
                    if let Some(p) = s2.rfind('\n') {
                        if s2[p + 1..].bytes().all(|c| c == b' ') {
                            s2.truncate(p + 1);
                        }
                    }
                }
                out.push(Raw::Text(s2));
            }
        }
    }
    out
}
