//! The syntax tree both front ends produce and [`crate::lower`] consumes.
//!
//! A plain, short-lived tree in a per-file scratch arena: the hand-written parser of this module
//! builds it directly, and the rnix fallback converts its rowan tree into it, so that everything
//! after parsing (attribute merging, scopes, strings, paths, lints) exists once. It keeps exactly
//! what lowering needs, including parentheses (they matter for attribute merging and lambda
//! names). Positions are byte offsets in the file. Names stay text: lowering interns them, in
//! the order it meets them (the order of symbols decides the order of sorted bindings).

pub type Node<'a> = &'a Syn<'a>;

pub enum Syn<'a> {
    /// Integer literal text (lowering reports overflow).
    Int(u32, &'a str),
    Float(u32, &'a str),
    Uri(u32, &'a str),
    Str(u32, &'a Str<'a>),
    /// `./a/${b}`, `/a`, `~/a`: the literal pieces and interpolations, as written.
    Path {
        pos: u32,
        kind: PathKind,
        parts: &'a [Part<'a>],
    },
    /// `<nixpkgs/lib>`: the text between the angle brackets.
    SearchPath(u32, &'a str),
    Ident(u32, &'a str),
    CurPos(u32),
    Paren(u32, Node<'a>),
    Select {
        pos: u32,
        expr: Node<'a>,
        path: &'a [Attr<'a>],
        default: Option<Node<'a>>,
    },
    HasAttr {
        pos: u32,
        expr: Node<'a>,
        path: &'a [Attr<'a>],
    },
    Apply {
        pos: u32,
        func: Node<'a>,
        arg: Node<'a>,
    },
    Lambda {
        pos: u32,
        param: Param<'a>,
        body: Node<'a>,
    },
    LetIn {
        pos: u32,
        entries: &'a [Entry<'a>],
        body: Node<'a>,
    },
    /// `let { ...; body = ...; }`.
    LegacyLet {
        pos: u32,
        entries: &'a [Entry<'a>],
    },
    AttrSet {
        pos: u32,
        rec: bool,
        entries: &'a [Entry<'a>],
    },
    List(u32, &'a [Node<'a>]),
    If {
        pos: u32,
        cond: Node<'a>,
        then: Node<'a>,
        else_: Node<'a>,
    },
    Assert {
        pos: u32,
        cond: Node<'a>,
        body: Node<'a>,
    },
    With {
        pos: u32,
        namespace: Node<'a>,
        body: Node<'a>,
    },
    /// Unary minus.
    Neg(u32, Node<'a>),
    Not(u32, Node<'a>),
    BinOp {
        pos: u32,
        op: Op,
        lhs: Node<'a>,
        rhs: Node<'a>,
    },
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PathKind {
    Abs,
    Rel,
    Home,
}

/// Binary operators, including the pipe operators that lowering rejects.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Bin(crate::ast::BinOp),
    PipeRight,
    PipeLeft,
}

/// A string literal: raw (still escaped) text pieces and interpolations, in source order.
/// Text pieces are never empty.
pub struct Str<'a> {
    pub indented: bool,
    pub parts: &'a [Part<'a>],
}

#[derive(Copy, Clone)]
pub enum Part<'a> {
    Text(&'a str),
    Interp(Node<'a>),
}

/// One element of an attribute path.
#[derive(Copy, Clone)]
pub enum Attr<'a> {
    Ident(u32, &'a str),
    Str(u32, &'a Str<'a>),
    /// `${e}`.
    Dynamic(u32, Node<'a>),
}

impl Attr<'_> {
    pub fn pos(&self) -> u32 {
        match self {
            Attr::Ident(p, _) | Attr::Str(p, _) | Attr::Dynamic(p, _) => *p,
        }
    }
}

#[derive(Copy, Clone)]
pub enum Entry<'a> {
    /// `inherit (from) attrs;` — `from` with the position of its parenthesis.
    Inherit { from: Option<Node<'a>>, attrs: &'a [Attr<'a>] },
    /// `path = value;` at `pos`.
    Value { pos: u32, path: &'a [Attr<'a>], value: Node<'a> },
}

pub enum Param<'a> {
    Ident(&'a str),
    Pattern(&'a Pattern<'a>),
}

pub struct Pattern<'a> {
    pub bind: Option<&'a str>,
    pub entries: &'a [PatEntry<'a>],
    pub ellipsis: bool,
}

#[derive(Copy, Clone)]
pub struct PatEntry<'a> {
    pub pos: u32,
    pub name: &'a str,
    pub default: Option<Node<'a>>,
}

impl Syn<'_> {
    pub fn pos(&self) -> u32 {
        match self {
            Syn::Int(p, _)
            | Syn::Float(p, _)
            | Syn::Uri(p, _)
            | Syn::Str(p, _)
            | Syn::SearchPath(p, _)
            | Syn::Ident(p, _)
            | Syn::CurPos(p)
            | Syn::Paren(p, _)
            | Syn::List(p, _)
            | Syn::Neg(p, _)
            | Syn::Not(p, _) => *p,
            Syn::Path { pos, .. }
            | Syn::Select { pos, .. }
            | Syn::HasAttr { pos, .. }
            | Syn::Apply { pos, .. }
            | Syn::Lambda { pos, .. }
            | Syn::LetIn { pos, .. }
            | Syn::LegacyLet { pos, .. }
            | Syn::AttrSet { pos, .. }
            | Syn::If { pos, .. }
            | Syn::Assert { pos, .. }
            | Syn::With { pos, .. }
            | Syn::BinOp { pos, .. } => *pos,
        }
    }
}
