//! `toJSON`, `fromJSON` and the `--json` output.

use crate::Args;
use nix_eval::error::{AddTrace, ErrorKind, EvalError, Result};
use nix_eval::source::Pos;
use nix_eval::value::{Context, NixString};
use nix_eval::{sym, BuiltinDef, CoerceOpts, Eval, Value};

pub const BUILTINS: &[BuiltinDef] = &[
    BuiltinDef { name: "toJSON", arity: 1, global: false, func: to_json },
    BuiltinDef { name: "fromJSON", arity: 1, global: false, func: from_json },
];

fn to_json(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let mut out = String::new();
    let mut ctx = Context::new();
    write_json(ev, &args[0], pos, &mut out, &mut ctx, true).trace(pos, || "while evaluating the first argument passed to builtins.toJSON".into())?;
    Ok(Value::String(NixString::with_context(out.into_bytes(), ctx)))
}

/// The JSON text of a value (forcing it deeply), as `--json` prints it.
pub fn to_json_string(ev: &mut Eval, v: &Value, pos: Pos, copy_to_store: bool) -> Result<String> {
    let mut out = String::new();
    let mut ctx = Context::new();
    write_json(ev, v, pos, &mut out, &mut ctx, copy_to_store)?;
    Ok(out)
}

pub fn escape_json(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_json(ev: &mut Eval, v: &Value, pos: Pos, out: &mut String, ctx: &mut Context, copy: bool) -> Result<()> {
    let v = ev.force(v)?;
    match &v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&json_float(*f)),
        Value::String(s) => {
            if let Some(c) = s.context() {
                ctx.extend(c.iter().cloned());
            }
            escape_json(out, &s.to_str_lossy());
        }
        Value::Path(p) => {
            let s = if copy {
                let sp = ev.copy_path_to_store(&p.to_str_lossy(), pos)?;
                ctx.insert(sp.clone().into_boxed_str());
                sp
            } else {
                p.to_str_lossy().into_owned()
            };
            escape_json(out, &s);
        }
        Value::List(l) => {
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(ev, x, pos, out, ctx, copy).trace(pos, || format!("while evaluating list element at index {}", i))?;
            }
            out.push(']');
        }
        Value::Attrs(a) => {
            if a.contains(sym::TO_STRING) || a.contains(sym::OUT_PATH) {
                let s = ev.coerce_to_string(&v, pos, CoerceOpts { coerce_more: false, copy_to_store: copy })?;
                if let Some(c) = s.context() {
                    ctx.extend(c.iter().cloned());
                }
                escape_json(out, &s.to_str_lossy());
                return Ok(());
            }
            out.push('{');
            for (i, attr) in a.sorted().into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                escape_json(out, attr.name.as_str());
                out.push(':');
                let name = attr.name;
                write_json(ev, &attr.value, pos, out, ctx, copy).trace(attr.pos, || format!("while evaluating attribute '{}'", name))?;
            }
            out.push('}');
        }
        Value::Lambda(_) | Value::Builtin(_) => {
            return Err(EvalError::at(ErrorKind::Type, pos, "cannot convert a function to JSON"));
        }
        Value::Thunk(_) => unreachable!("forced"),
    }
    Ok(())
}

/// Floats as nlohmann::json prints them: shortest representation that round-trips.
pub fn json_float(f: f64) -> String {
    if !f.is_finite() {
        return "null".into();
    }
    let s = format!("{:?}", f);
    // Rust prints 1e21 as "1e21"; JSON/nlohmann prints "1e+21".
    if let Some((m, e)) = s.split_once('e') {
        let (sign, digits) = if let Some(d) = e.strip_prefix('-') { ("-", d) } else { ("+", e) };
        return format!("{}e{}{:0>2}", m.trim_end_matches(".0"), sign, digits);
    }
    s
}

fn from_json(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a = Args::new("fromJSON", args, pos);
    let s = a.string(ev, 0)?;
    let parsed: serde_json::Value = serde_json::from_slice(s.as_bytes())
        .map_err(|e| EvalError::at(ErrorKind::Other, pos, format!("while parsing JSON: {}", e)))?;
    json_to_value(&parsed, pos)
}

pub fn json_to_value(j: &serde_json::Value, pos: Pos) -> Result<Value> {
    Ok(match j {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else if n.as_u64().is_some() {
                return Err(EvalError::at(ErrorKind::Other, pos, format!("unsigned json number {} outside of Nix integer range", n)));
            } else {
                Value::Float(n.as_f64().unwrap_or(0.0))
            }
        }
        serde_json::Value::String(s) => Value::string(s.as_str()),
        serde_json::Value::Array(a) => Value::list(a.iter().map(|x| json_to_value(x, pos)).collect::<Result<_>>()?),
        serde_json::Value::Object(o) => {
            let mut attrs = Vec::new();
            for (k, v) in o.iter() {
                attrs.push(nix_eval::Attr { name: nix_eval::Symbol::new(k), pos: Pos::NONE, value: json_to_value(v, pos)? });
            }
            // Later keys win in the reference's parser.
            attrs.reverse();
            Value::Attrs(nix_eval::Attrs::from_vec(attrs))
        }
    })
}
