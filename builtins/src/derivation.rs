//! `derivationStrict`: from a set of attributes to a `.drv` file and its output paths.
//!
//! The steps follow the reference (see ../shared/docs/store-spec.md §5): collect the
//! attributes in name order into the environment (or `__json`), turn the string contexts into
//! input derivations and sources, compute the output paths (fixed-output, or from the hash
//! of the derivation modulo its inputs), write the `.drv`, and return the paths.

use crate::store::{store, store_error, strict_result, StoreState};
use nix_eval::error::{AddTrace, ErrorKind, EvalError, Result};
use nix_eval::json_escape::{write_json_string, JsonEscapes};
use nix_eval::source::Pos;
use nix_eval::value::{Context, NixString};
use nix_eval::{print, Attrs, BuiltinDef, CoerceOpts, Eval, Value};
use nix_store_core::store_path::make_fixed_output_path;
use nix_store_core::{Derivation, DerivationOutput, FileIngestionMethod, Hash, HashAlgo, StorePath};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

pub const BUILTINS: &[BuiltinDef] =
    &[BuiltinDef { name: "derivationStrict", arity: 1, global: true, func: derivation_strict }];

pub const DERIVATION_NIX: &str = include_str!("nix/derivation.nix");
pub const FETCHURL_NIX: &str = include_str!("nix/fetchurl.nix");

fn err(pos: Pos, msg: impl Into<String>) -> Box<EvalError> {
    EvalError::at(ErrorKind::Other, pos, msg)
}

/// Attributes that steer the derivation rather than only being exported.
#[derive(Default)]
struct Special {
    builder: Option<String>,
    system: Option<String>,
    output_hash: Option<String>,
    output_hash_algo: Option<String>,
    output_hash_mode: Option<String>,
    outputs: Option<Vec<String>>,
}

fn derivation_strict(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let attrs = ev
        .expect_attrs(&args[0], pos)
        .trace(pos, || "while evaluating the argument passed to builtins.derivationStrict".into())?;
    let Some(name_attr) = attrs.get_attr(nix_eval::sym::NAME) else {
        return Err(EvalError::at(ErrorKind::MissingAttr, pos, "attribute 'name' missing"))
            .trace(pos, || "in the attrset passed as argument to builtins.derivationStrict".into());
    };
    let (name_v, name_pos) = (name_attr.value.clone(), name_attr.pos);
    let name = ev
        .expect_string(&name_v, name_pos)
        .trace(name_pos, || "while evaluating the `name` attribute passed to builtins.derivationStrict".into())
        .trace(name_pos, || "while evaluating the derivation attribute 'name'".into())?;
    if name.has_context() {
        return Err(err(pos, format!("the string '{}' is not allowed to refer to a store path", name.to_str_lossy())));
    }
    let name = name.to_str_lossy().into_owned();
    check_name(&name, pos)?;
    // The reference (2.36) names where the derivation's `name` is defined.
    build(ev, &attrs, &name, pos).trace(pos, || match name_pos.resolve() {
        Some(l) => format!(
            "while evaluating derivation '{name}'\n  whose name attribute is located at {}:{}:{}",
            l.file.name(),
            l.line,
            l.column
        ),
        None => format!("while evaluating derivation '{name}'"),
    })
}

fn check_name(name: &str, pos: Pos) -> Result<()> {
    if name.ends_with(".drv") {
        return Err(err(pos, "derivation names are not allowed to end in '.drv'"));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || "+-._?=".contains(*c))) {
        return Err(err(
            pos,
            format!(
                "invalid derivation name: name '{}' contains illegal character '{}'. Please pass a different 'name'.",
                name, c
            ),
        ));
    }
    if name.is_empty() {
        return Err(err(pos, "invalid derivation name: name '' is empty. Please pass a different 'name'."));
    }
    Ok(())
}

fn build(ev: &mut Eval, attrs: &Attrs, name: &str, pos: Pos) -> Result<Value> {
    let ignore_nulls = match attrs.get(nix_eval::sym::IGNORE_NULLS) {
        Some(v) => ev.expect_bool(&v.clone(), pos).trace(pos, || {
            "while evaluating the `__ignoreNulls` attribute passed to builtins.derivationStrict".into()
        })?,
        None => false,
    };
    let structured = match attrs.get(nix_eval::sym::STRUCTURED_ATTRS) {
        Some(v) => ev.expect_bool(&v.clone(), pos).trace(pos, || {
            "while evaluating the `__structuredAttrs` attribute passed to builtins.derivationStrict".into()
        })?,
        None => false,
    };
    let mut drv = Derivation::default();
    let mut ctx = Context::new();
    let mut special = Special::default();
    let mut json = BTreeMap::<String, String>::new();
    for attr in attrs.sorted() {
        let key = attr.name.as_str();
        if key == "__ignoreNulls" {
            continue;
        }
        // Every error about an attribute is framed by it, as the reference's; the errors
        // themselves are at the attribute (the reference's have no position of their own).
        let apos = attr.pos;
        let mut one = || -> Result<()> {
            let v = ev.force(&attr.value)?;
            if ignore_nulls && matches!(v, Value::Null) {
                return Ok(());
            }
            if key == "__contentAddressed" || key == "__impure" {
                if ev.expect_bool(&v, apos)? {
                    return Err(err(
                        apos,
                        format!(
                            "experimental Nix feature '{}' is disabled",
                            if key == "__impure" { "impure-derivations" } else { "ca-derivations" }
                        ),
                    ));
                }
                return Ok(());
            }
            if key == "args" {
                let list = ev.expect_list(&v, apos)?;
                for x in list.iter() {
                    let s = ev
                        .coerce_to_string(x, apos, CoerceOpts::TO_STRING)
                        .trace(apos, || "while evaluating an element of the argument list".into())?;
                    absorb(&mut ctx, &s);
                    drv.args.push(s.to_str_lossy().into_owned());
                }
                return Ok(());
            }
            if structured {
                if key == "__structuredAttrs" {
                    return Ok(());
                }
                let mut out = String::new();
                structured_json(ev, &v, apos, &mut out, &mut ctx)?;
                json.insert(key.to_string(), out);
                match key {
                    "builder" | "system" | "outputHash" | "outputHashAlgo" | "outputHashMode" => {
                        let s = ev.expect_string(&v, apos)?;
                        set_special(&mut special, key, s.to_str_lossy().into_owned(), apos)?;
                    }
                    "outputs" => {
                        let list = ev.expect_list(&v, apos)?;
                        let mut outs = Vec::new();
                        for x in list.iter() {
                            outs.push(ev.expect_string(x, apos)?.to_str_lossy().into_owned());
                        }
                        special.outputs = Some(check_outputs(outs, apos)?);
                    }
                    _ => {}
                }
            } else {
                let s = ev.coerce_to_string(&v, apos, CoerceOpts::TO_STRING)?;
                absorb(&mut ctx, &s);
                let text = s.to_str_lossy().into_owned();
                if key == "outputs" {
                    let outs =
                        text.split([' ', '\t', '\n', '\r']).filter(|x| !x.is_empty()).map(String::from).collect();
                    special.outputs = Some(check_outputs(outs, apos)?);
                } else {
                    set_special(&mut special, key, text.clone(), apos)?;
                }
                drv.env.insert(key.to_string(), text);
            }
            Ok(())
        };
        one().trace(apos, || format!("while evaluating attribute '{}' of derivation '{}'", key, name))?;
    }
    if structured {
        let mut j = String::from("{");
        for (i, (k, v)) in json.iter().enumerate() {
            if i > 0 {
                j.push(',');
            }
            json_string(&mut j, k.as_bytes());
            j.push(':');
            j.push_str(v);
        }
        j.push('}');
        drv.env.insert("__json".into(), j);
    }
    let builder = special.builder.clone().unwrap_or_default();
    if builder.is_empty() {
        return Err(err(pos, "required attribute 'builder' missing"));
    }
    let system = special.system.clone().unwrap_or_default();
    if system.is_empty() {
        return Err(err(pos, "required attribute 'system' missing"));
    }
    drv.builder = builder;
    drv.platform = system;
    inputs_from_context(ev, &ctx, &mut drv, pos)?;
    let outputs = special.outputs.clone().unwrap_or_else(|| vec!["out".to_string()]);
    let mut out_paths = Vec::new();
    if let Some(h) = &special.output_hash {
        if outputs.len() != 1 || outputs[0] != "out" {
            return Err(err(pos, "multiple outputs are not supported in fixed-output derivations"));
        }
        let algo = match special.output_hash_algo.as_deref() {
            None | Some("") => None,
            Some(a) => Some(HashAlgo::parse(a).map_err(|e| store_error(pos, e))?),
        };
        let hash = Hash::parse_allow_empty(h, algo).map_err(|e| store_error(pos, e))?;
        if h.is_empty() {
            eprintln!("warning: found empty hash, assuming '{}'", hash.to_sri());
        }
        let method = match special.output_hash_mode.as_deref() {
            None | Some("flat") => FileIngestionMethod::Flat,
            Some("recursive") | Some("nar") => FileIngestionMethod::Recursive,
            Some(m) => return Err(err(pos, format!("invalid value '{}' for 'outputHashMode' attribute", m))),
        };
        let path = make_fixed_output_path(method, &hash, name, &BTreeSet::new())
            .map_err(|e| store_error(pos, e))?
            .to_absolute();
        drv.env.insert("out".into(), path.clone());
        drv.outputs.insert("out".into(), DerivationOutput::fixed(path.clone(), method, &hash));
        out_paths.push(("out".to_string(), path));
    } else {
        for o in &outputs {
            drv.outputs.insert(o.clone(), DerivationOutput::default());
        }
        let mut failure = None;
        let r = drv.fill_input_addressed_outputs(name, |p| match hash_modulo(ev, p) {
            Ok(h) => h,
            Err(e) => {
                failure = Some(e);
                Hash::zero(HashAlgo::Sha256)
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        r.map_err(|e| store_error(pos, e))?;
        for o in &outputs {
            out_paths.push((o.clone(), drv.outputs[o].path.clone()));
        }
    }
    let aterm = drv.to_aterm();
    let refs = drv.references();
    let st = store(ev);
    let drv_path = st.add_text(&format!("{}.drv", name), aterm.as_bytes(), &refs).map_err(|e| store_error(pos, e))?;
    // 2.8's `printMsg(lvlChatty, …)` in derivationStrict: shown from `-vv` on.
    nix_eval::error::talk(2, || format!("instantiated '{name}' -> '{drv_path}'"));
    let state = ev.ext::<StoreState>();
    state.references.insert(drv_path.clone(), refs);
    state.drvs.insert(drv_path.clone(), Rc::new(drv));
    Ok(strict_result(&drv_path, &out_paths))
}

fn set_special(sp: &mut Special, key: &str, v: String, pos: Pos) -> Result<()> {
    match key {
        "builder" => sp.builder = Some(v),
        "system" => sp.system = Some(v),
        "outputHash" => sp.output_hash = Some(v),
        "outputHashAlgo" => sp.output_hash_algo = Some(v),
        "outputHashMode" => {
            // Checked as the reference reads the attribute.
            if !matches!(v.as_str(), "flat" | "recursive" | "nar") {
                return Err(err(pos, format!("invalid value '{}' for 'outputHashMode' attribute", v)));
            }
            sp.output_hash_mode = Some(v)
        }
        _ => {}
    }
    Ok(())
}

fn check_outputs(outs: Vec<String>, pos: Pos) -> Result<Vec<String>> {
    let mut seen = BTreeSet::new();
    for o in &outs {
        if o == "drv"
            || o == "drvPath"
            || o.is_empty()
            || !o.chars().all(|c| c.is_ascii_alphanumeric() || "+-._?=".contains(c))
        {
            return Err(err(pos, format!("invalid derivation output name '{}'", o)));
        }
        if !seen.insert(o.clone()) {
            return Err(err(pos, format!("duplicate derivation output '{}'", o)));
        }
    }
    if outs.is_empty() {
        return Err(err(pos, "derivation cannot have an empty set of outputs"));
    }
    Ok(outs)
}

fn absorb(ctx: &mut Context, s: &NixString) {
    if let Some(c) = s.context() {
        ctx.extend(c.iter().cloned());
    }
}

/// The derivation at `path`: known from this evaluation, or read from the store.
pub(crate) fn load_drv(ev: &mut Eval, path: &str) -> Result<Rc<Derivation>> {
    if let Some(d) = ev.ext::<StoreState>().drvs.get(path) {
        return Ok(d.clone());
    }
    let st = store(ev);
    let real = st.real_path(path).unwrap_or_else(|| std::path::PathBuf::from(path));
    let bytes = std::fs::read(&real).map_err(|e| err(Pos::NONE, format!("reading derivation '{}': {}", path, e)))?;
    let d = Rc::new(
        Derivation::parse_aterm(&bytes)
            .map_err(|e| err(Pos::NONE, format!("error parsing derivation '{}': {}", path, e)))?,
    );
    ev.ext::<StoreState>().drvs.insert(path.to_string(), d.clone());
    Ok(d)
}

/// Hash of a derivation modulo its fixed-output inputs, memoised per `.drv` path.
pub(crate) fn hash_modulo(ev: &mut Eval, path: &str) -> Result<Hash> {
    if let Some(h) = ev.ext::<StoreState>().hash_modulo.get(path) {
        return Ok(*h);
    }
    let drv = load_drv(ev, path)?;
    for input in drv.input_drvs.keys() {
        hash_modulo(ev, input)?;
    }
    let memo = &ev.ext::<StoreState>().hash_modulo;
    let h = nix_store_core::derivation::hash_derivation_modulo(&drv, false, |p| memo[p]);
    ev.ext::<StoreState>().hash_modulo.insert(path.to_string(), h);
    Ok(h)
}

/// Turn the collected string context into input derivations and sources.
fn inputs_from_context(ev: &mut Eval, ctx: &Context, drv: &mut Derivation, pos: Pos) -> Result<()> {
    for c in ctx.iter() {
        if let Some(d) = c.strip_prefix('=') {
            // The whole closure of the derivation file.
            let mut stack = vec![d.to_string()];
            let mut seen = BTreeSet::new();
            while let Some(p) = stack.pop() {
                if !seen.insert(p.clone()) {
                    continue;
                }
                drv.input_srcs.insert(p.clone());
                if p.ends_with(".drv") {
                    let dd = load_drv(ev, &p)?;
                    drv.input_drvs.entry(p.clone()).or_default().extend(dd.outputs.keys().cloned());
                    stack.extend(dd.input_drvs.keys().cloned());
                    stack.extend(dd.input_srcs.iter().cloned());
                } else if let Some(refs) = ev.ext::<StoreState>().references.get(&p) {
                    stack.extend(refs.iter().cloned());
                }
            }
        } else if let Some(rest) = c.strip_prefix('!') {
            let Some((out, d)) = rest.split_once('!') else {
                return Err(err(pos, format!("invalid string context element '{}'", c)));
            };
            drv.input_drvs.entry(d.to_string()).or_default().insert(out.to_string());
        } else {
            if StorePath::parse_prefix(c).is_err() {
                return Err(err(pos, format!("path '{}' is not in the Nix store", c)));
            }
            drv.input_srcs.insert(c.to_string());
        }
    }
    Ok(())
}

/// JSON for `__structuredAttrs`, as Nix 2.8 writes it (floats with 6 significant digits).
fn structured_json(ev: &mut Eval, v: &Value, pos: Pos, out: &mut String, ctx: &mut Context) -> Result<()> {
    ev.nested(pos, |ev| structured_json_step(ev, v, pos, out, ctx))
}

fn structured_json_step(ev: &mut Eval, v: &Value, pos: Pos, out: &mut String, ctx: &mut Context) -> Result<()> {
    let v = ev.force(v)?;
    match &v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&print::fmt_float(*f)),
        Value::String(s) => {
            absorb(ctx, s);
            json_string(out, s.as_bytes());
        }
        Value::Path(_) => {
            let s = ev.coerce_to_string(&v, pos, CoerceOpts::INTERP)?;
            absorb(ctx, &s);
            json_string(out, s.as_bytes());
        }
        Value::List(l) => {
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                structured_json(ev, x, pos, out, ctx)?;
            }
            out.push(']');
        }
        Value::Attrs(a) => {
            if a.contains(nix_eval::sym::TO_STRING) || a.contains(nix_eval::sym::OUT_PATH) {
                let s = ev.coerce_to_string(&v, pos, CoerceOpts::INTERP)?;
                absorb(ctx, &s);
                json_string(out, s.as_bytes());
                return Ok(());
            }
            out.push('{');
            for (i, attr) in a.sorted().into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(out, attr.name.as_str().as_bytes());
                out.push(':');
                structured_json(ev, &attr.value, pos, out, ctx)?;
            }
            out.push('}');
        }
        _ => return Err(EvalError::at(ErrorKind::Type, pos, "cannot convert a function to JSON")),
    }
    Ok(())
}

/// A string in a structured-attrs `__json`, escaped as 2.8's `libutil/json.cc` writes it.
fn json_string(out: &mut String, s: &[u8]) {
    let mut b: Vec<u8> = Vec::with_capacity(s.len() + 2);
    write_json_string(&mut b, s, JsonEscapes::Libutil);
    out.push_str(&String::from_utf8_lossy(&b));
}
