//! Environments: one level of variables and a link to the enclosing level.
//!
//! The evaluator makes millions of these (every call, `let`, `with`, `rec`), so an
//! environment is one allocation holding a small header and its slots inline, behind a thin
//! reference-counted pointer: 32 bytes for a one-variable environment, where `Rc` + a
//! vector would take two allocations and twice the memory.
//!
//! Slots are written only while the environment is being built (and to cache a forced
//! `with` namespace); values are always cloned out, so no reference into a slot escapes.

use super::collect::{self, Kind, Obj};
use super::count::RefCount;
use super::thin::{Head, ThinBlock};
use super::Value;
use std::cell::UnsafeCell;
use std::ptr::NonNull;

/// A shared handle to an environment (cloning shares it): a thin block whose head is the
/// enclosing environment and whose items are the slots.
#[derive(Clone)]
pub struct Env {
    block: ThinBlock<Up, UnsafeCell<Value>>,
}

/// The enclosing environment, kept in the block's header.
struct Up(Option<Env>);

/// The block of an environment.
type Block = ThinBlock<Up, UnsafeCell<Value>>;

impl Head for Up {
    const KIND: Option<Kind> = Some(Kind::Env);

    /// Frees the enclosing environments whose count drops to zero with this one in a loop,
    /// so that freeing a very deep chain does not recurse.
    fn freed(self) {
        let mut up = self.0;
        while let Some(env) = up {
            up = env.block.release().and_then(|h| h.0);
        }
    }
}

impl Env {
    /// An environment whose slots are `slots`, enclosed by `up`.
    pub fn new(up: Option<Env>, slots: Vec<Value>) -> Env {
        Env { block: ThinBlock::from_iter_exact(Up(up), slots.into_iter().map(UnsafeCell::new)) }
    }

    /// An environment of one variable (a lambda's argument, a `with` namespace).
    #[inline]
    pub fn one(up: Env, v: Value) -> Env {
        Env { block: ThinBlock::from_array(Up(Some(up)), [UnsafeCell::new(v)]) }
    }

    /// `n` slots, all null, to be filled with [`Env::set`].
    pub fn with_nulls(up: Option<Env>, n: usize) -> Env {
        Env { block: ThinBlock::from_iter_exact(Up(up), (0..n).map(|_| UnsafeCell::new(Value::Null))) }
    }

    /// The slot's cell; panics when out of range.
    #[inline(always)]
    fn slot(&self, slot: usize) -> *mut Value {
        match self.block.get(slot) {
            Some(cell) => cell.get(),
            None => panic!("environment slot out of range"),
        }
    }

    /// The number of slots.
    pub fn len(&self) -> usize {
        self.block.len()
    }

    /// Whether there are no slots.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The enclosing environment (none for the outermost).
    pub fn up(&self) -> Option<&Env> {
        self.block.head().0.as_ref()
    }

    /// The value in `slot` (as it is: a thunk stays a thunk); panics when out of range.
    #[inline(always)]
    pub fn get(&self, slot: usize) -> Value {
        // SAFETY: no reference into a slot outlives a method of this type (module comment).
        unsafe { (*self.slot(slot)).clone() }
    }

    /// The value in `slot`, looking through a thunk that has been evaluated. The slot then
    /// holds the value itself, so later reads skip the thunk (and the thunk can be freed);
    /// the slot's meaning does not change, as an evaluated thunk never changes again.
    #[inline(always)]
    pub fn get_resolved(&self, slot: usize) -> Value {
        let p = self.slot(slot);
        // SAFETY: the reference into the slot ends before the slot is written, and the old
        // value is dropped after the write.
        unsafe {
            let done = match &*p {
                Value::Thunk(t) => match t.value() {
                    Some(v) => v,
                    None => return Value::Thunk(t.clone()),
                },
                v => return v.clone(),
            };
            let old = std::mem::replace(&mut *p, done.clone());
            // The slot held a thunk: its count is released directly, without the
            // out-of-line drop of a whole `Value`.
            if let Value::Thunk(t) = old {
                drop(t);
            }
            done
        }
    }

    /// Puts `v` in `slot` (while the environment is being built); panics when out of range.
    #[inline(always)]
    pub fn set(&self, slot: usize, v: Value) {
        // SAFETY: no reference into the slot is alive.
        let old = unsafe { std::mem::replace(&mut *self.slot(slot), v) };
        // Mostly the null of `with_nulls`: a scalar owns nothing, so the out-of-line drop
        // of a `Value` is only called for the others.
        if old.owns_nothing() {
            std::mem::forget(old);
        } else {
            drop(old);
        }
    }

    /// The environment `depth` levels up.
    #[inline(always)]
    pub fn ancestor(&self, depth: u32) -> &Env {
        let mut e = self;
        for _ in 0..depth {
            e = e.up().expect("lowering resolved a variable past the outermost environment");
        }
        e
    }

    /// Whether `a` and `b` are the same environment.
    pub fn ptr_eq(a: &Env, b: &Env) -> bool {
        ThinBlock::ptr_eq(&a.block, &b.block)
    }
}

/// The cycle collector's view of an environment (`collect.rs`): the traced references are
/// the enclosing environment and the slots' values.
impl Env {
    /// The block's address.
    pub(super) fn raw(&self) -> NonNull<u8> {
        self.block.raw()
    }

    /// The count of the environment at `p`.
    ///
    /// # Safety
    /// `p` is a live environment.
    pub(super) unsafe fn count_at<'a>(p: NonNull<u8>) -> &'a RefCount {
        // SAFETY: by the caller.
        unsafe { Block::count_at(p) }
    }

    /// Calls `f` with each traced reference of the environment at `p`.
    ///
    /// # Safety
    /// `p` is a live environment whose slots are not being written (the collector runs
    /// between evaluation steps; see the module comment).
    pub(super) unsafe fn children_at(p: NonNull<u8>, f: &mut impl FnMut(Obj)) {
        // SAFETY: by the caller.
        let b = unsafe { Block::from_raw(p) };
        if let Some(up) = &b.head().0 {
            f(Obj::new(Kind::Env, up.raw()));
        }
        for cell in b.as_slice() {
            // SAFETY: no reference into the slot is alive (by the caller).
            if let Some(o) = Obj::of_value(unsafe { &*cell.get() }) {
                f(o);
            }
        }
    }

    /// Frees the environment at `p`, found garbage by the collector.
    ///
    /// # Safety
    /// As `collect::Obj::free_garbage`.
    pub(super) unsafe fn free_garbage_at(p: NonNull<u8>) -> usize {
        // SAFETY: by the caller.
        unsafe {
            Block::free_garbage(
                p,
                |cell| collect::forget_traced(cell.into_inner()),
                |up| {
                    if let Some(up) = up.0 {
                        std::mem::forget(up)
                    }
                },
            )
        }
    }

    /// Releases the block of an environment freed while buffered.
    ///
    /// # Safety
    /// As `ThinBlock::dealloc_dead`.
    pub(super) unsafe fn dealloc_dead(p: NonNull<u8>) -> usize {
        // SAFETY: by the caller.
        unsafe { Block::dealloc_dead(p) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn slots_and_chains() {
        let root = Env::new(None, vec![Value::Int(1), Value::Int(2)]);
        let e = Env::one(root.clone(), Value::Int(3));
        assert!(matches!(e.get(0), Value::Int(3)));
        assert!(matches!(e.ancestor(1).get(1), Value::Int(2)));
        e.set(0, Value::Bool(true));
        assert!(matches!(e.get(0), Value::Bool(true)));
        drop(root);
        assert!(matches!(e.ancestor(1).get(0), Value::Int(1)));
        assert_eq!(std::mem::size_of::<Env>(), 8);
        assert_eq!(std::mem::size_of::<Option<Env>>(), 8);
        assert_eq!(ThinBlock::<Up, UnsafeCell<Value>>::block_size(1), 32, "a one-variable environment takes 32 bytes");
    }

    #[test]
    fn deep_chain_drops_without_recursion() {
        let mut e = Env::new(None, vec![]);
        for i in 0..1_000_000 {
            e = Env::one(e, Value::Int(i));
        }
        drop(e);
    }
}
