//! Lowering: the syntax tree of [`crate::parse::syntax`] to the arena AST of [`crate::ast`].
//!
//! Two front ends produce the syntax tree: the hand-written parser of [`crate::parse`] (fast,
//! accepts valid files only) and rnix ([`from_rnix`], used whenever the fast parser gives up, so
//! every diagnostic is rnix's as before). One pass over the tree then does what a parser leaves
//! to its users: it merges nested attribute paths (`a.b = 1; a.c = 2;`), rejects duplicate
//! attributes and formals and undefined variables (as the reference does at parse time), anchors
//! path literals to the file's directory, and resolves every variable to a slot (see [`scope`]).

mod attrs;
mod dump;
mod from_rnix;
mod literal;
mod nesting;
mod scope;
mod strings;

pub use dump::dump;
pub use strings::canon_path;

use crate::ast::*;
use crate::parse::syntax::{Node, Op, Param, Syn};
use crate::source::{FileId, Pos};
use crate::symbol::{sym, Symbol};
use crate::value::Value;
use bumpalo::Bump;
use rustc_hash::FxHashMap;
use scope::{Resolved, Scopes};
use std::cell::RefCell;
use std::path::Path;

/// Capacity of the syntax-tree arena kept from one file to the next (the trees of nearly
/// all files fit; bigger ones are parsed into fresh chunks that are freed afterwards).
const SCRATCH_KEPT: usize = 4 << 20;

thread_local! {
    /// One arena for the ASTs of all files: they live as long as the evaluation, and sharing
    /// the arena's chunks wastes less than one arena per file.
    static ARENA: &'static Bump = Box::leak(Box::new(Bump::new()));
    /// The syntax tree of the file being lowered; reset for each file.
    static SCRATCH: RefCell<Bump> = RefCell::new(Bump::new());
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
    /// Names bound in the outermost environment (`scopedImport`), slot `i` is `names[i]`.
    pub outer_names: &'a [Symbol],
    /// `--lint-*` settings: (lint name, "warn" | "fatal").
    pub lints: &'a [(String, String)],
}

/// Which parser builds the syntax tree.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FrontEnd {
    /// The hand-written parser; fails without a diagnostic on anything it does not handle.
    Fast,
    /// rnix, with its diagnostics.
    Rnix,
}

struct Lowerer<'a> {
    bump: &'static Bump,
    /// The file's first position (see [`Pos`]).
    base: u32,
    ctx: &'a LowerCtx<'a>,
    scopes: Scopes,
    /// Current nesting of [`Lowerer::expr_named`] and its limit: trees from the fast parser
    /// that nest deeper go to rnix instead, so lowering never runs out of stack on them.
    depth: u32,
    max_depth: u32,
    /// While a literal set is merged into an attribute defined earlier (`a.b = 1; a = { … };`),
    /// the path of that attribute, which duplicate-attribute errors show in front.
    merge_prefix: Vec<String>,
    /// Scratch buffer for the text runs of string literals (see `strings.rs`).
    lit: String,
    /// `ctx.base_dir` made canonical, when a relative path literal first needs it.
    base_dir: std::cell::OnceCell<String>,
}

/// Deepest tree from the fast parser that is lowered (deeper ones take the rnix path).
const FAST_MAX_DEPTH: u32 = 3000;

type LResult<T> = Result<T, ParseError>;

/// Parse `text` and lower it. Errors carry the reference's wording where we can produce it.
///
/// The fast parser is tried first; on any failure (or with `--lint-*` set, whose warnings must
/// be printed once) the file goes through rnix, which reports the error.
pub fn parse_and_lower(text: &str, file: FileId, ctx: &LowerCtx) -> LResult<ExprRef> {
    if ctx.lints.is_empty() {
        if let Ok(e) = parse_and_lower_with(text, file, ctx, FrontEnd::Fast) {
            return Ok(e);
        }
    }
    parse_and_lower_with(text, file, ctx, FrontEnd::Rnix)
}

/// [`parse_and_lower`] with a given front end (the differential test compares both). With
/// [`FrontEnd::Fast`], a file the fast parser does not handle gives an error without position.
pub fn parse_and_lower_with(text: &str, file: FileId, ctx: &LowerCtx, front: FrontEnd) -> LResult<ExprRef> {
    // The reference's parser stack holds about 5000 nested brackets; deeper input fails there
    // with this message (and rowan's node cache would be quadratic on it). The fast parser
    // accepts far less nesting, so the (heuristic) scan is only needed before rnix.
    if front == FrontEnd::Rnix {
        if let Some(offset) = nesting::too_deep(text.as_bytes()) {
            return Err(ParseError { pos: Pos::new(file, offset), msg: "memory exhausted".into() });
        }
    }
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => {
            scratch.reset();
            let lowered = lower_file(text, file, ctx, front, &scratch);
            // The syntax tree of a big file (nixpkgs' `all-packages.nix`: 11 MiB) would keep
            // its pages for the rest of the evaluation; freed, the allocator reuses them.
            if scratch.allocated_bytes() > SCRATCH_KEPT {
                *scratch = Bump::new();
            }
            lowered
        }
        Err(_) => lower_file(text, file, ctx, front, &Bump::new()),
    })
}

fn lower_file(text: &str, file: FileId, ctx: &LowerCtx, front: FrontEnd, scratch: &Bump) -> LResult<ExprRef> {
    let root = match front {
        FrontEnd::Fast => match crate::parse::parse(text, scratch) {
            Some(root) => root,
            None => return Err(ParseError { pos: Pos::NONE, msg: "not handled by the fast parser".into() }),
        },
        FrontEnd::Rnix => from_rnix::parse(text, file, scratch)?,
    };
    let bump: &'static Bump = ARENA.with(|a| *a);
    let max_depth = if front == FrontEnd::Fast { FAST_MAX_DEPTH } else { u32::MAX };
    let mut l = Lowerer {
        bump,
        base: crate::source::file_base(file),
        ctx,
        scopes: Scopes::new(),
        depth: 0,
        max_depth,
        merge_prefix: Vec::new(),
        lit: String::new(),
        base_dir: std::cell::OnceCell::new(),
    };
    if !ctx.outer_names.is_empty() {
        l.scopes.push_names(ctx.outer_names.iter().copied());
    }
    l.expr(root)
}

impl<'a> Lowerer<'a> {
    fn pos(&self, offset: u32) -> Pos {
        Pos::in_file(self.base, offset)
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

    fn expr(&mut self, e: Node) -> LResult<ExprRef> {
        self.expr_named(e, None)
    }

    /// Lower `e`; `name` is the attribute it is bound to (lambdas remember it for traces).
    fn expr_named(&mut self, e: Node, name: Option<Symbol>) -> LResult<ExprRef> {
        if self.depth >= self.max_depth {
            return self.err(Pos::NONE, "expression nested too deeply for the fast parser");
        }
        self.depth += 1;
        let r = self.expr_inner(e, name);
        self.depth -= 1;
        r
    }

    fn expr_inner(&mut self, e: Node, name: Option<Symbol>) -> LResult<ExprRef> {
        let pos = self.pos(e.pos());
        Ok(match e {
            Syn::Paren(_, inner) => return self.expr_named(inner, name),
            Syn::Int(_, text) => match text.parse::<i64>() {
                Ok(v) => self.konst(Value::Int(v)),
                Err(_) => return self.err(pos, format!("invalid integer '{}'", text)),
            },
            Syn::Float(_, text) => match text.parse::<f64>() {
                Ok(v) => self.konst(Value::Float(v)),
                Err(_) => return self.err(pos, format!("invalid float '{}'", text)),
            },
            Syn::Uri(_, text) => {
                self.lint(
                    "url-literals",
                    pos,
                    format!("URL literals are disallowed. Consider using a string literal \"{}\" instead", text),
                )?;
                self.konst(Value::string(text.to_string()))
            }
            Syn::Str(_, s) => self.string(s, pos)?,
            Syn::Path { kind, parts, .. } => self.path(*kind, parts, pos)?,
            Syn::SearchPath(_, inner) => self.search_path(inner, pos)?,
            Syn::Ident(_, name) => self.alloc(Expr::Var(self.var(Symbol::new(name), pos, 0)?)),
            Syn::CurPos(_) => self.alloc(Expr::CurPos(pos)),
            Syn::Select { expr, path, default, .. } => {
                let inner = self.expr(expr)?;
                let path = self.attrpath(path)?;
                let default = match default {
                    Some(d) => Some(self.expr(d)?),
                    None => None,
                };
                // Errors point at the start of the whole select, as the reference's.
                self.alloc(Expr::Select { pos, expr: inner, path, default })
            }
            Syn::HasAttr { expr, path, .. } => {
                let inner = self.expr(expr)?;
                let path = self.attrpath(path)?;
                self.alloc(Expr::HasAttr { pos, expr: inner, path })
            }
            Syn::Apply { .. } => {
                // Flatten `f a b c` into one application with three arguments.
                let mut args = Vec::with_capacity(4);
                let mut cur = e;
                while let Syn::Apply { func, arg, .. } = cur {
                    args.push(*arg);
                    cur = func;
                }
                let func = self.expr(cur)?;
                let mut lowered = Vec::with_capacity(args.len());
                for a in args.into_iter().rev() {
                    lowered.push(self.expr(a)?);
                }
                self.alloc(Expr::Apply { pos, func, args: self.alloc_slice(lowered) })
            }
            Syn::Lambda { param, body, .. } => self.lambda(param, body, pos, name)?,
            Syn::LetIn { entries, body, .. } => self.let_in(entries, body, pos)?,
            Syn::LegacyLet { entries, .. } => {
                // `let { a = 1; body = a; }` is `rec { ... }.body`.
                let set = self.attrset(entries, pos, true)?;
                self.alloc(Expr::Select {
                    pos,
                    expr: set,
                    path: self.alloc_slice(vec![AttrKey::Static(sym::BODY, Hint::default())]),
                    default: None,
                })
            }
            Syn::AttrSet { rec, entries, .. } => self.attrset(entries, pos, *rec)?,
            Syn::List(_, items) => {
                let mut out = Vec::with_capacity(items.len());
                for it in items.iter() {
                    out.push(self.expr(it)?);
                }
                self.alloc(Expr::List(self.alloc_slice(out)))
            }
            Syn::If { cond, then, else_, .. } => {
                let cond = self.expr(cond)?;
                let then = self.expr(then)?;
                let else_ = self.expr(else_)?;
                self.alloc(Expr::If { pos, cond, then, else_ })
            }
            Syn::Assert { cond, body, .. } => {
                let cond = self.expr(cond)?;
                let body = self.expr(body)?;
                self.alloc(Expr::Assert { pos, cond, body })
            }
            Syn::With { namespace, body, .. } => {
                let namespace = self.expr(namespace)?;
                self.scopes.push_with();
                let body = self.expr(body);
                self.scopes.pop();
                self.alloc(Expr::With { pos, namespace, body: body? })
            }
            Syn::Not(_, inner) => {
                let inner = self.expr(inner)?;
                self.alloc(Expr::Not { pos, expr: inner })
            }
            Syn::Neg(_, inner) => {
                let inner = self.expr(inner)?;
                let zero = self.konst(Value::Int(0));
                self.binop(pos, BinOp::Sub, zero, inner, pos)?
            }
            Syn::BinOp { op, lhs, rhs, .. } => {
                let rhs_pos = self.pos(rhs.pos());
                let lhs = self.expr(lhs)?;
                let rhs = self.expr(rhs)?;
                match op {
                    Op::Bin(op) => self.binop(pos, *op, lhs, rhs, rhs_pos)?,
                    Op::PipeRight | Op::PipeLeft => {
                        return self.err(pos, "experimental Nix feature 'pipe-operators' is disabled; add '--extra-experimental-features pipe-operators' to enable it")
                    }
                }
            }
        })
    }

    /// Arithmetic and comparison go through `__sub`, `__lessThan`... when the program binds
    /// those names itself, as the reference desugars them.
    fn binop(&mut self, pos: Pos, op: BinOp, lhs: ExprRef, rhs: ExprRef, rhs_pos: Pos) -> LResult<ExprRef> {
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
                let call = |l: &mut Self, a: ExprRef, b: ExprRef| {
                    l.alloc(Expr::Apply { pos, func: f, args: l.alloc_slice(vec![a, b]) })
                };
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
        Ok(self.alloc(Expr::BinOp { pos, op, lhs, rhs, rhs_pos }))
    }

    /// Report a `--lint-*` finding: a warning on stderr, or with "fatal" a parse error.
    fn lint(&self, name: &str, pos: Pos, msg: String) -> LResult<()> {
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

    /// Resolve a variable, looking `skip` scopes outward.
    fn var(&self, name: Symbol, pos: Pos, skip: usize) -> LResult<Var> {
        match self.scopes.resolve(name, skip) {
            Resolved::Local { depth, slot } => Ok(Var::Local { pos, name, depth, slot }),
            r => {
                if let Some(&index) = self.ctx.globals.get(&name) {
                    return Ok(Var::Global { pos, name, index });
                }
                match r {
                    Resolved::With => {
                        let levels = self.bump.alloc_slice_fill_iter(
                            self.scopes.with_depths(skip).map(|depth| WithLevel { depth, hint: Hint::default() }),
                        );
                        Ok(Var::With { pos, name, levels })
                    }
                    _ => self.err(pos, format!("undefined variable '{}'", name)),
                }
            }
        }
    }

    fn lambda(&mut self, param: &Param, body: Node, pos: Pos, name: Option<Symbol>) -> LResult<ExprRef> {
        let (arg, pattern) = match param {
            Param::Ident(a) => (Some(Symbol::new(a)), None),
            Param::Pattern(p) => (p.bind.map(Symbol::new), Some(*p)),
        };
        let mut names: Vec<Symbol> = Vec::with_capacity(1 + pattern.map_or(0, |p| p.entries.len()));
        if let Some(a) = arg {
            names.push(a);
        }
        let first_formal = names.len();
        if let Some(p) = pattern {
            for entry in p.entries {
                let n = Symbol::new(entry.name);
                if names[first_formal..].contains(&n) {
                    return self.err(self.pos(entry.pos), format!("duplicate formal function argument '{}'", n));
                }
                names.push(n);
            }
            // The `@` name among the formals: reported at the function, after the above.
            if let Some(a) = arg.filter(|a| names[first_formal..].contains(a)) {
                return self.err(pos, format!("duplicate formal function argument '{}'", a));
            }
        }
        self.scopes.push_names(names.iter().copied());
        let formal_names = &names[first_formal..];
        let result = (|| {
            let mut formals = Vec::with_capacity(formal_names.len());
            for (i, entry) in pattern.map(|p| p.entries).unwrap_or(&[]).iter().enumerate() {
                let default = match entry.default {
                    Some(d) => Some(self.expr(d)?),
                    None => None,
                };
                formals.push(Formal { name: formal_names[i], pos: self.pos(entry.pos), default });
            }
            let body = self.expr(body)?;
            Ok((formals, body))
        })();
        self.scopes.pop();
        let (formals, body) = result?;
        let formals = pattern.map(|p| Formals { entries: self.alloc_slice(formals), ellipsis: p.ellipsis });
        let lam = self.bump.alloc(LambdaExpr { pos, name, arg, formals, body });
        Ok(self.alloc(Expr::Lambda(lam)))
    }
}

#[cfg(test)]
mod scratch_tests {
    use super::*;

    fn lower(text: &str) {
        let globals = FxHashMap::default();
        let ctx = LowerCtx { globals: &globals, base_dir: Path::new("/"), home: None, outer_names: &[], lints: &[] };
        let file = crate::source::add_source(crate::source::Origin::String, std::sync::Arc::from(text));
        parse_and_lower(text, file, &ctx).expect("lowers");
    }

    fn scratch_capacity() -> usize {
        SCRATCH.with(|s| s.borrow().allocated_bytes())
    }

    /// The syntax tree of a big file does not keep its arena past the file; a small file's
    /// arena is kept for the next one.
    #[test]
    fn a_big_files_syntax_tree_is_freed_after_it() {
        let big = format!("[ {} ]", "{ a = 1; b = [ 2 3 ]; c = \"x${\"4\"}\"; } ".repeat(100_000));
        lower(&big);
        assert!(scratch_capacity() <= SCRATCH_KEPT, "{} bytes kept", scratch_capacity());
        lower("{ a = 1; }");
        let kept = scratch_capacity();
        assert!(kept > 0 && kept <= SCRATCH_KEPT);
        lower("{ b = 2; }");
        assert_eq!(scratch_capacity(), kept, "a small file's arena is reused");
    }
}
