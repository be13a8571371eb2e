//! Interned identifiers.
//!
//! Every attribute name and variable name is a [`Symbol`]: a `u32` handle into one process-wide
//! interner. Names never die (the evaluator is a one-shot process), so resolving a symbol
//! yields a `&'static str` and comparing two names is comparing two integers. Symbol order is
//! interning order, *not* name order: whoever needs names sorted (attrNames, printing, JSON,
//! derivation env) sorts by `as_str()`.
//!
//! The interner is hand-written rather than a crate's (it was `lasso`'s `ThreadedRodeo`, a
//! sharded map with SipHash that cost ~1,900 instructions per new name, 5% of lowering the
//! files of a NixOS system): one map with the Fx hash behind a mutex, names copied into a
//! never-freed arena, and per-thread caches in front of it for both directions, so that the
//! common lookups take no lock.

use bumpalo::Bump;
use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::num::NonZeroU32;
use std::sync::{LazyLock, Mutex};

/// The process-wide table: name to symbol and symbol to name.
struct Interner {
    map: FxHashMap<&'static str, Symbol>,
    /// `names[i]` is the name of the symbol with index `i`.
    names: Vec<&'static str>,
    /// Where the names live; never reset or dropped (the interner is a static).
    arena: Bump,
}

impl Interner {
    fn intern(&mut self, s: &str) -> (Symbol, &'static str) {
        if let Some((&name, &sym)) = self.map.get_key_value(s) {
            return (sym, name);
        }
        // SAFETY: the arena belongs to a never-dropped static and is never reset, so its
        // allocations live (unmoved, unfreed) for the rest of the process.
        let name: &'static str = unsafe { &*(self.arena.alloc_str(s) as *const str) };
        self.push(name)
    }

    fn push(&mut self, name: &'static str) -> (Symbol, &'static str) {
        let sym = Symbol::from_index(self.names.len());
        self.names.push(name);
        self.map.insert(name, sym);
        (sym, name)
    }
}

static INTERNER: LazyLock<Mutex<Interner>> = LazyLock::new(|| {
    let mut i = Interner { map: FxHashMap::default(), names: Vec::new(), arena: Bump::new() };
    i.map.reserve(1 << 15);
    i.names.reserve(1 << 15);
    for name in WELL_KNOWN {
        i.push(name);
    }
    Mutex::new(i)
});

fn interner() -> std::sync::MutexGuard<'static, Interner> {
    // A panic while the lock was held cannot leave the table inconsistent (every insert is
    // one push and one map insert of an already complete name).
    INTERNER.lock().unwrap_or_else(|e| e.into_inner())
}

thread_local! {
    /// Per-thread cache of resolved names, indexed by symbol: resolving through the shared
    /// interner takes a lock, and sorting attribute names resolves a lot.
    static NAMES: RefCell<Vec<Option<&'static str>>> = const { RefCell::new(Vec::new()) };
}

thread_local! {
    /// Per-thread lookup in front of the shared interner (whose map is behind a lock):
    /// lowering interns every identifier of every file. Keyed by the names' bytes, so that
    /// the name of a Nix string (bytes, usually UTF-8) is found without checking its UTF-8
    /// first ([`Symbol::from_bytes`]): only a name not found needs its text.
    static LOCAL: RefCell<FxHashMap<&'static [u8], Symbol>> = RefCell::new(Default::default());
}

/// An interned name: a `u32` index, compared and hashed as one (see the module header).
/// Stored as `index + 1`, so that `Option<Symbol>` is 4 bytes too.
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol(NonZeroU32);

impl Symbol {
    /// The symbol of `s`, interning it if new.
    #[inline]
    pub fn new(s: &str) -> Symbol {
        if let Some(sym) = LOCAL.with(|m| m.borrow().get(s.as_bytes()).copied()) {
            return sym;
        }
        Symbol::new_slow(s)
    }

    /// The symbol of the text of `b` (a Nix string: invalid UTF-8 sequences replaced, as
    /// `NixString::to_str_lossy` does), interning it if new. The bytes of a name this
    /// thread has seen are looked up as they are: a valid name's bytes are its text, and
    /// invalid bytes equal no name's, so those take the lossy path.
    #[inline]
    pub fn from_bytes(b: &[u8]) -> Symbol {
        if let Some(sym) = LOCAL.with(|m| m.borrow().get(b).copied()) {
            return sym;
        }
        Symbol::new_slow(&String::from_utf8_lossy(b))
    }

    #[cold]
    fn new_slow(s: &str) -> Symbol {
        let (sym, name) = interner().intern(s);
        LOCAL.with(|m| m.borrow_mut().insert(name.as_bytes(), sym));
        NAMES.with(|n| {
            let mut n = n.borrow_mut();
            let i = sym.index();
            if n.len() <= i {
                n.resize(i + 1, None);
            }
            n[i] = Some(name);
        });
        sym
    }
    /// The symbol for `s` if it was ever interned (a name never interned is in no attribute set).
    pub fn lookup(s: &str) -> Option<Symbol> {
        if let Some(sym) = LOCAL.with(|m| m.borrow().get(s.as_bytes()).copied()) {
            return Some(sym);
        }
        interner().map.get(s).copied()
    }
    /// [`Symbol::lookup`] of the text of `b`, as [`Symbol::from_bytes`] reads it.
    pub fn lookup_bytes(b: &[u8]) -> Option<Symbol> {
        if let Some(sym) = LOCAL.with(|m| m.borrow().get(b).copied()) {
            return Some(sym);
        }
        interner().map.get(&*String::from_utf8_lossy(b)).copied()
    }
    /// The name.
    #[inline]
    pub fn as_str(self) -> &'static str {
        let i = self.index();
        let cached = NAMES.with(|n| n.borrow().get(i).copied().flatten());
        match cached {
            Some(s) => s,
            None => self.as_str_slow(),
        }
    }

    /// The symbol's number: symbols are numbered densely from 0 in interning order.
    #[inline]
    pub(crate) fn index(self) -> usize {
        self.0.get() as usize - 1
    }

    fn from_index(i: usize) -> Symbol {
        match u32::try_from(i + 1).ok().and_then(NonZeroU32::new) {
            Some(n) => Symbol(n),
            None => panic!("more than 2^32 - 1 symbols"),
        }
    }

    #[cold]
    fn as_str_slow(self) -> &'static str {
        let i = self.index();
        // Every symbol was made by the interner, so its index is in the table.
        let s = interner().names[i];
        NAMES.with(|n| {
            let mut n = n.borrow_mut();
            if n.len() <= i {
                n.resize(i + 1, None);
            }
            n[i] = Some(s);
        });
        s
    }
    const fn well_known(i: usize) -> Symbol {
        match NonZeroU32::new(i as u32 + 1) {
            Some(n) => Symbol(n),
            None => panic!(),
        }
    }
}

impl std::fmt::Debug for Symbol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.as_str())
    }
}
impl std::fmt::Display for Symbol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! well_known {
    ($($id:ident = $s:literal,)*) => {
        const WELL_KNOWN: &[&str] = &[$($s),*];
        /// Names the evaluator and builtins look up often, interned first at fixed indices.
        pub mod sym {
            use super::Symbol;
            well_known!(@consts 0usize, $($id = $s,)*);
        }
    };
    (@consts $i:expr, $id:ident = $s:literal, $($rest:ident = $rs:literal,)*) => {
        #[doc = concat!("`", $s, "`")]
        pub const $id: Symbol = Symbol::well_known($i);
        well_known!(@consts $i + 1usize, $($rest = $rs,)*);
    };
    (@consts $i:expr,) => {};
}

well_known! {
    OUT_PATH = "outPath",
    FUNCTOR = "__functor",
    TYPE = "type",
    NAME = "name",
    VALUE = "value",
    DRV_PATH = "drvPath",
    OUTPUTS = "outputs",
    OUT = "out",
    TO_STRING = "__toString",
    OVERRIDES = "__overrides",
    FILE = "file",
    LINE = "line",
    COLUMN = "column",
    BODY = "body",
    SUCCESS = "success",
    KEY = "key",
    RIGHT = "right",
    WRONG = "wrong",
    PREFIX = "prefix",
    PATH = "path",
    SYSTEM = "system",
    BUILDER = "builder",
    ARGS = "args",
    IGNORE_NULLS = "__ignoreNulls",
    STRUCTURED_ATTRS = "__structuredAttrs",
    STARTSET = "startSet",
    OPERATOR = "operator",
    DERIVATION = "derivation",
    OUTPUT_NAME = "outputName",
    ALL = "all",
    DRV_ATTRS = "drvAttrs",
    VERSION = "version",
    HASH = "hash",
    URL = "url",
    SHA256 = "sha256",
    FILTER = "filter",
    RECURSIVE = "recursive",
    CONTENT = "content",
    ENTRY = "entry",
    LESS_THAN = "__lessThan",
    SUB = "__sub",
    ADD = "__add",
    MUL = "__mul",
    DIV = "__div",
    FIND_FILE = "__findFile",
    NIX_PATH = "__nixPath",
    BUILTINS = "builtins",
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn well_known_symbols_resolve() {
        assert_eq!(sym::OUT_PATH.as_str(), "outPath");
        assert_eq!(Symbol::new("outPath"), sym::OUT_PATH);
        assert_eq!(sym::BUILTINS.as_str(), "builtins");
        assert_eq!(Symbol::new("zzz-new").as_str(), "zzz-new");
    }

    /// A string's bytes name the symbol of their lossy text: valid UTF-8 the same symbol as
    /// its text, invalid bytes the symbol with U+FFFD in their place (found or made either
    /// way, and the same on this thread and another, whose cache starts empty).
    #[test]
    fn names_from_bytes_are_their_lossy_text() {
        let check = |first: bool| {
            assert_eq!(Symbol::from_bytes(b"outPath"), sym::OUT_PATH);
            let text = "caf\u{e9}-bytes";
            assert_eq!(Symbol::lookup_bytes(text.as_bytes()).is_none(), first);
            let cafe = Symbol::from_bytes(text.as_bytes());
            assert_eq!(cafe.as_str(), text);
            assert_eq!(Symbol::lookup_bytes(text.as_bytes()), Some(cafe));
            assert_eq!(Symbol::new(text), cafe);
            let bad = Symbol::from_bytes(b"bad-\xff-name");
            assert_eq!(bad.as_str(), "bad-\u{fffd}-name");
            assert_eq!(Symbol::new("bad-\u{fffd}-name"), bad);
            assert_eq!(Symbol::lookup_bytes(b"bad-\xfe-name"), Some(bad));
            assert_eq!(Symbol::lookup_bytes(b"never-\xfe-made"), None);
        };
        check(true);
        std::thread::spawn(move || check(false)).join().expect("the same on another thread");
    }
}
