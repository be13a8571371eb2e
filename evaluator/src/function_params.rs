//! What other crates may know of a Nix function: its position and its parameters as
//! written (`x: …`, `{ a, b ? 1, ... }: …`, `{ a } @ x: …`).
//!
//! The syntax tree stays private to this crate; `functionArgs`, `toXML`, auto-calling
//! (`--arg`, `nix-build`'s `{ pkgs ? … }:`), a flake's `outputs` inputs and `flake check`'s
//! overlay test need only these facts, so they get them through [`Closure`]'s methods here.

use crate::ast::{Expr, Formal};
use crate::source::Pos;
use crate::symbol::Symbol;
use crate::value::Closure;

/// One named parameter of a pattern (`{ a, b ? 1 }`).
#[derive(Clone, Copy, Debug)]
pub struct FormalParam {
    /// The parameter's name.
    pub name: Symbol,
    /// Where the name is written.
    pub pos: Pos,
    /// Whether it has a default (`b ? 1`): `builtins.functionArgs` reports this.
    pub has_default: bool,
}

/// A function's attribute-set pattern.
#[derive(Clone, Copy)]
pub struct FormalParams {
    entries: &'static [Formal],
    /// `...`: the function accepts attributes it does not name.
    pub ellipsis: bool,
}

impl FormalParams {
    /// The named parameters in source order.
    pub fn iter(&self) -> impl Iterator<Item = FormalParam> + '_ {
        self.entries.iter().map(|f| FormalParam { name: f.name, pos: f.pos, has_default: f.default.is_some() })
    }

    /// Whether `name` is one of the named parameters.
    pub fn contains(&self, name: Symbol) -> bool {
        self.entries.iter().any(|f| f.name == name)
    }
}

impl Closure {
    /// Where the function is written.
    pub fn pos(&self) -> Pos {
        self.lambda.pos
    }

    /// The name the whole argument is bound to: `x` in `x: …` and in `{ … } @ x: …`.
    pub fn arg_name(&self) -> Option<Symbol> {
        self.lambda.arg
    }

    /// The attribute-set pattern, if the function has one.
    pub fn formals(&self) -> Option<FormalParams> {
        self.lambda.formals.as_ref().map(|f| FormalParams { entries: f.entries, ellipsis: f.ellipsis })
    }

    /// If the body is itself written as a function with a plain parameter (`x: y: …`), that
    /// parameter's name (`y`): how `flake check` recognises `final: prev: …` overlays.
    pub fn body_plain_lambda_arg(&self) -> Option<Symbol> {
        match self.lambda.body {
            Expr::Lambda(inner) if inner.formals.is_none() => inner.arg,
            _ => None,
        }
    }
}
