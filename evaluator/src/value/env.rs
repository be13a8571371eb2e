//! Environments: one level of variables and a link to the enclosing level.
//!
//! The evaluator makes millions of these (every call, `let`, `with`, `rec`), so an
//! environment is one allocation holding a small header and its slots inline, behind a thin
//! reference-counted pointer: 32 bytes for a one-variable environment, where `Rc` + a
//! vector would take two allocations and twice the memory.
//!
//! Slots are written only while the environment is being built (and to cache a forced
//! `with` namespace); values are always cloned out, so no reference into a slot escapes.

use super::count::RefCount;
use super::Value;
use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::cell::UnsafeCell;
use std::marker::PhantomData;
use std::ptr::NonNull;

#[repr(C)]
struct Header {
    rc: RefCount,
    len: u32,
    up: Option<Env>,
}

/// A shared handle to an environment (cloning shares it).
pub struct Env {
    ptr: NonNull<Header>,
    /// Not `Send`/`Sync`: the count is not atomic.
    _marker: PhantomData<*const Header>,
}

fn layout(len: usize) -> Layout {
    Layout::new::<Header>()
        .extend(Layout::array::<UnsafeCell<Value>>(len).expect("environment size"))
        .expect("environment size")
        .0
        .pad_to_align()
}

impl Env {
    /// An environment whose slots are `slots`, enclosed by `up`.
    pub fn new(up: Option<Env>, slots: Vec<Value>) -> Env {
        let n = slots.len();
        let env = Env::alloc(up, n);
        for (i, v) in slots.into_iter().enumerate() {
            // SAFETY: slot i < n was allocated and is uninitialised.
            unsafe { env.slot_ptr(i).write(UnsafeCell::new(v)) };
        }
        env
    }

    /// An environment of one variable (a lambda's argument, a `with` namespace).
    #[inline]
    pub fn one(up: Env, v: Value) -> Env {
        let env = Env::alloc(Some(up), 1);
        // SAFETY: slot 0 was allocated and is uninitialised.
        unsafe { env.slot_ptr(0).write(UnsafeCell::new(v)) };
        env
    }

    /// `n` slots, all null, to be filled with [`Env::set`].
    pub fn with_nulls(up: Option<Env>, n: usize) -> Env {
        let env = Env::alloc(up, n);
        for i in 0..n {
            // SAFETY: slot i < n was allocated and is uninitialised.
            unsafe { env.slot_ptr(i).write(UnsafeCell::new(Value::Null)) };
        }
        env
    }

    /// Allocates the header; the caller must initialise all `n` slots before any use.
    fn alloc(up: Option<Env>, n: usize) -> Env {
        let l = layout(n);
        // SAFETY: the layout has a non-zero size (the header).
        let p = unsafe { alloc(l) } as *mut Header;
        let Some(ptr) = NonNull::new(p) else { handle_alloc_error(l) };
        // SAFETY: freshly allocated, properly aligned for Header.
        unsafe { ptr.as_ptr().write(Header { rc: RefCount::one(), len: n as u32, up }) };
        Env { ptr, _marker: PhantomData }
    }

    #[inline(always)]
    fn header(&self) -> &Header {
        // SAFETY: the pointer is live while a handle exists.
        unsafe { self.ptr.as_ref() }
    }

    #[inline(always)]
    fn slot_ptr(&self, i: usize) -> *mut UnsafeCell<Value> {
        let offset = Layout::new::<Header>().extend(Layout::new::<UnsafeCell<Value>>()).expect("layout").1;
        // SAFETY: slots start at `offset` and are contiguous; callers check the index.
        unsafe { (self.ptr.as_ptr() as *mut u8).add(offset).cast::<UnsafeCell<Value>>().add(i) }
    }

    pub fn len(&self) -> usize {
        self.header().len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn up(&self) -> Option<&Env> {
        self.header().up.as_ref()
    }

    #[inline(always)]
    pub fn get(&self, slot: usize) -> Value {
        assert!(slot < self.len(), "environment slot out of range");
        // SAFETY: in range and initialised; see the module comment on aliasing.
        unsafe { (*(*self.slot_ptr(slot)).get()).clone() }
    }

    /// The value in `slot`, looking through a thunk that has been evaluated. The slot then
    /// holds the value itself, so later reads skip the thunk (and the thunk can be freed);
    /// the slot's meaning does not change, as an evaluated thunk never changes again.
    #[inline(always)]
    pub fn get_resolved(&self, slot: usize) -> Value {
        assert!(slot < self.len(), "environment slot out of range");
        let p = self.slot_ptr(slot);
        // SAFETY: in range and initialised; the reference into the slot ends before the
        // slot is written, and the old value is dropped after the write.
        unsafe {
            let done = match &*(*p).get() {
                Value::Thunk(t) => match t.value() {
                    Some(v) => v,
                    None => return Value::Thunk(t.clone()),
                },
                v => return v.clone(),
            };
            let old = std::mem::replace(&mut *(*p).get(), done.clone());
            drop(old);
            done
        }
    }

    #[inline(always)]
    pub fn set(&self, slot: usize, v: Value) {
        assert!(slot < self.len(), "environment slot out of range");
        // SAFETY: in range and initialised; no reference into the slot is alive.
        let old = unsafe { std::mem::replace(&mut *(*self.slot_ptr(slot)).get(), v) };
        drop(old);
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

    pub fn ptr_eq(a: &Env, b: &Env) -> bool {
        a.ptr == b.ptr
    }
}

impl Clone for Env {
    #[inline]
    fn clone(&self) -> Env {
        self.header().rc.inc();
        Env { ptr: self.ptr, _marker: PhantomData }
    }
}

impl Drop for Env {
    /// Inlined: most drops only decrement (a call's environment is shared by its thunks).
    #[inline]
    fn drop(&mut self) {
        if self.header().rc.dec() {
            self.free_chain();
        }
    }
}

impl Env {
    /// Frees this environment, whose count reached zero, and every enclosing one whose
    /// count drops to zero with it: iterative, so that freeing a very deep chain does not
    /// recurse.
    #[inline(never)]
    fn free_chain(&mut self) {
        let mut cur = self.ptr;
        loop {
            // SAFETY: `cur`'s count reached zero: no handle to it remains. Drop the slots
            // and take `up` out before freeing the block.
            let up = unsafe {
                let e = std::mem::ManuallyDrop::new(Env { ptr: cur, _marker: PhantomData });
                let n = e.header().len as usize;
                for i in 0..n {
                    std::ptr::drop_in_place(e.slot_ptr(i));
                }
                let up = std::ptr::read(&(*cur.as_ptr()).up);
                dealloc(cur.as_ptr() as *mut u8, layout(n));
                up
            };
            let Some(up) = up else { break };
            let up = std::mem::ManuallyDrop::new(up);
            if !up.header().rc.dec() {
                break;
            }
            cur = up.ptr;
        }
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
        assert_eq!(layout(1).size(), 32);
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
