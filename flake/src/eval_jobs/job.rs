//! What a value is to the walk, as nix-eval-jobs decides: a derivation is a job (its
//! `drvPath`, `name`, `system`, `outputs` and, with `--meta`, `meta`); a set is walked —
//! the top level always, others only with `recurseForDerivations = true` or
//! `--force-recurse`; anything else is skipped. One addition: a NixOS configuration (a set
//! with `config.system.build.toplevel`, as `nixosSystem` returns) is the job of its
//! toplevel, so `--flake .#nixosConfigurations` evaluates every host.

use nix_eval::error::{ErrorKind, EvalError, Result};
use nix_eval::source::Pos;
use nix_eval::{Attrs, CoerceOpts, Eval, Symbol, Value};
use serde_json::{json, Map, Value as Json};

use super::protocol::Outcome;

/// The outcome for the (forced) value `v` found at a path of length `depth`.
pub fn classify(ev: &mut Eval, v: &Value, depth: usize, force_recurse: bool, meta: bool) -> Result<Outcome> {
    let Value::Attrs(a) = v else {
        return Ok(Outcome::Attrs(vec![]));
    };
    if ev.is_derivation(a)? {
        return job(ev, a, meta).map(Outcome::Job);
    }
    if let Some(top) = nixos_toplevel(ev, a)? {
        return job(ev, &top, meta).map(Outcome::Job);
    }
    let mut recurse = depth == 0 || force_recurse;
    if !recurse {
        if let Some(r) = a.get(Symbol::new("recurseForDerivations")) {
            recurse = matches!(ev.force(&r.clone())?, Value::Bool(true));
        }
    }
    if !recurse {
        return Ok(Outcome::Attrs(vec![]));
    }
    let names =
        a.sorted().iter().map(|x| x.name.as_str().to_owned()).filter(|n| n != "recurseForDerivations").collect();
    Ok(Outcome::Attrs(names))
}

/// `config.system.build.toplevel` of a NixOS configuration (a set with `config` and
/// `options`), if it is a derivation.
fn nixos_toplevel(ev: &mut Eval, a: &Attrs) -> Result<Option<Attrs>> {
    if !(a.contains(Symbol::new("config")) && a.contains(Symbol::new("options"))) {
        return Ok(None);
    }
    let mut v = Value::Attrs(a.clone());
    for key in ["config", "system", "build", "toplevel"] {
        let Value::Attrs(s) = ev.force(&v)? else {
            return Ok(None);
        };
        let Some(x) = s.get(Symbol::new(key)) else {
            return Ok(None);
        };
        v = x.clone();
    }
    match ev.force(&v)? {
        Value::Attrs(t) if ev.is_derivation(&t)? => Ok(Some(t)),
        _ => Ok(None),
    }
}

fn string_attr(ev: &mut Eval, a: &Attrs, name: &str) -> Result<Option<String>> {
    let Some(v) = a.get(Symbol::new(name)) else {
        return Ok(None);
    };
    let v = ev.force(&v.clone())?;
    Ok(Some(ev.coerce_to_string(&v, Pos::NONE, CoerceOpts::NO_COPY)?.to_str_lossy().into_owned()))
}

/// A derivation's job fields, keys sorted as nix-eval-jobs prints them.
fn job(ev: &mut Eval, a: &Attrs, meta: bool) -> Result<Map<String, Json>> {
    let mut m = Map::new();
    let drv_path = string_attr(ev, a, "drvPath")?
        .ok_or_else(|| EvalError::new(ErrorKind::Other, "derivation has no 'drvPath' attribute"))?;
    m.insert("drvPath".into(), json!(drv_path));
    if meta {
        m.insert("meta".into(), meta_json(ev, a)?);
    }
    m.insert("name".into(), json!(string_attr(ev, a, "name")?.unwrap_or_default()));
    m.insert("outputs".into(), outputs(ev, a)?);
    m.insert("system".into(), json!(string_attr(ev, a, "system")?.unwrap_or_else(|| "unknown".into())));
    Ok(m)
}

/// `{ OUTPUT: outPath }` for every output in `outputs` (default `["out"]`), sorted.
fn outputs(ev: &mut Eval, a: &Attrs) -> Result<Json> {
    let names: Vec<String> = match a.get(Symbol::new("outputs")) {
        Some(v) => match ev.force(&v.clone())? {
            Value::List(l) => {
                let mut names = Vec::new();
                for x in l.iter() {
                    let x = ev.force(x)?;
                    names.push(ev.coerce_to_string(&x, Pos::NONE, CoerceOpts::NO_COPY)?.to_str_lossy().into_owned());
                }
                names
            }
            _ => vec!["out".into()],
        },
        None => vec!["out".into()],
    };
    let mut outs: Vec<(String, Json)> = Vec::new();
    for name in names {
        let path = match a.get(Symbol::new(&name)) {
            Some(o) => match ev.force(&o.clone())? {
                Value::Attrs(oa) => string_attr(ev, &oa, "outPath")?,
                _ => None,
            },
            None => None,
        };
        outs.push((name, path.map(Json::String).unwrap_or(Json::Null)));
    }
    outs.sort_by(|x, y| x.0.cmp(&y.0));
    Ok(Json::Object(outs.into_iter().collect()))
}

/// `meta` as JSON: each attribute that converts (functions and failing ones are left out,
/// as nix-eval-jobs skips what `queryMeta` rejects).
fn meta_json(ev: &mut Eval, a: &Attrs) -> Result<Json> {
    let mut out = Map::new();
    let Some(m) = a.get(Symbol::new("meta")) else {
        return Ok(Json::Object(out));
    };
    let Value::Attrs(m) = ev.force(&m.clone())? else {
        return Ok(Json::Object(out));
    };
    for attr in m.sorted() {
        let Ok(text) = nix_builtins::json::to_json_string(ev, &attr.value, Pos::NONE, true) else {
            continue;
        };
        if let Ok(j) = serde_json::from_str::<Json>(&text) {
            out.insert(attr.name.as_str().to_owned(), j);
        }
    }
    Ok(Json::Object(out))
}
