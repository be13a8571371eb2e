//! Strings, indented strings and path literals.

use super::{LResult, Lowerer};
use crate::ast::{Expr, ExprRef};
use crate::source::Pos;
use crate::symbol::sym;
use crate::value::Value;
use rnix::ast::{self as rast, InterpolPart};
use rowan::ast::AstNode;

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

impl<'a> Lowerer<'a> {
    pub(super) fn string(&mut self, s: rast::Str, pos: Pos) -> LResult<ExprRef> {
        let mut parts: Vec<ExprRef> = Vec::new();
        let mut lit = String::new();
        let mut any_interp = false;
        for p in s.normalized_parts() {
            match p {
                InterpolPart::Literal(t) => {
                    if t.contains('\0') {
                        let shown = t.replace('\0', "␀");
                        let at = Pos { file: self.file, offset: pos.offset + 1 };
                        return self.err(at, format!("input string '{}' cannot be represented as Nix string because it contains null bytes", shown));
                    }
                    lit.push_str(&t)
                }
                InterpolPart::Interpolation(i) => {
                    any_interp = true;
                    if !lit.is_empty() {
                        parts.push(self.konst(Value::string(std::mem::take(&mut lit))));
                    }
                    let e = self.child(i.expr(), pos)?;
                    parts.push(self.expr(e)?);
                }
            }
        }
        if !any_interp {
            return Ok(self.konst(Value::string(lit)));
        }
        if !lit.is_empty() {
            parts.push(self.konst(Value::string(lit)));
        }
        Ok(self.alloc(Expr::Interp { pos, parts: self.alloc_slice(parts), is_path: false }))
    }

    pub(super) fn path(&mut self, p: rast::Path, pos: Pos) -> LResult<ExprRef> {
        if let rast::Path::PathSearch(s) = &p {
            let text = s.syntax().text().to_string();
            let inner = text.trim_start_matches('<').trim_end_matches('>').to_string();
            let find = self.alloc(Expr::Var(self.var(sym::FIND_FILE, pos, 0)?));
            let nix_path = self.alloc(Expr::Var(self.var(sym::NIX_PATH, pos, 0)?));
            let name = self.konst(Value::string(inner));
            return Ok(self.alloc(Expr::Apply { pos, func: find, args: self.alloc_slice(vec![nix_path, name]) }));
        }
        let parts = p.parts();
        let mut out: Vec<ExprRef> = Vec::new();
        let mut first = true;
        for part in parts {
            match part {
                InterpolPart::Literal(t) => {
                    let text = t.text();
                    let s = if first { self.anchor_path(&p, text, pos)? } else { text.to_string() };
                    out.push(self.konst(Value::string(s)));
                }
                InterpolPart::Interpolation(i) => {
                    let e = self.child(i.expr(), pos)?;
                    out.push(self.expr(e)?);
                }
            }
            first = false;
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
    fn anchor_path(&self, p: &rast::Path, text: &str, pos: Pos) -> LResult<String> {
        let trailing = text.ends_with('/');
        let mut s = match p {
            rast::Path::PathAbs(_) => {
                self.lint("absolute-path-literals", pos, format!("absolute path literals are not portable. Consider replacing path literal '{}' by a string, relative path, or parameter", text))?;
                canon_path(text)
            }
            rast::Path::PathHome(_) => {
                self.lint("absolute-path-literals", pos, format!("home path literals are not portable. Consider replacing path literal '{}' by a string, relative path, or parameter", text))?;
                let Some(home) = self.ctx.home else {
                    return self.err(pos, "the path '~/...' cannot be resolved: HOME is not set");
                };
                canon_path(&format!("{}/{}", home, &text[2..]))
            }
            _ => {
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
