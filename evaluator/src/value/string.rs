//! Nix strings: immutable byte strings with a string context.
//!
//! Nix strings are byte strings (C++ `std::string`), not necessarily UTF-8; lengths and
//! `substring` count bytes. The context records the store paths a string refers to, as the
//! reference encodes them: `/nix/store/…` (a plain path), `=/nix/store/….drv` (a derivation and
//! its whole closure), `!out!/nix/store/….drv` (one output of a derivation).

use super::count::RefCount;
use crate::symbol::Symbol;
use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::collections::BTreeSet;
use std::marker::PhantomData;
use std::ptr::NonNull;

pub type Context = BTreeSet<Box<str>>;

/// A string is one allocation: this header, then the bytes. Evaluations make millions of
/// short strings (`substring`, interpolation), so one allocation instead of two matters.
#[repr(C)]
struct Header {
    rc: RefCount,
    len: usize,
    context: Option<Box<Context>>,
}

/// A shared, immutable Nix string (cloning shares it).
pub struct NixString {
    ptr: NonNull<Header>,
    /// Not `Send`/`Sync`: the count is not atomic.
    _marker: PhantomData<*const Header>,
}

fn layout(len: usize) -> (Layout, usize) {
    let (l, offset) =
        Layout::new::<Header>().extend(Layout::array::<u8>(len).expect("string size")).expect("string size");
    (l.pad_to_align(), offset)
}

thread_local! {
    /// One shared string per attribute name that was made a value (see
    /// [`NixString::of_symbol`]); names never die, so neither do these, and there are at
    /// most as many as symbols.
    static SYMBOL_STRINGS: std::cell::RefCell<rustc_hash::FxHashMap<Symbol, NixString>> =
        std::cell::RefCell::new(Default::default());
}

impl NixString {
    /// The attribute name `name` as a string value. `mapAttrs`, `zipAttrsWith` and
    /// `attrNames` pass names as strings, the same few thousand names millions of times;
    /// strings are immutable, so one copy per name is shared.
    pub fn of_symbol(name: Symbol) -> NixString {
        SYMBOL_STRINGS.with(|m| m.borrow_mut().entry(name).or_insert_with(|| NixString::new(name.as_str())).clone())
    }
    pub fn new(bytes: impl AsRef<[u8]>) -> NixString {
        NixString::make(bytes.as_ref(), None)
    }
    pub fn with_context(bytes: impl AsRef<[u8]>, context: Context) -> NixString {
        let context = if context.is_empty() { None } else { Some(Box::new(context)) };
        NixString::make(bytes.as_ref(), context)
    }
    fn make(bytes: &[u8], context: Option<Box<Context>>) -> NixString {
        let (l, offset) = layout(bytes.len());
        // SAFETY: the layout has a non-zero size (the header).
        let p = unsafe { alloc(l) } as *mut Header;
        let Some(ptr) = NonNull::new(p) else { handle_alloc_error(l) };
        // SAFETY: freshly allocated and aligned; the bytes go right after the header.
        unsafe {
            ptr.as_ptr().write(Header { rc: RefCount::one(), len: bytes.len(), context });
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), (p as *mut u8).add(offset), bytes.len());
        }
        NixString { ptr, _marker: PhantomData }
    }
    #[inline(always)]
    fn header(&self) -> &Header {
        // SAFETY: the block lives while a handle exists.
        unsafe { self.ptr.as_ref() }
    }
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        let offset = layout(0).1;
        // SAFETY: `len` initialised bytes follow the header.
        unsafe { std::slice::from_raw_parts((self.ptr.as_ptr() as *const u8).add(offset), self.header().len) }
    }
    /// The text, with invalid UTF-8 replaced (for messages and names).
    pub fn to_str_lossy(&self) -> std::borrow::Cow<'_, str> {
        // `from_utf8` checks a word at a time; the lossy scan goes byte by byte.
        match std::str::from_utf8(self.as_bytes()) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(self.as_bytes()),
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(self.as_bytes()).ok()
    }
    #[inline]
    pub fn len(&self) -> usize {
        self.header().len
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn context(&self) -> Option<&Context> {
        self.header().context.as_deref()
    }
    pub fn has_context(&self) -> bool {
        self.header().context.is_some()
    }
    pub fn ptr_eq(a: &NixString, b: &NixString) -> bool {
        a.ptr == b.ptr
    }
}

impl Clone for NixString {
    #[inline]
    fn clone(&self) -> NixString {
        self.header().rc.inc();
        NixString { ptr: self.ptr, _marker: PhantomData }
    }
}

impl Drop for NixString {
    #[inline]
    fn drop(&mut self) {
        if self.header().rc.dec() {
            self.free();
        }
    }
}

impl NixString {
    /// Out of line, so that dropping a `Value` stays small.
    #[inline(never)]
    fn free(&mut self) {
        let len = self.header().len;
        // SAFETY: last handle: drop the header's context, then free the block.
        unsafe {
            std::ptr::drop_in_place(self.ptr.as_ptr());
            dealloc(self.ptr.as_ptr() as *mut u8, layout(len).0);
        }
    }
}

impl From<&str> for NixString {
    fn from(s: &str) -> NixString {
        NixString::new(s.as_bytes())
    }
}
impl From<String> for NixString {
    fn from(s: String) -> NixString {
        NixString::new(s.into_bytes())
    }
}
impl From<Vec<u8>> for NixString {
    fn from(s: Vec<u8>) -> NixString {
        NixString::new(s)
    }
}

impl std::fmt::Debug for NixString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.to_str_lossy())
    }
}

/// Accumulates bytes and context while building a string (interpolation, concatenation).
#[derive(Default)]
pub struct StringBuilder {
    pub bytes: Vec<u8>,
    pub context: Context,
}

impl StringBuilder {
    pub fn push(&mut self, s: &NixString) {
        self.bytes.extend_from_slice(s.as_bytes());
        if let Some(c) = s.context() {
            self.context.extend(c.iter().cloned());
        }
    }
    pub fn push_bytes(&mut self, b: &[u8]) {
        self.bytes.extend_from_slice(b);
    }
    pub fn finish(self) -> NixString {
        NixString::with_context(self.bytes, self.context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_context_and_sharing() {
        let mut ctx = Context::new();
        ctx.insert("/nix/store/aaaa-x".into());
        let s = NixString::with_context(b"a\xffb".as_slice(), ctx);
        let t = s.clone();
        drop(s);
        assert_eq!(t.as_bytes(), b"a\xffb");
        assert_eq!(t.len(), 3);
        assert_eq!(t.to_str_lossy(), "a\u{fffd}b");
        assert!(t.context().is_some_and(|c| c.contains("/nix/store/aaaa-x")));
        let e = NixString::from("");
        assert!(e.is_empty() && !e.has_context());
        assert_eq!(std::mem::size_of::<NixString>(), 8);
    }
}
