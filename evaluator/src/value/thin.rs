//! One thin-pointer allocation: a reference count, a length, a few fields of the handle's
//! own and the items inline.
//!
//! The evaluator keeps millions of shared immutable arrays alive (a NixOS desktop evaluation:
//! 340,000 lists, millions of environments and strings). `Rc<Vec<T>>` takes two blocks for
//! each, a 40-byte one for the counts and the vector and the vector's buffer with its spare
//! capacity; here each is one block behind an 8-byte pointer:
//!
//! ```text
//! [ count: u32 | len: L | head: H | items: T × len ]
//! ```
//!
//! [`ThinBlock`] is that block's handle. Lists have the empty [`ListHead`]; environments
//! (`env.rs`: the enclosing environment as head, `UnsafeCell` slots) and strings
//! (`string.rs`: the context as head, bytes as items, a `usize` length) wrap a `ThinBlock`
//! of their own; [`ThinRc`] is the single-value form (closures). The layout, allocation and
//! freeing of all of them is written once, here, and so is the `unsafe` code it needs.

use super::collect::{self, Kind};
use super::count::{Colour, RefCount};
use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;

/// The type of a block's length: `u32` keeps the count and the length in one 8-byte word
/// (lists, environments, sets), `usize` lets a string grow past 4 GiB as the reference's do.
pub trait BlockLen: Copy {
    /// `n` as this type; panics when it does not fit (`u32`: 4 billion items).
    fn from_usize(n: usize) -> Self;
    /// The length as a `usize`.
    fn get(self) -> usize;
}

impl BlockLen for u32 {
    #[inline(always)]
    fn from_usize(n: usize) -> u32 {
        u32::try_from(n).expect("array size")
    }
    #[inline(always)]
    fn get(self) -> usize {
        self as usize
    }
}

impl BlockLen for usize {
    #[inline(always)]
    fn from_usize(n: usize) -> usize {
        n
    }
    #[inline(always)]
    fn get(self) -> usize {
        self
    }
}

/// The fields a handle keeps in its block's header besides the count and the length (`()`
/// for none).
pub trait Head: Sized {
    /// The kind of object the cycle collector sees in a block with this head (`None`: the
    /// block cannot be part of a cycle, as a string's, and is never traced).
    const KIND: Option<Kind> = None;

    /// Takes the head of a block that has just been freed (its items dropped). The default
    /// drops it; environments, whose head is the enclosing environment, override it to free a
    /// chain of them in a loop rather than by recursion.
    #[inline(always)]
    fn freed(self) {}
}

impl Head for () {}

#[repr(C)]
struct Header<H, L> {
    rc: RefCount,
    len: L,
    head: H,
}

/// A shared block of a head `H` and `len` items `T` (cloning shares it). Items are never
/// written after construction except through interior mutability (`UnsafeCell` items).
pub struct ThinBlock<H: Head, T, L: BlockLen = u32> {
    ptr: NonNull<Header<H, L>>,
    /// Owns an `H` and `T`s; not `Send`/`Sync`: the count is not atomic.
    _marker: PhantomData<(*const Header<H, L>, T)>,
}

/// A shared, immutable array of `T` with no head (lists have their own, [`ListHead`], which
/// the cycle collector traces).
pub type ThinSlice<T> = ThinBlock<(), T>;

/// The block's layout for `len` items, and the offset of the first item.
#[inline(always)]
fn layout<H, T, L>(len: usize) -> (Layout, usize) {
    let (l, offset) =
        Layout::new::<Header<H, L>>().extend(Layout::array::<T>(len).expect("array size")).expect("array size");
    (l.pad_to_align(), offset)
}

impl<H: Head, T, L: BlockLen> ThinBlock<H, T, L> {
    /// A block of `head` and `len` items written by `fill`.
    ///
    /// # Safety
    /// `fill` gets a pointer to room for `len` items and must initialise all of them before
    /// it returns (a panic inside `fill` only leaks the block).
    #[inline(always)]
    pub unsafe fn with_head(head: H, len: usize, fill: impl FnOnce(*mut T)) -> Self {
        let (l, offset) = layout::<H, T, L>(len);
        let len = L::from_usize(len);
        // SAFETY: the layout has a non-zero size (the count).
        let p = unsafe { alloc(l) } as *mut Header<H, L>;
        let Some(ptr) = NonNull::new(p) else { handle_alloc_error(l) };
        // SAFETY: freshly allocated and aligned for the header and the items after it; the
        // caller's `fill` initialises the items before any handle exists.
        #[cfg(test)]
        if let Some(k) = H::KIND {
            collect::tests::allocated(k);
        }
        unsafe {
            ptr.as_ptr().write(Header { rc: RefCount::one(), len, head });
            fill((ptr.as_ptr() as *mut u8).add(offset) as *mut T);
        }
        ThinBlock { ptr, _marker: PhantomData }
    }

    /// A block of `head` and the items of `v`, moved.
    pub fn from_vec_with_head(head: H, mut v: Vec<T>) -> Self {
        let n = v.len();
        // SAFETY: the `n` items are moved (bitwise) out of the vector, whose length is then
        // set to 0 so that it frees only its buffer.
        unsafe {
            Self::with_head(head, n, |dst| {
                std::ptr::copy_nonoverlapping(v.as_ptr(), dst, n);
                v.set_len(0);
            })
        }
    }

    /// A block of `head` and `N` items (an environment of one variable).
    #[inline(always)]
    pub fn from_array<const N: usize>(head: H, items: [T; N]) -> Self {
        // SAFETY: the array fills the `N` items at once.
        unsafe { Self::with_head(head, N, |dst| (dst as *mut [T; N]).write(items)) }
    }

    /// A block of `head` and the items of `it`, written in place (no intermediate vector).
    /// Panics (leaking the block, to which no handle exists yet) if `it` yields fewer items
    /// than its `len()`; extra items are not taken.
    pub fn from_iter_exact(head: H, it: impl ExactSizeIterator<Item = T>) -> Self {
        let n = it.len();
        // SAFETY: each of the `n` slots is written once; a short iterator stops at the
        // assertion before any handle exists.
        unsafe {
            Self::with_head(head, n, |dst| {
                let mut k = 0;
                for x in it.take(n) {
                    dst.add(k).write(x);
                    k += 1;
                }
                assert_eq!(k, n, "iterator shorter than its length");
            })
        }
    }

    /// A block of `head` and a copy of `items` (a string's bytes).
    #[inline]
    pub fn copy_from_slice(head: H, items: &[T]) -> Self
    where
        T: Copy,
    {
        // SAFETY: the `items.len()` items are copied in; `T: Copy` has no drop to run twice.
        unsafe {
            Self::with_head(head, items.len(), |dst| std::ptr::copy_nonoverlapping(items.as_ptr(), dst, items.len()))
        }
    }

    #[inline(always)]
    fn header(&self) -> &Header<H, L> {
        // SAFETY: the block lives while a handle exists.
        unsafe { self.ptr.as_ref() }
    }

    /// The fields kept besides the items.
    #[inline(always)]
    pub fn head(&self) -> &H {
        &self.header().head
    }

    /// The items.
    #[inline(always)]
    pub fn as_slice(&self) -> &[T] {
        let offset = layout::<H, T, L>(0).1;
        // SAFETY: `len` initialised items follow the header at `offset`; they are never
        // written again while a handle exists (but through an `UnsafeCell`).
        unsafe {
            std::slice::from_raw_parts(
                (self.ptr.as_ptr() as *const u8).add(offset) as *const T,
                self.header().len.get(),
            )
        }
    }

    /// Whether `a` and `b` are handles to the same block.
    #[inline]
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        a.ptr == b.ptr
    }

    /// The block's address, for identity (cycle detection while printing or forcing).
    #[inline]
    pub fn as_ptr(&self) -> *const () {
        self.ptr.as_ptr() as *const ()
    }

    /// Gives this handle up. When it was the last one, the items are dropped, the block is
    /// freed and its head is returned, not dropped ([`Head::freed`] is not called): the
    /// caller decides what happens to it.
    #[inline]
    pub fn release(self) -> Option<H> {
        let this = ManuallyDrop::new(self);
        if this.header().rc.dec() {
            // SAFETY: that was the last handle, and `this` is not dropped.
            Some(unsafe { Self::dismantle(this.ptr) })
        } else {
            this.shared_release();
            None
        }
    }

    /// Drops the items, frees the block and returns the head.
    ///
    /// # Safety
    /// The block's count reached zero: no handle to it is used again.
    #[inline(always)]
    unsafe fn dismantle(ptr: NonNull<Header<H, L>>) -> H {
        let this = ManuallyDrop::new(ThinBlock::<H, T, L> { ptr, _marker: PhantomData });
        let n = this.header().len.get();
        // SAFETY: the items are initialised and dropped once; the head is moved out once;
        // then the block is freed with the layout it was allocated with.
        unsafe {
            std::ptr::drop_in_place(this.as_slice() as *const [T] as *mut [T]);
            let head = std::ptr::read(&(*ptr.as_ptr()).head);
            if H::KIND.is_some() && this.header().rc.buffered() {
                // The collector's buffer still has the address: it releases the block.
                this.header().rc.set_colour(Colour::Dead);
            } else {
                #[cfg(test)]
                if let Some(k) = H::KIND {
                    collect::tests::released(k);
                }
                dealloc(ptr.as_ptr() as *mut u8, layout::<H, T, L>(n).0);
            }
            head
        }
    }

    /// Releases the block of an object freed while buffered (its contents are gone).
    ///
    /// # Safety
    /// `p` is a block of this type marked [`Colour::Dead`], released once.
    pub(super) unsafe fn dealloc_dead(p: NonNull<u8>) -> usize {
        // SAFETY: by the caller; the header (with the length) is intact.
        unsafe {
            let n = (*p.cast::<Header<H, L>>().as_ptr()).len.get();
            let l = layout::<H, T, L>(n).0;
            #[cfg(test)]
            if let Some(k) = H::KIND {
                collect::tests::released(k);
            }
            dealloc(p.as_ptr(), l);
            l.size()
        }
    }

    /// The size of the block of `len` items (for the layout tests of the handles).
    #[cfg(test)]
    pub(super) fn block_size(len: usize) -> usize {
        layout::<H, T, L>(len).0.size()
    }

    /// A handle was dropped and others are left: for the kinds that can be part of a cycle,
    /// the object may now be garbage held only by a cycle (a candidate of the collector).
    #[inline(always)]
    fn shared_release(&self) {
        if let Some(kind) = H::KIND {
            if !self.header().rc.no_candidate() {
                collect::possible_root(kind, self.ptr.cast());
            }
        }
    }

    /// The block's address, for the collector (the handle is not consumed).
    #[inline]
    pub(super) fn raw(&self) -> NonNull<u8> {
        self.ptr.cast()
    }

    /// A handle to the block at `p`, owning one count.
    ///
    /// # Safety
    /// `p` is the address of a live block of this type, and the caller gives the handle one
    /// count it holds (or counts it with [`RefCount::inc`] first).
    #[inline]
    pub(super) unsafe fn from_raw(p: NonNull<u8>) -> ManuallyDrop<Self> {
        ManuallyDrop::new(ThinBlock { ptr: p.cast(), _marker: PhantomData })
    }

    /// The count of the block at `p`.
    ///
    /// # Safety
    /// `p` is the address of a live block of this type.
    #[inline]
    pub(super) unsafe fn count_at<'a>(p: NonNull<u8>) -> &'a RefCount {
        // SAFETY: by the caller, the header is live.
        unsafe { &(*p.cast::<Header<H, L>>().as_ptr()).rc }
    }

    /// Frees the block of a garbage cycle: `take` gets each item and the head, moved out,
    /// to drop or forget (the collector has already taken the counts of the traced ones);
    /// then the memory is released.
    ///
    /// # Safety
    /// The collector found the block garbage: no handle to it is used again.
    pub(super) unsafe fn free_garbage(p: NonNull<u8>, mut item: impl FnMut(T), head: impl FnOnce(H)) -> usize {
        let ptr = p.cast::<Header<H, L>>();
        // SAFETY: as `dismantle`, with the items and head moved out instead of dropped.
        unsafe {
            let this = Self::from_raw(p);
            let n = this.header().len.get();
            for x in this.as_slice() {
                item(std::ptr::read(x));
            }
            head(std::ptr::read(&(*ptr.as_ptr()).head));
            let l = layout::<H, T, L>(n).0;
            #[cfg(test)]
            if let Some(k) = H::KIND {
                collect::tests::released(k);
            }
            dealloc(ptr.as_ptr() as *mut u8, l);
            l.size()
        }
    }

    /// Out of line, so that dropping a handle stays small.
    #[inline(never)]
    fn free(&mut self) {
        // SAFETY: called once, by the last handle's drop.
        unsafe { Self::dismantle(self.ptr) }.freed();
    }
}

impl<H: Head + Default, T> ThinBlock<H, T> {
    /// A block of `len` items written by `fill`.
    ///
    /// # Safety
    /// As [`ThinBlock::with_head`].
    pub unsafe fn with_len(len: usize, fill: impl FnOnce(*mut T)) -> Self {
        // SAFETY: the caller's promise.
        unsafe { ThinBlock::with_head(H::default(), len, fill) }
    }

    /// The items of `v`, moved into one block.
    pub fn from_vec(v: Vec<T>) -> Self {
        ThinBlock::from_vec_with_head(H::default(), v)
    }
}

/// The head of a list's block: none, but lists are traced by the cycle collector (a list
/// can hold the closure or thunk that holds it).
#[derive(Default)]
pub struct ListHead;

impl Head for ListHead {
    const KIND: Option<Kind> = Some(Kind::List);
}

impl<H: Head, T, L: BlockLen> Clone for ThinBlock<H, T, L> {
    #[inline]
    fn clone(&self) -> Self {
        self.header().rc.inc();
        ThinBlock { ptr: self.ptr, _marker: PhantomData }
    }
}

impl<H: Head, T, L: BlockLen> Drop for ThinBlock<H, T, L> {
    /// Inlined: most drops only decrement.
    #[inline]
    fn drop(&mut self) {
        if self.header().rc.dec() {
            self.free();
        } else {
            self.shared_release();
        }
    }
}

impl<H: Head, T, L: BlockLen> std::ops::Deref for ThinBlock<H, T, L> {
    type Target = [T];
    #[inline(always)]
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<H: Head + Default, T> From<Vec<T>> for ThinBlock<H, T> {
    fn from(v: Vec<T>) -> Self {
        ThinBlock::from_vec(v)
    }
}

/// The value of a [`ThinRc`], as the head of a block with no items.
pub(super) struct Only<T>(pub(super) T);

/// What the cycle collector sees in a [`ThinRc`] of this type.
pub trait Collected {
    /// `None`: never traced.
    const KIND: Option<Kind>;
}

impl<T: Collected> Head for Only<T> {
    const KIND: Option<Kind> = T::KIND;
}

/// A shared value behind a thin pointer with a 32-bit count: `Rc<T>` keeps two 64-bit
/// counts, so a closure (a lambda and its environment, 16 bytes) takes 32 bytes there and
/// 24 here (the block's length, always 0, sits beside the count).
pub struct ThinRc<T: Collected>(pub(super) ThinBlock<Only<T>, ()>);

impl<T: Collected> ThinRc<T> {
    /// `value` in a new block.
    #[inline]
    pub fn new(value: T) -> ThinRc<T> {
        ThinRc(ThinBlock::from_array(Only(value), []))
    }

    /// Whether `a` and `b` share one block.
    pub fn ptr_eq(a: &ThinRc<T>, b: &ThinRc<T>) -> bool {
        ThinBlock::ptr_eq(&a.0, &b.0)
    }

    /// The block's address, for identity.
    pub fn as_ptr(&self) -> *const () {
        self.0.as_ptr()
    }
}

impl<T: Collected> Clone for ThinRc<T> {
    #[inline]
    fn clone(&self) -> ThinRc<T> {
        ThinRc(self.0.clone())
    }
}

impl<T: Collected> std::ops::Deref for ThinRc<T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        &self.0.head().0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
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
        assert_eq!(layout::<(), [u64; 2], u32>(1).0.size(), 24, "a one-element list of values takes 24 bytes");
    }

    impl Collected for (Rc<()>, u64) {
        const KIND: Option<Kind> = None;
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
        assert_eq!(layout::<Only<(u64, u64)>, (), u32>(0).0.size(), 24, "a closure takes 24 bytes");
    }

    /// Counts the heads passed to [`Head::freed`].
    struct Counted<'a> {
        freed: &'a Cell<u32>,
        _probe: Rc<()>,
    }

    impl Head for Counted<'_> {
        fn freed(self) {
            self.freed.set(self.freed.get() + 1);
        }
    }

    #[test]
    fn heads_are_freed_once_or_handed_back_by_release() {
        let freed = Cell::new(0);
        let probe = Rc::new(());
        let a = ThinBlock::<_, Rc<()>, usize>::from_iter_exact(
            Counted { freed: &freed, _probe: probe.clone() },
            (0..2).map(|_| probe.clone()),
        );
        assert_eq!((a.len(), Rc::strong_count(&probe)), (2, 4));
        let b = a.clone();
        drop(a);
        assert_eq!(freed.get(), 0);
        drop(b);
        assert_eq!((freed.get(), Rc::strong_count(&probe)), (1, 1));

        let a = ThinBlock::<_, u8>::copy_from_slice(Counted { freed: &freed, _probe: probe.clone() }, b"abc");
        let b = a.clone();
        assert!(a.release().is_none(), "another handle is left");
        assert_eq!(&*b, b"abc");
        let head = b.release().expect("the last handle gets the head");
        assert_eq!((freed.get(), Rc::strong_count(&probe)), (1, 2));
        drop(head);
        assert_eq!(Rc::strong_count(&probe), 1);
    }

    #[test]
    #[should_panic(expected = "iterator shorter than its length")]
    fn a_short_iterator_is_refused() {
        struct Liar;
        impl Iterator for Liar {
            type Item = u8;
            fn next(&mut self) -> Option<u8> {
                None
            }
        }
        impl ExactSizeIterator for Liar {
            fn len(&self) -> usize {
                3
            }
        }
        ThinSlice::from_iter_exact((), Liar);
    }
}
