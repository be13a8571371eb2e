//! String context: getContext, appendContext, hasContext, unsafeDiscardStringContext,
//! unsafeDiscardOutputDependency, addDrvOutputDependencies.
//!
//! A context element is stored in its reference encoding: `/nix/store/…` (a plain store path,
//! "opaque"), `=/nix/store/….drv` (a derivation with all its outputs, "deep"),
//! `!OUTPUT!/nix/store/….drv` (one output of a derivation, "built").

use crate::make_attrs;
use crate::strings::{coerce_default, force_string};
use nix_eval::error::{AddTrace, ErrorKind, EvalError, Result};
use nix_eval::source::Pos;
use nix_eval::value::{Context, NixString};
use nix_eval::{Attr, Attrs, BuiltinDef, Eval, Symbol, Value};
use std::collections::BTreeMap;

pub const BUILTINS: &[BuiltinDef] = &[
    BuiltinDef { name: "getContext", arity: 1, global: false, func: get_context },
    BuiltinDef { name: "appendContext", arity: 2, global: false, func: append_context },
    BuiltinDef { name: "hasContext", arity: 1, global: false, func: has_context },
    BuiltinDef { name: "unsafeDiscardStringContext", arity: 1, global: false, func: unsafe_discard_string_context },
    BuiltinDef {
        name: "unsafeDiscardOutputDependency",
        arity: 1,
        global: false,
        func: unsafe_discard_output_dependency,
    },
    BuiltinDef { name: "addDrvOutputDependencies", arity: 1, global: false, func: add_drv_output_dependencies },
];

/// One decoded context element.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum ContextElem<'a> {
    /// A plain store path.
    Opaque(&'a str),
    /// A derivation and its whole closure (`=`).
    DrvDeep(&'a str),
    /// One output of a derivation (`!out!drv`).
    Built { drv: &'a str, output: &'a str },
}

impl<'a> ContextElem<'a> {
    pub fn decode(e: &'a str) -> ContextElem<'a> {
        if let Some(p) = e.strip_prefix('=') {
            ContextElem::DrvDeep(p)
        } else if let Some(rest) = e.strip_prefix('!') {
            match rest.split_once('!') {
                Some((output, drv)) => ContextElem::Built { drv, output },
                None => ContextElem::Opaque(e),
            }
        } else {
            ContextElem::Opaque(e)
        }
    }
    pub fn encode(&self) -> Box<str> {
        match self {
            ContextElem::Opaque(p) => (*p).into(),
            ContextElem::DrvDeep(p) => format!("={}", p).into(),
            ContextElem::Built { drv, output } => format!("!{}!{}", output, drv).into(),
        }
    }
}

fn is_derivation(p: &str) -> bool {
    p.ends_with(".drv")
}

/// `Store::isStorePath`: directly in the store, a valid hash part and name.
fn is_store_path(ev: &Eval, p: &str) -> bool {
    let dir = ev.settings.store_dir.trim_end_matches('/');
    let Some(base) = p.strip_prefix(dir).and_then(|r| r.strip_prefix('/')) else { return false };
    if base.contains('/') || base.len() < 34 {
        return false;
    }
    let b = base.as_bytes();
    let hash_ok = b[..32]
        .iter()
        .all(|&c| (c.is_ascii_digit() || c.is_ascii_lowercase()) && !matches!(c, b'e' | b'o' | b'u' | b't'));
    if !hash_ok || b[32] != b'-' {
        return false;
    }
    let name = &base[33..];
    if name.is_empty() || name.len() > 211 {
        return false;
    }
    if name == "." || name == ".." || name.starts_with(".-") || name.starts_with("..-") {
        return false;
    }
    name.bytes().all(|c| c.is_ascii_alphanumeric() || b"+-._?=".contains(&c))
}

fn get_context(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let s = force_string(ev, &args[0], pos, || "while evaluating the argument passed to builtins.getContext".into())?;
    #[derive(Default)]
    struct Info {
        path: bool,
        all_outputs: bool,
        outputs: Vec<String>,
    }
    let mut infos: BTreeMap<&str, Info> = BTreeMap::new();
    // Outputs are listed in the reference's order: by output name for one derivation.
    let mut built: Vec<(&str, &str)> = Vec::new();
    if let Some(ctx) = s.context() {
        for e in ctx.iter() {
            match ContextElem::decode(e) {
                ContextElem::Opaque(p) => infos.entry(p).or_default().path = true,
                ContextElem::DrvDeep(p) => infos.entry(p).or_default().all_outputs = true,
                ContextElem::Built { drv, output } => built.push((drv, output)),
            }
        }
    }
    built.sort();
    for (drv, output) in built {
        infos.entry(drv).or_default().outputs.push(output.to_string());
    }
    let attrs: Vec<Attr> = infos
        .into_iter()
        .map(|(p, info)| {
            let mut fields: Vec<(&str, Value)> = Vec::new();
            if info.path {
                fields.push(("path", Value::Bool(true)));
            }
            if info.all_outputs {
                fields.push(("allOutputs", Value::Bool(true)));
            }
            if !info.outputs.is_empty() {
                fields.push(("outputs", Value::list(info.outputs.into_iter().map(Value::string).collect())));
            }
            Attr { name: Symbol::new(p), pos: Pos::NONE, value: make_attrs(fields) }
        })
        .collect();
    Ok(Value::Attrs(Attrs::from_vec(attrs)))
}

fn append_context(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let orig = force_string(ev, &args[0], Pos::NONE, || crate::arg_ctx("appendContext", 0))?;
    let set = ev.expect_attrs(&args[1], pos).trace(pos, || crate::arg_ctx("appendContext", 1))?;
    let mut context: Context = orig.context().cloned().unwrap_or_default();
    let (s_path, s_all, s_outputs) = (Symbol::new("path"), Symbol::new("allOutputs"), Symbol::new("outputs"));
    for attr in set.iter() {
        let name = attr.name.as_str();
        if !is_store_path(ev, name) {
            return Err(EvalError::at(
                ErrorKind::Other,
                attr.pos,
                format!("context key '{}' is not a store path", name),
            ));
        }
        let info = ev
            .expect_attrs(&attr.value, attr.pos)
            .trace(attr.pos, || "while evaluating the value of a string context".into())?;
        if let Some(a) = info.get_attr(s_path) {
            let b = ev
                .expect_bool(&a.value, a.pos)
                .trace(a.pos, || "while evaluating the `path` attribute of a string context".into())?;
            if b {
                context.insert(ContextElem::Opaque(name).encode());
            }
        }
        if let Some(a) = info.get_attr(s_all) {
            let b = ev
                .expect_bool(&a.value, a.pos)
                .trace(a.pos, || "while evaluating the `allOutputs` attribute of a string context".into())?;
            if b {
                if !is_derivation(name) {
                    return Err(EvalError::at(
                        ErrorKind::Other,
                        attr.pos,
                        format!("tried to add all-outputs context of {}, which is not a derivation, to a string", name),
                    ));
                }
                context.insert(ContextElem::DrvDeep(name).encode());
            }
        }
        if let Some(a) = info.get_attr(s_outputs) {
            let list = ev
                .expect_list(&a.value, a.pos)
                .trace(a.pos, || "while evaluating the `outputs` attribute of a string context".into())?;
            if !list.is_empty() && !is_derivation(name) {
                return Err(EvalError::at(
                    ErrorKind::Other,
                    attr.pos,
                    format!(
                        "tried to add derivation output context of {}, which is not a derivation, to a string",
                        name
                    ),
                ));
            }
            for x in list.iter() {
                let out = crate::strings::force_string_no_ctx(ev, x, a.pos, || {
                    "while evaluating an output name within a string context".into()
                })?;
                context.insert(ContextElem::Built { drv: name, output: &out.to_str_lossy() }.encode());
            }
        }
    }
    Ok(Value::String(NixString::with_context(orig.as_bytes(), context)))
}

fn has_context(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let s = force_string(ev, &args[0], pos, || "while evaluating the argument passed to builtins.hasContext".into())?;
    Ok(Value::Bool(s.has_context()))
}

fn unsafe_discard_string_context(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let s = coerce_default(ev, &args[0], pos, || {
        "while evaluating the argument passed to builtins.unsafeDiscardStringContext".into()
    })?;
    if !s.has_context() {
        return Ok(Value::String(s));
    }
    Ok(Value::String(NixString::new(s.as_bytes())))
}

fn unsafe_discard_output_dependency(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let s = coerce_default(ev, &args[0], pos, || {
        "while evaluating the argument passed to builtins.unsafeDiscardOutputDependency".into()
    })?;
    let Some(ctx) = s.context() else { return Ok(Value::String(s)) };
    if !ctx.iter().any(|e| e.starts_with('=')) {
        return Ok(Value::String(s));
    }
    let ctx2: Context = ctx
        .iter()
        .map(|e| match ContextElem::decode(e) {
            ContextElem::DrvDeep(p) => ContextElem::Opaque(p).encode(),
            _ => e.clone(),
        })
        .collect();
    Ok(Value::String(NixString::with_context(s.as_bytes(), ctx2)))
}

fn add_drv_output_dependencies(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let s = coerce_default(ev, &args[0], pos, || {
        "while evaluating the argument passed to builtins.addDrvOutputDependencies".into()
    })?;
    let n = s.context().map_or(0, |c| c.len());
    if n != 1 {
        return Err(EvalError::at(
            ErrorKind::Other,
            pos,
            format!("context of string '{}' must have exactly one element, but has {}", s.to_str_lossy(), n),
        ));
    }
    let e = s.context().unwrap().iter().next().unwrap();
    let new = match ContextElem::decode(e) {
        ContextElem::Opaque(p) => {
            if !is_derivation(p) {
                return Err(EvalError::at(ErrorKind::Other, pos, format!("path '{}' is not a derivation", p)));
            }
            ContextElem::DrvDeep(p).encode()
        }
        ContextElem::Built { output, .. } => {
            return Err(EvalError::at(
                ErrorKind::Other,
                pos,
                format!(
                    "`addDrvOutputDependencies` can only act on derivations, not on a derivation output such as '{}'",
                    output
                ),
            ))
        }
        ContextElem::DrvDeep(_) => return Ok(Value::String(s)),
    };
    let mut ctx = Context::new();
    ctx.insert(new);
    Ok(Value::String(NixString::with_context(s.as_bytes(), ctx)))
}
