//! Attribute sets, `let`, selection and `?`.

use super::Eval;
use crate::ast::*;
use crate::error::{AddTrace, ErrorKind, EvalError, Result, TraceFrame};
use crate::print;
use crate::source::Pos;
use crate::symbol::{sym, Symbol};
use crate::value::*;

impl Eval {
    // A case of `Eval::eval` kept out of it (see there): never inlined.
    #[inline(never)]
    pub(super) fn eval_attrs(&mut self, a: &'static AttrsExpr, env: &Env) -> Result<Value> {
        self.stats.attrsets += 1;
        let inner = if a.has_env {
            let n_names = if a.rec { a.bindings.len() } else { 0 };
            let new = Env::with_nulls(Some(env.clone()), n_names + a.inherit_from.len());
            for (j, f) in a.inherit_from.iter().enumerate() {
                // Inherit sources of a plain set are evaluated outside it; of a rec set, inside.
                let v = if a.rec { self.thunk_in_new_env(f, &new, 0) } else { self.thunk(f, env) };
                new.set(n_names + j, v);
            }
            if a.rec {
                // With `__overrides` every binding is its own thunk (as in the reference), so
                // that an overridden slot is seen by the bindings that name it.
                let overridable = a.bindings.binary_search_by_key(&sym::OVERRIDES, |b| b.name).is_ok();
                for (i, b) in a.bindings.iter().enumerate() {
                    let v = self.thunk_in_new_env(b.value, &new, if overridable { 0 } else { i });
                    new.set(i, v);
                }
            }
            new
        } else {
            env.clone()
        };
        let mut set = if a.rec {
            Attrs::from_sorted_iter(a.bindings.iter().enumerate().map(|(i, b)| Attr {
                name: b.name,
                pos: b.pos,
                value: inner.get(i),
            }))
        } else {
            Attrs::from_sorted_iter(a.bindings.iter().map(|b| Attr {
                name: b.name,
                pos: b.pos,
                value: self.thunk(b.value, &inner),
            }))
        };
        if !a.dynamic.is_empty() {
            let mut extra: Vec<Attr> = Vec::new();
            for d in a.dynamic {
                let k = self.eval(d.key, &inner)?;
                if let Value::Null = k {
                    continue;
                }
                let k = self
                    .expect_string_no_ctx(&k, d.pos)
                    .trace(d.pos, || "while evaluating the name of a dynamic attribute".into())?;
                let name = Symbol::from_bytes(k.as_bytes());
                if let Some(prev) =
                    set.get_attr(name).map(|a| a.pos).or_else(|| extra.iter().find(|a| a.name == name).map(|a| a.pos))
                {
                    let at = match prev.resolve() {
                        Some(l) => format!("{}:{}:{}", l.file.name(), l.line, l.column),
                        None => "«unknown»".into(),
                    };
                    return Err(EvalError::at(
                        ErrorKind::Other,
                        d.pos,
                        format!("dynamic attribute '{}' already defined at {}", name, at),
                    ));
                }
                let value = self.thunk(d.value, &inner);
                extra.push(Attr { name, pos: d.pos, value });
            }
            set = set.update(&Attrs::from_vec(extra));
        }
        if a.rec {
            if let Some(ov) = set.get(sym::OVERRIDES).cloned() {
                let ov = self.expect_attrs(&ov, a.pos)?;
                for attr in ov.iter() {
                    if let Some(i) = a.bindings.iter().position(|b| b.name == attr.name) {
                        inner.set(i, attr.value.clone());
                    }
                }
                set = set.update(&ov);
            }
        }
        Ok(Value::Attrs(set))
    }

    // A case of `Eval::eval` kept out of it (see there): never inlined.
    #[inline(never)]
    pub(super) fn let_env(&mut self, l: &'static LetExpr, env: &Env) -> Env {
        let nb = l.bindings.len();
        let new = Env::with_nulls(Some(env.clone()), nb + l.inherit_from.len());
        for (j, f) in l.inherit_from.iter().enumerate() {
            let v = self.thunk_in_new_env(f, &new, 0);
            new.set(nb + j, v);
        }
        for (i, b) in l.bindings.iter().enumerate() {
            let v = self.thunk_in_new_env(b.value, &new, i);
            new.set(i, v);
        }
        self.stats.envs += 1;
        new
    }

    pub(crate) fn attr_name(&mut self, key: &AttrKey, env: &Env) -> Result<Symbol> {
        match key {
            AttrKey::Static(s, _) => Ok(*s),
            AttrKey::Dynamic(e) => {
                let v = self.eval(e, env)?;
                let s = self
                    .expect_string_no_ctx(&v, e.pos())
                    .trace(e.pos(), || "while evaluating an attribute name".into())?;
                Ok(Symbol::from_bytes(s.as_bytes()))
            }
        }
    }

    // A case of `Eval::eval` kept out of it (see there): never inlined.
    #[inline(never)]
    pub(super) fn eval_select(
        &mut self,
        pos: Pos,
        expr: ExprRef,
        path: &'static [AttrKey],
        default: Option<ExprRef>,
        env: &Env,
    ) -> Result<Value> {
        let v = self.eval_operand(expr, env)?;
        // The last attribute found along the path, for the trace.
        let mut found: Option<(Symbol, Pos)> = None;
        match self.select_path(pos, v, path, default.is_some(), env, &mut found) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => match default {
                Some(d) => self.eval(d, env),
                None => Ok(Value::Null),
            },
            Err(e) => Err(self.select_trace(e, pos, path, found, env)),
        }
    }

    /// Walks `path` from `v` and forces the result; `Ok(None)` when the select has a default
    /// (`or`) and an attribute is missing or a value along the path is not a set.
    fn select_path(
        &mut self,
        pos: Pos,
        mut v: Value,
        path: &'static [AttrKey],
        has_default: bool,
        env: &Env,
        found: &mut Option<(Symbol, Pos)>,
    ) -> Result<Option<Value>> {
        for key in path {
            let (name, hint) = match key {
                AttrKey::Static(s, h) => (*s, Some(h)),
                AttrKey::Dynamic(_) => (self.attr_name(key, env)?, None),
            };
            // The set is moved out of `v`, so that it is dropped as a set (inline) once the
            // next value is taken, not as an unknown `Value` (an out-of-line call).
            let a = match v {
                Value::Attrs(a) => a,
                _ if has_default => return Ok(None),
                other => {
                    return Err(EvalError::at(
                        ErrorKind::Type,
                        pos,
                        format!(
                            "expected a set but found {}: {}",
                            super::explain::show_type(&other),
                            print::short(&other)
                        ),
                    ))
                    .trace(pos, || "while selecting an attribute".to_string());
                }
            };
            let next = match hint.map_or_else(|| a.get_attr(name), |h| a.get_attr_hinted(name, h)) {
                Some(attr) => {
                    *found = Some((name, attr.pos));
                    match &attr.value {
                        // Already evaluated: take the value without touching the thunk's count.
                        Value::Thunk(t) => match t.value() {
                            Some(x) => x,
                            None => Value::Thunk(t.clone()),
                        },
                        x => x.clone(),
                    }
                }
                None if has_default => return Ok(None),
                None => return Err(missing_attr(name, &a, pos)),
            };
            drop(a);
            v = match next {
                Value::Thunk(t) => self.force_thunk(&t)?,
                x => x,
            };
        }
        Ok(Some(v))
    }

    /// The reference's frames for an error while selecting: `while evaluating the attribute
    /// 'a.b.c'` at the select, then `from the definition of 'b'` at the last attribute found.
    #[cold]
    fn select_trace(
        &mut self,
        mut e: Box<EvalError>,
        pos: Pos,
        path: &'static [AttrKey],
        found: Option<(Symbol, Pos)>,
        env: &Env,
    ) -> Box<EvalError> {
        if let Some((name, apos)) = found {
            if !apos.is_none() {
                e.trace.push(TraceFrame { pos: apos, msg: format!("from the definition of '{}'", name) });
            }
        }
        let shown = self.show_attr_path(path, env);
        e.trace.push(TraceFrame { pos, msg: format!("while evaluating the attribute '{}'", shown) });
        e
    }

    /// An attribute path as the reference shows it in traces: the names that evaluate, the
    /// others as `"${…}"` with their expression.
    fn show_attr_path(&mut self, path: &'static [AttrKey], env: &Env) -> String {
        let mut parts: Vec<String> = Vec::new();
        for k in path {
            parts.push(match k {
                AttrKey::Static(s, _) => s.as_str().to_string(),
                AttrKey::Dynamic(e) => match self.attr_name(k, env) {
                    Ok(s) => s.as_str().to_string(),
                    Err(_) => format!("\"${{{}}}\"", print::expr_summary(e)),
                },
            });
        }
        parts.join(".")
    }

    // A case of `Eval::eval` kept out of it (see there): never inlined.
    #[inline(never)]
    pub(super) fn eval_has_attr(&mut self, expr: ExprRef, path: &'static [AttrKey], env: &Env) -> Result<Value> {
        let mut v = self.eval_operand(expr, env)?;
        for (i, key) in path.iter().enumerate() {
            let (name, hint) = match key {
                AttrKey::Static(s, h) => (*s, Some(h)),
                AttrKey::Dynamic(_) => (self.attr_name(key, env)?, None),
            };
            let Value::Attrs(a) = &v else { return Ok(Value::Bool(false)) };
            // The site's hint also remembers where a missing name would be (`x ? y` is
            // often false): see `Attrs::get_attr_hinted`.
            let found = hint.map_or_else(|| a.get_attr(name), |h| a.get_attr_hinted(name, h));
            let Some(x) = found.map(|at| &at.value) else { return Ok(Value::Bool(false)) };
            // Only the sets along the path are forced, never the final value.
            if i + 1 == path.len() {
                return Ok(Value::Bool(true));
            }
            let x = x.clone();
            v = self.force(&x)?;
        }
        Ok(Value::Bool(true))
    }
}

/// "attribute 'x' missing", with suggestions of close names like the reference's.
pub fn missing_attr(name: Symbol, a: &Attrs, pos: Pos) -> Box<EvalError> {
    EvalError::at(ErrorKind::MissingAttr, pos, format!("attribute '{}' missing", name))
        .suggest(name.as_str(), a.iter().map(|x| x.name.as_str()))
}
