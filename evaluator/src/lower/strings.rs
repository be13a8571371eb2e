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
        let mut raw: Vec<Raw<ExprRef>> = Vec::with_capacity(s.parts.len());
        for p in s.parts {
            match p {
                Part::Text(t) => raw.push(Raw::Text(t)),
                Part::Interp(e) => raw.push(Raw::Expr(self.expr(e)?)),
            }
        }
        let pieces = resolve(s.indented, raw);
        let mut parts: Vec<ExprRef> = Vec::new();
        // Each constant is built at its exact size (strings live as long as the evaluation).
        let run_len = |from: usize| -> usize {
            pieces[from..].iter().map_while(|p| if let Piece::Text(t) = p { Some(t.len()) } else { None }).sum()
        };
        let mut lit = String::with_capacity(run_len(0));
        let mut any_interp = false;
        for (i, piece) in pieces.iter().enumerate() {
            match piece {
                Piece::Text(t) => lit.push_str(t),
                Piece::Expr(e) => {
                    any_interp = true;
                    if !lit.is_empty() {
                        parts.push(self.string_const(std::mem::take(&mut lit), pos)?);
                    }
                    parts.push(*e);
                    lit.reserve_exact(run_len(i + 1));
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
            return self.err(
                at,
                format!("input string '{}' cannot be represented as Nix string because it contains null bytes", shown),
            );
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
                    self.lint(
                        "short-path-literals",
                        pos,
                        format!(
                            "relative path literal '{}' should be prefixed with '.' for clarity: './{}'",
                            text, text
                        ),
                    )?;
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
