//! Nix strings: immutable byte strings with a string context.
//!
//! Nix strings are byte strings (C++ `std::string`), not necessarily UTF-8; lengths and
//! `substring` count bytes. The context records the store paths a string refers to, as the
//! reference encodes them: `/nix/store/…` (a plain path), `=/nix/store/….drv` (a derivation and
//! its whole closure), `!out!/nix/store/….drv` (one output of a derivation).

use super::thin::{Head, ThinBlock};
use crate::symbol::Symbol;
use std::collections::BTreeSet;

/// The store paths a string refers to, in the encoding of the module header.
pub type Context = BTreeSet<Box<str>>;

/// A shared, immutable Nix string (cloning shares it). One allocation: the count, the
/// length and the context, then the bytes (a thin block); evaluations make millions of short
/// strings (`substring`, interpolation), so one allocation instead of two matters. The length
/// is a `usize`: strings, unlike lists, may pass 4 GiB.
#[derive(Clone)]
pub struct NixString {
    block: ThinBlock<Option<Box<Context>>, u8, usize>,
}

impl Head for Option<Box<Context>> {}

thread_local! {
    /// One shared string per attribute name that was made a value (see
    /// [`NixString::of_symbol`]); names never die, so neither do these, and there are at
    /// most as many as symbols.
    /// Indexed by symbol number (symbols are numbered densely): a load instead of a hash
    /// lookup, as `mapAttrs` and `zipAttrsWith` ask for every attribute.
    static SYMBOL_STRINGS: std::cell::RefCell<Vec<Option<NixString>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

impl NixString {
    /// The attribute name `name` as a string value. `mapAttrs`, `zipAttrsWith` and
    /// `attrNames` pass names as strings, the same few thousand names millions of times;
    /// strings are immutable, so one copy per name is shared.
    pub fn of_symbol(name: Symbol) -> NixString {
        SYMBOL_STRINGS.with(|m| {
            let mut m = m.borrow_mut();
            let i = name.index();
            if m.len() <= i {
                m.resize(i + 1, None);
            }
            m[i].get_or_insert_with(|| NixString::new(name.as_str())).clone()
        })
    }
    /// A string of `bytes` without context.
    pub fn new(bytes: impl AsRef<[u8]>) -> NixString {
        NixString::make(bytes.as_ref(), None)
    }
    /// A string of `bytes` that refers to `context`.
    pub fn with_context(bytes: impl AsRef<[u8]>, context: Context) -> NixString {
        let context = if context.is_empty() { None } else { Some(Box::new(context)) };
        NixString::make(bytes.as_ref(), context)
    }
    fn make(bytes: &[u8], context: Option<Box<Context>>) -> NixString {
        NixString { block: ThinBlock::copy_from_slice(context, bytes) }
    }
    /// The bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        self.block.as_slice()
    }
    /// The text, with invalid UTF-8 replaced (for messages and names).
    pub fn to_str_lossy(&self) -> std::borrow::Cow<'_, str> {
        // `from_utf8` checks a word at a time; the lossy scan goes byte by byte.
        match std::str::from_utf8(self.as_bytes()) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(self.as_bytes()),
        }
    }
    /// The text, if the bytes are UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(self.as_bytes()).ok()
    }
    /// The length in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.block.len()
    }
    /// Whether the string is `""`.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The context, if there is one (never an empty one).
    pub fn context(&self) -> Option<&Context> {
        self.block.head().as_deref()
    }
    /// Whether the string refers to store paths.
    pub fn has_context(&self) -> bool {
        self.block.head().is_some()
    }
    /// Whether `a` and `b` share one allocation.
    pub fn ptr_eq(a: &NixString, b: &NixString) -> bool {
        ThinBlock::ptr_eq(&a.block, &b.block)
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
    /// The bytes so far.
    pub bytes: Vec<u8>,
    /// The union of the pieces' contexts.
    pub context: Context,
}

impl StringBuilder {
    /// Appends a string and its context.
    pub fn push(&mut self, s: &NixString) {
        self.bytes.extend_from_slice(s.as_bytes());
        if let Some(c) = s.context() {
            self.context.extend(c.iter().cloned());
        }
    }
    /// Appends bytes without context.
    pub fn push_bytes(&mut self, b: &[u8]) {
        self.bytes.extend_from_slice(b);
    }
    /// The string built.
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
        assert_eq!(ThinBlock::<Option<Box<Context>>, u8, usize>::block_size(3), 32, "a 24-byte header, then the bytes");
    }
}
