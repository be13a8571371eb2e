//! Runtime values.
//!
//! `Value` is 16 bytes: scalars inline, everything else behind one `Rc`. A `Value` may be an
//! unevaluated [`Thunk`]; `Eval::force` turns it into weak head normal form. [`ValueType`] is the
//! user-visible kind (`builtins.typeOf`), kept apart from the representation.

mod attrs;
mod collect;
mod count;
mod env;
mod string;
mod thin;
mod thunk;

pub use attrs::{Attr, Attrs};
pub use collect::{collect_cycles, configure_collector, safe_point, set_collector, CollectorStats};
pub use env::Env;
pub use string::{Context, NixString, StringBuilder};
pub use thin::{ListHead, ThinBlock, ThinRc, ThinSlice};
pub use thunk::{Thunk, ThunkState};

use crate::ast::LambdaExpr;
use crate::builtin::BuiltinDef;
use std::rc::Rc;

/// A Nix value, or a thunk that evaluates to one.
pub enum Value {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A 64-bit integer (overflow is an error, as in the reference).
    Int(i64),
    /// A double.
    Float(f64),
    /// A string with its context.
    String(NixString),
    /// An absolute, canonical path (no context).
    Path(NixString),
    /// An attribute set.
    Attrs(Attrs),
    /// A list.
    List(List),
    /// A lambda with the environment it closes over.
    Lambda(ThinRc<Closure>),
    /// A builtin, possibly partially applied.
    Builtin(Rc<BuiltinApp>),
    /// Not yet evaluated (or evaluated and not yet replaced): see `Eval::force`.
    Thunk(Thunk),
}

/// One allocation: count, length and the elements inline (see [`ThinBlock`]).
pub type List = ThinBlock<ListHead, Value>;

/// A lambda and the environment it closes over.
pub struct Closure {
    pub(crate) lambda: &'static LambdaExpr,
    /// The variables the lambda sees.
    pub env: Env,
}

impl thin::Collected for Closure {
    const KIND: Option<collect::Kind> = Some(collect::Kind::Closure);
}

/// A builtin with the arguments given so far (fewer than its arity).
pub struct BuiltinApp {
    /// The builtin.
    pub def: &'static BuiltinDef,
    /// Fewer than the arity; builtins take at most three arguments, so these stay inline.
    pub args: BuiltinArgs,
}

/// The arguments of a partly applied builtin.
pub type BuiltinArgs = smallvec::SmallVec<[Value; 2]>;

/// The kind of a value as the language sees it (`builtins.typeOf`, error messages).
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum ValueType {
    /// `null`.
    Null,
    /// A Boolean.
    Bool,
    /// An integer.
    Int,
    /// A float.
    Float,
    /// A string.
    String,
    /// A path.
    Path,
    /// An attribute set.
    Attrs,
    /// A list.
    List,
    /// A lambda or a builtin.
    Function,
    /// Not evaluated yet (never the answer of `typeOf`, which forces).
    Thunk,
}

impl ValueType {
    /// The name `builtins.typeOf` gives.
    pub fn type_of(self) -> &'static str {
        match self {
            ValueType::Null => "null",
            ValueType::Bool => "bool",
            ValueType::Int => "int",
            ValueType::Float => "float",
            ValueType::String => "string",
            ValueType::Path => "path",
            ValueType::Attrs => "set",
            ValueType::List => "list",
            ValueType::Function => "lambda",
            ValueType::Thunk => "thunk",
        }
    }
    /// The phrase error messages use: "expected a set but found an integer".
    pub fn describe(self) -> &'static str {
        match self {
            ValueType::Null => "null",
            ValueType::Bool => "a Boolean",
            ValueType::Int => "an integer",
            ValueType::Float => "a float",
            ValueType::String => "a string",
            ValueType::Path => "a path",
            ValueType::Attrs => "a set",
            ValueType::List => "a list",
            ValueType::Function => "a function",
            ValueType::Thunk => "a thunk",
        }
    }
}

impl Clone for Value {
    /// Inlined everywhere: cloning a value is a tag test, at most one count increment and
    /// one 16-byte copy; the evaluator does it on every variable read and attribute
    /// selection. (Rebuilding the variant instead made the compiler copy the payload in
    /// pieces through the stack, stalling on store forwarding: `//` in a loop ran 3x slower.)
    #[inline(always)]
    fn clone(&self) -> Value {
        match self {
            Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {}
            Value::String(s) | Value::Path(s) => std::mem::forget(s.clone()),
            Value::Attrs(a) => std::mem::forget(a.clone()),
            Value::List(l) => std::mem::forget(l.clone()),
            Value::Lambda(c) => std::mem::forget(c.clone()),
            Value::Builtin(b) => std::mem::forget(b.clone()),
            Value::Thunk(t) => std::mem::forget(t.clone()),
        }
        // SAFETY: the reference count of the payload, if any, was incremented above and
        // that count now belongs to the copy, exactly as for a variant-wise clone.
        unsafe { std::ptr::read(self) }
    }
}

impl Value {
    /// The kind of this value (a thunk is `Thunk`: force first).
    pub fn ty(&self) -> ValueType {
        match self {
            Value::Null => ValueType::Null,
            Value::Bool(_) => ValueType::Bool,
            Value::Int(_) => ValueType::Int,
            Value::Float(_) => ValueType::Float,
            Value::String(_) => ValueType::String,
            Value::Path(_) => ValueType::Path,
            Value::Attrs(_) => ValueType::Attrs,
            Value::List(_) => ValueType::List,
            Value::Lambda(_) | Value::Builtin(_) => ValueType::Function,
            Value::Thunk(_) => ValueType::Thunk,
        }
    }
    /// A string value without context.
    pub fn string(s: impl Into<NixString>) -> Value {
        Value::String(s.into())
    }
    /// A list value of `v`'s items.
    pub fn list(v: Vec<Value>) -> Value {
        Value::List(List::from_vec(v))
    }
    /// Whether this is a scalar (null, Boolean, integer, float), which owns no memory:
    /// forgetting it is the same as dropping it, without the call.
    #[inline(always)]
    pub fn owns_nothing(&self) -> bool {
        matches!(self, Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_))
    }
    /// Whether this is a thunk (evaluated or not).
    pub fn is_thunk(&self) -> bool {
        matches!(self, Value::Thunk(_))
    }
    /// A derivation is a set with `type = "derivation"` (only checked when already evaluated).
    pub fn attrs(&self) -> Option<&Attrs> {
        match self {
            Value::Attrs(a) => Some(a),
            _ => None,
        }
    }
}

#[cfg(test)]
mod layout_tests {
    use super::*;
    #[test]
    fn value_and_result_stay_16_bytes() {
        assert_eq!(std::mem::size_of::<Value>(), 16);
        assert_eq!(std::mem::size_of::<crate::error::Result<Value>>(), 16);
    }
}
