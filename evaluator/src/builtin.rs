//! How builtins plug into the evaluator.
//!
//! The evaluator names no builtin: the builtins crate (and later the store and flake layers)
//! hand it tables of [`BuiltinDef`]s and constants through [`crate::EvalBuilder`]. A builtin
//! receives its arguments unforced (some builtins are lazy in some arguments) and forces them with
//! the `Eval::force_*` helpers, which name the builtin and argument in error traces.

use crate::error::Result;
use crate::eval::Eval;
use crate::source::Pos;
use crate::value::Value;

/// The implementation: arguments (exactly `arity` of them) and the call site.
pub type BuiltinFn = fn(&mut Eval, &[Value], Pos) -> Result<Value>;

/// A builtin function: its name, how many arguments it takes and its implementation.
pub struct BuiltinDef {
    /// The name under `builtins.` (e.g. `"attrNames"`).
    pub name: &'static str,
    /// The number of arguments (1 to 3); fewer make a partial application.
    pub arity: usize,
    /// Also visible without `builtins.` (e.g. `map`, `toString`). Every builtin is in any case
    /// visible as `__name`, as in the reference.
    pub global: bool,
    /// The implementation.
    pub func: BuiltinFn,
}

/// A value installed in `builtins` (and maybe globally), e.g. `nixVersion`, `true`.
pub struct ConstantDef {
    /// The name under `builtins.`.
    pub name: &'static str,
    /// Also visible without `builtins.` (`true`, `null`, …).
    pub global: bool,
    /// Computes the value, once, when the evaluator is built.
    pub value: fn(&mut Eval) -> Value,
}
