//! Static scopes: resolving each variable to its environment slot while lowering.
//!
//! Every scope corresponds to exactly one runtime environment level, so the depth of a variable
//! is the number of scopes between its use and its binding. A `with` scope has one slot (the
//! namespace) and no names: a variable bound by no scope and no global is looked up at run time
//! in the enclosing `with` namespaces; lexical bindings (including globals) always win.
//!
//! Names of all open scopes live in one flat vector; most scopes (lambda arguments, small
//! `let`s) are searched linearly, and only big ones get a hash map.

use crate::symbol::Symbol;
use rustc_hash::FxHashMap;

/// Scopes with more names than this get a hash map.
const LINEAR_MAX: usize = 12;

enum Scope {
    /// `names[start..end]`; slot i is `names[start + i]` (the first of equal names wins).
    Names {
        start: usize,
        end: usize,
        map: Option<FxHashMap<Symbol, u32>>,
    },
    With,
}

pub struct Scopes {
    stack: Vec<Scope>,
    names: Vec<Symbol>,
}

pub enum Resolved {
    Local {
        depth: u32,
        slot: u32,
    },
    /// Not lexically bound; the depths of the enclosing `with` scopes, innermost first.
    With(Vec<u32>),
    Unbound,
}

impl Scopes {
    pub fn new() -> Scopes {
        Scopes { stack: Vec::new(), names: Vec::new() }
    }
    pub fn push_names(&mut self, names: impl IntoIterator<Item = Symbol>) {
        let start = self.names.len();
        self.names.extend(names);
        let end = self.names.len();
        let map = (end - start > LINEAR_MAX).then(|| {
            let mut m = FxHashMap::default();
            for (i, n) in self.names[start..end].iter().enumerate() {
                m.entry(*n).or_insert(i as u32);
            }
            m
        });
        self.stack.push(Scope::Names { start, end, map });
    }
    pub fn push_with(&mut self) {
        self.stack.push(Scope::With);
    }
    pub fn pop(&mut self) {
        if let Some(Scope::Names { start, .. }) = self.stack.pop() {
            self.names.truncate(start);
        }
    }
    /// Resolve `name` as seen from `skip` scopes above the innermost one (for `inherit x;`
    /// inside `rec`/`let`, which looks outside its own scope); depths stay relative to the
    /// innermost scope.
    pub fn resolve(&self, name: Symbol, skip: usize) -> Resolved {
        let mut withs = Vec::new();
        for (depth, scope) in self.stack.iter().rev().enumerate().skip(skip) {
            match scope {
                Scope::Names { map: Some(m), .. } => {
                    if let Some(&slot) = m.get(&name) {
                        return Resolved::Local { depth: depth as u32, slot };
                    }
                }
                Scope::Names { start, end, map: None } => {
                    if let Some(slot) = self.names[*start..*end].iter().position(|n| *n == name) {
                        return Resolved::Local { depth: depth as u32, slot: slot as u32 };
                    }
                }
                Scope::With => withs.push(depth as u32),
            }
        }
        if withs.is_empty() {
            Resolved::Unbound
        } else {
            Resolved::With(withs)
        }
    }
}
