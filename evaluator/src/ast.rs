//! The lowered AST the evaluator walks.
//!
//! Produced once per file by `lower` from the rnix tree; nodes live in a leaked `bumpalo` arena
//! (parsed files stay alive for the whole evaluation anyway), so every node is `&'static` and
//! closures and thunks can point into the tree without lifetimes spreading through the crate.
//! Variables are already resolved: a local is `(depth, slot)` in the environment chain, a global
//! is an index into the base environment, and only names under a `with` are looked up by name.

use crate::source::Pos;
use crate::symbol::Symbol;
use crate::value::Value;

pub type ExprRef = &'static Expr;

pub enum Expr {
    /// Literals, including path literals already made absolute.
    Const(Value),
    Var(Var),
    Select {
        pos: Pos,
        expr: ExprRef,
        path: &'static [AttrKey],
        default: Option<ExprRef>,
    },
    HasAttr {
        pos: Pos,
        expr: ExprRef,
        path: &'static [AttrKey],
    },
    Attrs(&'static AttrsExpr),
    Let(&'static LetExpr),
    List(&'static [ExprRef]),
    Lambda(&'static LambdaExpr),
    Apply {
        pos: Pos,
        func: ExprRef,
        args: &'static [ExprRef],
    },
    If {
        pos: Pos,
        cond: ExprRef,
        then: ExprRef,
        else_: ExprRef,
    },
    Assert {
        pos: Pos,
        cond: ExprRef,
        body: ExprRef,
    },
    With {
        pos: Pos,
        namespace: ExprRef,
        body: ExprRef,
    },
    BinOp {
        pos: Pos,
        op: BinOp,
        lhs: ExprRef,
        rhs: ExprRef,
        /// Where the right operand starts: the reference reports the errors of `+` about an
        /// operand there (`1 + "a"`: under `"a"`), and constants carry no position.
        rhs_pos: Pos,
    },
    Not {
        pos: Pos,
        expr: ExprRef,
    },
    /// String or path interpolation: `"a${b}c"`, `./a/${b}`.
    Interp {
        pos: Pos,
        parts: &'static [ExprRef],
        is_path: bool,
    },
    CurPos(Pos),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Concat,
    Update,
    Eq,
    NEq,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Impl,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Concat => "++",
            BinOp::Update => "//",
            BinOp::Eq => "==",
            BinOp::NEq => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "&&",
            BinOp::Or => "||",
            BinOp::Impl => "->",
        }
    }
}

pub enum Var {
    /// Bound by an enclosing `let`, `rec`, lambda or inherit-from: `depth` environments up.
    Local { pos: Pos, name: Symbol, depth: u32, slot: u32 },
    /// A builtin of the base environment (`map`, `true`, `builtins`...).
    Global { pos: Pos, name: Symbol, index: u32 },
    /// Not bound lexically: looked up in the enclosing `with` namespaces, innermost first.
    /// `levels` are the distances to the `with` environments (increasing), each with its
    /// own hint.
    With { pos: Pos, name: Symbol, levels: &'static [WithLevel] },
}

impl Var {
    pub fn pos(&self) -> Pos {
        match self {
            Var::Local { pos, .. } | Var::Global { pos, .. } | Var::With { pos, .. } => *pos,
        }
    }
    pub fn name(&self) -> Symbol {
        match self {
            Var::Local { name, .. } | Var::Global { name, .. } | Var::With { name, .. } => *name,
        }
    }
}

pub enum AttrKey {
    /// A name, with the index where it was found last time (see [`Hint`]).
    Static(Symbol, Hint),
    Dynamic(ExprRef),
}

/// Where a name was found in the attribute set the last time this site looked it up.
///
/// The same selection site (`lib.mkOption`, `config.services.x.enable`) mostly sees the
/// same set or sets of the same shape, so trying that index first replaces a binary
/// search (a cache miss per probe in big sets) by one comparison. Only a hint: it is
/// checked against the name every time.
#[derive(Default)]
pub struct Hint(std::cell::Cell<u32>);

impl Hint {
    #[inline]
    pub fn get(&self) -> usize {
        self.0.get() as usize
    }
    #[inline]
    pub fn set(&self, i: usize) {
        self.0.set(i as u32)
    }
}

/// One `with` namespace a [`Var::With`] looks in: how many environments up it is, and
/// where the name was found in it (or, when it was missing, where it would go) the last
/// time. Each namespace keeps its own hint: the same name is usually missing from the
/// inner namespaces (`with cfg;` inside `with lib;`) and found in the same outer one, and
/// a hint shared by all of them was wrong for every namespace but the last.
pub struct WithLevel {
    /// Environments up from the variable's own (the `with` namespace is slot 0 there).
    pub depth: u32,
    /// See [`Hint`]: the index of the name in this namespace, or its insertion point.
    pub hint: Hint,
}

/// One attribute definition.
pub struct Binding {
    pub name: Symbol,
    pub pos: Pos,
    pub value: ExprRef,
    /// `inherit x;` in a `rec` set or `let`: the value is looked up outside this scope.
    pub inherited: bool,
}

pub struct DynamicBinding {
    pub pos: Pos,
    pub key: ExprRef,
    pub value: ExprRef,
}

/// `{ ... }` and `rec { ... }`. Static bindings are sorted by symbol.
///
/// A `rec` set, and a plain set with `inherit (e)` sources, evaluate their values in a new
/// environment whose slots are the static bindings (rec only) followed by the inherit sources.
pub struct AttrsExpr {
    pub pos: Pos,
    pub rec: bool,
    pub bindings: &'static [Binding],
    pub dynamic: &'static [DynamicBinding],
    /// The `e` of each `inherit (e) ...`, evaluated once in the new environment.
    pub inherit_from: &'static [ExprRef],
    /// Whether this set's values live in a new environment (rec, or any inherit-from).
    pub has_env: bool,
}

/// `let ... in body`: slots are the bindings in order, then the inherit sources.
pub struct LetExpr {
    pub pos: Pos,
    pub bindings: &'static [Binding],
    pub inherit_from: &'static [ExprRef],
    pub body: ExprRef,
}

pub struct LambdaExpr {
    pub pos: Pos,
    /// The name it was bound to (`f = x: ...`), for traces: "while calling 'f'".
    pub name: Option<Symbol>,
    /// `x: ...` or the `@x` of a pattern: slot 0 when present.
    pub arg: Option<Symbol>,
    pub formals: Option<Formals>,
    pub body: ExprRef,
}

pub struct Formals {
    /// In source order; each occupies the next slot after `arg`.
    pub entries: &'static [Formal],
    pub ellipsis: bool,
}

pub struct Formal {
    pub name: Symbol,
    pub pos: Pos,
    pub default: Option<ExprRef>,
}

impl Expr {
    pub fn pos(&self) -> Pos {
        match self {
            Expr::Const(_) => Pos::NONE,
            Expr::Var(v) => v.pos(),
            Expr::Select { pos, .. }
            | Expr::HasAttr { pos, .. }
            | Expr::Apply { pos, .. }
            | Expr::If { pos, .. }
            | Expr::Assert { pos, .. }
            | Expr::With { pos, .. }
            | Expr::BinOp { pos, .. }
            | Expr::Not { pos, .. }
            | Expr::Interp { pos, .. }
            | Expr::CurPos(pos) => *pos,
            Expr::Attrs(a) => a.pos,
            Expr::Let(l) => l.pos,
            Expr::List(_) => Pos::NONE,
            Expr::Lambda(l) => l.pos,
        }
    }
}
