//! Attribute sets: an immutable vector of attributes sorted by symbol id, shared by `Rc`.
//!
//! Lookups are binary searches on integer symbols; `//` merges two sorted vectors in one pass
//! (the reference copies too, and NixOS does 0.35 M of them). Iteration in *name* order, which
//! printing, `attrNames`, JSON and derivations need, goes through [`Attrs::sorted`].

use super::Value;
use crate::source::Pos;
use crate::symbol::Symbol;
use std::rc::Rc;

#[derive(Clone)]
pub struct Attr {
    pub name: Symbol,
    pub pos: Pos,
    pub value: Value,
}

#[derive(Clone)]
pub struct Attrs(Rc<Vec<Attr>>);

thread_local! {
    static EMPTY: Attrs = Attrs(Rc::new(Vec::new()));
}

impl Attrs {
    pub fn empty() -> Attrs {
        EMPTY.with(|e| e.clone())
    }
    /// From attributes in any order; on duplicate names the first wins.
    pub fn from_vec(mut v: Vec<Attr>) -> Attrs {
        v.sort_by_key(|a| a.name);
        v.dedup_by_key(|a| a.name);
        Attrs(Rc::new(v))
    }
    /// From attributes already sorted by symbol and free of duplicates.
    pub fn from_sorted(v: Vec<Attr>) -> Attrs {
        debug_assert!(v.windows(2).all(|w| w[0].name < w[1].name));
        Attrs(Rc::new(v))
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn get(&self, name: Symbol) -> Option<&Value> {
        self.get_attr(name).map(|a| &a.value)
    }
    pub fn get_attr(&self, name: Symbol) -> Option<&Attr> {
        self.0.binary_search_by_key(&name, |a| a.name).ok().map(|i| &self.0[i])
    }
    pub fn contains(&self, name: Symbol) -> bool {
        self.0.binary_search_by_key(&name, |a| a.name).is_ok()
    }
    /// In symbol order (fast, but not name order).
    pub fn iter(&self) -> std::slice::Iter<'_, Attr> {
        self.0.iter()
    }
    /// In lexicographic byte order of the names, as Nix shows attribute sets.
    pub fn sorted(&self) -> Vec<&Attr> {
        let mut v: Vec<&Attr> = self.0.iter().collect();
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
        let (a, b) = (&self.0, &other.0);
        let mut out = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            match a[i].name.cmp(&b[j].name) {
                std::cmp::Ordering::Less => {
                    out.push(a[i].clone());
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    out.push(b[j].clone());
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    out.push(b[j].clone());
                    i += 1;
                    j += 1;
                }
            }
        }
        out.extend_from_slice(&a[i..]);
        out.extend_from_slice(&b[j..]);
        Attrs(Rc::new(out))
    }
    pub fn ptr_eq(a: &Attrs, b: &Attrs) -> bool {
        Rc::ptr_eq(&a.0, &b.0)
    }
    pub fn as_ptr(&self) -> *const () {
        Rc::as_ptr(&self.0) as *const ()
    }
    pub fn into_vec(self) -> Vec<Attr> {
        Rc::try_unwrap(self.0).unwrap_or_else(|rc| (*rc).clone())
    }
}
