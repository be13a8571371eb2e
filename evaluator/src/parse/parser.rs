//! The recursive-descent parser over the tokens of [`super::lexer`].
//!
//! Its structure mirrors rnix's parser function by function (the same precedence levels, the
//! same two-token lookahead that tells a lambda pattern from a set, the same treatment of `or`,
//! lambdas in argument position, node start positions), because the lowered AST must be the
//! one rnix gives. Anything unexpected returns `None`: the file is then parsed by rnix. Chains
//! of operators and applications are built in loops; recursion depth is bounded so that
//! garbage input cannot overflow the stack.

use super::lexer::{Token, T};
use super::syntax::*;
use crate::ast::BinOp;
use bumpalo::collections::Vec as BVec;
use bumpalo::Bump;

/// rnix gives up at 512 nested `parse_expr` calls; stay below it.
const MAX_EXPR_DEPTH: u32 = 500;
/// Bound on all recursion (nested brackets, unary operators, `or` defaults).
const MAX_DEPTH: u32 = 2000;
/// Longest attribute path accepted (merging nested paths recurses over it).
const MAX_ATTRPATH: usize = 200;

type P<T> = Option<T>;

pub struct Parser<'a, 't> {
    src: &'a str,
    toks: &'t [Token],
    i: usize,
    bump: &'a Bump,
    expr_depth: u32,
    depth: u32,
}

impl<'a, 't> Parser<'a, 't> {
    pub fn new(src: &'a str, toks: &'t [Token], bump: &'a Bump) -> Self {
        Parser { src, toks, i: 0, bump, expr_depth: 0, depth: 0 }
    }

    /// The whole file: one expression, then the end.
    pub fn file(&mut self) -> P<Node<'a>> {
        let e = self.expr()?;
        (self.peek() == T::Eof).then_some(e)
    }

    fn peek(&self) -> T {
        self.toks[self.i].kind
    }
    fn peek_at(&self, n: usize) -> T {
        self.toks.get(self.i + n).map(|t| t.kind).unwrap_or(T::Eof)
    }
    /// Start offset of the next token.
    fn start(&self) -> u32 {
        self.toks[self.i].start
    }
    fn bump(&mut self) -> Token {
        let t = self.toks[self.i];
        if t.kind != T::Eof {
            self.i += 1;
        }
        t
    }
    fn expect(&mut self, k: T) -> P<Token> {
        (self.peek() == k).then(|| self.bump())
    }
    fn text(&self, t: Token) -> &'a str {
        &self.src[t.start as usize..t.end as usize]
    }
    fn node(&self, s: Syn<'a>) -> Node<'a> {
        self.bump.alloc(s)
    }
    /// A growable vector in the scratch arena (no heap allocation, no copy at the end).
    fn vec<X>(&self) -> BVec<'a, X> {
        BVec::new_in(self.bump)
    }
    fn enter(&mut self) -> P<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }
    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn expr(&mut self) -> P<Node<'a>> {
        self.expr_depth += 1;
        if self.expr_depth > MAX_EXPR_DEPTH {
            return None;
        }
        self.enter()?;
        let r = self.expr_inner();
        self.leave();
        self.expr_depth -= 1;
        r
    }

    fn expr_inner(&mut self) -> P<Node<'a>> {
        let pos = self.start();
        Some(match self.peek() {
            T::KwLet => {
                self.bump();
                if self.expect(T::LBrace).is_some() {
                    let entries = self.set(T::RBrace)?;
                    self.node(Syn::LegacyLet { pos, entries })
                } else {
                    let entries = self.set(T::KwIn)?;
                    let body = self.expr()?;
                    self.node(Syn::LetIn { pos, entries, body })
                }
            }
            T::KwWith => {
                self.bump();
                let namespace = self.expr()?;
                self.expect(T::Semi)?;
                let body = self.expr()?;
                self.node(Syn::With { pos, namespace, body })
            }
            T::KwIf => {
                self.bump();
                let cond = self.expr()?;
                self.expect(T::KwThen)?;
                let then = self.expr()?;
                self.expect(T::KwElse)?;
                let else_ = self.expr()?;
                self.node(Syn::If { pos, cond, then, else_ })
            }
            T::KwAssert => {
                self.bump();
                let cond = self.expr()?;
                self.expect(T::Semi)?;
                let body = self.expr()?;
                self.node(Syn::Assert { pos, cond, body })
            }
            _ => self.implication()?,
        })
    }

    // ---------------------------------------------------------------- operators

    fn bin(&self, pos: u32, op: BinOp, lhs: Node<'a>, rhs: Node<'a>) -> Node<'a> {
        self.node(Syn::BinOp { pos, op: Op::Bin(op), lhs, rhs })
    }

    /// `next (op next)*`, folded to the left.
    fn left(&mut self, next: fn(&mut Self) -> P<Node<'a>>, ops: &[(T, BinOp)]) -> P<Node<'a>> {
        let pos = self.start();
        let mut lhs = next(self)?;
        while let Some(&(_, op)) = ops.iter().find(|(t, _)| *t == self.peek()) {
            self.bump();
            let rhs = next(self)?;
            lhs = self.bin(pos, op, lhs, rhs);
        }
        Some(lhs)
    }

    /// `next (op next)*`, folded to the right; each node starts at its left operand.
    fn right(&mut self, next: fn(&mut Self) -> P<Node<'a>>, tok: T, op: BinOp) -> P<Node<'a>> {
        let pos = self.start();
        let first = next(self)?;
        if self.peek() != tok {
            return Some(first);
        }
        let mut operands = self.vec();
        operands.push((pos, first));
        while self.peek() == tok {
            self.bump();
            let p = self.start();
            operands.push((p, next(self)?));
        }
        let (_, mut acc) = operands.pop()?;
        while let Some((p, lhs)) = operands.pop() {
            acc = self.bin(p, op, lhs, acc);
        }
        Some(acc)
    }

    /// `next (op next)?`.
    fn non_assoc(&mut self, next: fn(&mut Self) -> P<Node<'a>>, ops: &[(T, BinOp)]) -> P<Node<'a>> {
        let pos = self.start();
        let lhs = next(self)?;
        match ops.iter().find(|(t, _)| *t == self.peek()) {
            Some(&(_, op)) => {
                self.bump();
                let rhs = next(self)?;
                Some(self.bin(pos, op, lhs, rhs))
            }
            None => Some(lhs),
        }
    }

    fn implication(&mut self) -> P<Node<'a>> {
        self.right(Self::or, T::Impl, BinOp::Impl)
    }
    fn or(&mut self) -> P<Node<'a>> {
        self.left(Self::and, &[(T::Or, BinOp::Or)])
    }
    fn and(&mut self) -> P<Node<'a>> {
        self.left(Self::equal, &[(T::And, BinOp::And)])
    }
    fn equal(&mut self) -> P<Node<'a>> {
        self.non_assoc(Self::compare, &[(T::Eq, BinOp::Eq), (T::NEq, BinOp::NEq)])
    }
    fn compare(&mut self) -> P<Node<'a>> {
        self.non_assoc(Self::update, &[(T::Lt, BinOp::Lt), (T::Le, BinOp::Le), (T::Gt, BinOp::Gt), (T::Ge, BinOp::Ge)])
    }
    fn update(&mut self) -> P<Node<'a>> {
        self.right(Self::not, T::Update, BinOp::Update)
    }
    fn not(&mut self) -> P<Node<'a>> {
        if self.peek() != T::Not {
            return self.add();
        }
        let pos = self.start();
        self.bump();
        self.enter()?;
        let inner = self.not();
        self.leave();
        Some(self.node(Syn::Not(pos, inner?)))
    }
    fn add(&mut self) -> P<Node<'a>> {
        self.left(Self::mul, &[(T::Add, BinOp::Add), (T::Sub, BinOp::Sub)])
    }
    fn mul(&mut self) -> P<Node<'a>> {
        self.left(Self::concat, &[(T::Mul, BinOp::Mul), (T::Div, BinOp::Div)])
    }
    fn concat(&mut self) -> P<Node<'a>> {
        self.right(Self::has_attr, T::Concat, BinOp::Concat)
    }
    fn has_attr(&mut self) -> P<Node<'a>> {
        let pos = self.start();
        let mut e = self.negate()?;
        while self.expect(T::Question).is_some() {
            let path = self.attrpath()?;
            e = self.node(Syn::HasAttr { pos, expr: e, path });
        }
        Some(e)
    }
    fn negate(&mut self) -> P<Node<'a>> {
        if self.peek() != T::Sub {
            return self.apply();
        }
        let pos = self.start();
        self.bump();
        self.enter()?;
        let inner = self.negate();
        self.leave();
        Some(self.node(Syn::Neg(pos, inner?)))
    }
    fn apply(&mut self) -> P<Node<'a>> {
        let pos = self.start();
        let mut func = self.simple()?;
        while is_fn_arg(self.peek()) {
            let arg = self.simple()?;
            func = self.node(Syn::Apply { pos, func, arg });
        }
        Some(func)
    }

    // ---------------------------------------------------------------- simple expressions

    fn simple(&mut self) -> P<Node<'a>> {
        self.enter()?;
        let r = self.simple_inner();
        self.leave();
        r
    }

    fn simple_inner(&mut self) -> P<Node<'a>> {
        let pos = self.start();
        let e = match self.peek() {
            T::LParen => {
                self.bump();
                let inner = self.expr()?;
                self.expect(T::RParen)?;
                self.node(Syn::Paren(pos, inner))
            }
            T::KwRec => {
                self.bump();
                self.expect(T::LBrace)?;
                let entries = self.set(T::RBrace)?;
                self.node(Syn::AttrSet { pos, rec: true, entries })
            }
            T::LBrace => {
                let pattern = matches!(
                    (self.peek_at(1), self.peek_at(2)),
                    (T::Ident, T::Comma | T::Question | T::RBrace)
                        | (T::Ellipsis, T::RBrace)
                        | (T::RBrace, T::Colon | T::At)
                );
                self.bump();
                if pattern {
                    let pattern = self.pattern(None)?;
                    self.expect(T::Colon)?;
                    let body = self.expr()?;
                    self.node(Syn::Lambda { pos, param: Param::Pattern(pattern), body })
                } else {
                    let entries = self.set(T::RBrace)?;
                    self.node(Syn::AttrSet { pos, rec: false, entries })
                }
            }
            T::LBrack => {
                self.bump();
                let mut items = self.vec();
                while self.peek() != T::RBrack {
                    items.push(self.simple()?);
                }
                self.bump();
                self.node(Syn::List(pos, items.into_bump_slice()))
            }
            T::StrStart => {
                let s = self.string()?;
                self.node(Syn::Str(pos, s))
            }
            T::PathAbs | T::PathRel | T::PathHome => self.path()?,
            T::PathSearch => {
                let t = self.bump();
                let text = self.text(t);
                self.node(Syn::SearchPath(pos, &text[1..text.len() - 1]))
            }
            T::Int => {
                let t = self.bump();
                self.node(Syn::Int(pos, self.text(t)))
            }
            T::Float => {
                let t = self.bump();
                self.node(Syn::Float(pos, self.text(t)))
            }
            T::Uri => {
                let t = self.bump();
                self.node(Syn::Uri(pos, self.text(t)))
            }
            T::Ident => {
                let t = self.bump();
                let text = self.text(t);
                match self.peek() {
                    T::Colon => {
                        self.bump();
                        let body = self.expr()?;
                        self.node(Syn::Lambda { pos, param: Param::Ident(text), body })
                    }
                    T::At => {
                        self.bump();
                        self.expect(T::LBrace)?;
                        let pattern = self.pattern(Some(text))?;
                        self.expect(T::Colon)?;
                        let body = self.expr()?;
                        self.node(Syn::Lambda { pos, param: Param::Pattern(pattern), body })
                    }
                    _ if text == "__curPos" => self.node(Syn::CurPos(pos)),
                    _ => self.node(Syn::Ident(pos, text)),
                }
            }
            _ => return None,
        };
        match self.peek() {
            T::Dot => {
                self.bump();
                let path = self.attrpath()?;
                let default = match self.expect(T::KwOr) {
                    Some(_) => Some(self.simple()?),
                    None => None,
                };
                Some(self.node(Syn::Select { pos, expr: e, path, default }))
            }
            // `f or` applies `f` to a variable named `or` (as rnix and the reference do).
            T::KwOr => {
                let t = self.bump();
                let arg = self.node(Syn::Ident(t.start, "or"));
                Some(self.node(Syn::Apply { pos, func: e, arg }))
            }
            _ => Some(e),
        }
    }

    /// A path literal with its interpolated pieces.
    fn path(&mut self) -> P<Node<'a>> {
        let first = self.bump();
        let kind = match first.kind {
            T::PathAbs => PathKind::Abs,
            T::PathHome => PathKind::Home,
            _ => PathKind::Rel,
        };
        let mut parts = self.vec();
        parts.push(Part::Text(self.text(first)));
        let mut end = first.end;
        loop {
            let t = self.toks[self.i];
            let adjacent = t.start == end;
            match t.kind {
                T::PathSeg if adjacent => {
                    self.bump();
                    parts.push(Part::Text(self.text(t)));
                }
                T::InterpStart if adjacent => {
                    self.bump();
                    let e = self.expr()?;
                    parts.push(Part::Interp(e));
                    self.expect(T::InterpEnd)?;
                }
                // rnix would take these into the path too.
                T::PathAbs | T::PathRel | T::PathHome if adjacent && parts.len() > 1 => return None,
                T::InterpStart if parts.len() == 1 => return None,
                _ => break,
            }
            end = self.toks[self.i - 1].end;
        }
        Some(self.node(Syn::Path { pos: first.start, kind, parts: parts.into_bump_slice() }))
    }

    fn string(&mut self) -> P<&'a Str<'a>> {
        let start = self.bump();
        let indented = self.text(start) == "''";
        let mut parts = self.vec();
        loop {
            match self.peek() {
                T::StrContent => {
                    let t = self.bump();
                    parts.push(Part::Text(self.text(t)));
                }
                T::InterpStart => {
                    self.bump();
                    parts.push(Part::Interp(self.expr()?));
                    self.expect(T::InterpEnd)?;
                }
                T::StrEnd => {
                    self.bump();
                    break;
                }
                _ => return None,
            }
        }
        Some(self.bump.alloc(Str { indented, parts: parts.into_bump_slice() }))
    }

    // ---------------------------------------------------------------- sets and patterns

    fn attr(&mut self) -> P<Attr<'a>> {
        let pos = self.start();
        Some(match self.peek() {
            T::InterpStart => {
                self.bump();
                let e = self.expr()?;
                self.expect(T::InterpEnd)?;
                Attr::Dynamic(pos, e)
            }
            // An indented string is no attribute name (rnix reports it).
            T::StrStart if self.src.as_bytes()[pos as usize] == b'\'' => return None,
            T::StrStart => Attr::Str(pos, self.string()?),
            T::Ident | T::KwOr => {
                let t = self.bump();
                Attr::Ident(pos, self.text(t))
            }
            _ => return None,
        })
    }

    fn attrpath(&mut self) -> P<&'a [Attr<'a>]> {
        let mut path = self.vec();
        path.push(self.attr()?);
        while self.expect(T::Dot).is_some() {
            path.push(self.attr()?);
            if path.len() > MAX_ATTRPATH {
                return None;
            }
        }
        Some(path.into_bump_slice())
    }

    /// Entries up to and including `until` (`}` or `in`).
    fn set(&mut self, until: T) -> P<&'a [Entry<'a>]> {
        let mut entries = self.vec();
        loop {
            match self.peek() {
                T::Eof => return None,
                k if k == until => {
                    self.bump();
                    break;
                }
                T::KwInherit => {
                    self.bump();
                    let from = match self.expect(T::LParen) {
                        Some(_) => {
                            let e = self.expr()?;
                            self.expect(T::RParen)?;
                            Some(e)
                        }
                        None => None,
                    };
                    let mut attrs = self.vec();
                    while self.peek() != T::Semi {
                        attrs.push(self.attr()?);
                    }
                    self.bump();
                    entries.push(Entry::Inherit { from, attrs: attrs.into_bump_slice() });
                }
                _ => {
                    let pos = self.start();
                    let path = self.attrpath()?;
                    self.expect(T::Assign)?;
                    let value = self.expr()?;
                    self.expect(T::Semi)?;
                    entries.push(Entry::Value { pos, path, value });
                }
            }
        }
        Some(entries.into_bump_slice())
    }

    /// A lambda pattern after its `{`, and a following `@ name` unless `bind` is given.
    fn pattern(&mut self, bind: Option<&'a str>) -> P<&'a Pattern<'a>> {
        let mut entries = self.vec();
        let mut ellipsis = false;
        loop {
            match self.peek() {
                T::RBrace => {
                    self.bump();
                    break;
                }
                T::Ellipsis => {
                    self.bump();
                    ellipsis = true;
                    self.expect(T::RBrace)?;
                    break;
                }
                T::Ident => {
                    let t = self.bump();
                    let name = self.text(t);
                    let default = match self.expect(T::Question) {
                        Some(_) => Some(self.expr()?),
                        None => None,
                    };
                    entries.push(PatEntry { pos: t.start, name, default });
                    if self.expect(T::Comma).is_none() {
                        self.expect(T::RBrace)?;
                        break;
                    }
                }
                _ => return None,
            }
        }
        let bind = match (bind, self.peek()) {
            (Some(_), T::At) => return None,
            (None, T::At) => {
                self.bump();
                let t = self.expect(T::Ident)?;
                Some(self.text(t))
            }
            (b, _) => b,
        };
        Some(self.bump.alloc(Pattern { bind, entries: entries.into_bump_slice(), ellipsis }))
    }
}

fn is_fn_arg(t: T) -> bool {
    matches!(
        t,
        T::KwRec
            | T::LBrace
            | T::LBrack
            | T::LParen
            | T::StrStart
            | T::Ident
            | T::Int
            | T::Float
            | T::Uri
            | T::PathAbs
            | T::PathRel
            | T::PathHome
            | T::PathSearch
    )
}
