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

use super::collect::{self, Kind, Obj};
use super::count::{Colour, RefCount};
use super::{Env, Value};
use crate::ast::ExprRef;
use crate::error::{EvalError, Result};
use crate::eval::Eval;
use std::cell::{Cell, UnsafeCell};
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;

pub type NativeThunk = Box<dyn FnOnce(&mut Eval) -> Result<Value>>;

/// What a thunk holds: something to evaluate, its value, or its error.
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
    /// Being evaluated: forcing it again is infinite recursion.
    Blackhole,
    /// Evaluated.
    Done(Value),
    /// Evaluation failed; forcing again raises the same error.
    Failed(Box<EvalError>),
}

/// A shared, reference-counted thunk: one 24-byte allocation (a 32-bit count, a one-byte
/// state tag and a 16-byte payload), as the evaluator makes millions of them and a desktop
/// evaluation keeps 2.7 M alive (a plain `ThunkState` after the count would take 32 bytes).
pub struct Thunk {
    ptr: NonNull<ThunkCell>,
    /// Not `Send`/`Sync`: the count is not atomic.
    _marker: PhantomData<*const ThunkCell>,
}

/// Which [`ThunkState`] variant the payload of a [`ThunkCell`] holds.
#[derive(Copy, Clone, PartialEq, Eq)]
#[repr(u8)]
enum Tag {
    Pending,
    Apply,
    Apply2,
    Native,
    Blackhole,
    Done,
    Failed,
}

/// The data of a [`ThunkState`] without its discriminant; the cell's [`Tag`] says which
/// field is initialised (none for a blackhole).
union Payload {
    pending: ManuallyDrop<(ExprRef, Env)>,
    apply: ManuallyDrop<Box<(Value, Value)>>,
    apply2: ManuallyDrop<Box<(Value, Value, Value)>>,
    native: ManuallyDrop<NativeThunk>,
    done: ManuallyDrop<Value>,
    failed: ManuallyDrop<Box<EvalError>>,
    blackhole: (),
}

impl Payload {
    fn split(state: ThunkState) -> (Tag, Payload) {
        match state {
            ThunkState::Pending(e, env) => (Tag::Pending, Payload { pending: ManuallyDrop::new((e, env)) }),
            ThunkState::Apply(b) => (Tag::Apply, Payload { apply: ManuallyDrop::new(b) }),
            ThunkState::Apply2(b) => (Tag::Apply2, Payload { apply2: ManuallyDrop::new(b) }),
            ThunkState::Native(f) => (Tag::Native, Payload { native: ManuallyDrop::new(f) }),
            ThunkState::Blackhole => (Tag::Blackhole, Payload { blackhole: () }),
            ThunkState::Done(v) => (Tag::Done, Payload { done: ManuallyDrop::new(v) }),
            ThunkState::Failed(e) => (Tag::Failed, Payload { failed: ManuallyDrop::new(e) }),
        }
    }

    /// The state back from its parts.
    ///
    /// # Safety
    /// `tag` must name the field of `self` that [`Payload::split`] initialised, and the
    /// payload must not be used again (its contents move into the result).
    unsafe fn join(tag: Tag, p: Payload) -> ThunkState {
        // SAFETY: by the caller, the field read is the initialised one; each is taken once.
        unsafe {
            match tag {
                Tag::Pending => {
                    let (e, env) = ManuallyDrop::into_inner(p.pending);
                    ThunkState::Pending(e, env)
                }
                Tag::Apply => ThunkState::Apply(ManuallyDrop::into_inner(p.apply)),
                Tag::Apply2 => ThunkState::Apply2(ManuallyDrop::into_inner(p.apply2)),
                Tag::Native => ThunkState::Native(ManuallyDrop::into_inner(p.native)),
                Tag::Blackhole => ThunkState::Blackhole,
                Tag::Done => ThunkState::Done(ManuallyDrop::into_inner(p.done)),
                Tag::Failed => ThunkState::Failed(ManuallyDrop::into_inner(p.failed)),
            }
        }
    }
}

pub struct ThunkCell {
    pub(super) rc: RefCount,
    /// Read and replaced only by the methods below, which never hand out a reference into
    /// the payload (same discipline as the slots of an `Env`); `tag` always names the
    /// initialised field of `payload`.
    tag: Cell<Tag>,
    payload: UnsafeCell<Payload>,
}

impl ThunkCell {
    /// Moves the state out, leaving a blackhole.
    fn take(&self) -> ThunkState {
        let tag = self.tag.replace(Tag::Blackhole);
        // SAFETY: `tag` named the initialised field; the payload is now marked a blackhole
        // (which has no data), so its old contents are moved out exactly once.
        unsafe { Payload::join(tag, std::ptr::read(self.payload.get())) }
    }

    /// Drops what the state holds, leaving a blackhole (the cell is being freed). The usual
    /// last state, an evaluated one, is handled without rebuilding a whole [`ThunkState`],
    /// and a scalar value without a call.
    fn drop_contents(&self) {
        let tag = self.tag.replace(Tag::Blackhole);
        match tag {
            Tag::Blackhole => {}
            Tag::Done => {
                // SAFETY: the tag said `done` was initialised; it is now marked a blackhole,
                // so the value is moved out exactly once.
                let v = unsafe { ManuallyDrop::into_inner(std::ptr::read(&(*self.payload.get()).done)) };
                if v.owns_nothing() {
                    std::mem::forget(v);
                } else {
                    drop(v);
                }
            }
            // SAFETY: as in `take`, the contents named by `tag` are moved out once.
            _ => drop(unsafe { Payload::join(tag, std::ptr::read(self.payload.get())) }),
        }
    }

    /// Puts `state` in, returning the old state (for the caller to drop after the write).
    fn replace(&self, state: ThunkState) -> ThunkState {
        let old = self.take();
        let (tag, payload) = Payload::split(state);
        // SAFETY: the old contents were moved out by `take`; no reference into the payload
        // exists (see `tag`).
        unsafe { std::ptr::write(self.payload.get(), payload) };
        self.tag.set(tag);
        old
    }
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
        } else if !self.cell().rc.no_candidate() {
            collect::possible_root(Kind::Thunk, self.ptr.cast());
        }
    }
}

/// The cycle collector's view of a thunk (`collect.rs`): the traced references are a
/// pending thunk's environment, the values of `Apply`/`Apply2` and the value of an evaluated
/// thunk. A `Native` closure is opaque: what it captured is never traced, so the collector
/// counts it as referenced from outside (kept).
impl Thunk {
    /// The cell's address.
    pub(super) fn raw(&self) -> NonNull<u8> {
        self.ptr.cast()
    }

    /// The cell at `p`.
    ///
    /// # Safety
    /// `p` is a live cell.
    unsafe fn cell_at<'a>(p: NonNull<u8>) -> &'a ThunkCell {
        // SAFETY: by the caller.
        unsafe { &*p.cast::<ThunkCell>().as_ptr() }
    }

    /// The count of the cell at `p`.
    ///
    /// # Safety
    /// `p` is a live cell.
    pub(super) unsafe fn count_at<'a>(p: NonNull<u8>) -> &'a RefCount {
        // SAFETY: by the caller.
        unsafe { &Thunk::cell_at(p).rc }
    }

    /// Whether the cell at `p` is being evaluated (its contents are on the Rust stack).
    ///
    /// # Safety
    /// `p` is a live cell.
    pub(super) unsafe fn is_blackhole_at(p: NonNull<u8>) -> bool {
        // SAFETY: by the caller.
        unsafe { Thunk::cell_at(p).tag.get() == Tag::Blackhole }
    }

    /// Calls `f` with each traced reference of the cell at `p`.
    ///
    /// # Safety
    /// `p` is a live cell, not being written (the collector runs between evaluation steps).
    pub(super) unsafe fn children_at(p: NonNull<u8>, f: &mut impl FnMut(Obj)) {
        // SAFETY: by the caller; `tag` names the initialised field.
        unsafe {
            let cell = Thunk::cell_at(p);
            let payload = &*cell.payload.get();
            let mut value = |v: &Value| {
                if let Some(o) = Obj::of_value(v) {
                    f(o)
                }
            };
            match cell.tag.get() {
                Tag::Pending => f(Obj::new(Kind::Env, payload.pending.1.raw())),
                Tag::Apply => {
                    value(&payload.apply.0);
                    value(&payload.apply.1);
                }
                Tag::Apply2 => {
                    value(&payload.apply2.0);
                    value(&payload.apply2.1);
                    value(&payload.apply2.2);
                }
                Tag::Done => value(&payload.done),
                Tag::Native | Tag::Blackhole | Tag::Failed => {}
            }
        }
    }

    /// Frees the cell at `p`, found garbage by the collector (which took the counts of its
    /// traced references; the untraced ones are dropped).
    ///
    /// # Safety
    /// As `collect::Obj::free_garbage`.
    pub(super) unsafe fn free_garbage_at(p: NonNull<u8>) -> usize {
        // SAFETY: the cell is garbage: its state is moved out once, then the box freed.
        unsafe {
            match Thunk::cell_at(p).take() {
                ThunkState::Pending(_, env) => std::mem::forget(env),
                ThunkState::Apply(b) => {
                    let (f, a) = *b;
                    collect::forget_traced(f);
                    collect::forget_traced(a);
                }
                ThunkState::Apply2(b) => {
                    let (f, a, x) = *b;
                    collect::forget_traced(f);
                    collect::forget_traced(a);
                    collect::forget_traced(x);
                }
                ThunkState::Done(v) => collect::forget_traced(v),
                other => drop(other),
            }
            Thunk::dealloc_dead(p)
        }
    }

    /// Releases a cell whose contents were dropped.
    ///
    /// # Safety
    /// `p` is such a cell, released once.
    pub(super) unsafe fn dealloc_dead(p: NonNull<u8>) -> usize {
        #[cfg(test)]
        collect::tests::released(Kind::Thunk);
        // SAFETY: the box came from `Box::into_raw`; its payload (a union) has no drop.
        drop(unsafe { Box::from_raw(p.cast::<ThunkCell>().as_ptr()) });
        std::mem::size_of::<ThunkCell>()
    }
}

impl Thunk {
    /// Out of line, so that dropping a `Value` stays small.
    #[inline(never)]
    fn free(&mut self) {
        // The state's contents are not dropped by the box (the payload is a union).
        self.cell().drop_contents();
        if self.cell().rc.buffered() {
            // The collector's buffer still has the address: it releases the cell.
            self.cell().rc.set_colour(Colour::Dead);
            return;
        }
        // SAFETY: this was the last handle.
        unsafe { Thunk::dealloc_dead(self.ptr.cast()) };
    }
}

impl Thunk {
    /// A thunk in `state`.
    pub fn new(state: ThunkState) -> Thunk {
        #[cfg(test)]
        collect::tests::allocated(Kind::Thunk);
        let (tag, payload) = Payload::split(state);
        let b = Box::new(ThunkCell { rc: RefCount::one(), tag: Cell::new(tag), payload: UnsafeCell::new(payload) });
        // SAFETY: Box::into_raw never returns null.
        Thunk { ptr: unsafe { NonNull::new_unchecked(Box::into_raw(b)) }, _marker: PhantomData }
    }
    pub(crate) fn pending(expr: ExprRef, env: Env) -> Value {
        Value::Thunk(Thunk::new(ThunkState::Pending(expr, env)))
    }
    /// A thunk of `f arg`.
    pub fn apply(f: Value, arg: Value) -> Value {
        Value::Thunk(Thunk::new(ThunkState::Apply(Box::new((f, arg)))))
    }
    /// A thunk of `f a b`, forced as the thunk of `f a` applied to `b` would be.
    pub fn apply2(f: Value, a: Value, b: Value) -> Value {
        Value::Thunk(Thunk::new(ThunkState::Apply2(Box::new((f, a, b)))))
    }
    /// A thunk that runs `f` when forced.
    pub fn native(f: impl FnOnce(&mut Eval) -> Result<Value> + 'static) -> Value {
        Value::Thunk(Thunk::new(ThunkState::Native(Box::new(f))))
    }
    /// The value if already evaluated.
    #[inline(always)]
    pub fn value(&self) -> Option<Value> {
        let cell = self.cell();
        if cell.tag.get() != Tag::Done {
            return None;
        }
        // SAFETY: the tag says `done` is initialised; the reference ends with the clone,
        // before anything can replace the payload (see `ThunkCell::tag`).
        Some(unsafe { Value::clone(&(*cell.payload.get()).done) })
    }
    /// The expression and environment of a pending thunk, taken out, leaving a blackhole;
    /// `None` (and the thunk unchanged) in any other state. With [`Thunk::finish`], the
    /// evaluator's path for the thunks it made itself, without going through a whole
    /// [`ThunkState`] (moved out, matched, dropped) twice per force.
    #[inline(always)]
    pub fn take_pending(&self) -> Option<(ExprRef, Env)> {
        let cell = self.cell();
        if cell.tag.get() != Tag::Pending {
            return None;
        }
        cell.tag.set(Tag::Blackhole);
        // SAFETY: the tag said `pending` was initialised; it is now marked a blackhole (no
        // data), so the contents are moved out exactly once.
        Some(unsafe { ManuallyDrop::into_inner(std::ptr::read(&(*cell.payload.get()).pending)) })
    }
    /// Stores the value of a thunk that has been evaluated.
    #[inline(always)]
    pub fn finish(&self, v: Value) {
        let cell = self.cell();
        if cell.tag.get() == Tag::Blackhole {
            // SAFETY: a blackhole holds no data, so nothing is overwritten that needs a drop;
            // no reference into the payload exists (see `ThunkCell::tag`).
            unsafe { std::ptr::write(cell.payload.get(), Payload { done: ManuallyDrop::new(v) }) };
            cell.tag.set(Tag::Done);
        } else {
            self.restore(ThunkState::Done(v));
        }
    }
    /// Whether the thunk is being evaluated.
    pub fn is_blackhole(&self) -> bool {
        self.cell().tag.get() == Tag::Blackhole
    }
    /// Takes the pending state out, leaving a blackhole.
    pub fn take(&self) -> ThunkState {
        self.cell().take()
    }
    /// Puts a state back (after [`Thunk::take`], when evaluation is done or failed).
    pub fn restore(&self, s: ThunkState) {
        // The old state is dropped after the write.
        let old = self.cell().replace(s);
        drop(old);
    }
    /// Whether `a` and `b` are the same thunk.
    pub fn ptr_eq(a: &Thunk, b: &Thunk) -> bool {
        a.ptr == b.ptr
    }
    /// The shared cell.
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
        assert_eq!(std::mem::size_of::<ThunkCell>(), 24);
    }

    /// Every state goes in and comes out whole, and what a state holds is dropped exactly
    /// once: when replaced, when taken and dropped, or with the last handle.
    #[test]
    fn states_round_trip_and_drop_their_contents() {
        let expr: ExprRef = Box::leak(Box::new(crate::ast::Expr::Const(Value::Int(7))));
        let env = Env::new(None, vec![Value::Int(1)]);
        let held = Value::Thunk(Thunk::new(ThunkState::Done(Value::Int(5))));
        let Value::Thunk(held_t) = &held else { unreachable!() };
        let t = Thunk::new(ThunkState::Pending(expr, env.clone()));
        assert!(t.value().is_none() && !t.is_blackhole());
        let ThunkState::Pending(e, got) = t.take() else { panic!("pending") };
        assert!(std::ptr::eq(e, expr) && Env::ptr_eq(&got, &env));
        assert!(t.is_blackhole());
        t.restore(ThunkState::Apply(Box::new((held.clone(), Value::Null))));
        t.restore(ThunkState::Apply2(Box::new((held.clone(), held.clone(), Value::Null))));
        t.restore(ThunkState::Native(Box::new(|_| Ok(Value::Null))));
        t.restore(ThunkState::Done(held.clone()));
        assert!(matches!(t.value(), Some(Value::Thunk(ref x)) if Thunk::ptr_eq(x, held_t)));
        let t2 = t.clone();
        drop(t);
        assert!(t2.value().is_some());
        drop(t2);
        // Only `held` itself is left: every copy inside the states was dropped.
        assert_eq!(held_t.cell().rc.get(), 1);
        assert!(matches!(held_t.value(), Some(Value::Int(5))));
    }

    /// The evaluator's own path: a pending thunk's contents taken out once (other states
    /// refuse), its value stored in the blackhole left behind, and nothing leaked or
    /// dropped twice; `finish` on a thunk that is not a blackhole replaces its state.
    #[test]
    fn pending_taken_then_finished() {
        let expr: ExprRef = Box::leak(Box::new(crate::ast::Expr::Const(Value::Int(7))));
        let env = Env::new(None, vec![Value::Int(1)]);
        let held = Value::Thunk(Thunk::new(ThunkState::Done(Value::Int(5))));
        let Value::Thunk(held_t) = &held else { unreachable!() };
        let t = Thunk::new(ThunkState::Pending(expr, env.clone()));
        let (e, got) = t.take_pending().expect("pending");
        assert!(std::ptr::eq(e, expr) && Env::ptr_eq(&got, &env));
        assert!(t.is_blackhole() && t.take_pending().is_none());
        drop(got);
        t.finish(held.clone());
        assert!(matches!(t.value(), Some(Value::Thunk(ref x)) if Thunk::ptr_eq(x, held_t)));
        assert!(t.take_pending().is_none(), "a done thunk is not taken");
        t.finish(Value::Null);
        assert!(matches!(t.value(), Some(Value::Null)));
        assert_eq!(held_t.cell().rc.get(), 1, "the replaced value was dropped");
        drop(t);
    }

    /// An environment slot releases what it held when it is overwritten (`Env::set`) or
    /// resolved to the value of its evaluated thunk (`Env::get_resolved`), scalars or not.
    #[test]
    fn env_slots_release_what_they_held() {
        let held = Value::Thunk(Thunk::new(ThunkState::Done(Value::Int(5))));
        let Value::Thunk(held_t) = &held else { unreachable!() };
        let env = Env::with_nulls(None, 2);
        env.set(0, held.clone());
        env.set(1, Value::Int(1));
        assert_eq!(held_t.cell().rc.get(), 2);
        env.set(1, held.clone());
        env.set(0, Value::Null);
        assert_eq!(held_t.cell().rc.get(), 2, "the overwritten copy was released");
        assert!(matches!(env.get_resolved(1), Value::Int(5)));
        assert_eq!(held_t.cell().rc.get(), 1, "the resolved slot released the thunk");
        assert!(matches!(env.get(1), Value::Int(5)));
    }
}
