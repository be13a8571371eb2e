//! Thunks and environments.
//!
//! A thunk is a shared cell that is evaluated at most once. While it is being evaluated it is a
//! blackhole: forcing it again means the value depends on itself ("infinite recursion
//! encountered"). If evaluation fails the thunk is put back as it was, so a later force (after
//! `tryEval`) reports the same error again.
//!
//! An environment is one level of variables (a lambda's arguments, a `let`'s bindings, a `with`'s
//! namespace in slot 0) with a pointer to the enclosing level; lowering resolved every variable
//! to `(depth, slot)`.

use super::count::RefCount;
use super::{Env, Value};
use crate::ast::ExprRef;
use crate::error::{EvalError, Result};
use crate::eval::Eval;
use std::cell::UnsafeCell;
use std::marker::PhantomData;
use std::ptr::NonNull;

pub type NativeThunk = Box<dyn FnOnce(&mut Eval) -> Result<Value>>;

pub enum ThunkState {
    /// An expression and the environment to evaluate it in.
    Pending(ExprRef, Env),
    /// A function application made lazily by a builtin (`map f xs` elements); boxed to keep
    /// every thunk small.
    Apply(Box<(Value, Value)>),
    /// `f a b` made lazily by a builtin (`mapAttrs`, `zipAttrsWith`: `f name value`): one
    /// thunk instead of a thunk of `f a` inside a thunk applying it to `b`.
    Apply2(Box<(Value, Value, Value)>),
    /// Any other deferred computation of the builtins.
    Native(NativeThunk),
    Blackhole,
    Done(Value),
    /// Evaluation failed; forcing again raises the same error.
    Failed(Box<EvalError>),
}

/// A shared, reference-counted thunk: one 32-byte allocation (a 32-bit count and the
/// state), as the evaluator makes millions of them.
pub struct Thunk {
    ptr: NonNull<ThunkCell>,
    /// Not `Send`/`Sync`: the count is not atomic.
    _marker: PhantomData<*const ThunkCell>,
}

pub struct ThunkCell {
    rc: RefCount,
    /// Read and replaced only by the methods below, which never hand out a reference into
    /// it (same discipline as the slots of an `Env`).
    state: UnsafeCell<ThunkState>,
}

impl Clone for Thunk {
    #[inline]
    fn clone(&self) -> Thunk {
        self.cell().rc.inc();
        Thunk { ptr: self.ptr, _marker: PhantomData }
    }
}

impl Drop for Thunk {
    #[inline]
    fn drop(&mut self) {
        if self.cell().rc.dec() {
            self.free();
        }
    }
}

impl Thunk {
    /// Out of line, so that dropping a `Value` stays small.
    #[inline(never)]
    fn free(&mut self) {
        // SAFETY: this was the last handle; the box came from `Box::into_raw`.
        drop(unsafe { Box::from_raw(self.ptr.as_ptr()) });
    }
}

impl Thunk {
    pub fn new(state: ThunkState) -> Thunk {
        let b = Box::new(ThunkCell { rc: RefCount::one(), state: UnsafeCell::new(state) });
        // SAFETY: Box::into_raw never returns null.
        Thunk { ptr: unsafe { NonNull::new_unchecked(Box::into_raw(b)) }, _marker: PhantomData }
    }
    pub fn pending(expr: ExprRef, env: Env) -> Value {
        Value::Thunk(Thunk::new(ThunkState::Pending(expr, env)))
    }
    pub fn apply(f: Value, arg: Value) -> Value {
        Value::Thunk(Thunk::new(ThunkState::Apply(Box::new((f, arg)))))
    }
    /// A thunk of `f a b`, forced as the thunk of `f a` applied to `b` would be.
    pub fn apply2(f: Value, a: Value, b: Value) -> Value {
        Value::Thunk(Thunk::new(ThunkState::Apply2(Box::new((f, a, b)))))
    }
    pub fn native(f: impl FnOnce(&mut Eval) -> Result<Value> + 'static) -> Value {
        Value::Thunk(Thunk::new(ThunkState::Native(Box::new(f))))
    }
    /// The value if already evaluated.
    #[inline(always)]
    pub fn value(&self) -> Option<Value> {
        // SAFETY: see `ThunkCell::state`.
        match unsafe { &*self.cell().state.get() } {
            ThunkState::Done(v) => Some(v.clone()),
            _ => None,
        }
    }
    pub fn is_blackhole(&self) -> bool {
        // SAFETY: see `ThunkCell::state`.
        matches!(unsafe { &*self.cell().state.get() }, ThunkState::Blackhole)
    }
    /// Takes the pending state out, leaving a blackhole.
    pub fn take(&self) -> ThunkState {
        // SAFETY: see `ThunkCell::state`.
        unsafe { std::mem::replace(&mut *self.cell().state.get(), ThunkState::Blackhole) }
    }
    pub fn restore(&self, s: ThunkState) {
        // SAFETY: see `ThunkCell::state`; the old state is dropped after the write.
        let old = unsafe { std::mem::replace(&mut *self.cell().state.get(), s) };
        drop(old);
    }
    pub fn ptr_eq(a: &Thunk, b: &Thunk) -> bool {
        a.ptr == b.ptr
    }
    #[inline]
    pub fn cell(&self) -> &ThunkCell {
        // SAFETY: the cell lives while a handle exists.
        unsafe { self.ptr.as_ref() }
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;
    #[test]
    fn representations_stay_small() {
        assert_eq!(std::mem::size_of::<Value>(), 16);
        assert!(std::mem::size_of::<ThunkState>() <= 24, "{}", std::mem::size_of::<ThunkState>());
        assert_eq!(std::mem::size_of::<ThunkCell>(), 32);
    }
}
