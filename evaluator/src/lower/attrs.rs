//! Attribute sets and `let`: merging of nested paths, duplicate detection, scopes.
//!
//! Definitions are first collected into a [`PSet`] tree (so `a.b = 1; a.c = 2;` and
//! `a = { b = 1; }; a.c = 2;` become one nested set, as the reference's parser merges them),
//! then lowered with the scope each value is evaluated in.

use super::{LResult, Lowerer};
use crate::ast::*;
use crate::parse::syntax::{Attr, Entry, Node, Syn};
use crate::source::Pos;
use crate::symbol::Symbol;
use crate::value::Value;
use rustc_hash::FxHashMap;

enum PVal<'s> {
    Expr(Node<'s>),
    Nested(Box<PSet<'s>>),
    /// `inherit x;` or, with an index into `inherit_from`, `inherit (e) x;`.
    Inherit(Option<usize>),
}

struct PEntry<'s> {
    name: Symbol,
    /// The attribute's position (its key).
    pos: Pos,
    /// Where the binding that defined it starts: what "already defined at" shows.
    def_pos: Pos,
    val: PVal<'s>,
}

struct PSet<'s> {
    pos: Pos,
    rec: bool,
    statics: Vec<PEntry<'s>>,
    /// Name to index in `statics`, built once the set is too big for a linear search.
    index: Option<FxHashMap<Symbol, usize>>,
    dynamic: Vec<(Attr<'s>, PVal<'s>, Pos)>,
    inherit_from: Vec<Node<'s>>,
}

impl<'s> PSet<'s> {
    fn new(pos: Pos, rec: bool) -> PSet<'s> {
        PSet { pos, rec, statics: Vec::new(), index: None, dynamic: Vec::new(), inherit_from: Vec::new() }
    }

    fn find(&self, name: Symbol) -> Option<usize> {
        match &self.index {
            Some(m) => m.get(&name).copied(),
            None => self.statics.iter().position(|e| e.name == name),
        }
    }

    fn add(&mut self, e: PEntry<'s>) {
        const LINEAR_MAX: usize = 16;
        if let Some(m) = &mut self.index {
            m.insert(e.name, self.statics.len());
        } else if self.statics.len() == LINEAR_MAX {
            self.index =
                Some(self.statics.iter().chain(std::iter::once(&e)).enumerate().map(|(i, e)| (e.name, i)).collect());
        }
        self.statics.push(e);
    }
}

/// The attribute set literal inside `e` (rec flag and entries), looking through parentheses.
fn as_attrset<'s>(e: Node<'s>) -> Option<(bool, &'s [Entry<'s>])> {
    match e {
        Syn::AttrSet { rec, entries, .. } => Some((*rec, entries)),
        Syn::Paren(_, inner) => as_attrset(inner),
        _ => None,
    }
}

/// A constant string key, if `e` is one.
fn static_key(e: ExprRef) -> Option<Symbol> {
    match e {
        Expr::Const(Value::String(s)) => Some(Symbol::new(&s.to_str_lossy())),
        _ => None,
    }
}

impl<'a> Lowerer<'a> {
    /// The name of a key if it is static (identifier, or string without interpolation).
    fn static_name(&self, a: &Attr) -> Option<Symbol> {
        match a {
            Attr::Ident(_, name) => Some(Symbol::new(name)),
            Attr::Str(_, s) => super::strings::literal_text(s).map(|t| Symbol::new(&t)),
            Attr::Dynamic(_, Syn::Str(_, s)) => super::strings::literal_text(s).map(|t| Symbol::new(&t)),
            Attr::Dynamic(..) => None,
        }
    }

    /// Lower an attribute path of a select or `?`.
    pub(super) fn attrpath(&mut self, path: &[Attr]) -> LResult<&'static [AttrKey]> {
        let mut keys = Vec::with_capacity(path.len());
        for a in path {
            keys.push(self.attr_key(a)?);
        }
        Ok(self.alloc_slice(keys))
    }

    /// An attribute name: static when it is an identifier or a string without interpolation.
    fn attr_key(&mut self, a: &Attr) -> LResult<AttrKey> {
        let e = match a {
            Attr::Ident(_, name) => return Ok(AttrKey::Static(Symbol::new(name), Hint::default())),
            Attr::Str(p, s) => self.string(s, self.pos(*p))?,
            Attr::Dynamic(_, inner) => self.expr(inner)?,
        };
        Ok(static_key(e).map(|s| AttrKey::Static(s, Hint::default())).unwrap_or(AttrKey::Dynamic(e)))
    }

    fn dup<T>(&self, path: &str, pos: Pos, prev: Pos) -> LResult<T> {
        let prev = match prev.resolve() {
            Some(l) => format!("{}:{}:{}", l.file.name(), l.line, l.column),
            None => "«unknown»".into(),
        };
        self.err(pos, format!("attribute '{}' already defined at {}", path, prev))
    }

    fn collect<'s>(&mut self, entries: &'s [Entry<'s>], set: &mut PSet<'s>) -> LResult<()> {
        for entry in entries {
            match entry {
                Entry::Inherit { from, attrs } => {
                    let from = from.map(|f| {
                        set.inherit_from.push(f);
                        set.inherit_from.len() - 1
                    });
                    for a in attrs.iter() {
                        let pos = self.pos(a.pos());
                        let Some(name) = self.static_name(a) else {
                            return self.err(pos, "dynamic attributes not allowed in inherit");
                        };
                        if let Some(i) = set.find(name) {
                            let shown = self.with_prefix(name.as_str().to_string());
                            return self.dup(&shown, pos, set.statics[i].def_pos);
                        }
                        set.add(PEntry { name, pos, def_pos: pos, val: PVal::Inherit(from) });
                    }
                }
                Entry::Value { pos, path, value } => {
                    let pos = self.pos(*pos);
                    self.insert(set, path, 0, value, pos)?;
                }
            }
        }
        Ok(())
    }

    /// The names of `path[..=k]` as the reference shows them in a duplicate-attribute error.
    fn shown(&self, path: &[Attr], k: usize) -> Vec<String> {
        path[..=k]
            .iter()
            .map(|a| match self.static_name(a) {
                Some(n) => n.as_str().to_string(),
                None => "\"${...}\"".to_string(),
            })
            .collect()
    }

    /// `path` behind the attribute path being merged into, if any.
    fn with_prefix(&self, path: String) -> String {
        if self.merge_prefix.is_empty() {
            return path;
        }
        format!("{}.{}", self.merge_prefix.join("."), path)
    }

    /// The duplicate-attribute error for `path[..=k]`, defined by the binding at `pos`.
    fn dup_path<T>(&self, path: &[Attr], k: usize, pos: Pos, prev: Pos) -> LResult<T> {
        self.dup(&self.with_prefix(self.shown(path, k).join(".")), pos, prev)
    }

    /// Define `path[k..] = value` in `set`.
    fn insert<'s>(
        &mut self,
        set: &mut PSet<'s>,
        path: &'s [Attr<'s>],
        k: usize,
        value: Node<'s>,
        pos: Pos,
    ) -> LResult<()> {
        let key = &path[k];
        let last = k + 1 == path.len();
        let name = self.static_name(key);
        let key_pos = self.pos(key.pos());
        let Some(name) = name else {
            let val = if !last {
                let mut nested = PSet::new(key_pos, false);
                self.insert(&mut nested, path, k + 1, value, pos)?;
                PVal::Nested(Box::new(nested))
            } else {
                PVal::Expr(value)
            };
            set.dynamic.push((*key, val, key_pos));
            return Ok(());
        };
        match set.find(name) {
            None => {
                let val = if !last {
                    let mut nested = PSet::new(key_pos, false);
                    self.insert(&mut nested, path, k + 1, value, pos)?;
                    PVal::Nested(Box::new(nested))
                } else {
                    PVal::Expr(value)
                };
                set.add(PEntry { name, pos: key_pos, def_pos: pos, val });
            }
            Some(i) => {
                let (prev_pos, prev_def) = (set.statics[i].pos, set.statics[i].def_pos);
                // Turn an existing literal set into a nested definition we can extend. (Its
                // own duplicates are errors of that set alone, as when the reference parsed it.)
                if let PVal::Expr(e) = set.statics[i].val {
                    if let Some((rec, entries)) = as_attrset(e) {
                        let mut ps = PSet::new(prev_pos, rec);
                        let outer = std::mem::take(&mut self.merge_prefix);
                        let r = self.collect(entries, &mut ps);
                        self.merge_prefix = outer;
                        r?;
                        set.statics[i].val = PVal::Nested(Box::new(ps));
                    }
                }
                let PVal::Nested(nested) = &mut set.statics[i].val else {
                    return self.dup_path(path, k, pos, prev_def);
                };
                if !last {
                    self.insert(nested, path, k + 1, value, pos)?;
                } else if let Some((_, entries)) = as_attrset(value) {
                    let depth = self.merge_prefix.len();
                    let names = self.shown(path, k);
                    self.merge_prefix.extend(names);
                    let r = self.collect(entries, nested);
                    self.merge_prefix.truncate(depth);
                    r?;
                } else {
                    return self.dup_path(path, k, pos, prev_def);
                }
            }
        }
        Ok(())
    }

    pub(super) fn attrset(&mut self, entries: &[Entry], pos: Pos, rec: bool) -> LResult<ExprRef> {
        let mut ps = PSet::new(pos, rec);
        ps.statics.reserve(entries.len());
        self.collect(entries, &mut ps)?;
        self.lower_set(ps)
    }

    fn lower_set(&mut self, mut ps: PSet<'_>) -> LResult<ExprRef> {
        ps.statics.sort_by_key(|e| e.name);
        let rec = ps.rec;
        let has_env = rec || !ps.inherit_from.is_empty();
        let n_names = if rec { ps.statics.len() } else { 0 };
        let mut from_exprs = Vec::new();
        if has_env && !rec {
            for f in std::mem::take(&mut ps.inherit_from) {
                from_exprs.push(self.expr(f)?);
            }
        }
        if has_env {
            let names: Vec<Symbol> = if rec { ps.statics.iter().map(|e| e.name).collect() } else { Vec::new() };
            self.scopes.push_names(names);
        }
        let r = self.lower_set_body(ps, has_env, n_names, from_exprs);
        if has_env {
            self.scopes.pop();
        }
        r
    }

    fn lower_set_body(
        &mut self,
        ps: PSet<'_>,
        has_env: bool,
        n_names: usize,
        mut from_exprs: Vec<ExprRef>,
    ) -> LResult<ExprRef> {
        for f in ps.inherit_from {
            from_exprs.push(self.expr(f)?);
        }
        let mut bindings = Vec::with_capacity(ps.statics.len());
        for e in ps.statics {
            bindings.push(self.binding(e, has_env, n_names)?);
        }
        let mut dynamic = Vec::new();
        for (key, val, pos) in ps.dynamic {
            let key = match key {
                Attr::Dynamic(_, inner) => self.expr(inner)?,
                Attr::Str(p, s) => self.string(s, self.pos(p))?,
                Attr::Ident(..) => unreachable!("identifiers are static keys"),
            };
            let value = self.pval(val, None, has_env, n_names, pos)?;
            dynamic.push(DynamicBinding { pos, key, value });
        }
        let a = self.bump.alloc(AttrsExpr {
            pos: ps.pos,
            rec: ps.rec,
            bindings: self.alloc_slice(bindings),
            dynamic: self.alloc_slice(dynamic),
            inherit_from: self.alloc_slice(from_exprs),
            has_env,
        });
        Ok(self.alloc(Expr::Attrs(a)))
    }

    fn binding(&mut self, e: PEntry<'_>, has_env: bool, n_names: usize) -> LResult<Binding> {
        let inherited = matches!(e.val, PVal::Inherit(None));
        let value = self.pval(e.val, Some(e.name), has_env, n_names, e.pos)?;
        Ok(Binding { name: e.name, pos: e.pos, value, inherited })
    }

    fn pval(&mut self, v: PVal<'_>, name: Option<Symbol>, has_env: bool, n_names: usize, pos: Pos) -> LResult<ExprRef> {
        Ok(match v {
            PVal::Expr(e) => self.expr_named(e, name)?,
            PVal::Nested(ps) => self.lower_set(*ps)?,
            PVal::Inherit(None) => {
                let name = name.expect("inherit has a static name");
                let skip = if has_env { 1 } else { 0 };
                self.alloc(Expr::Var(self.var(name, pos, skip)?))
            }
            PVal::Inherit(Some(j)) => {
                let name = name.expect("inherit has a static name");
                let src = self.alloc(Expr::Var(Var::Local { pos, name, depth: 0, slot: (n_names + j) as u32 }));
                self.alloc(Expr::Select {
                    pos,
                    expr: src,
                    path: self.alloc_slice(vec![AttrKey::Static(name, Hint::default())]),
                    default: None,
                })
            }
        })
    }

    pub(super) fn let_in(&mut self, entries: &[Entry], body: Node, pos: Pos) -> LResult<ExprRef> {
        let mut ps = PSet::new(pos, true);
        ps.statics.reserve(entries.len());
        self.collect(entries, &mut ps)?;
        if let Some((_, _, dpos)) = ps.dynamic.first() {
            return self.err(*dpos, "dynamic attributes not allowed in let");
        }
        ps.statics.sort_by_key(|e| e.name);
        let n_names = ps.statics.len();
        self.scopes.push_names(ps.statics.iter().map(|e| e.name).collect::<Vec<_>>());
        let r = (|| {
            let mut from_exprs = Vec::new();
            for f in std::mem::take(&mut ps.inherit_from) {
                from_exprs.push(self.expr(f)?);
            }
            let mut bindings = Vec::with_capacity(n_names);
            for e in std::mem::take(&mut ps.statics) {
                bindings.push(self.binding(e, true, n_names)?);
            }
            let body = self.expr(body)?;
            Ok((from_exprs, bindings, body))
        })();
        self.scopes.pop();
        let (from_exprs, bindings, body) = r?;
        let l = self.bump.alloc(LetExpr {
            pos,
            bindings: self.alloc_slice(bindings),
            inherit_from: self.alloc_slice(from_exprs),
            body,
        });
        Ok(self.alloc(Expr::Let(l)))
    }
}
