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
    // Scratch stacks for the items of lists, sets, paths, strings and patterns being parsed:
    // a construct pushes its items, then moves them into the arena at their final size
    // (growing a vector in the arena copied and wasted memory on every doubling). Nested
    // constructs push above and take their items off before the outer one continues.
    nodes: Vec<Node<'a>>,
    attrs: Vec<Attr<'a>>,
    entries: Vec<Entry<'a>>,
    parts: Vec<Part<'a>>,
    pats: Vec<PatEntry<'a>>,
}

/// Move `stack[start..]` into the arena.
fn take<'a, X: Copy>(bump: &'a Bump, stack: &mut Vec<X>, start: usize) -> &'a [X] {
    let items = bump.alloc_slice_copy(&stack[start..]);
    stack.truncate(start);
    items
}

impl<'a, 't> Parser<'a, 't> {
    pub fn new(src: &'a str, toks: &'t [Token], bump: &'a Bump) -> Self {
        Parser {
            src,
            toks,
            i: 0,
            bump,
            expr_depth: 0,
            depth: 0,
            nodes: Vec::with_capacity(64),
            attrs: Vec::with_capacity(64),
            entries: Vec::with_capacity(64),
            parts: Vec::with_capacity(64),
            pats: Vec::with_capacity(64),
        }
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
            _ => self.binary(L_IMPL)?,
        })
    }

    // ---------------------------------------------------------------- operators

    fn bin(&self, pos: u32, op: BinOp, lhs: Node<'a>, rhs: Node<'a>) -> Node<'a> {
        self.node(Syn::BinOp { pos, op: Op::Bin(op), lhs, rhs })
    }

    /// An expression of operators of level `min` and tighter (see [`level`]), by precedence
    /// climbing: one call per operand instead of one per precedence level, as rnix's
    /// function-per-level descent (which this replaces and whose trees it builds: every node
    /// starts at its left operand, `!` and unary `-` bind as there, a second operator of a
    /// non-associative level gives up).
    fn binary(&mut self, min: u8) -> P<Node<'a>> {
        let pos = self.start();
        let mut lhs = if self.peek() == T::Not {
            // `!` takes an operand of the levels above it, and only where its level is allowed.
            if min > L_NOT {
                return None;
            }
            self.bump();
            self.enter()?;
            let inner = self.binary(L_NOT);
            self.leave();
            self.node(Syn::Not(pos, inner?))
        } else {
            self.negate()?
        };
        // The level of the last non-associative operator applied at this level.
        let mut non_assoc = 0;
        loop {
            let t = self.peek();
            if t == T::Question {
                // Always allowed here: no caller asks for more than `?`'s level.
                self.bump();
                let path = self.attrpath()?;
                lhs = self.node(Syn::HasAttr { pos, expr: lhs, path });
                continue;
            }
            let Some((lvl, op, assoc)) = level(t) else { break };
            if lvl < min {
                break;
            }
            if lvl == non_assoc {
                return None;
            }
            self.bump();
            match assoc {
                Assoc::Left | Assoc::Non => {
                    let rhs = self.binary(lvl + 1)?;
                    lhs = self.bin(pos, op, lhs, rhs);
                    non_assoc = if assoc == Assoc::Non { lvl } else { 0 };
                }
                Assoc::Right => {
                    // A chain `a op b op c` folds to the right, each node starting at its
                    // left operand; collected in a loop, so long chains take no stack.
                    let mut operands = self.vec();
                    operands.push((pos, lhs));
                    loop {
                        let p = self.start();
                        operands.push((p, self.binary(lvl + 1)?));
                        if self.peek() != t {
                            break;
                        }
                        self.bump();
                    }
                    let (_, mut acc) = operands.pop()?;
                    while let Some((p, l)) = operands.pop() {
                        acc = self.bin(p, op, l, acc);
                    }
                    lhs = acc;
                    non_assoc = 0;
                }
            }
        }
        Some(lhs)
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
                let start = self.nodes.len();
                while self.peek() != T::RBrack {
                    let item = self.simple()?;
                    self.nodes.push(item);
                }
                self.bump();
                let items = take(self.bump, &mut self.nodes, start);
                self.node(Syn::List(pos, items))
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
        let start = self.parts.len();
        self.parts.push(Part::Text(self.text(first)));
        let mut end = first.end;
        loop {
            let t = self.toks[self.i];
            let adjacent = t.start == end;
            match t.kind {
                T::PathSeg if adjacent => {
                    self.bump();
                    self.parts.push(Part::Text(self.text(t)));
                }
                T::InterpStart if adjacent => {
                    self.bump();
                    let e = self.expr()?;
                    self.parts.push(Part::Interp(e));
                    self.expect(T::InterpEnd)?;
                }
                // rnix would take these into the path too.
                T::PathAbs | T::PathRel | T::PathHome if adjacent && self.parts.len() - start > 1 => return None,
                T::InterpStart if self.parts.len() - start == 1 => return None,
                _ => break,
            }
            end = self.toks[self.i - 1].end;
        }
        let parts = take(self.bump, &mut self.parts, start);
        Some(self.node(Syn::Path { pos: first.start, kind, parts }))
    }

    fn string(&mut self) -> P<&'a Str<'a>> {
        let start = self.bump();
        let indented = self.text(start) == "''";
        let first = self.parts.len();
        loop {
            match self.peek() {
                T::StrContent => {
                    let t = self.bump();
                    self.parts.push(Part::Text(self.text(t)));
                }
                T::InterpStart => {
                    self.bump();
                    let e = self.expr()?;
                    self.parts.push(Part::Interp(e));
                    self.expect(T::InterpEnd)?;
                }
                T::StrEnd => {
                    self.bump();
                    break;
                }
                _ => return None,
            }
        }
        let parts = take(self.bump, &mut self.parts, first);
        Some(self.bump.alloc(Str { indented, parts }))
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
        let start = self.attrs.len();
        let a = self.attr()?;
        self.attrs.push(a);
        while self.expect(T::Dot).is_some() {
            let a = self.attr()?;
            self.attrs.push(a);
            if self.attrs.len() - start > MAX_ATTRPATH {
                return None;
            }
        }
        Some(take(self.bump, &mut self.attrs, start))
    }

    /// Entries up to and including `until` (`}` or `in`).
    fn set(&mut self, until: T) -> P<&'a [Entry<'a>]> {
        let start = self.entries.len();
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
                    let first = self.attrs.len();
                    while self.peek() != T::Semi {
                        let a = self.attr()?;
                        self.attrs.push(a);
                    }
                    self.bump();
                    let attrs = take(self.bump, &mut self.attrs, first);
                    self.entries.push(Entry::Inherit { from, attrs });
                }
                _ => {
                    let pos = self.start();
                    let path = self.attrpath()?;
                    self.expect(T::Assign)?;
                    let value = self.expr()?;
                    self.expect(T::Semi)?;
                    self.entries.push(Entry::Value { pos, path, value });
                }
            }
        }
        Some(take(self.bump, &mut self.entries, start))
    }

    /// A lambda pattern after its `{`, and a following `@ name` unless `bind` is given.
    fn pattern(&mut self, bind: Option<&'a str>) -> P<&'a Pattern<'a>> {
        let start = self.pats.len();
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
                    self.pats.push(PatEntry { pos: t.start, name, default });
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
        let entries = take(self.bump, &mut self.pats, start);
        Some(self.bump.alloc(Pattern { bind, entries, ellipsis }))
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

/// Binding levels of the operators, loosest first, as in rnix's grammar.
const L_IMPL: u8 = 1;
/// `!` binds between `//` and `+`.
const L_NOT: u8 = 7;

#[derive(Copy, Clone, PartialEq, Eq)]
enum Assoc {
    Left,
    Right,
    Non,
}

/// Level, operator and associativity of a binary operator token (`?` is handled apart).
fn level(t: T) -> Option<(u8, BinOp, Assoc)> {
    use Assoc::*;
    Some(match t {
        T::Impl => (L_IMPL, BinOp::Impl, Right),
        T::Or => (2, BinOp::Or, Left),
        T::And => (3, BinOp::And, Left),
        T::Eq => (4, BinOp::Eq, Non),
        T::NEq => (4, BinOp::NEq, Non),
        T::Lt => (5, BinOp::Lt, Non),
        T::Le => (5, BinOp::Le, Non),
        T::Gt => (5, BinOp::Gt, Non),
        T::Ge => (5, BinOp::Ge, Non),
        T::Update => (6, BinOp::Update, Right),
        T::Add => (8, BinOp::Add, Left),
        T::Sub => (8, BinOp::Sub, Left),
        T::Mul => (9, BinOp::Mul, Left),
        T::Div => (9, BinOp::Div, Left),
        T::Concat => (10, BinOp::Concat, Right),
        _ => return None,
    })
}
