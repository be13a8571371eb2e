//! Static scopes: resolving each variable to its environment slot while lowering.
//!
//! Every scope corresponds to exactly one runtime environment level, so the depth of a variable
//! is the number of scopes between its use and its binding. A `with` scope has one slot (the
//! namespace) and no names: a variable bound by no scope and no global is looked up at run time
//! in the enclosing `with` namespaces; lexical bindings (including globals) always win.
//!
//! Resolution takes no search: every bound name has a chain of its bindings, innermost first,
//! whose head is kept in a table indexed by symbol (symbols are dense small integers). Opening a
//! scope pushes one link per name, closing it restores the heads. (Searching the open scopes
//! one by one, as before, cost ~200 instructions per variable in nixpkgs' deep `let`/`with`
//! nestings.) The head table is kept per thread from file to file: after a file every head is
//! back to empty, and growing a fresh table per file would cost more than the lowering.

use crate::symbol::Symbol;
use std::cell::RefCell;

/// No binding (end of a chain, empty head).
const NONE: u32 = u32::MAX;

thread_local! {
    /// The head table of the lowering in progress on this thread, kept between files.
    static HEADS: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

struct Scope {
    /// A `with` scope (no names) or a scope of names whose bindings start at `start`.
    with: bool,
    start: u32,
}

struct Binding {
    name: Symbol,
    /// The scope (index in `Scopes::stack`) and slot.
    scope: u32,
    slot: u32,
    /// The next outer binding of the same name.
    prev: u32,
}

pub struct Scopes {
    stack: Vec<Scope>,
    bindings: Vec<Binding>,
    /// Innermost binding of each symbol (by index), or [`NONE`].
    heads: Vec<u32>,
    /// The indices of the open `with` scopes, outermost first.
    withs: Vec<u32>,
}

pub enum Resolved {
    Local {
        depth: u32,
        slot: u32,
    },
    /// Not lexically bound, but inside `with` scopes (see [`Scopes::with_depths`]).
    With,
    Unbound,
}

impl Scopes {
    pub fn new() -> Scopes {
        let heads = HEADS.with(|h| h.try_borrow_mut().map(|mut h| std::mem::take(&mut *h)).unwrap_or_default());
        Scopes { stack: Vec::new(), bindings: Vec::new(), heads, withs: Vec::new() }
    }

    /// Open a scope whose slot `i` is the `i`th name (the first of equal names wins).
    pub fn push_names(&mut self, names: impl IntoIterator<Item = Symbol>) {
        let scope = self.stack.len() as u32;
        let start = self.bindings.len() as u32;
        for (slot, name) in names.into_iter().enumerate() {
            let i = name.index();
            if i >= self.heads.len() {
                self.heads.resize(i + 1, NONE);
            }
            let prev = self.heads[i];
            if prev != NONE && self.bindings[prev as usize].scope == scope {
                continue;
            }
            self.heads[i] = self.bindings.len() as u32;
            self.bindings.push(Binding { name, scope, slot: slot as u32, prev });
        }
        self.stack.push(Scope { with: false, start });
    }

    pub fn push_with(&mut self) {
        self.withs.push(self.stack.len() as u32);
        self.stack.push(Scope { with: true, start: self.bindings.len() as u32 });
    }

    pub fn pop(&mut self) {
        let Some(scope) = self.stack.pop() else { return };
        if scope.with {
            self.withs.pop();
            return;
        }
        for b in self.bindings[scope.start as usize..].iter().rev() {
            self.heads[b.name.index()] = b.prev;
        }
        self.bindings.truncate(scope.start as usize);
    }

    /// Resolve `name` as seen from `skip` scopes above the innermost one (for `inherit x;`
    /// inside `rec`/`let`, which looks outside its own scope); depths stay relative to the
    /// innermost scope.
    pub fn resolve(&self, name: Symbol, skip: usize) -> Resolved {
        let visible = self.stack.len().saturating_sub(skip) as u32;
        let mut b = self.heads.get(name.index()).copied().unwrap_or(NONE);
        while b != NONE {
            let binding = &self.bindings[b as usize];
            if binding.scope < visible {
                let depth = self.stack.len() as u32 - 1 - binding.scope;
                return Resolved::Local { depth, slot: binding.slot };
            }
            b = binding.prev;
        }
        if self.withs.first().is_some_and(|&w| w < visible) {
            Resolved::With
        } else {
            Resolved::Unbound
        }
    }

    /// The depths of the `with` scopes visible from `skip` scopes above the innermost one,
    /// innermost first.
    pub fn with_depths(&self, skip: usize) -> impl ExactSizeIterator<Item = u32> + '_ {
        let visible = self.stack.len().saturating_sub(skip) as u32;
        let top = (self.stack.len() as u32).saturating_sub(1);
        // `withs` is increasing: the visible ones are a prefix.
        let n = self.withs.partition_point(|&w| w < visible);
        self.withs[..n].iter().rev().map(move |&w| top - w)
    }
}

impl Drop for Scopes {
    /// Close what is still open (after an error) and hand the head table back, all empty.
    fn drop(&mut self) {
        while !self.stack.is_empty() {
            self.pop();
        }
        let heads = std::mem::take(&mut self.heads);
        HEADS.with(|h| {
            if let Ok(mut h) = h.try_borrow_mut() {
                if h.len() < heads.len() {
                    *h = heads;
                }
            }
        });
    }
}
