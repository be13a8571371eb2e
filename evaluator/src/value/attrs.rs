//! Attribute sets: an immutable array of attributes sorted by symbol id, shared by a
//! reference count — or, for `big // small`, a layer that shares the big side.
//!
//! Lookups are binary searches on integer symbols; `//` of two sets of similar size merges the
//! two sorted arrays in one pass (the reference copies too, and NixOS does 0.35 M of them).
//! Iteration in *name* order, which printing, `attrNames`, JSON and derivations need, goes
//! through [`Attrs::sorted`].
//!
//! A set is one allocation: a small header (count, length) followed by the attributes, behind
//! a thin pointer. An evaluation keeps about a million sets alive; `Rc<Vec<Attr>>` would take
//! two allocations each, plus the vector's spare capacity.
//!
//! **Layers.** nixpkgs builds its package set (~12,000 attributes) through chains of `//`
//! with small overlays (`lib.extends`: `super // f self super`, aliases, stdenv overrides,
//! `newScope`), and keeps every intermediate set alive: copying made 180 copies of the set
//! in one NixOS evaluation (50 MiB). So `a // b` where one side is at least [`MIN_BASE`]
//! attributes and the other at most a [`OVERLAY_SHARE`]th of it makes a *layered* set: the big
//! side's flat array is shared (the `base`), the small side's attributes are kept as a small
//! flat `overlay` whose names win over the base's (when the big side is the right operand,
//! the left side's names the base also has are dropped from the overlay first, so "overlay
//! wins" holds either way). A layered set's base and overlay are always flat: `(B // O1) // O2`
//! is the layer `B // (O1 // O2)`, so lookups take at most two binary searches; when the overlay
//! outgrows its share the result is flat again. Everything observable is the flat result:
//! `len`, iteration (a merge of the two sorted arrays, in symbol order), lookups, positions.
//! Only [`Attrs::as_slice`] needs one array: it builds the flat copy once and keeps it in the
//! layer.

use super::collect::{self, Kind, Obj};
use super::count::{Colour, RefCount};
use super::Value;
use crate::source::Pos;
use crate::symbol::Symbol;
use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::cell::OnceCell;
use std::cmp::Ordering;
use std::marker::PhantomData;
use std::ptr::NonNull;

/// One attribute: its name, where it was defined and its value.
#[derive(Clone)]
pub struct Attr {
    /// The name.
    pub name: Symbol,
    /// Where it was defined (`unsafeGetAttrPos`); [`Pos::NONE`] for built ones.
    pub pos: Pos,
    /// The value, often a thunk.
    pub value: Value,
}

#[repr(C)]
struct Header {
    rc: RefCount,
    /// The number of attributes, with [`LAYERED`] set when a [`Layer`] follows the header
    /// instead of the attributes themselves.
    len: u32,
}

/// The bit of [`Header::len`] that marks a layered set.
const LAYERED: u32 = 1 << 31;

/// The smallest base a `//` shares instead of copying (smaller sets copy in a few hundred
/// bytes; a layer costs a second lookup).
const MIN_BASE: usize = 1024;
/// A layer's overlay stays at most this fraction (1/N) of its base; past it, `//` copies.
const OVERLAY_SHARE: usize = 2;

/// What follows the header of a layered set: `base // overlay`, both flat.
struct Layer {
    base: Attrs,
    overlay: Attrs,
    /// The flat array, built the first time [`Attrs::as_slice`] asks for it.
    flat: OnceCell<Attrs>,
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

fn layer_layout() -> (Layout, usize) {
    let (l, offset) = Layout::new::<Header>().extend(Layout::new::<Layer>()).expect("layer size");
    (l.pad_to_align(), offset)
}

thread_local! {
    static EMPTY: Attrs = Attrs::with_len(0, |_| {});
}

impl Attrs {
    /// Allocates a set of `len` attributes; `fill` must write every one of them.
    fn with_len(len: usize, fill: impl FnOnce(*mut Attr)) -> Attrs {
        let (l, offset) = layout(len);
        let len32 = u32::try_from(len).ok().filter(|n| n & LAYERED == 0).expect("attribute set size");
        #[cfg(test)]
        collect::tests::allocated(Kind::Attrs);
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

    /// The layered set `base // overlay` (both flat).
    fn layered(base: Attrs, overlay: Attrs) -> Attrs {
        debug_assert!(!base.is_layered() && !overlay.is_layered());
        let shadowed = overlay.flat_slice().iter().filter(|a| base.flat_get(a.name).is_some()).count();
        let len = base.len() + overlay.len() - shadowed;
        #[cfg(test)]
        collect::tests::allocated(Kind::Attrs);
        let (l, offset) = layer_layout();
        // SAFETY: the layout has a non-zero size.
        let p = unsafe { alloc(l) } as *mut Header;
        let Some(ptr) = NonNull::new(p) else { handle_alloc_error(l) };
        // SAFETY: freshly allocated and aligned; header and layer are written before use.
        // `len` < 2^31: the two flat sets' lengths are each below it and the base is at
        // least OVERLAY_SHARE times the overlay.
        unsafe {
            ptr.as_ptr().write(Header { rc: RefCount::one(), len: len as u32 | LAYERED });
            ((ptr.as_ptr() as *mut u8).add(offset) as *mut Layer).write(Layer { base, overlay, flat: OnceCell::new() });
        }
        Attrs { ptr, _marker: PhantomData }
    }

    /// The empty set (shared).
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
    #[inline(always)]
    fn is_layered(&self) -> bool {
        self.header().len & LAYERED != 0
    }
    /// The attributes of a flat set (the caller checked that it is flat).
    #[inline(always)]
    fn flat_slice(&self) -> &[Attr] {
        debug_assert!(!self.is_layered());
        let offset = layout(0).1;
        // SAFETY: a flat set has `len` initialised attributes after the header at `offset`.
        unsafe {
            std::slice::from_raw_parts(
                (self.ptr.as_ptr() as *const u8).add(offset) as *const Attr,
                self.header().len as usize,
            )
        }
    }
    /// The layer of a layered set (the caller checked that it is layered).
    #[inline(always)]
    fn layer(&self) -> &Layer {
        debug_assert!(self.is_layered());
        // SAFETY: a layered set has an initialised `Layer` after the header.
        unsafe { &*((self.ptr.as_ptr() as *const u8).add(layer_layout().1) as *const Layer) }
    }
    #[inline]
    fn flat_get(&self, name: Symbol) -> Option<&Attr> {
        let s = self.flat_slice();
        s.binary_search_by_key(&name, |a| a.name).ok().map(|i| &s[i])
    }
    /// The two sorted arrays whose merge (names of the second winning) is this set.
    #[inline]
    fn parts(&self) -> (&[Attr], &[Attr]) {
        if self.is_layered() {
            let l = self.layer();
            (l.base.flat_slice(), l.overlay.flat_slice())
        } else {
            (self.flat_slice(), &[])
        }
    }
    /// The attributes as one array, in symbol order (a layered set builds it once).
    pub fn as_slice(&self) -> &[Attr] {
        if self.is_layered() {
            let l = self.layer();
            l.flat.get_or_init(|| Attrs::from_sorted_iter(self.iter().cloned())).flat_slice()
        } else {
            self.flat_slice()
        }
    }
    /// The number of attributes.
    #[inline]
    pub fn len(&self) -> usize {
        (self.header().len & !LAYERED) as usize
    }
    /// Whether there are no attributes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The value of attribute `name`.
    #[inline]
    pub fn get(&self, name: Symbol) -> Option<&Value> {
        self.get_attr(name).map(|a| &a.value)
    }
    /// The attribute `name`.
    #[inline]
    pub fn get_attr(&self, name: Symbol) -> Option<&Attr> {
        if self.is_layered() {
            return self.layered_get(name);
        }
        self.flat_get(name)
    }
    /// [`Attrs::get_attr`] of a layered set (out of line: the flat path stays small enough to
    /// inline at every selection).
    #[inline(never)]
    fn layered_get(&self, name: Symbol) -> Option<&Attr> {
        let l = self.layer();
        l.overlay.flat_get(name).or_else(|| l.base.flat_get(name))
    }
    /// [`Attrs::get_attr`], trying index `hint` first and remembering where the name was
    /// found (in a layered set: where it was found in the base) or, when it is missing,
    /// where it would go: a name missing again is then answered by comparing it with the
    /// two neighbours of that place instead of a binary search (the inner namespaces of
    /// nested `with`s miss the same names every time).
    #[inline]
    pub fn get_attr_hinted(&self, name: Symbol, hint: &crate::ast::Hint) -> Option<&Attr> {
        if self.is_layered() {
            return self.layered_get_hinted(name, hint);
        }
        self.flat_get_hinted(name, hint)
    }
    #[inline(never)]
    fn layered_get_hinted(&self, name: Symbol, hint: &crate::ast::Hint) -> Option<&Attr> {
        let l = self.layer();
        l.overlay.flat_get(name).or_else(|| l.base.flat_get_hinted(name, hint))
    }
    #[inline(always)]
    fn flat_get_hinted(&self, name: Symbol, hint: &crate::ast::Hint) -> Option<&Attr> {
        let s = self.flat_slice();
        let h = hint.get();
        match s.get(h) {
            Some(a) if a.name == name => return Some(a),
            // Between the neighbours of the hinted place (the array is sorted): missing.
            Some(a) if a.name > name && (h == 0 || s[h - 1].name < name) => return None,
            None if h == s.len() && s.last().is_none_or(|a| a.name < name) => return None,
            _ => {}
        }
        match s.binary_search_by_key(&name, |a| a.name) {
            Ok(i) => {
                hint.set(i);
                Some(&s[i])
            }
            Err(i) => {
                hint.set(i);
                None
            }
        }
    }
    /// Whether there is an attribute `name`.
    pub fn contains(&self, name: Symbol) -> bool {
        self.get_attr(name).is_some()
    }
    /// In symbol order (fast, but not name order).
    #[inline]
    pub fn iter(&self) -> Iter<'_> {
        let (a, b) = self.parts();
        Iter::new(a, b, self.len())
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
        let (nl, nr) = (self.len(), other.len());
        if nl >= MIN_BASE && nr * OVERLAY_SHARE <= nl {
            // big // small: the small side joins the overlay of the big one.
            let (base, overlay) = self.big_side();
            if overlay.len() + nr <= base.len() / OVERLAY_SHARE {
                let overlay = merge(overlay.iter(), other.iter());
                return Attrs::layered(base, overlay);
            }
        } else if nr >= MIN_BASE && nl * OVERLAY_SHARE <= nr {
            // small // big: the small side's names the base lacks go under the overlay.
            let (base, overlay) = other.big_side();
            if overlay.len() + nl <= base.len() / OVERLAY_SHARE {
                let missing = self.iter().filter(|a| base.flat_get(a.name).is_none());
                let overlay = merge(missing, overlay.iter());
                return Attrs::layered(base, overlay);
            }
        }
        if !self.is_layered() && !other.is_layered() {
            return merge_flat(self.flat_slice(), other.flat_slice());
        }
        merge(self.iter(), other.iter())
    }
    /// The flat base and overlay of a set about to be shared (a flat set is its own base).
    fn big_side(&self) -> (Attrs, Attrs) {
        if self.is_layered() {
            let l = self.layer();
            (l.base.clone(), l.overlay.clone())
        } else {
            (self.clone(), Attrs::empty())
        }
    }
    /// Whether `a` and `b` are handles to the same set.
    pub fn ptr_eq(a: &Attrs, b: &Attrs) -> bool {
        a.ptr == b.ptr
    }
    /// The set's address, for identity (cycle detection while printing or forcing).
    pub fn as_ptr(&self) -> *const () {
        self.ptr.as_ptr() as *const ()
    }
}

/// The flat set of two sorted arrays of attributes, names of `b` winning (the common case of
/// [`merge`], with plain indices).
#[inline]
fn merge_flat(a: &[Attr], b: &[Attr]) -> Attrs {
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

/// The flat set of two sorted runs of attributes, names of `b` winning.
fn merge<'a>(a: impl Iterator<Item = &'a Attr> + Clone, b: impl Iterator<Item = &'a Attr> + Clone) -> Attrs {
    let n = Merge::new(a.clone(), b.clone()).count();
    Attrs::with_len(n, |dst| {
        let mut k = 0;
        for x in Merge::new(a, b).take(n) {
            // SAFETY: at most `n` attributes are written, each slot once.
            unsafe { dst.add(k).write(x.clone()) };
            k += 1;
        }
        assert_eq!(k, n, "merged attributes shorter than counted");
    })
}

/// Two sorted runs of attributes merged by name, the second's winning on equal names.
struct Merge<A: Iterator, B: Iterator> {
    a: std::iter::Peekable<A>,
    b: std::iter::Peekable<B>,
}

impl<'a, A: Iterator<Item = &'a Attr>, B: Iterator<Item = &'a Attr>> Merge<A, B> {
    fn new(a: A, b: B) -> Self {
        Merge { a: a.peekable(), b: b.peekable() }
    }
}

impl<'a, A: Iterator<Item = &'a Attr>, B: Iterator<Item = &'a Attr>> Iterator for Merge<A, B> {
    type Item = &'a Attr;
    #[inline]
    fn next(&mut self) -> Option<&'a Attr> {
        match (self.a.peek(), self.b.peek()) {
            (Some(x), Some(y)) => match x.name.cmp(&y.name) {
                Ordering::Less => self.a.next(),
                Ordering::Greater => self.b.next(),
                Ordering::Equal => {
                    self.a.next();
                    self.b.next()
                }
            },
            (Some(_), None) => self.a.next(),
            (None, _) => self.b.next(),
        }
    }
}

/// The attributes of a set in symbol order: for a layered set, the merge of its base and
/// overlay (the overlay's winning on equal names); for a flat set, its array.
#[derive(Clone, Default)]
pub struct Iter<'a> {
    base: &'a [Attr],
    overlay: &'a [Attr],
    /// Attributes not yet yielded from either end while `overlay` is not used up (then it
    /// is `base.len()`, and no longer kept).
    left: usize,
}

impl<'a> Iter<'a> {
    /// The merge of `base` and `overlay`, which has `len` distinct names.
    #[inline]
    fn new(base: &'a [Attr], overlay: &'a [Attr], len: usize) -> Iter<'a> {
        debug_assert_eq!(len, merged_len(base, overlay));
        Iter { base, overlay, left: len }
    }
}

/// Takes one attribute off an end of a run (`split_first` or `split_last`).
type SplitEnd<'a> = fn(&'a [Attr]) -> Option<(&'a Attr, &'a [Attr])>;

impl<'a> Iter<'a> {
    /// [`Iterator::next`] while both runs have attributes left.
    #[inline(never)]
    fn next_merged(&mut self) -> Option<&'a Attr> {
        self.merged_step(<[Attr]>::split_first, Ordering::Less)
    }

    /// [`DoubleEndedIterator::next_back`] while both runs have attributes left.
    #[inline(never)]
    fn next_back_merged(&mut self) -> Option<&'a Attr> {
        self.merged_step(<[Attr]>::split_last, Ordering::Greater)
    }

    /// One step of the merge from the end `split` takes: the base's attribute when its name
    /// compares `base_first` to the overlay's, else the overlay's (which also wins a tie,
    /// dropping the base's).
    #[inline(always)]
    fn merged_step(&mut self, split: SplitEnd<'a>, base_first: Ordering) -> Option<&'a Attr> {
        let Some((x, xs)) = split(self.base) else {
            let (y, ys) = split(self.overlay)?;
            self.left -= 1;
            self.overlay = ys;
            return Some(y);
        };
        let (y, ys) = split(self.overlay)?;
        self.left -= 1;
        let order = x.name.cmp(&y.name);
        if order == base_first {
            self.base = xs;
            return Some(x);
        }
        if order == Ordering::Equal {
            self.base = xs;
        }
        self.overlay = ys;
        Some(y)
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Attr;
    #[inline]
    fn next(&mut self) -> Option<&'a Attr> {
        // A flat set, or a layer whose overlay is used up: a plain array walk.
        if self.overlay.is_empty() {
            let (x, rest) = self.base.split_first()?;
            self.base = rest;
            return Some(x);
        }
        self.next_merged()
    }
    /// Whole walks (`for_each`, `count`, extending) run the array's own loop once the overlay
    /// is used up (at once for a flat set).
    #[inline]
    fn fold<B, F: FnMut(B, &'a Attr) -> B>(mut self, init: B, mut f: F) -> B {
        let mut acc = init;
        while !self.overlay.is_empty() {
            match self.next_merged() {
                Some(x) => acc = f(acc, x),
                None => return acc,
            }
        }
        self.base.iter().fold(acc, f)
    }
    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = if self.overlay.is_empty() { self.base.len() } else { self.left };
        (n, Some(n))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl DoubleEndedIterator for Iter<'_> {
    #[inline]
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.overlay.is_empty() {
            let (x, rest) = self.base.split_last()?;
            self.base = rest;
            return Some(x);
        }
        self.next_back_merged()
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
        } else if !self.header().rc.no_candidate() {
            collect::possible_root(Kind::Attrs, self.ptr.cast());
        }
    }
}

/// The cycle collector's view of a set (`collect.rs`): the traced references are the
/// attributes' values, or a layer's base, overlay and flat copy.
impl Attrs {
    /// The set's address.
    pub(super) fn raw(&self) -> NonNull<u8> {
        self.ptr.cast()
    }

    /// A handle to the set at `p` that is not dropped.
    ///
    /// # Safety
    /// `p` is a live set.
    unsafe fn borrow_raw(p: NonNull<u8>) -> std::mem::ManuallyDrop<Attrs> {
        std::mem::ManuallyDrop::new(Attrs { ptr: p.cast(), _marker: PhantomData })
    }

    /// The count of the set at `p`.
    ///
    /// # Safety
    /// `p` is a live set.
    pub(super) unsafe fn count_at<'a>(p: NonNull<u8>) -> &'a RefCount {
        // SAFETY: by the caller.
        unsafe { &(*p.cast::<Header>().as_ptr()).rc }
    }

    /// Calls `f` with each traced reference of the set at `p`.
    ///
    /// # Safety
    /// `p` is a live set.
    pub(super) unsafe fn children_at(p: NonNull<u8>, f: &mut impl FnMut(Obj)) {
        // SAFETY: by the caller.
        let a = unsafe { Attrs::borrow_raw(p) };
        if a.is_layered() {
            let l = a.layer();
            f(Obj::new(Kind::Attrs, l.base.raw()));
            f(Obj::new(Kind::Attrs, l.overlay.raw()));
            if let Some(flat) = l.flat.get() {
                f(Obj::new(Kind::Attrs, flat.raw()));
            }
        } else {
            for attr in a.flat_slice() {
                if let Some(o) = Obj::of_value(&attr.value) {
                    f(o);
                }
            }
        }
    }

    /// Frees the set at `p`, found garbage by the collector (which took the counts of its
    /// traced references).
    ///
    /// # Safety
    /// As `collect::Obj::free_garbage`.
    pub(super) unsafe fn free_garbage_at(p: NonNull<u8>) -> usize {
        // SAFETY: the set is garbage; its contents are moved out once, then its block freed
        // with the layout it was made with.
        unsafe {
            let a = Attrs::borrow_raw(p);
            if a.is_layered() {
                let Layer { base, overlay, flat } = std::ptr::read(a.layer());
                std::mem::forget(base);
                std::mem::forget(overlay);
                if let Some(flat) = flat.into_inner() {
                    std::mem::forget(flat);
                }
            } else {
                for attr in a.flat_slice() {
                    collect::forget_traced(std::ptr::read(&attr.value));
                }
            }
            Attrs::dealloc_dead(p)
        }
    }
}

impl Attrs {
    #[inline(never)]
    fn free(&mut self) {
        if self.is_layered() {
            // SAFETY: the last handle of a layered block: its layer is dropped once (which
            // releases base, overlay and flat copy), then the block is freed with its layout.
            unsafe {
                std::ptr::drop_in_place(self.layer() as *const Layer as *mut Layer);
            }
        } else {
            // SAFETY: the count reached zero: this is the last handle; the attributes are
            // initialised and dropped once.
            unsafe { std::ptr::drop_in_place(self.flat_slice() as *const [Attr] as *mut [Attr]) };
        }
        if self.header().rc.buffered() {
            // The collector's buffer still has the address: it releases the block.
            self.header().rc.set_colour(Colour::Dead);
        } else {
            // SAFETY: the contents were dropped; the header still says which layout it has.
            unsafe { Attrs::dealloc_dead(self.ptr.cast()) };
        }
    }

    /// Releases the block of a set whose contents were dropped (the header is intact).
    ///
    /// # Safety
    /// `p` is such a block, released once.
    pub(super) unsafe fn dealloc_dead(p: NonNull<u8>) -> usize {
        // SAFETY: by the caller.
        unsafe {
            let len = (*p.cast::<Header>().as_ptr()).len;
            let l = if len & LAYERED != 0 { layer_layout().0 } else { layout(len as usize).0 };
            #[cfg(test)]
            collect::tests::released(Kind::Attrs);
            dealloc(p.as_ptr(), l);
            l.size()
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

    /// `a // b` computed on plain vectors: the model the sets must match.
    fn model(a: &Attrs, b: &Attrs) -> Vec<(String, i64)> {
        let mut m: std::collections::BTreeMap<String, i64> = ints(a).into_iter().collect();
        m.extend(ints(b));
        m.into_iter().collect()
    }

    fn range(prefix: &str, from: i64, to: i64, value: i64) -> Attrs {
        let names: Vec<(String, i64)> = (from..to).rev().map(|i| (format!("{prefix}{i}"), i + value)).collect();
        set(&names.iter().map(|(n, v)| (n.as_str(), *v)).collect::<Vec<_>>())
    }

    /// Every way of looking at `s` agrees with the model `want`.
    fn check(s: &Attrs, want: &[(String, i64)]) {
        assert_eq!(ints(s), want);
        assert_eq!(s.len(), want.len());
        assert_eq!(s.iter().len(), want.len());
        let fwd: Vec<Symbol> = s.iter().map(|a| a.name).collect();
        let mut back: Vec<Symbol> = s.iter().rev().map(|a| a.name).collect();
        back.reverse();
        assert_eq!(fwd, back);
        assert!(fwd.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(fwd, s.as_slice().iter().map(|a| a.name).collect::<Vec<_>>());
        // whole walks (fold), also after a few steps from either end
        let mut folded = Vec::new();
        s.iter().for_each(|a| folded.push(a.name));
        assert_eq!(folded, fwd);
        for k in [1, 3, fwd.len() / 2] {
            let mut it = s.iter();
            let mut got: Vec<Symbol> = it.by_ref().take(k).map(|a| a.name).collect();
            it.next_back();
            assert_eq!(it.len(), fwd.len().saturating_sub(k + 1));
            got.extend(it.fold(Vec::new(), |mut v, a| {
                v.push(a.name);
                v
            }));
            assert_eq!(got[..], fwd[..fwd.len() - 1]);
        }
        // both ends at once meet in the middle without losing or repeating a name
        let mut it = s.iter();
        let mut seen = Vec::new();
        while let Some(a) = it.next() {
            seen.push(a.name);
            if let Some(b) = it.next_back() {
                seen.push(b.name);
            }
        }
        seen.sort();
        assert_eq!(seen, fwd);
        let hint = crate::ast::Hint::default();
        for (n, v) in want {
            let sym = Symbol::new(n);
            assert!(matches!(s.get(sym), Some(Value::Int(x)) if x == v), "{n}");
            assert!(matches!(s.get_attr_hinted(sym, &hint), Some(a) if matches!(a.value, Value::Int(x) if x == *v)));
        }
        assert!(s.get(Symbol::new("absent-name")).is_none());
    }

    /// A hint that was the insertion point of a missing name answers that name's absence
    /// from the set it was made on, and never hides a name of another set: every name of a
    /// range, present or absent, looked up through one shared hint across sets of
    /// different shapes (as one `with` or selection site sees them), agrees with `get`.
    #[test]
    fn hints_remember_misses_without_hiding_names() {
        let layered = range("m", 0, 3000, 0).update(&set(&[("m7", 1), ("q1", 2)]));
        assert!(layered.is_layered());
        let sets = [range("m", 0, 40, 0), range("m", 10, 30, 0), set(&[("m5", 1)]), Attrs::empty(), layered];
        let names: Vec<Symbol> =
            (0..45).map(|i| format!("m{i}")).chain((0..3).map(|i| format!("q{i}"))).map(|n| Symbol::new(&n)).collect();
        let hint = crate::ast::Hint::default();
        for round in 0..3 {
            for s in &sets {
                for &n in names.iter().chain(names.iter().rev()) {
                    for _ in 0..2 {
                        let got = s.get_attr_hinted(n, &hint).map(|a| a.name);
                        assert_eq!(got, s.get(n).map(|_| n), "round {round}: {n}");
                    }
                }
            }
        }
    }

    #[test]
    fn big_and_small_sides_share_the_big_one() {
        let big = range("n", 0, 3000, 0);
        let small = set(&[("n5", -5), ("zz", 1), ("a", 2), ("n2999", -1)]);
        let r = big.update(&small);
        assert!(r.is_layered() && Attrs::ptr_eq(&r.layer().base, &big));
        check(&r, &model(&big, &small));
        let l = small.update(&big);
        assert!(l.is_layered() && Attrs::ptr_eq(&l.layer().base, &big));
        check(&l, &model(&small, &big));
        // layered // small keeps one layer over the same base
        let rr = r.update(&set(&[("n6", -6), ("zz", 9)]));
        assert!(rr.is_layered() && Attrs::ptr_eq(&rr.layer().base, &big));
        check(&rr, &model(&r, &set(&[("n6", -6), ("zz", 9)])));
        // small // layered, layered // layered, and a big overlay that ends the layering
        check(&small.update(&rr), &model(&small, &rr));
        check(&r.update(&l), &model(&r, &l));
        check(&l.update(&r), &model(&l, &r));
        let wide = range("w", 0, 1600, 7);
        let flat = rr.update(&wide);
        assert!(!flat.is_layered());
        check(&flat, &model(&rr, &wide));
    }

    #[test]
    fn layering_starts_at_the_thresholds() {
        let at = range("t", 0, MIN_BASE as i64, 0);
        let below = range("t", 0, MIN_BASE as i64 - 1, 0);
        let half = range("h", 0, (MIN_BASE / OVERLAY_SHARE) as i64, 100);
        let more = range("h", 0, (MIN_BASE / OVERLAY_SHARE) as i64 + 1, 100);
        for (a, b, layered) in
            [(&at, &half, true), (&half, &at, true), (&at, &more, false), (&more, &at, false), (&below, &half, false)]
        {
            let r = a.update(b);
            assert_eq!(r.is_layered(), layered);
            check(&r, &model(a, b));
        }
    }
}
