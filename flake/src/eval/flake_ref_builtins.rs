//! `builtins.parseFlakeRef` and `builtins.flakeRefToString`: the flake library's reference
//! parser and printer ([`crate::flakeref`], in `Compat::Nix2_36` mode) as builtins.
//!
//! They live here, not in `nix-builtins`, because that crate cannot depend on this one and
//! one parser serves both the builtins and locking. Always installed, with or without the
//! `flakes` feature, as before.

use nix_eval::error::{AddTrace, ErrorKind, EvalError, Result};
use nix_eval::source::Pos;
use nix_eval::{Attr as NixAttr, Attrs as NixAttrs, BuiltinDef, Eval, Symbol, Value};

use crate::attrs::{Attr, Attrs};
use crate::flakeref::{attrs_to_url_string_2_36, parse_attrs_2_36};

/// The two builtins (not global: only as `builtins.*`).
pub(super) const FLAKE_REF_BUILTINS: &[BuiltinDef] = &[
    BuiltinDef { name: "parseFlakeRef", arity: 1, global: false, func: parse_flake_ref },
    BuiltinDef { name: "flakeRefToString", arity: 1, global: false, func: flake_ref_to_string },
];

fn err(pos: Pos, msg: String) -> Box<EvalError> {
    EvalError::at(ErrorKind::Other, pos, msg)
}

fn parse_flake_ref(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let text = ev
        .expect_string_no_ctx(&args[0], pos)
        .trace(pos, || "while evaluating the first argument passed to builtins.parseFlakeRef".into())?;
    let attrs = parse_attrs_2_36(&text.to_str_lossy()).map_err(|e| err(pos, e.message().to_owned()))?;
    let attrs = attrs
        .iter()
        .map(|(k, v)| {
            let value = match v {
                Attr::Str(x) => Value::string(x.as_str()),
                Attr::Int(n) => Value::Int(*n as i64),
                Attr::Bool(b) => Value::Bool(*b),
            };
            NixAttr { name: Symbol::new(k), pos: Pos::NONE, value }
        })
        .collect();
    Ok(Value::Attrs(NixAttrs::from_vec(attrs)))
}

fn flake_ref_to_string(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let set = ev
        .expect_attrs(&args[0], Pos::NONE)
        .trace(Pos::NONE, || "while evaluating the argument passed to builtins.flakeRefToString".into())?;
    let mut attrs = Attrs::new();
    for attr in set.iter() {
        // The reference looks at the values as they are, without forcing them.
        let v = match &attr.value {
            Value::Thunk(t) => t.value(),
            v => Some(v.clone()),
        };
        let a = match &v {
            Some(Value::Int(i)) => {
                if *i < 0 {
                    return Err(err(pos, format!("negative value given for flake ref attr {}: {}", attr.name, i)));
                }
                Attr::Int(*i as u64)
            }
            Some(Value::Bool(b)) => Attr::Bool(*b),
            Some(Value::String(x)) => Attr::Str(x.to_str_lossy().into_owned()),
            other => {
                let ty = other.as_ref().map(|v| v.ty().describe()).unwrap_or("a thunk");
                return Err(err(
                    Pos::NONE,
                    format!(
                        "flake reference attribute sets may only contain integers, Booleans, and strings, but attribute '{}' is {}",
                        attr.name, ty
                    ),
                ));
            }
        };
        attrs.insert(attr.name.as_str().to_string(), a);
    }
    let url = attrs_to_url_string_2_36(&attrs).map_err(|e| err(pos, e.message().to_owned()))?;
    Ok(Value::string(url))
}
