//! Attribute sets and `let`: merging of nested paths, duplicate detection, scopes.
//!
//! Definitions are first collected into a [`PSet`] tree (so `a.b = 1; a.c = 2;` and
//! `a = { b = 1; }; a.c = 2;` become one nested set, as the reference's parser merges them),
//! then lowered with the scope each value is evaluated in.

use super::{LResult, Lowerer};
use crate::ast::*;
use crate::source::Pos;
use crate::symbol::Symbol;
use rnix::ast::{self as rast, HasEntry, InterpolPart};
use rowan::ast::AstNode;
use rustc_hash::FxHashMap;

enum PVal {
    Expr(rast::Expr),
    Nested(Box<PSet>),
    /// `inherit x;` or, with an index into `inherit_from`, `inherit (e) x;`.
    Inherit(Option<usize>),
}

struct PEntry {
    name: Symbol,
    pos: Pos,
    val: PVal,
}

struct PSet {
    pos: Pos,
    rec: bool,
    statics: Vec<PEntry>,
    index: FxHashMap<Symbol, usize>,
    dynamic: Vec<(rast::Attr, PVal, Pos)>,
    inherit_from: Vec<rast::Expr>,
}

impl PSet {
    fn new(pos: Pos, rec: bool) -> PSet {
        PSet { pos, rec, statics: Vec::new(), index: FxHashMap::default(), dynamic: Vec::new(), inherit_from: Vec::new() }
    }
}

/// The attribute set literal inside `e`, looking through parentheses.
fn as_attrset(e: &rast::Expr) -> Option<rast::AttrSet> {
    match e {
        rast::Expr::AttrSet(s) => Some(s.clone()),
        rast::Expr::Paren(p) => p.expr().as_ref().and_then(as_attrset),
        _ => None,
    }
}

impl<'a> Lowerer<'a> {
    /// The name of a key if it is static (identifier, or string without interpolation).
    fn static_name(&self, a: &rast::Attr) -> Option<Symbol> {
        fn plain(s: &rast::Str) -> Option<String> {
            let mut out = String::new();
            for p in s.normalized_parts() {
                match p {
                    InterpolPart::Literal(t) => out.push_str(&t),
                    InterpolPart::Interpolation(_) => return None,
                }
            }
            Some(out)
        }
        match a {
            rast::Attr::Ident(id) => Some(Symbol::new(&id.syntax().text().to_string())),
            rast::Attr::Str(s) => plain(s).map(|s| Symbol::new(&s)),
            rast::Attr::Dynamic(d) => match d.expr() {
                Some(rast::Expr::Str(s)) => plain(&s).map(|s| Symbol::new(&s)),
                _ => None,
            },
        }
    }

    fn dup<T>(&self, path: &str, pos: Pos, prev: Pos) -> LResult<T> {
        let prev = match prev.resolve() {
            Some(l) => format!("{}:{}:{}", l.file.name(), l.line, l.column),
            None => "«unknown»".into(),
        };
        self.err(pos, format!("attribute '{}' already defined at {}", path, prev))
    }

    fn collect(&mut self, node: &impl HasEntry, set: &mut PSet) -> LResult<()> {
        for entry in node.entries() {
            match entry {
                rast::Entry::Inherit(inh) => {
                    let from = match inh.from() {
                        Some(f) => {
                            let e = self.child(f.expr(), self.pos_of(&f))?;
                            set.inherit_from.push(e);
                            Some(set.inherit_from.len() - 1)
                        }
                        None => None,
                    };
                    for a in inh.attrs() {
                        let pos = self.pos_of(&a);
                        let Some(name) = self.static_name(&a) else {
                            return self.err(pos, "dynamic attributes not allowed in inherit");
                        };
                        if let Some(&i) = set.index.get(&name) {
                            return self.dup(name.as_str(), pos, set.statics[i].pos);
                        }
                        set.index.insert(name, set.statics.len());
                        set.statics.push(PEntry { name, pos, val: PVal::Inherit(from) });
                    }
                }
                rast::Entry::AttrpathValue(av) => {
                    let pos = self.pos_of(&av);
                    let path = self.child(av.attrpath(), pos)?;
                    let keys: Vec<rast::Attr> = path.attrs().collect();
                    let value = self.child(av.value(), pos)?;
                    self.insert(set, &keys, value, pos, String::new())?;
                }
            }
        }
        Ok(())
    }

    fn insert(&mut self, set: &mut PSet, keys: &[rast::Attr], value: rast::Expr, pos: Pos, prefix: String) -> LResult<()> {
        let key = &keys[0];
        let name = self.static_name(key);
        let shown = match name {
            Some(n) if prefix.is_empty() => n.as_str().to_string(),
            Some(n) => format!("{}.{}", prefix, n),
            None => format!("{}{}\"${{...}}\"", prefix, if prefix.is_empty() { "" } else { "." }),
        };
        let key_pos = self.pos_of(key);
        let Some(name) = name else {
            let val = if keys.len() > 1 {
                let mut nested = PSet::new(key_pos, false);
                self.insert(&mut nested, &keys[1..], value, pos, shown)?;
                PVal::Nested(Box::new(nested))
            } else {
                PVal::Expr(value)
            };
            set.dynamic.push((key.clone(), val, key_pos));
            return Ok(());
        };
        match set.index.get(&name).copied() {
            None => {
                let val = if keys.len() > 1 {
                    let mut nested = PSet::new(key_pos, false);
                    self.insert(&mut nested, &keys[1..], value, pos, shown)?;
                    PVal::Nested(Box::new(nested))
                } else {
                    PVal::Expr(value)
                };
                set.index.insert(name, set.statics.len());
                set.statics.push(PEntry { name, pos: key_pos, val });
            }
            Some(i) => {
                let prev_pos = set.statics[i].pos;
                // Turn an existing literal set into a nested definition we can extend.
                if let PVal::Expr(e) = &set.statics[i].val {
                    if let Some(lit) = as_attrset(e) {
                        let mut ps = PSet::new(prev_pos, lit.rec_token().is_some());
                        self.collect(&lit, &mut ps)?;
                        set.statics[i].val = PVal::Nested(Box::new(ps));
                    }
                }
                let PVal::Nested(nested) = &mut set.statics[i].val else {
                    return self.dup(&shown, key_pos, prev_pos);
                };
                if keys.len() > 1 {
                    self.insert(nested, &keys[1..], value, pos, shown)?;
                } else if let Some(lit) = as_attrset(&value) {
                    self.collect(&lit, nested)?;
                } else {
                    return self.dup(&shown, key_pos, prev_pos);
                }
            }
        }
        Ok(())
    }

    pub(super) fn attrset(&mut self, node: &impl HasEntry, pos: Pos, rec: bool) -> LResult<ExprRef> {
        let mut ps = PSet::new(pos, rec);
        self.collect(node, &mut ps)?;
        self.lower_set(ps)
    }

    fn lower_set(&mut self, mut ps: PSet) -> LResult<ExprRef> {
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

    fn lower_set_body(&mut self, ps: PSet, has_env: bool, n_names: usize, mut from_exprs: Vec<ExprRef>) -> LResult<ExprRef> {
        for f in ps.inherit_from {
            from_exprs.push(self.expr(f)?);
        }
        let mut bindings = Vec::with_capacity(ps.statics.len());
        for e in ps.statics {
            bindings.push(self.binding(e, has_env, n_names)?);
        }
        let mut dynamic = Vec::new();
        for (key, val, pos) in ps.dynamic {
            let kpos = self.pos_of(&key);
            let key = match key {
                rast::Attr::Dynamic(d) => self.expr(self.child(d.expr(), kpos)?)?,
                rast::Attr::Str(s) => self.string(s, kpos)?,
                rast::Attr::Ident(_) => unreachable!("identifiers are static keys"),
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

    fn binding(&mut self, e: PEntry, has_env: bool, n_names: usize) -> LResult<Binding> {
        let inherited = matches!(e.val, PVal::Inherit(None));
        let value = self.pval(e.val, Some(e.name), has_env, n_names, e.pos)?;
        Ok(Binding { name: e.name, pos: e.pos, value, inherited })
    }

    fn pval(&mut self, v: PVal, name: Option<Symbol>, has_env: bool, n_names: usize, pos: Pos) -> LResult<ExprRef> {
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
                self.alloc(Expr::Select { pos, expr: src, path: self.alloc_slice(vec![AttrKey::Static(name)]), default: None })
            }
        })
    }

    pub(super) fn let_in(&mut self, node: &rast::LetIn, pos: Pos, body: Option<rast::Expr>) -> LResult<ExprRef> {
        let mut ps = PSet::new(pos, true);
        self.collect(node, &mut ps)?;
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
            let mut bindings = Vec::new();
            for e in std::mem::take(&mut ps.statics) {
                bindings.push(self.binding(e, true, n_names)?);
            }
            let body = self.expr(self.child(body, pos)?)?;
            Ok((from_exprs, bindings, body))
        })();
        self.scopes.pop();
        let (from_exprs, bindings, body) = r?;
        let l = self.bump.alloc(LetExpr { pos, bindings: self.alloc_slice(bindings), inherit_from: self.alloc_slice(from_exprs), body });
        Ok(self.alloc(Expr::Let(l)))
    }
}
