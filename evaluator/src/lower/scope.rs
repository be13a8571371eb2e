//! Static scopes: resolving each variable to its environment slot while lowering.
//!
//! Every scope corresponds to exactly one runtime environment level, so the depth of a variable
//! is the number of scopes between its use and its binding. A `with` scope has one slot (the
//! namespace) and no names: a variable bound by no scope and no global is looked up at run time
//! in the enclosing `with` namespaces; lexical bindings (including globals) always win.

use crate::symbol::Symbol;
use rustc_hash::FxHashMap;

pub enum ScopeKind {
    Names(FxHashMap<Symbol, u32>),
    With,
}

pub struct Scopes {
    stack: Vec<ScopeKind>,
}

pub enum Resolved {
    Local { depth: u32, slot: u32 },
    /// Not lexically bound; the depths of the enclosing `with` scopes, innermost first.
    With(Vec<u32>),
    Unbound,
}

impl Scopes {
    pub fn new() -> Scopes {
        Scopes { stack: Vec::new() }
    }
    pub fn push_names(&mut self, names: impl IntoIterator<Item = Symbol>) {
        let mut m = FxHashMap::default();
        for (i, n) in names.into_iter().enumerate() {
            m.entry(n).or_insert(i as u32);
        }
        self.stack.push(ScopeKind::Names(m));
    }
    pub fn push_with(&mut self) {
        self.stack.push(ScopeKind::With);
    }
    pub fn pop(&mut self) {
        self.stack.pop();
    }
    /// Resolve `name` as seen from `skip` scopes above the innermost one (for `inherit x;`
    /// inside `rec`/`let`, which looks outside its own scope); depths stay relative to the
    /// innermost scope.
    pub fn resolve(&self, name: Symbol, skip: usize) -> Resolved {
        let mut withs = Vec::new();
        let n = self.stack.len();
        for (depth, scope) in self.stack.iter().rev().enumerate().skip(skip) {
            match scope {
                ScopeKind::Names(m) => {
                    if let Some(&slot) = m.get(&name) {
                        return Resolved::Local { depth: depth as u32, slot };
                    }
                }
                ScopeKind::With => withs.push(depth as u32),
            }
        }
        let _ = n;
        if withs.is_empty() {
            Resolved::Unbound
        } else {
            Resolved::With(withs)
        }
    }
}
