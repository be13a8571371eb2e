//! Conversions between the flake library's plain data and Nix values.

use nix_eval::source::Pos;
use nix_eval::value::{Context, NixString};
use nix_eval::{Attr as NixAttr, Attrs as NixAttrs, CoerceOpts, Eval, Symbol, Value};

use crate::attrs::{Attr, Attrs};
use crate::source_info::{SourceInfo, SourceValue};

/// A store path string carrying itself as context.
pub(crate) fn store_path_value(p: &str) -> Value {
    let mut ctx = Context::new();
    ctx.insert(p.into());
    Value::String(NixString::with_context(p.as_bytes(), ctx))
}

/// `{ outPath; narHash; rev; … }` of a fetched tree.
pub fn source_info_value(si: &SourceInfo) -> Value {
    let attrs = si
        .attrs
        .iter()
        .map(|(k, v)| NixAttr {
            name: Symbol::new(k),
            pos: Pos::NONE,
            value: match v {
                SourceValue::Str(s) if k == "outPath" => store_path_value(s),
                SourceValue::Str(s) => Value::string(s.as_str()),
                SourceValue::Int(n) => Value::Int(*n as i64),
                SourceValue::Bool(b) => Value::Bool(*b),
            },
        })
        .collect();
    Value::Attrs(NixAttrs::from_vec(attrs))
}

/// `file:line:col` as the reference prints positions in flake errors.
pub fn pos_string(pos: Pos) -> String {
    match pos.resolve() {
        // 2.8 names expressions given as text (`--expr`, stdin) "(string)" here.
        Some(l) => match &l.file.origin {
            nix_eval::source::Origin::File(p) => format!("{}:{}:{}", p, l.line, l.column),
            _ => format!("(string):{}:{}", l.line, l.column),
        },
        None => "«none»:0".to_owned(),
    }
}

/// A fetcher attribute from a Nix value (string, Boolean or integer); paths are coerced.
pub(crate) fn value_to_attr(ev: &mut Eval, v: &Value, pos: Pos) -> nix_eval::Result<Option<Attr>> {
    let v = ev.force(v)?;
    Ok(match &v {
        Value::String(_) | Value::Path(_) => {
            Some(Attr::Str(ev.coerce_to_string(&v, pos, CoerceOpts::NO_COPY)?.to_str_lossy().into_owned()))
        }
        Value::Bool(b) => Some(Attr::Bool(*b)),
        Value::Int(n) => Some(Attr::Int(*n as u64)),
        _ => None,
    })
}

/// A Nix attribute set of strings, Booleans and integers as fetcher attributes.
pub(crate) fn nix_to_attrs(ev: &mut Eval, a: &NixAttrs, pos: Pos, who: &str) -> nix_eval::Result<Attrs> {
    let mut out = Attrs::new();
    for attr in a.sorted() {
        let name = attr.name.as_str();
        match value_to_attr(ev, &attr.value, pos)? {
            Some(Attr::Int(_)) if matches!(ev.force(&attr.value)?, Value::Int(n) if n < 0) => {
                let n = ev.expect_int(&attr.value, pos)?;
                return Err(nix_eval::EvalError::at(
                    nix_eval::ErrorKind::Other,
                    pos,
                    format!("negative value given for '{who}' argument '{name}': {n}"),
                ));
            }
            Some(x) => {
                out.insert(name.to_owned(), x);
            }
            None => {
                let v = ev.force(&attr.value)?;
                return Err(nix_eval::EvalError::at(
                    nix_eval::ErrorKind::Type,
                    pos,
                    format!(
                        "argument '{name}' to '{who}' is {} while a string, Boolean or integer is expected",
                        v.ty().describe()
                    ),
                ));
            }
        }
    }
    Ok(out)
}
