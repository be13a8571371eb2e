//! Attribute sets: attrNames, attrValues, getAttr, hasAttr, removeAttrs, intersectAttrs,
//! listToAttrs, mapAttrs, zipAttrsWith, catAttrs, groupBy, functionArgs, unsafeGetAttrPos.
//!
//! Sets are sorted by symbol id, so anything built by filtering a set in iteration order
//! (removeAttrs, intersectAttrs, mapAttrs) stays sorted and is built without sorting. Where the
//! order is observable (attrNames, attrValues) the names are sorted lexicographically, as the
//! reference does. Results keep the reference's laziness: mapAttrs, zipAttrsWith and listToAttrs
//! never force the values.

use crate::lists::ExactLen;
use nix_eval::error::{AddTrace, ErrorKind, EvalError, Result};
use nix_eval::source::Pos;
use nix_eval::value::{List, ListHead, Thunk, Value};
use nix_eval::{sym, Attr, Attrs, BuiltinDef, Eval, NixString, Symbol};

pub const BUILTINS: &[BuiltinDef] = &[
    BuiltinDef { name: "attrNames", arity: 1, global: false, func: attr_names },
    BuiltinDef { name: "attrValues", arity: 1, global: false, func: attr_values },
    BuiltinDef { name: "getAttr", arity: 2, global: false, func: get_attr },
    BuiltinDef { name: "hasAttr", arity: 2, global: false, func: has_attr },
    BuiltinDef { name: "unsafeGetAttrPos", arity: 2, global: false, func: unsafe_get_attr_pos },
    BuiltinDef { name: "removeAttrs", arity: 2, global: true, func: remove_attrs },
    BuiltinDef { name: "listToAttrs", arity: 1, global: false, func: list_to_attrs },
    BuiltinDef { name: "intersectAttrs", arity: 2, global: false, func: intersect_attrs },
    BuiltinDef { name: "catAttrs", arity: 2, global: false, func: cat_attrs },
    BuiltinDef { name: "functionArgs", arity: 1, global: false, func: function_args },
    BuiltinDef { name: "mapAttrs", arity: 2, global: false, func: map_attrs },
    BuiltinDef { name: "zipAttrsWith", arity: 2, global: false, func: zip_attrs_with },
    BuiltinDef { name: "groupBy", arity: 2, global: false, func: group_by },
];

/// Attach the reference's "while evaluating ..." frame to a failed forcing.
#[inline]
pub(crate) fn ctx<T>(r: Result<T>, pos: Pos, msg: &'static str) -> Result<T> {
    r.trace(pos, || msg.to_string())
}

/// The reference's `forceStringNoCtx` (the evaluator's `expect_string_no_ctx`) with a
/// static trace line.
#[inline]
pub(crate) fn string_no_ctx(ev: &mut Eval, v: &Value, pos: Pos, msg: &'static str) -> Result<NixString> {
    ctx(ev.expect_string_no_ctx(v, pos), pos, msg)
}

/// The symbol of an attribute name, without interning names no set can contain.
#[inline]
fn lookup_sym(s: &NixString) -> Option<Symbol> {
    Symbol::lookup_bytes(s.as_bytes())
}

#[inline]
fn intern(s: &NixString) -> Symbol {
    Symbol::from_bytes(s.as_bytes())
}

/// The attributes in name order. Each name is resolved once (resolving a symbol is a lookup in
/// the shared interner, too slow to repeat in every comparison of a large sort).
fn by_name(a: &Attrs) -> Vec<(&'static str, &Attr)> {
    let mut v: Vec<(&'static str, &Attr)> = a.iter().map(|at| (at.name.as_str(), at)).collect();
    v.sort_unstable_by(|x, y| x.0.cmp(y.0));
    v
}

fn attr_names(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a = ctx(ev.expect_attrs(&args[0], pos), pos, "while evaluating the argument passed to builtins.attrNames")?;
    let names: Vec<Value> =
        by_name(&a).into_iter().map(|(_, at)| Value::String(NixString::of_symbol(at.name))).collect();
    Ok(Value::list(names))
}

fn attr_values(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a = ctx(ev.expect_attrs(&args[0], pos), pos, "while evaluating the argument passed to builtins.attrValues")?;
    let values: Vec<Value> = by_name(&a).into_iter().map(|(_, at)| at.value.clone()).collect();
    Ok(Value::list(values))
}

fn get_attr(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let name = string_no_ctx(ev, &args[0], pos, "while evaluating the first argument passed to builtins.getAttr")?;
    let a =
        ctx(ev.expect_attrs(&args[1], pos), pos, "while evaluating the second argument passed to builtins.getAttr")?;
    let v = match lookup_sym(&name).and_then(|s| a.get(s)) {
        Some(v) => v.clone(),
        None => {
            let e = EvalError::at(
                ErrorKind::MissingAttr,
                Pos::NONE,
                format!("attribute '{}' missing", name.to_str_lossy()),
            );
            return ctx(Err(e), Pos::NONE, "in the attribute set under consideration");
        }
    };
    ev.force(&v)
}

fn has_attr(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let name = string_no_ctx(ev, &args[0], pos, "while evaluating the first argument passed to builtins.hasAttr")?;
    let a =
        ctx(ev.expect_attrs(&args[1], pos), pos, "while evaluating the second argument passed to builtins.hasAttr")?;
    Ok(Value::Bool(lookup_sym(&name).is_some_and(|s| a.contains(s))))
}

fn unsafe_get_attr_pos(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let name =
        string_no_ctx(ev, &args[0], pos, "while evaluating the first argument passed to builtins.unsafeGetAttrPos")?;
    let a = ctx(
        ev.expect_attrs(&args[1], pos),
        pos,
        "while evaluating the second argument passed to builtins.unsafeGetAttrPos",
    )?;
    match lookup_sym(&name).and_then(|s| a.get_attr(s)) {
        Some(at) => {
            let p = at.pos;
            Ok(ev.pos_to_value(p))
        }
        None => Ok(Value::Null),
    }
}

fn remove_attrs(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a =
        ctx(ev.expect_attrs(&args[0], pos), pos, "while evaluating the first argument passed to builtins.removeAttrs")?;
    let l =
        ctx(ev.expect_list(&args[1], pos), pos, "while evaluating the second argument passed to builtins.removeAttrs")?;
    let mut names: Vec<Symbol> = Vec::with_capacity(l.len());
    for x in l.iter() {
        let s = string_no_ctx(
            ev,
            x,
            pos,
            "while evaluating the values of the second argument passed to builtins.removeAttrs",
        )?;
        if let Some(sym) = lookup_sym(&s) {
            names.push(sym);
        }
    }
    if a.is_empty() {
        return Ok(Value::Attrs(a));
    }
    names.sort_unstable();
    names.dedup();
    // Only names actually present matter; if none is, the set is returned as is.
    names.retain(|n| a.contains(*n));
    if names.is_empty() {
        return Ok(Value::Attrs(a));
    }
    let mut out = Vec::with_capacity(a.len() - names.len());
    let mut k = 0;
    for at in a.iter() {
        while k < names.len() && names[k] < at.name {
            k += 1;
        }
        if k < names.len() && names[k] == at.name {
            continue;
        }
        out.push(at.clone());
    }
    Ok(Value::Attrs(Attrs::from_sorted(out)))
}

fn list_to_attrs(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let l = ctx(ev.expect_list(&args[0], pos), pos, "while evaluating the argument passed to builtins.listToAttrs")?;
    // Pass 1, in list order: every element is a set with a string `name`.
    let mut items: Vec<(Symbol, Attrs)> = Vec::with_capacity(l.len());
    for x in l.iter() {
        let e = ctx(
            ev.expect_attrs(x, pos),
            pos,
            "while evaluating an element of the list passed to builtins.listToAttrs",
        )?;
        let Some(n) = e.get_attr(sym::NAME) else {
            let err = EvalError::at(ErrorKind::MissingAttr, Pos::NONE, "attribute 'name' missing");
            return ctx(Err(err), Pos::NONE, "in a {name=...; value=...;} pair");
        };
        let (nv, npos) = (n.value.clone(), n.pos);
        let name = string_no_ctx(
            ev,
            &nv,
            npos,
            "while evaluating the `name` attribute of an element of the list passed to builtins.listToAttrs",
        )?;
        items.push((intern(&name), e));
    }
    // Pass 2: the first occurrence of each name wins; only its `value` is needed.
    items.sort_by_key(|(s, _)| *s);
    let mut out: Vec<Attr> = Vec::with_capacity(items.len());
    for (name, e) in items {
        if out.last().is_some_and(|a| a.name == name) {
            continue;
        }
        let Some(v) = e.get_attr(sym::VALUE) else {
            let err = EvalError::at(ErrorKind::MissingAttr, Pos::NONE, "attribute 'value' missing");
            return ctx(Err(err), Pos::NONE, "in a {name=...; value=...;} pair");
        };
        out.push(Attr { name, pos: v.pos, value: v.value.clone() });
    }
    Ok(Value::Attrs(Attrs::from_sorted(out)))
}

fn intersect_attrs(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let left = ctx(
        ev.expect_attrs(&args[0], pos),
        pos,
        "while evaluating the first argument passed to builtins.intersectAttrs",
    )?;
    let right = ctx(
        ev.expect_attrs(&args[1], pos),
        pos,
        "while evaluating the second argument passed to builtins.intersectAttrs",
    )?;
    if left.is_empty() || right.is_empty() {
        return Ok(Value::Attrs(Attrs::from_sorted(Vec::new())));
    }
    let mut out: Vec<Attr> = Vec::with_capacity(left.len().min(right.len()));
    if left.len() < right.len() {
        for l in left.iter() {
            if let Some(r) = right.get_attr(l.name) {
                out.push(r.clone());
            }
        }
    } else {
        for r in right.iter() {
            if left.contains(r.name) {
                out.push(r.clone());
            }
        }
    }
    if out.len() == right.len() {
        return Ok(Value::Attrs(right));
    }
    Ok(Value::Attrs(Attrs::from_sorted(out)))
}

fn cat_attrs(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let name = string_no_ctx(ev, &args[0], pos, "while evaluating the first argument passed to builtins.catAttrs")?;
    let l =
        ctx(ev.expect_list(&args[1], pos), pos, "while evaluating the second argument passed to builtins.catAttrs")?;
    let sym = lookup_sym(&name);
    let mut out = Vec::new();
    for x in l.iter() {
        let a = ctx(
            ev.expect_attrs(x, pos),
            pos,
            "while evaluating an element in the list passed as second argument to builtins.catAttrs",
        )?;
        if let Some(v) = sym.and_then(|s| a.get(s)) {
            out.push(v.clone());
        }
    }
    Ok(Value::list(out))
}

fn function_args(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let f = ev.force(&args[0])?;
    match &f {
        Value::Builtin(_) => Ok(Value::Attrs(Attrs::from_sorted(Vec::new()))),
        Value::Lambda(c) => match c.formals() {
            Some(formals) => {
                let attrs: Vec<Attr> = formals
                    .iter()
                    .map(|f| Attr { name: f.name, pos: f.pos, value: Value::Bool(f.has_default) })
                    .collect();
                Ok(Value::Attrs(Attrs::from_vec(attrs)))
            }
            None => Ok(Value::Attrs(Attrs::from_sorted(Vec::new()))),
        },
        _ => Err(EvalError::at(ErrorKind::Type, pos, "'functionArgs' requires a function")),
    }
}

fn map_attrs(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a =
        ctx(ev.expect_attrs(&args[1], pos), pos, "while evaluating the second argument passed to builtins.mapAttrs")?;
    let f = &args[0];
    // Written straight into the new set (same names, same order).
    Ok(Value::Attrs(Attrs::from_sorted_iter(a.iter().map(|at| Attr {
        name: at.name,
        pos: Pos::NONE,
        value: Thunk::apply2(f.clone(), Value::String(NixString::of_symbol(at.name)), at.value.clone()),
    }))))
}

fn zip_attrs_with(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let f = ctx(
        ev.expect_function(&args[0], pos),
        pos,
        "while evaluating the first argument passed to builtins.zipAttrsWith",
    )?;
    let l = ctx(
        ev.expect_list(&args[1], pos),
        pos,
        "while evaluating the second argument passed to builtins.zipAttrsWith",
    )?;
    let mut sets = Vec::with_capacity(l.len());
    let mut total = 0;
    for x in l.iter() {
        let a = ctx(
            ev.expect_attrs(x, Pos::NONE),
            Pos::NONE,
            "while evaluating a value of the list passed as second argument to builtins.zipAttrsWith",
        )?;
        total += a.len();
        sets.push(a);
    }
    if let [a, b] = sets.as_slice() {
        return Ok(Value::Attrs(zip_two_with(&f, a, b)));
    }
    let mut seen: Vec<(Symbol, Value)> = Vec::with_capacity(total);
    for a in &sets {
        for at in a.iter() {
            seen.push((at.name, at.value.clone()));
        }
    }
    // Stable: values of one name stay in list order.
    seen.sort_by_key(|(s, _)| *s);
    let mut out: Vec<Attr> = Vec::new();
    let mut i = 0;
    while i < seen.len() {
        let name = seen[i].0;
        let mut j = i;
        while j < seen.len() && seen[j].0 == name {
            j += 1;
        }
        let values: Vec<Value> = seen[i..j].iter().map(|(_, v)| v.clone()).collect();
        let value = Thunk::apply2(f.clone(), Value::String(NixString::of_symbol(name)), Value::list(values));
        out.push(Attr { name, pos: Pos::NONE, value });
        i = j;
    }
    Ok(Value::Attrs(Attrs::from_sorted(out)))
}

/// `zipAttrsWith f [ a b ]` (`recursiveUpdate` zips two sets at every level): one merge of
/// the two sorted attribute arrays instead of collecting and sorting every pair; the same
/// attributes, each value list in list order. The names are counted first so that the set
/// and each one- or two-item value list are written straight into their blocks (no vectors
/// to copy and free: one allocation fewer per attribute and per set).
fn zip_two_with(f: &Value, a: &Attrs, b: &Attrs) -> Attrs {
    let (a, b) = (a.as_slice(), b.as_slice());
    let merged = MergeNames { a, b, i: 0, j: 0 };
    let n = merged.clone().count();
    let put = |name: Symbol, values: List| Attr {
        name,
        pos: Pos::NONE,
        value: Thunk::apply2(f.clone(), Value::String(NixString::of_symbol(name)), Value::List(values)),
    };
    let attrs = merged.map(|m| match m {
        Merged::One(x) => put(x.name, List::from_array(ListHead, [x.value.clone()])),
        Merged::Both(x, y) => put(x.name, List::from_array(ListHead, [x.value.clone(), y.value.clone()])),
    });
    Attrs::from_sorted_iter(ExactLen { it: attrs, left: n })
}

/// One name of a merge: its attribute in one of the sets, or in both (`a`'s first).
enum Merged<'s> {
    One(&'s Attr),
    Both(&'s Attr, &'s Attr),
}

/// The union of two sorted attribute arrays in name order.
#[derive(Clone)]
struct MergeNames<'s> {
    a: &'s [Attr],
    b: &'s [Attr],
    i: usize,
    j: usize,
}

impl<'s> Iterator for MergeNames<'s> {
    type Item = Merged<'s>;
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match (self.a.get(self.i), self.b.get(self.j)) {
            (Some(x), Some(y)) => match x.name.cmp(&y.name) {
                std::cmp::Ordering::Less => {
                    self.i += 1;
                    Some(Merged::One(x))
                }
                std::cmp::Ordering::Greater => {
                    self.j += 1;
                    Some(Merged::One(y))
                }
                std::cmp::Ordering::Equal => {
                    self.i += 1;
                    self.j += 1;
                    Some(Merged::Both(x, y))
                }
            },
            (Some(x), None) => {
                self.i += 1;
                Some(Merged::One(x))
            }
            (None, Some(y)) => {
                self.j += 1;
                Some(Merged::One(y))
            }
            (None, None) => None,
        }
    }
}

fn group_by(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let f =
        ctx(ev.expect_function(&args[0], pos), pos, "while evaluating the first argument passed to builtins.groupBy")?;
    let l = ctx(ev.expect_list(&args[1], pos), pos, "while evaluating the second argument passed to builtins.groupBy")?;
    let mut items: Vec<(Symbol, Value)> = Vec::with_capacity(l.len());
    for x in l.iter() {
        let r = ev.call(&f, x.clone(), pos)?;
        let name = string_no_ctx(
            ev,
            &r,
            pos,
            "while evaluating the return value of the grouping function passed to builtins.groupBy",
        )?;
        items.push((intern(&name), x.clone()));
    }
    items.sort_by_key(|(s, _)| *s);
    let mut out: Vec<Attr> = Vec::new();
    let mut i = 0;
    while i < items.len() {
        let name = items[i].0;
        let mut j = i;
        while j < items.len() && items[j].0 == name {
            j += 1;
        }
        let values: Vec<Value> = items[i..j].iter().map(|(_, v)| v.clone()).collect();
        out.push(Attr { name, pos: Pos::NONE, value: Value::list(values) });
        i = j;
    }
    Ok(Value::Attrs(Attrs::from_sorted(out)))
}
