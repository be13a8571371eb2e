//! Strings, indented strings and path literals: escapes, indentation stripping, anchoring.

use super::literal::{resolve, Piece, Raw};
use super::{LResult, Lowerer};
use crate::ast::{Expr, ExprRef};
use crate::parse::syntax::{Part, PathKind, Str};
use crate::source::Pos;
use crate::symbol::sym;
use crate::value::Value;
use std::borrow::Cow;

/// Nix's `canonPath`: absolute, no `.`/`..` components, no repeated or trailing slashes.
pub fn canon_path(p: &str) -> String {
    if is_canonical(p) {
        return p.to_owned();
    }
    let mut out = String::with_capacity(p.len());
    push_canonical(&mut out, p);
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// [`canon_path`] of `base + "/" + rel` without building that string, with `base` given as
/// [`canonical_prefix`] makes it (relative path literals: the file's directory, canonicalized
/// once per file, and the literal).
fn canon_join(base: &str, rel: &str) -> String {
    let mut out = String::with_capacity(base.len() + rel.len() + 1);
    out.push_str(base);
    push_canonical(&mut out, rel);
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// The canonical form of `p` to join to: as [`canon_path`], but empty for the root.
pub(super) fn canonical_prefix(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    push_canonical(&mut out, p);
    out
}

/// Append the components of `p` to the canonical path `out` (empty for the root), resolving
/// `.` and `..` against what is already there.
fn push_canonical(out: &mut String, p: &str) {
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                let cut = out.rfind('/').unwrap_or(0);
                out.truncate(cut);
            }
            c => {
                out.push('/');
                out.push_str(c);
            }
        }
    }
}

/// True if `p` is already what [`canon_path`] makes of it (the usual case).
fn is_canonical(p: &str) -> bool {
    let b = p.as_bytes();
    if b == b"/" {
        return true;
    }
    if b.first() != Some(&b'/') || b.last() == Some(&b'/') {
        return false;
    }
    // No empty, `.` or `..` component: every '/' is followed by something other than
    // '/', "./" or "../" (and the path does not end in "/." or "/..").
    b.split(|&c| c == b'/').skip(1).all(|c| !matches!(c, b"" | b"." | b".."))
}

/// The value of a string literal without interpolation (for static attribute names).
pub(super) fn literal_text<'s>(s: &Str<'s>) -> Option<Cow<'s, str>> {
    let mut raw: Vec<Raw<()>> = Vec::with_capacity(s.parts.len());
    for p in s.parts {
        match p {
            Part::Text(t) => raw.push(Raw::Text(t)),
            Part::Interp(_) => return None,
        }
    }
    let mut pieces = resolve(s.indented, raw);
    if pieces.len() == 1 {
        if let Some(Piece::Text(t)) = pieces.pop() {
            return Some(t);
        }
    }
    let mut out = String::new();
    for p in pieces {
        if let Piece::Text(t) = p {
            out.push_str(&t);
        }
    }
    Some(Cow::Owned(out))
}

impl<'a> Lowerer<'a> {
    pub(super) fn string(&mut self, s: &Str, pos: Pos) -> LResult<ExprRef> {
        // Most strings are one piece of plain text without escapes: its value is the source.
        match s.parts {
            [] if !s.indented => return self.string_const("", pos),
            [Part::Text(t)] if !s.indented && !t.bytes().any(|c| c == b'\\' || c == b'\r') => {
                return self.string_const(t, pos)
            }
            _ => {}
        }
        let mut raw: Vec<Raw<ExprRef>> = Vec::with_capacity(s.parts.len());
        for p in s.parts {
            match p {
                Part::Text(t) => raw.push(Raw::Text(t)),
                Part::Interp(e) => raw.push(Raw::Expr(self.expr(e)?)),
            }
        }
        let pieces = resolve(s.indented, raw);
        if let [Piece::Text(t)] = pieces.as_slice() {
            return self.string_const(t, pos);
        }
        // Runs of text are joined in a buffer kept from string to string; the constants are
        // copied out of it at their exact size.
        let mut lit = std::mem::take(&mut self.lit);
        lit.clear();
        let mut parts: Vec<ExprRef> = Vec::new();
        for piece in &pieces {
            match piece {
                Piece::Text(t) => lit.push_str(t),
                Piece::Expr(e) => {
                    if !lit.is_empty() {
                        parts.push(self.string_const(&lit, pos)?);
                        lit.clear();
                    }
                    parts.push(*e);
                }
            }
        }
        let r = if parts.is_empty() {
            self.string_const(&lit, pos)
        } else {
            if !lit.is_empty() {
                parts.push(self.string_const(&lit, pos)?);
            }
            Ok(self.alloc(Expr::Interp { pos, parts: self.alloc_slice(parts), is_path: false }))
        };
        self.lit = lit;
        r
    }

    fn string_const(&self, t: &str, pos: Pos) -> LResult<ExprRef> {
        let b = t.as_bytes();
        // One pass for the two rare bytes: NUL (an error) and 0xF4 (see below).
        let rare = b.iter().any(|&c| c == 0 || c == 0xF4);
        if rare && b.contains(&0) {
            let shown = t.replace('\0', "␀");
            let at = pos.shifted(1);
            return self.err(
                at,
                format!("input string '{}' cannot be represented as Nix string because it contains null bytes", shown),
            );
        }
        // Stand-ins for bytes that are not UTF-8 all start with 0xF4 (see `source_string`).
        let s = if rare { crate::source::source_string(t.to_owned()) } else { t.into() };
        Ok(self.konst(Value::String(s)))
    }

    /// `<name>`: `__findFile __nixPath "name"`.
    pub(super) fn search_path(&mut self, inner: &str, pos: Pos) -> LResult<ExprRef> {
        let find = self.alloc(Expr::Var(self.var(sym::FIND_FILE, pos, 0)?));
        let nix_path = self.alloc(Expr::Var(self.var(sym::NIX_PATH, pos, 0)?));
        let name = self.konst(Value::string(inner.to_string()));
        Ok(self.alloc(Expr::Apply { pos, func: find, args: self.alloc_slice(vec![nix_path, name]) }))
    }

    pub(super) fn path(&mut self, kind: PathKind, parts: &[Part], pos: Pos) -> LResult<ExprRef> {
        if let [Part::Text(text)] = parts {
            // A plain literal: anchored, it is canonical already unless it ends in a slash.
            let s = self.anchor_path(kind, text, pos)?;
            let s = if s.ends_with('/') { canon_path(&s) } else { s };
            return Ok(self.konst(Value::Path(s.as_str().into())));
        }
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
                canon_join(&canonical_prefix(home), &text[2..])
            }
            PathKind::Rel => {
                if !text.starts_with("./") && !text.starts_with("../") {
                    self.lint(
                        "short-path-literals",
                        pos,
                        format!(
                            "relative path literal '{}' should be prefixed with '.' for clarity: './{}'",
                            text, text
                        ),
                    )?;
                }
                let base = self.base_dir.get_or_init(|| canonical_prefix(&self.ctx.base_dir.to_string_lossy()));
                canon_join(base, text)
            }
        };
        if trailing && !s.ends_with('/') {
            s.push('/');
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::canon_path;

    /// Expected values are what `nix-instantiate --eval -E '/. + "P"'` (Nix 2.8) prints.
    #[test]
    fn canonical_paths_as_nix() {
        for (p, nix) in [
            ("/a/./b/../c//d/", "/a/c/d"),
            ("/", "/"),
            ("//", "/"),
            ("/..", "/"),
            ("/a/..", "/"),
            ("/a/b", "/a/b"),
            ("/a/.b/..c", "/a/.b/..c"),
            ("/a/b/.", "/a/b"),
            ("/a/b/..", "/a"),
        ] {
            assert_eq!(canon_path(p), nix, "{p}");
        }
    }
}
