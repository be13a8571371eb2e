//! Lowering: rnix's rowan tree to the arena AST of [`crate::ast`].
//!
//! One pass over the tree that also does what rnix leaves to its users: it merges nested
//! attribute paths (`a.b = 1; a.c = 2;`), rejects duplicate attributes and formals and undefined
//! variables (as the reference does at parse time), anchors path literals to the file's
//! directory, and resolves every variable to a slot (see [`scope`]).

mod attrs;
mod dump;
mod scope;
mod strings;

pub use dump::dump;
pub use strings::canon_path;

use crate::ast::*;
use crate::source::{FileId, Pos};
use crate::symbol::{sym, Symbol};
use crate::value::{NixString, Value};
use bumpalo::Bump;
use rnix::ast::{self as rast, AstToken};
use rowan::ast::AstNode;
use rustc_hash::FxHashMap;
use scope::{Resolved, Scopes};
use std::path::Path;

thread_local! {
    /// One arena for the ASTs of all files: they live as long as the evaluation, and sharing
    /// the arena's chunks wastes less than one arena per file.
    static ARENA: &'static Bump = Box::leak(Box::new(Bump::new()));
}

/// A parse or lowering error: a message at a position.
#[derive(Debug, Clone)]
pub struct ParseError {
    pub pos: Pos,
    pub msg: String,
}

/// What lowering needs to know about its surroundings.
pub struct LowerCtx<'a> {
    /// Global names (builtins) and their indices in the base environment.
    pub globals: &'a FxHashMap<Symbol, u32>,
    /// Directory that relative path literals are anchored to.
    pub base_dir: &'a Path,
    /// `$HOME` for `~/` paths.
    pub home: Option<&'a str>,
    /// Names bound in the outermost environment (`scopedImport`), slot i = names[i].
    pub outer_names: &'a [Symbol],
    /// `--lint-*` settings: (lint name, "warn" | "fatal").
    pub lints: &'a [(String, String)],
}

pub struct Lowerer<'a> {
    bump: &'static Bump,
    /// The file's first position (see [`Pos`]).
    base: u32,
    ctx: &'a LowerCtx<'a>,
    scopes: Scopes,
}

type LResult<T> = Result<T, ParseError>;

/// Parse `text` and lower it. Errors carry the reference's wording where we can produce it.
pub fn parse_and_lower(text: &str, file: FileId, ctx: &LowerCtx) -> LResult<ExprRef> {
    if let Some(offset) = too_deep(text.as_bytes()) {
        // The reference's parser stack holds about 5000 nested brackets; deeper input fails
        // there with this message (and rowan's node cache would be quadratic on it).
        return Err(ParseError { pos: Pos::new(file, offset), msg: "memory exhausted".into() });
    }
    let parse = rnix::Root::parse(text);
    if let Some(err) = parse.errors().first() {
        return Err(convert_parse_error(err, file, text));
    }
    let root = parse.tree();
    let bump: &'static Bump = ARENA.with(|a| *a);
    let mut l = Lowerer { bump, base: crate::source::file_base(file), ctx, scopes: Scopes::new() };
    if !ctx.outer_names.is_empty() {
        l.scopes.push_names(ctx.outer_names.iter().copied());
    }
    let Some(expr) = root.expr() else {
        return Err(ParseError { pos: Pos::new(file, text.len() as u32), msg: "syntax error, unexpected end of file".into() });
    };
    l.expr(expr)
}

/// Maximum bracket nesting the reference's parser accepts.
const MAX_NESTING: usize = 4998;

/// The offset where bracket nesting (`( [ { ${`) first exceeds [`MAX_NESTING`], skipping
/// strings and comments.
fn too_deep(b: &[u8]) -> Option<u32> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'\'' if b.get(i + 1) == Some(&b'\'') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'\'' && b[i + 1] == b'\'' && b.get(i + 2) != Some(&b'\'')) {
                    i += 1;
                }
                i += 1;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i as u32);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

fn convert_parse_error(err: &rnix::ParseError, file: FileId, text: &str) -> ParseError {
    use rnix::ParseError as E;
    let at = |r: rowan::TextRange| Pos::new(file, u32::from(r.start()));
    let eof = Pos::new(file, text.len() as u32);
    let tok = |r: rowan::TextRange| -> String {
        let s = &text[r];
        format!("'{}'", s)
    };
    match err {
        E::Unexpected(r) => ParseError { pos: at(*r), msg: format!("syntax error, unexpected {}", tok(*r)) },
        E::UnexpectedExtra(r) => ParseError { pos: at(*r), msg: format!("syntax error, unexpected {}, expecting end of file", tok(*r)) },
        E::UnexpectedWanted(_, r, _) => ParseError { pos: at(*r), msg: format!("syntax error, unexpected {}", tok(*r)) },
        E::UnexpectedDoubleBind(r) => ParseError { pos: at(*r), msg: "syntax error, unexpected '@'".into() },
        E::UnexpectedEOF | E::UnexpectedEOFWanted(_) => ParseError { pos: eof, msg: "syntax error, unexpected end of file".into() },
        E::DuplicatedArgs(r, name) => ParseError { pos: at(*r), msg: format!("duplicate formal function argument '{}'", name) },
        E::RecursionLimitExceeded => ParseError { pos: eof, msg: "syntax error, expression nested too deeply".into() },
        other => ParseError { pos: eof, msg: format!("syntax error, {}", other) },
    }
}

impl<'a> Lowerer<'a> {
    fn pos_of(&self, node: &impl AstNode) -> Pos {
        Pos::in_file(self.base, u32::from(node.syntax().text_range().start()))
    }
    fn err<T>(&self, pos: Pos, msg: impl Into<String>) -> LResult<T> {
        Err(ParseError { pos, msg: msg.into() })
    }
    fn alloc(&self, e: Expr) -> ExprRef {
        self.bump.alloc(e)
    }
    fn alloc_slice<T>(&self, v: Vec<T>) -> &'static [T] {
        self.bump.alloc_slice_fill_iter(v)
    }
    fn konst(&self, v: Value) -> ExprRef {
        self.alloc(Expr::Const(v))
    }

    fn expr(&mut self, e: rast::Expr) -> LResult<ExprRef> {
        self.expr_named(e, None)
    }

    /// Lower `e`; `name` is the attribute it is bound to (lambdas remember it for traces).
    fn expr_named(&mut self, e: rast::Expr, name: Option<Symbol>) -> LResult<ExprRef> {
        let pos = self.pos_of(&e);
        Ok(match e {
            rast::Expr::Paren(p) => return self.expr_named(self.child(p.expr(), pos)?, name),
            rast::Expr::Root(r) => return self.expr(self.child(r.expr(), pos)?),
            rast::Expr::Literal(lit) => match lit.kind() {
                rast::LiteralKind::Integer(i) => match i.value() {
                    Ok(v) => self.konst(Value::Int(v)),
                    Err(_) => return self.err(pos, format!("invalid integer '{}'", i.syntax().text())),
                },
                rast::LiteralKind::Float(f) => match f.value() {
                    Ok(v) => self.konst(Value::Float(v)),
                    Err(_) => return self.err(pos, format!("invalid float '{}'", f.syntax().text())),
                },
                rast::LiteralKind::Uri(u) => {
                    let text = u.syntax().text().to_string();
                    self.lint(
                        "url-literals",
                        pos,
                        format!("URL literals are disallowed. Consider using a string literal \"{}\" instead", text),
                    )?;
                    self.konst(Value::string(text))
                }
            },
            rast::Expr::Str(s) => self.string(s, pos)?,
            rast::Expr::PathAbs(_) | rast::Expr::PathRel(_) | rast::Expr::PathHome(_) | rast::Expr::PathSearch(_) => {
                let p = rast::Path::cast(e.syntax().clone()).expect("path node");
                self.path(p, pos)?
            }
            rast::Expr::Ident(id) => {
                let name = self.ident(&id)?;
                self.alloc(Expr::Var(self.var(name, pos, 0)?))
            }
            rast::Expr::CurPos(_) => self.alloc(Expr::CurPos(pos)),
            rast::Expr::Select(s) => {
                let inner = self.expr(self.child(s.expr(), pos)?)?;
                let path = self.attrpath(self.child(s.attrpath(), pos)?)?;
                let default = match s.default_expr() {
                    Some(d) => Some(self.expr(d)?),
                    None => None,
                };
                // Errors point at the start of the whole select, as the reference's.
                self.alloc(Expr::Select { pos, expr: inner, path, default })
            }
            rast::Expr::HasAttr(h) => {
                let inner = self.expr(self.child(h.expr(), pos)?)?;
                let path = self.attrpath(self.child(h.attrpath(), pos)?)?;
                self.alloc(Expr::HasAttr { pos, expr: inner, path })
            }
            rast::Expr::Apply(_) => {
                // Flatten `f a b c` into one application with three arguments.
                let mut args = Vec::new();
                let mut cur = e.clone();
                let mut arg_pos = pos;
                while let rast::Expr::Apply(a) = &cur {
                    args.push(self.child(a.argument(), pos)?);
                    arg_pos = self.pos_of(a);
                    cur = self.child(a.lambda(), pos)?;
                }
                let _ = arg_pos;
                let func = self.expr(cur)?;
                let mut lowered = Vec::with_capacity(args.len());
                for a in args.into_iter().rev() {
                    lowered.push(self.expr(a)?);
                }
                self.alloc(Expr::Apply { pos, func, args: self.alloc_slice(lowered) })
            }
            rast::Expr::Lambda(l) => self.lambda(l, pos, name)?,
            rast::Expr::LetIn(l) => {
                let body = self.child(l.body(), pos)?;
                self.let_in(&l, pos, Some(body))?
            }
            rast::Expr::LegacyLet(l) => {
                // `let { a = 1; body = a; }` is `rec { ... }.body`.
                let set = self.attrset(&l, pos, true)?;
                self.alloc(Expr::Select { pos, expr: set, path: self.alloc_slice(vec![AttrKey::Static(sym::BODY)]), default: None })
            }
            rast::Expr::AttrSet(s) => {
                let rec = s.rec_token().is_some();
                self.attrset(&s, pos, rec)?
            }
            rast::Expr::List(l) => {
                let mut items = Vec::new();
                for it in l.items() {
                    items.push(self.expr(it)?);
                }
                self.alloc(Expr::List(self.alloc_slice(items)))
            }
            rast::Expr::IfElse(i) => {
                let cond = self.expr(self.child(i.condition(), pos)?)?;
                let then = self.expr(self.child(i.body(), pos)?)?;
                let else_ = self.expr(self.child(i.else_body(), pos)?)?;
                self.alloc(Expr::If { pos, cond, then, else_ })
            }
            rast::Expr::Assert(a) => {
                let cond = self.expr(self.child(a.condition(), pos)?)?;
                let body = self.expr(self.child(a.body(), pos)?)?;
                self.alloc(Expr::Assert { pos, cond, body })
            }
            rast::Expr::With(w) => {
                let namespace = self.expr(self.child(w.namespace(), pos)?)?;
                self.scopes.push_with();
                let body = self.child(w.body(), pos).and_then(|b| self.expr(b));
                self.scopes.pop();
                self.alloc(Expr::With { pos, namespace, body: body? })
            }
            rast::Expr::UnaryOp(u) => {
                let inner = self.expr(self.child(u.expr(), pos)?)?;
                match u.operator() {
                    Some(rast::UnaryOpKind::Invert) => self.alloc(Expr::Not { pos, expr: inner }),
                    _ => {
                        let zero = self.konst(Value::Int(0));
                        self.binop(pos, BinOp::Sub, zero, inner)?
                    }
                }
            }
            rast::Expr::BinOp(b) => {
                let lhs = self.expr(self.child(b.lhs(), pos)?)?;
                let rhs = self.expr(self.child(b.rhs(), pos)?)?;
                use rast::BinOpKind as K;
                let op = match b.operator() {
                    Some(K::Add) => BinOp::Add,
                    Some(K::Sub) => BinOp::Sub,
                    Some(K::Mul) => BinOp::Mul,
                    Some(K::Div) => BinOp::Div,
                    Some(K::Concat) => BinOp::Concat,
                    Some(K::Update) => BinOp::Update,
                    Some(K::Equal) => BinOp::Eq,
                    Some(K::NotEqual) => BinOp::NEq,
                    Some(K::Less) => BinOp::Lt,
                    Some(K::LessOrEq) => BinOp::Le,
                    Some(K::More) => BinOp::Gt,
                    Some(K::MoreOrEq) => BinOp::Ge,
                    Some(K::And) => BinOp::And,
                    Some(K::Or) => BinOp::Or,
                    Some(K::Implication) => BinOp::Impl,
                    Some(K::PipeRight) | Some(K::PipeLeft) | None => {
                        return self.err(pos, "experimental Nix feature 'pipe-operators' is disabled; add '--extra-experimental-features pipe-operators' to enable it")
                    }
                };
                let op_pos = b
                    .syntax()
                    .children_with_tokens()
                    .filter_map(|t| t.into_token())
                    .find(|t| rast::BinOpKind::from_kind(t.kind()).is_some())
                    .map(|t| Pos::in_file(self.base, u32::from(t.text_range().start())))
                    .unwrap_or(pos);
                let _ = op_pos;
                self.binop(pos, op, lhs, rhs)?
            }
            rast::Expr::Error(_) => return self.err(pos, "syntax error"),
        })
    }

    /// Arithmetic and comparison go through `__sub`, `__lessThan`... when the program binds
    /// those names itself, as the reference desugars them.
    fn binop(&mut self, pos: Pos, op: BinOp, lhs: ExprRef, rhs: ExprRef) -> LResult<ExprRef> {
        let overridable = match op {
            BinOp::Sub => Some(sym::SUB),
            BinOp::Mul => Some(sym::MUL),
            BinOp::Div => Some(sym::DIV),
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => Some(sym::LESS_THAN),
            _ => None,
        };
        if let Some(name) = overridable {
            if let Resolved::Local { depth, slot } = self.scopes.resolve(name, 0) {
                let f = self.alloc(Expr::Var(Var::Local { pos, name, depth, slot }));
                let call = |l: &mut Self, a: ExprRef, b: ExprRef| l.alloc(Expr::Apply { pos, func: f, args: l.alloc_slice(vec![a, b]) });
                return Ok(match op {
                    BinOp::Lt => call(self, lhs, rhs),
                    BinOp::Gt => call(self, rhs, lhs),
                    BinOp::Le => {
                        let c = call(self, rhs, lhs);
                        self.alloc(Expr::Not { pos, expr: c })
                    }
                    BinOp::Ge => {
                        let c = call(self, lhs, rhs);
                        self.alloc(Expr::Not { pos, expr: c })
                    }
                    _ => call(self, lhs, rhs),
                });
            }
        }
        Ok(self.alloc(Expr::BinOp { pos, op, lhs, rhs }))
    }

    /// Report a `--lint-*` finding: a warning on stderr, or with "fatal" a parse error.
    pub(super) fn lint(&self, name: &str, pos: Pos, msg: String) -> LResult<()> {
        let Some((_, level)) = self.ctx.lints.iter().rev().find(|(n, _)| n == name) else { return Ok(()) };
        let msg = format!("{} (lint-{})", msg, name);
        match level.as_str() {
            "fatal" => self.err(pos, msg),
            "warn" => {
                let mut out = format!("warning: {}\n", msg);
                crate::error::render_pos_indented(&mut out, pos, 2);
                eprint!("{}", out);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn child<T>(&self, c: Option<T>, pos: Pos) -> LResult<T> {
        match c {
            Some(c) => Ok(c),
            None => self.err(pos, "syntax error, unexpected end of file"),
        }
    }

    fn ident(&self, id: &rast::Ident) -> LResult<Symbol> {
        let text = id.syntax().text().to_string();
        Ok(Symbol::new(&text))
    }

    /// Resolve a variable, looking `skip` scopes outward.
    fn var(&self, name: Symbol, pos: Pos, skip: usize) -> LResult<Var> {
        match self.scopes.resolve(name, skip) {
            Resolved::Local { depth, slot } => Ok(Var::Local { pos, name, depth, slot }),
            r => {
                if let Some(&index) = self.ctx.globals.get(&name) {
                    return Ok(Var::Global { pos, name, index });
                }
                match r {
                    Resolved::With(depths) => Ok(Var::With { pos, name, depths: self.alloc_slice(depths) }),
                    _ => self.err(pos, format!("undefined variable '{}'", name)),
                }
            }
        }
    }

    fn attrpath(&mut self, p: rast::Attrpath) -> LResult<&'static [AttrKey]> {
        let mut keys = Vec::new();
        for a in p.attrs() {
            keys.push(self.attr_key(a)?);
        }
        Ok(self.alloc_slice(keys))
    }

    /// An attribute name: static when it is an identifier or a string without interpolation.
    fn attr_key(&mut self, a: rast::Attr) -> LResult<AttrKey> {
        let pos = self.pos_of(&a);
        match a {
            rast::Attr::Ident(id) => Ok(AttrKey::Static(self.ident(&id)?)),
            rast::Attr::Str(s) => {
                let e = self.string(s, pos)?;
                Ok(static_key(e).map(AttrKey::Static).unwrap_or(AttrKey::Dynamic(e)))
            }
            rast::Attr::Dynamic(d) => {
                let e = self.expr(self.child(d.expr(), pos)?)?;
                Ok(static_key(e).map(AttrKey::Static).unwrap_or(AttrKey::Dynamic(e)))
            }
        }
    }

    fn lambda(&mut self, l: rast::Lambda, pos: Pos, name: Option<Symbol>) -> LResult<ExprRef> {
        let param = self.child(l.param(), pos)?;
        let mut arg = None;
        let mut formals_src = Vec::new();
        let mut ellipsis = false;
        let mut has_formals = false;
        match param {
            rast::Param::IdentParam(ip) => {
                arg = Some(self.ident(&self.child(ip.ident(), pos)?)?);
            }
            rast::Param::Pattern(p) => {
                has_formals = true;
                if let Some(b) = p.pat_bind() {
                    arg = Some(self.ident(&self.child(b.ident(), pos)?)?);
                }
                ellipsis = p.ellipsis_token().is_some();
                for entry in p.pat_entries() {
                    let epos = self.pos_of(&entry);
                    let n = self.ident(&self.child(entry.ident(), epos)?)?;
                    if formals_src.iter().any(|(m, _, _)| *m == n) || arg == Some(n) {
                        return self.err(epos, format!("duplicate formal function argument '{}'", n));
                    }
                    formals_src.push((n, epos, entry.default()));
                }
            }
        }
        let mut names: Vec<Symbol> = Vec::new();
        if let Some(a) = arg {
            names.push(a);
        }
        names.extend(formals_src.iter().map(|f| f.0));
        self.scopes.push_names(names);
        let result = (|| {
            let mut formals = Vec::new();
            for (n, fpos, default) in formals_src {
                let default = match default {
                    Some(d) => Some(self.expr(d)?),
                    None => None,
                };
                formals.push(Formal { name: n, pos: fpos, default });
            }
            let body = self.expr(self.child(l.body(), pos)?)?;
            Ok((formals, body))
        })();
        self.scopes.pop();
        let (formals, body) = result?;
        let formals = if has_formals { Some(Formals { entries: self.alloc_slice(formals), ellipsis }) } else { None };
        let lam = self.bump.alloc(LambdaExpr { pos, name, arg, formals, body });
        Ok(self.alloc(Expr::Lambda(lam)))
    }
}

/// A constant string key, if `e` is one.
fn static_key(e: ExprRef) -> Option<Symbol> {
    match e {
        Expr::Const(Value::String(s)) => Some(Symbol::new(&s.to_str_lossy())),
        _ => None,
    }
}

#[allow(dead_code)]
fn nix_string(s: &str) -> NixString {
    NixString::from(s)
}
