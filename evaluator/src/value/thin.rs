//! One thin-pointer allocation holding a reference count, a length and the items inline.
//!
//! Lists (and any other shared immutable array of the evaluator) are one block: an 8-byte
//! header (32-bit count, 32-bit length) followed by the items, behind an 8-byte pointer.
//! `Rc<Vec<T>>` takes two blocks, a 40-byte one for the count and the vector and the
//! vector's buffer with its spare capacity; a NixOS desktop evaluation keeps 340,000 lists
//! alive. [`ThinRc`] is the single-value form (closures). All `unsafe` of these handles is
//! here, behind a safe interface.

use super::count::RefCount;
use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::marker::PhantomData;
use std::ptr::NonNull;

#[repr(C)]
struct Header {
    rc: RefCount,
    len: u32,
}

/// A shared, immutable array of `T` (cloning shares it).
pub struct ThinSlice<T> {
    ptr: NonNull<Header>,
    /// Owns `T`s; not `Send`/`Sync`: the count is not atomic.
    _marker: PhantomData<(*const Header, T)>,
}

/// The block's layout for `len` items, and the offset of the first item.
fn layout<T>(len: usize) -> (Layout, usize) {
    let (l, offset) = Layout::new::<Header>().extend(Layout::array::<T>(len).expect("array size")).expect("array size");
    (l.pad_to_align(), offset)
}

impl<T> ThinSlice<T> {
    /// A block of `len` items written by `fill`.
    ///
    /// # Safety
    /// `fill` gets a pointer to room for `len` items and must initialise all of them
    /// before it returns (a panic inside `fill` only leaks the block).
    pub unsafe fn with_len(len: usize, fill: impl FnOnce(*mut T)) -> ThinSlice<T> {
        let (l, offset) = layout::<T>(len);
        let len32 = u32::try_from(len).expect("array size");
        // SAFETY: the layout has a non-zero size (the header).
        let p = unsafe { alloc(l) } as *mut Header;
        let Some(ptr) = NonNull::new(p) else { handle_alloc_error(l) };
        // SAFETY: freshly allocated and aligned for the header and the items after it; the
        // caller's `fill` initialises the items before any handle exists.
        unsafe {
            ptr.as_ptr().write(Header { rc: RefCount::one(), len: len32 });
            fill((ptr.as_ptr() as *mut u8).add(offset) as *mut T);
        }
        ThinSlice { ptr, _marker: PhantomData }
    }

    /// The items of `v`, moved into one block.
    pub fn from_vec(mut v: Vec<T>) -> ThinSlice<T> {
        let n = v.len();
        // SAFETY: the `n` items are moved (bitwise) out of the vector, whose length is then
        // set to 0 so that it frees only its buffer.
        unsafe {
            ThinSlice::with_len(n, |dst| {
                std::ptr::copy_nonoverlapping(v.as_ptr(), dst, n);
                v.set_len(0);
            })
        }
    }

    #[inline(always)]
    fn header(&self) -> &Header {
        // SAFETY: the block lives while a handle exists.
        unsafe { self.ptr.as_ref() }
    }

    #[inline(always)]
    pub fn as_slice(&self) -> &[T] {
        let offset = layout::<T>(0).1;
        // SAFETY: `len` initialised items follow the header at `offset`; they are never
        // written again while a handle exists.
        unsafe {
            std::slice::from_raw_parts(
                (self.ptr.as_ptr() as *const u8).add(offset) as *const T,
                self.header().len as usize,
            )
        }
    }

    pub fn ptr_eq(a: &ThinSlice<T>, b: &ThinSlice<T>) -> bool {
        a.ptr == b.ptr
    }

    /// The block's address, for identity (cycle detection while printing or forcing).
    pub fn as_ptr(&self) -> *const () {
        self.ptr.as_ptr() as *const ()
    }

    /// Out of line, so that dropping a handle stays small.
    #[inline(never)]
    fn free(&mut self) {
        let n = self.header().len as usize;
        // SAFETY: the count reached zero: this is the last handle; the items are initialised
        // and dropped once, then the block is freed with the layout it was allocated with.
        unsafe {
            std::ptr::drop_in_place(self.as_slice() as *const [T] as *mut [T]);
            dealloc(self.ptr.as_ptr() as *mut u8, layout::<T>(n).0);
        }
    }
}

impl<T> Clone for ThinSlice<T> {
    #[inline]
    fn clone(&self) -> ThinSlice<T> {
        self.header().rc.inc();
        ThinSlice { ptr: self.ptr, _marker: PhantomData }
    }
}

impl<T> Drop for ThinSlice<T> {
    #[inline]
    fn drop(&mut self) {
        if self.header().rc.dec() {
            self.free();
        }
    }
}

impl<T> std::ops::Deref for ThinSlice<T> {
    type Target = [T];
    #[inline(always)]
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T> From<Vec<T>> for ThinSlice<T> {
    fn from(v: Vec<T>) -> ThinSlice<T> {
        ThinSlice::from_vec(v)
    }
}

/// A shared value behind a thin pointer with a 32-bit count: `Rc<T>` keeps two 64-bit
/// counts, so a closure (a lambda and its environment, 16 bytes) takes 32 bytes there and
/// 24 here.
pub struct ThinRc<T> {
    ptr: NonNull<RcBlock<T>>,
    /// Owns a `T`; not `Send`/`Sync`: the count is not atomic.
    _marker: PhantomData<(*const RcBlock<T>, T)>,
}

struct RcBlock<T> {
    rc: RefCount,
    value: T,
}

impl<T> ThinRc<T> {
    pub fn new(value: T) -> ThinRc<T> {
        let b = Box::new(RcBlock { rc: RefCount::one(), value });
        // SAFETY: Box::into_raw never returns null.
        ThinRc { ptr: unsafe { NonNull::new_unchecked(Box::into_raw(b)) }, _marker: PhantomData }
    }

    #[inline(always)]
    fn block(&self) -> &RcBlock<T> {
        // SAFETY: the block lives while a handle exists.
        unsafe { self.ptr.as_ref() }
    }

    pub fn ptr_eq(a: &ThinRc<T>, b: &ThinRc<T>) -> bool {
        a.ptr == b.ptr
    }

    /// The block's address, for identity.
    pub fn as_ptr(&self) -> *const () {
        self.ptr.as_ptr() as *const ()
    }

    /// Out of line, so that dropping a handle stays small.
    #[inline(never)]
    fn free(&mut self) {
        // SAFETY: this was the last handle; the block came from `Box::into_raw`.
        drop(unsafe { Box::from_raw(self.ptr.as_ptr()) });
    }
}

impl<T> Clone for ThinRc<T> {
    #[inline]
    fn clone(&self) -> ThinRc<T> {
        self.block().rc.inc();
        ThinRc { ptr: self.ptr, _marker: PhantomData }
    }
}

impl<T> Drop for ThinRc<T> {
    #[inline]
    fn drop(&mut self) {
        if self.block().rc.dec() {
            self.free();
        }
    }
}

impl<T> std::ops::Deref for ThinRc<T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        &self.block().value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[test]
    fn items_are_shared_and_dropped_once() {
        let probe = Rc::new(());
        let a = ThinSlice::from_vec(vec![probe.clone(), probe.clone(), probe.clone()]);
        assert_eq!(Rc::strong_count(&probe), 4);
        let b = a.clone();
        drop(a);
        assert_eq!(b.len(), 3);
        assert_eq!(Rc::strong_count(&probe), 4);
        drop(b);
        assert_eq!(Rc::strong_count(&probe), 1);
        let e: ThinSlice<u64> = ThinSlice::from_vec(Vec::new());
        assert!(e.is_empty());
        assert_eq!(std::mem::size_of::<ThinSlice<u64>>(), 8);
        assert_eq!(layout::<[u64; 2]>(1).0.size(), 24, "a one-element list of values takes 24 bytes");
    }

    #[test]
    fn thin_rc_shares_and_drops_once() {
        let probe = Rc::new(());
        let a = ThinRc::new((probe.clone(), 7u64));
        let b = a.clone();
        assert!(ThinRc::ptr_eq(&a, &b) && b.1 == 7);
        drop(a);
        assert_eq!(Rc::strong_count(&probe), 2);
        drop(b);
        assert_eq!(Rc::strong_count(&probe), 1);
        assert_eq!(std::mem::size_of::<RcBlock<(u64, u64)>>(), 24);
    }
}
