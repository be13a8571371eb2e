//! Nix strings: immutable byte strings with a string context.
//!
//! Nix strings are byte strings (C++ `std::string`), not necessarily UTF-8; lengths and
//! `substring` count bytes. The context records the store paths a string refers to, as the
//! reference encodes them: `/nix/store/…` (a plain path), `=/nix/store/….drv` (a derivation and
//! its whole closure), `!out!/nix/store/….drv` (one output of a derivation).

use std::collections::BTreeSet;
use std::rc::Rc;

pub type Context = BTreeSet<Box<str>>;

struct Inner {
    bytes: Box<[u8]>,
    context: Option<Box<Context>>,
}

#[derive(Clone)]
pub struct NixString(Rc<Inner>);

impl NixString {
    pub fn new(bytes: impl Into<Box<[u8]>>) -> NixString {
        NixString(Rc::new(Inner { bytes: bytes.into(), context: None }))
    }
    pub fn with_context(bytes: impl Into<Box<[u8]>>, context: Context) -> NixString {
        let context = if context.is_empty() { None } else { Some(Box::new(context)) };
        NixString(Rc::new(Inner { bytes: bytes.into(), context }))
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.0.bytes
    }
    /// The text, with invalid UTF-8 replaced (for messages and names).
    pub fn to_str_lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.0.bytes)
    }
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0.bytes).ok()
    }
    pub fn len(&self) -> usize {
        self.0.bytes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.bytes.is_empty()
    }
    pub fn context(&self) -> Option<&Context> {
        self.0.context.as_deref()
    }
    pub fn has_context(&self) -> bool {
        self.0.context.is_some()
    }
    pub fn ptr_eq(a: &NixString, b: &NixString) -> bool {
        Rc::ptr_eq(&a.0, &b.0)
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
