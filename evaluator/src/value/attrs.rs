//! Attribute sets: an immutable array of attributes sorted by symbol id, shared by a
//! reference count.
//!
//! Lookups are binary searches on integer symbols; `//` merges two sorted arrays in one pass
//! (the reference copies too, and NixOS does 0.35 M of them). Iteration in *name* order, which
//! printing, `attrNames`, JSON and derivations need, goes through [`Attrs::sorted`].
//!
//! A set is one allocation: a small header (count, length) followed by the attributes, behind
//! a thin pointer. An evaluation keeps about a million sets alive; `Rc<Vec<Attr>>` would take
//! two allocations each, plus the vector's spare capacity.

use super::count::RefCount;
use super::Value;
use crate::source::Pos;
use crate::symbol::Symbol;
use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::cmp::Ordering;
use std::marker::PhantomData;
use std::ptr::NonNull;

#[derive(Clone)]
pub struct Attr {
    pub name: Symbol,
    pub pos: Pos,
    pub value: Value,
}

#[repr(C)]
struct Header {
    rc: RefCount,
    len: u32,
}

/// A shared handle to an attribute set (cloning shares it).
pub struct Attrs {
    ptr: NonNull<Header>,
    /// Not `Send`/`Sync`: the count is not atomic.
    _marker: PhantomData<*const Header>,
}

fn layout(len: usize) -> (Layout, usize) {
    let (l, offset) = Layout::new::<Header>()
        .extend(Layout::array::<Attr>(len).expect("attribute set size"))
        .expect("attribute set size");
    (l.pad_to_align(), offset)
}

thread_local! {
    static EMPTY: Attrs = Attrs::with_len(0, |_| {});
}

impl Attrs {
    /// Allocates a set of `len` attributes; `fill` must write every one of them.
    fn with_len(len: usize, fill: impl FnOnce(*mut Attr)) -> Attrs {
        let (l, offset) = layout(len);
        let len32 = u32::try_from(len).expect("attribute set size");
        // SAFETY: the layout has a non-zero size (the header).
        let p = unsafe { alloc(l) } as *mut Header;
        let Some(ptr) = NonNull::new(p) else { handle_alloc_error(l) };
        // SAFETY: freshly allocated and aligned; `fill` initialises the `len` attributes
        // that follow the header before anyone reads them.
        unsafe {
            ptr.as_ptr().write(Header { rc: RefCount::one(), len: len32 });
            fill((ptr.as_ptr() as *mut u8).add(offset) as *mut Attr);
        }
        Attrs { ptr, _marker: PhantomData }
    }

    pub fn empty() -> Attrs {
        EMPTY.with(|e| e.clone())
    }
    /// From attributes in any order; on duplicate names the first wins.
    pub fn from_vec(mut v: Vec<Attr>) -> Attrs {
        v.sort_by_key(|a| a.name);
        v.dedup_by_key(|a| a.name);
        Attrs::from_sorted(v)
    }
    /// From attributes already sorted by symbol and free of duplicates.
    pub fn from_sorted(mut v: Vec<Attr>) -> Attrs {
        debug_assert!(v.windows(2).all(|w| w[0].name < w[1].name));
        let n = v.len();
        // SAFETY: the `n` attributes are moved (bitwise) out of the vector, whose length is
        // then set to 0 so it frees only its buffer.
        Attrs::with_len(n, |dst| unsafe {
            std::ptr::copy_nonoverlapping(v.as_ptr(), dst, n);
            v.set_len(0);
        })
    }
    /// From an iterator of attributes sorted by symbol and free of duplicates, written
    /// straight into the set (no intermediate vector). The iterator must yield exactly
    /// `len()` items.
    pub fn from_sorted_iter(it: impl ExactSizeIterator<Item = Attr>) -> Attrs {
        let n = it.len();
        Attrs::with_len(n, |dst| {
            let mut k = 0;
            for a in it.take(n) {
                // SAFETY: slot k < n is written once.
                unsafe { dst.add(k).write(a) };
                k += 1;
            }
            // A short iterator would leave slots uninitialised: stop here (the block leaks,
            // no handle to it exists yet).
            assert_eq!(k, n, "attribute iterator shorter than its length");
        })
    }
    #[inline(always)]
    fn header(&self) -> &Header {
        // SAFETY: the block lives while a handle exists.
        unsafe { self.ptr.as_ref() }
    }
    /// The attributes, in symbol order.
    #[inline(always)]
    pub fn as_slice(&self) -> &[Attr] {
        let offset = layout(0).1;
        // SAFETY: `len` initialised attributes follow the header at `offset`.
        unsafe {
            std::slice::from_raw_parts(
                (self.ptr.as_ptr() as *const u8).add(offset) as *const Attr,
                self.header().len as usize,
            )
        }
    }
    #[inline]
    pub fn len(&self) -> usize {
        self.header().len as usize
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    #[inline]
    pub fn get(&self, name: Symbol) -> Option<&Value> {
        self.get_attr(name).map(|a| &a.value)
    }
    #[inline]
    pub fn get_attr(&self, name: Symbol) -> Option<&Attr> {
        let s = self.as_slice();
        s.binary_search_by_key(&name, |a| a.name).ok().map(|i| &s[i])
    }
    /// [`Attrs::get_attr`], trying index `hint` first and remembering where the name was
    /// found.
    #[inline]
    pub fn get_attr_hinted(&self, name: Symbol, hint: &crate::ast::Hint) -> Option<&Attr> {
        let s = self.as_slice();
        if let Some(a) = s.get(hint.get()) {
            if a.name == name {
                return Some(a);
            }
        }
        let i = s.binary_search_by_key(&name, |a| a.name).ok()?;
        hint.set(i);
        Some(&s[i])
    }
    pub fn contains(&self, name: Symbol) -> bool {
        self.get_attr(name).is_some()
    }
    /// In symbol order (fast, but not name order).
    pub fn iter(&self) -> std::slice::Iter<'_, Attr> {
        self.as_slice().iter()
    }
    /// In lexicographic byte order of the names, as Nix shows attribute sets.
    pub fn sorted(&self) -> Vec<&Attr> {
        let mut v: Vec<&Attr> = self.iter().collect();
        v.sort_unstable_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
        v
    }
    /// `self // other`: attributes of `other` win.
    pub fn update(&self, other: &Attrs) -> Attrs {
        if other.is_empty() {
            return self.clone();
        }
        if self.is_empty() {
            return other.clone();
        }
        let (a, b) = (self.as_slice(), other.as_slice());
        let n = merged_len(a, b);
        Attrs::with_len(n, |dst| {
            let mut k = 0;
            let mut put = |x: &Attr| {
                debug_assert!(k < n);
                // SAFETY: exactly `n` attributes are written, each slot once.
                unsafe { dst.add(k).write(x.clone()) };
                k += 1;
            };
            let (mut i, mut j) = (0, 0);
            while i < a.len() && j < b.len() {
                match a[i].name.cmp(&b[j].name) {
                    Ordering::Less => {
                        put(&a[i]);
                        i += 1;
                    }
                    Ordering::Greater => {
                        put(&b[j]);
                        j += 1;
                    }
                    Ordering::Equal => {
                        put(&b[j]);
                        i += 1;
                        j += 1;
                    }
                }
            }
            a[i..].iter().for_each(&mut put);
            b[j..].iter().for_each(&mut put);
        })
    }
    pub fn ptr_eq(a: &Attrs, b: &Attrs) -> bool {
        a.ptr == b.ptr
    }
    pub fn as_ptr(&self) -> *const () {
        self.ptr.as_ptr() as *const ()
    }
}

/// The number of distinct names in two sorted attribute arrays.
fn merged_len(a: &[Attr], b: &[Attr]) -> usize {
    let (mut i, mut j, mut same) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].name.cmp(&b[j].name) {
            Ordering::Less => i += 1,
            Ordering::Greater => j += 1,
            Ordering::Equal => {
                same += 1;
                i += 1;
                j += 1;
            }
        }
    }
    a.len() + b.len() - same
}

impl Clone for Attrs {
    #[inline]
    fn clone(&self) -> Attrs {
        self.header().rc.inc();
        Attrs { ptr: self.ptr, _marker: PhantomData }
    }
}

impl Drop for Attrs {
    #[inline]
    fn drop(&mut self) {
        if self.header().rc.dec() {
            self.free();
        }
    }
}

impl Attrs {
    #[inline(never)]
    fn free(&mut self) {
        let n = self.len();
        // SAFETY: the count reached zero: this is the last handle; the attributes are
        // initialised and dropped once, then the block is freed with its layout.
        unsafe {
            std::ptr::drop_in_place(self.as_slice() as *const [Attr] as *mut [Attr]);
            dealloc(self.ptr.as_ptr() as *mut u8, layout(n).0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[(&str, i64)]) -> Attrs {
        Attrs::from_vec(
            names.iter().map(|(n, v)| Attr { name: Symbol::new(n), pos: Pos::NONE, value: Value::Int(*v) }).collect(),
        )
    }

    fn ints(a: &Attrs) -> Vec<(String, i64)> {
        a.sorted()
            .into_iter()
            .map(|x| (x.name.as_str().to_string(), if let Value::Int(i) = x.value { i } else { -1 }))
            .collect()
    }

    #[test]
    fn update_right_wins_and_sizes_exactly() {
        let a = set(&[("x", 1), ("y", 2), ("z", 3)]);
        let b = set(&[("y", 20), ("w", 40)]);
        let c = a.update(&b);
        assert_eq!(c.len(), 4);
        assert_eq!(ints(&c), vec![("w".into(), 40), ("x".into(), 1), ("y".into(), 20), ("z".into(), 3)]);
        assert!(Attrs::ptr_eq(&a.update(&Attrs::empty()), &a));
        assert_eq!(std::mem::size_of::<Attrs>(), 8);
    }

    #[test]
    fn first_duplicate_wins_and_values_are_shared() {
        let a = set(&[("k", 1), ("k", 2)]);
        assert_eq!(ints(&a), vec![("k".into(), 1)]);
        let inner = set(&[("v", 7)]);
        let outer =
            Attrs::from_vec(vec![Attr { name: Symbol::new("s"), pos: Pos::NONE, value: Value::Attrs(inner.clone()) }]);
        drop(inner);
        let Some(Value::Attrs(got)) = outer.get(Symbol::new("s")) else { panic!("nested set") };
        assert_eq!(ints(got), vec![("v".into(), 7)]);
    }
}
