//! Interned identifiers.
//!
//! Every attribute name and variable name is a [`Symbol`]: a `u32` handle into one process-wide
//! `lasso` interner. Names never die (the evaluator is a one-shot process), so resolving a symbol
//! yields a `&'static str` and comparing two names is comparing two integers. Symbol order is
//! interning order, *not* name order: whoever needs names sorted (attrNames, printing, JSON,
//! derivation env) sorts by `as_str()`.

use lasso::{Spur, ThreadedRodeo};
use std::sync::LazyLock;

static INTERNER: LazyLock<ThreadedRodeo> = LazyLock::new(|| {
    let r = ThreadedRodeo::new();
    for name in WELL_KNOWN {
        r.get_or_intern_static(name);
    }
    r
});

thread_local! {
    /// Per-thread cache of resolved names, indexed by symbol: resolving through the shared
    /// interner takes a lock, and sorting attribute names resolves a lot.
    static NAMES: std::cell::RefCell<Vec<Option<&'static str>>> = const { std::cell::RefCell::new(Vec::new()) };
}

thread_local! {
    /// Per-thread lookup in front of the shared interner (whose map is locked and uses a
    /// slower hash): lowering interns every identifier of every file.
    static LOCAL: std::cell::RefCell<rustc_hash::FxHashMap<&'static str, Symbol>> = std::cell::RefCell::new(Default::default());
}

/// An interned name: a `u32` index, compared and hashed as one (see the module header).
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol(Spur);

impl Symbol {
    /// The symbol of `s`, interning it if new.
    #[inline]
    pub fn new(s: &str) -> Symbol {
        if let Some(sym) = LOCAL.with(|m| m.borrow().get(s).copied()) {
            return sym;
        }
        Symbol::new_slow(s)
    }

    #[cold]
    fn new_slow(s: &str) -> Symbol {
        let sym = Symbol(INTERNER.get_or_intern(s));
        let name = sym.as_str();
        LOCAL.with(|m| m.borrow_mut().insert(name, sym));
        sym
    }
    /// The symbol for `s` if it was ever interned (a name never interned is in no attribute set).
    pub fn lookup(s: &str) -> Option<Symbol> {
        INTERNER.get(s).map(Symbol)
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

    fn index(self) -> usize {
        use lasso::Key;
        self.0.into_usize()
    }

    #[cold]
    fn as_str_slow(self) -> &'static str {
        let s: &str = INTERNER.resolve(&self.0);
        // SAFETY: the interner is a never-dropped static and never frees or moves its strings.
        let s: &'static str = unsafe { &*(s as *const str) };
        NAMES.with(|n| {
            let mut n = n.borrow_mut();
            let i = self.index();
            if n.len() <= i {
                n.resize(i + 1, None);
            }
            n[i] = Some(s);
        });
        s
    }
    const fn well_known(i: usize) -> Symbol {
        // lasso keys are `index + 1` in a NonZeroU32.
        match std::num::NonZeroU32::new(i as u32 + 1) {
            Some(n) => Symbol(unsafe { std::mem::transmute::<std::num::NonZeroU32, Spur>(n) }),
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
}
