//! Attribute sets, `let`, selection and `?`.

use super::Eval;
use crate::ast::*;
use crate::error::{AddTrace, ErrorKind, EvalError, Result};
use crate::print;
use crate::source::Pos;
use crate::symbol::{sym, Symbol};
use crate::value::*;

impl Eval {
    pub(super) fn eval_attrs(&mut self, a: &'static AttrsExpr, env: &Env) -> Result<Value> {
        self.stats.attrsets += 1;
        let inner = if a.has_env {
            let n_names = if a.rec { a.bindings.len() } else { 0 };
            let new = Env::with_nulls(Some(env.clone()), n_names + a.inherit_from.len());
            for (j, f) in a.inherit_from.iter().enumerate() {
                // Inherit sources of a plain set are evaluated outside it; of a rec set, inside.
                let v = if a.rec { self.thunk_in_new_env(f, &new) } else { self.thunk(f, env) };
                new.set(n_names + j, v);
            }
            if a.rec {
                for (i, b) in a.bindings.iter().enumerate() {
                    let v = self.thunk_in_new_env(b.value, &new);
                    new.set(i, v);
                }
            }
            new
        } else {
            env.clone()
        };
        let mut attrs = Vec::with_capacity(a.bindings.len() + a.dynamic.len());
        for (i, b) in a.bindings.iter().enumerate() {
            let value = if a.rec { inner.get(i) } else { self.thunk(b.value, &inner) };
            attrs.push(Attr { name: b.name, pos: b.pos, value });
        }
        let mut set = Attrs::from_sorted(attrs);
        if !a.dynamic.is_empty() {
            let mut extra: Vec<Attr> = Vec::new();
            for d in a.dynamic {
                let k = self.eval(d.key, &inner)?;
                if let Value::Null = k {
                    continue;
                }
                let k = self.expect_string(&k, d.pos).trace(d.pos, || "while evaluating the name of a dynamic attribute".into())?;
                let name = Symbol::new(&k.to_str_lossy());
                if let Some(prev) = set.get_attr(name).map(|a| a.pos).or_else(|| extra.iter().find(|a| a.name == name).map(|a| a.pos)) {
                    let at = match prev.resolve() {
                        Some(l) => format!("{}:{}:{}", l.file.name(), l.line, l.column),
                        None => "«unknown»".into(),
                    };
                    return Err(EvalError::at(ErrorKind::Other, d.pos, format!("dynamic attribute '{}' already defined at {}", name, at)));
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

    pub(super) fn let_env(&mut self, l: &'static LetExpr, env: &Env) -> Env {
        let nb = l.bindings.len();
        let new = Env::with_nulls(Some(env.clone()), nb + l.inherit_from.len());
        for (j, f) in l.inherit_from.iter().enumerate() {
            let v = self.thunk_in_new_env(f, &new);
            new.set(nb + j, v);
        }
        for (i, b) in l.bindings.iter().enumerate() {
            let v = self.thunk_in_new_env(b.value, &new);
            new.set(i, v);
        }
        self.stats.envs += 1;
        new
    }

    pub(crate) fn attr_name(&mut self, key: &AttrKey, env: &Env) -> Result<Symbol> {
        match key {
            AttrKey::Static(s) => Ok(*s),
            AttrKey::Dynamic(e) => {
                let v = self.eval(e, env)?;
                let s = self.expect_string(&v, e.pos()).trace(e.pos(), || "while evaluating an attribute name".into())?;
                Ok(Symbol::new(&s.to_str_lossy()))
            }
        }
    }

    pub(super) fn eval_select(&mut self, pos: Pos, expr: ExprRef, path: &'static [AttrKey], default: Option<ExprRef>, env: &Env) -> Result<Value> {
        let mut v = self.eval(expr, env)?;
        for (i, key) in path.iter().enumerate() {
            let name = self.attr_name(key, env)?;
            match &v {
                Value::Attrs(a) => match a.get(name) {
                    Some(x) => {
                        let x = x.clone();
                        let apos = a.get_attr(name).map(|a| a.pos).unwrap_or(pos);
                        v = self.force(&x).trace(apos, || format!("while evaluating the attribute '{}'", dotted(path, i, name)))?;
                    }
                    None => {
                        if let Some(d) = default {
                            return self.eval(d, env);
                        }
                        return Err(missing_attr(name, a, pos));
                    }
                },
                other => {
                    if let Some(d) = default {
                        return self.eval(d, env);
                    }
                    return Err(EvalError::at(
                        ErrorKind::Type,
                        pos,
                        format!("expected a set but found {}: {}", other.ty().describe(), print::short(other)),
                    ))
                    .trace(pos, || format!("while selecting an attribute"));
                }
            }
        }
        Ok(v)
    }

    pub(super) fn eval_has_attr(&mut self, expr: ExprRef, path: &'static [AttrKey], env: &Env) -> Result<Value> {
        let mut v = self.eval(expr, env)?;
        for (i, key) in path.iter().enumerate() {
            let name = self.attr_name(key, env)?;
            let Value::Attrs(a) = &v else { return Ok(Value::Bool(false)) };
            let Some(x) = a.get(name) else { return Ok(Value::Bool(false)) };
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

fn dotted(path: &[AttrKey], upto: usize, last: Symbol) -> String {
    let mut parts: Vec<String> = Vec::new();
    for k in &path[..upto] {
        parts.push(match k {
            AttrKey::Static(s) => s.as_str().to_string(),
            AttrKey::Dynamic(_) => "\"${...}\"".into(),
        });
    }
    parts.push(last.as_str().to_string());
    parts.join(".")
}

/// "attribute 'x' missing", with a suggestion of a close name like the reference's.
pub fn missing_attr(name: Symbol, a: &Attrs, pos: Pos) -> Box<EvalError> {
    let mut msg = format!("attribute '{}' missing", name);
    let target = name.as_str();
    let mut best: Vec<&str> = a
        .iter()
        .map(|x| x.name.as_str())
        .filter(|n| levenshtein(n, target) <= 2)
        .collect();
    best.sort_by_key(|n| (levenshtein(n, target), n.to_string()));
    if let Some(s) = best.first() {
        msg.push_str(&format!("\n       Did you mean {}?", suggest_list(&best, s)));
    }
    EvalError::at(ErrorKind::MissingAttr, pos, msg)
}

fn suggest_list(all: &[&str], first: &str) -> String {
    if all.len() == 1 {
        return first.to_string();
    }
    let shown: Vec<&str> = all.iter().take(3).copied().collect();
    if shown.len() == 2 {
        format!("one of {} or {}", shown[0], shown[1])
    } else {
        format!("one of {}, {} or {}", shown[0], shown[1], shown[2])
    }
}

pub fn levenshtein(a: &str, b: &str) -> usize {
    let a = a.as_bytes();
    let b = b.as_bytes();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = if a[i - 1] == b[j - 1] { 0 } else { 1 };
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}
