//! `fromTOML`.
//!
//! Parsed with the `toml` crate; values map as in the reference (which uses toml11): tables to
//! sets, arrays to lists, integers, floats, Booleans, strings (no NUL bytes). Dates and times
//! are an error unless the experimental feature `parse-toml-timestamps` is on, in which case
//! they become `{ _type = "timestamp"; value = "…"; }` with toml11's rendering of the value.
//! Integer overflow is reported with toml11's message and source excerpt.

use crate::json::null_byte_error;
use crate::{make_attrs, Args};
use nix_eval::error::{ErrorKind, EvalError, Result};
use nix_eval::source::Pos;
use nix_eval::value::Attrs;
use nix_eval::{Attr, BuiltinDef, Eval, Symbol, Value};

pub const BUILTINS: &[BuiltinDef] = &[BuiltinDef { name: "fromTOML", arity: 1, global: true, func: from_toml }];

fn from_toml(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a = Args::new("fromTOML", args, pos);
    let s = a.string_no_ctx(ev, 0)?;
    let fail = |msg: String| EvalError::at(ErrorKind::Other, pos, format!("while parsing TOML: {}", msg));
    let text = std::str::from_utf8(s.as_bytes())
        .map_err(|e| fail(format!("[error] toml::parse: invalid UTF-8 byte at offset {}", e.valid_up_to())))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| fail(toml11_error(text, &e)))?;
    let timestamps = ev.settings.experimental_features.iter().any(|f| f == "parse-toml-timestamps");
    convert_table(&table, timestamps).map_err(fail)
}

fn convert_table(t: &toml::Table, timestamps: bool) -> std::result::Result<Value, String> {
    let mut attrs = Vec::with_capacity(t.len());
    for (k, v) in t.iter() {
        if k.as_bytes().contains(&0) {
            return Err(format!("error: {}", null_byte_error(k.as_bytes())));
        }
        attrs.push(Attr { name: Symbol::new(k), pos: Pos::NONE, value: convert(v, timestamps)? });
    }
    Ok(Value::Attrs(Attrs::from_vec(attrs)))
}

fn convert(v: &toml::Value, timestamps: bool) -> std::result::Result<Value, String> {
    Ok(match v {
        toml::Value::Table(t) => convert_table(t, timestamps)?,
        toml::Value::Array(a) => {
            Value::list(a.iter().map(|x| convert(x, timestamps)).collect::<std::result::Result<_, _>>()?)
        }
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Integer(i) => Value::Int(*i),
        toml::Value::Float(f) => Value::Float(*f),
        toml::Value::String(s) => {
            if s.as_bytes().contains(&0) {
                return Err(format!("error: {}", null_byte_error(s.as_bytes())));
            }
            Value::string(s.as_str())
        }
        toml::Value::Datetime(d) => {
            if d.time.is_some_and(|t| t.second.is_none()) {
                // TOML 1.1 allows omitting the seconds; toml11 (TOML 1.0) does not.
                return Err("[error] toml::parse_local_time: invalid time: seconds are missing".into());
            }
            if !timestamps {
                return Err("Dates and times are not supported".into());
            }
            make_attrs(vec![("_type", Value::string("timestamp")), ("value", Value::string(format_datetime(d)))])
        }
    })
}

/// A date/time as toml11 prints it: `T` between date and time, fractional seconds to
/// milli-, micro- or nanoseconds (whichever is needed), `Z` for a zero offset.
fn format_datetime(d: &toml::value::Datetime) -> String {
    let mut out = String::new();
    if let Some(date) = &d.date {
        out.push_str(&format!("{:04}-{:02}-{:02}", date.year, date.month, date.day));
    }
    if let Some(time) = &d.time {
        if d.date.is_some() {
            out.push('T');
        }
        out.push_str(&format!("{:02}:{:02}:{:02}", time.hour, time.minute, time.second.unwrap_or(0)));
        let ns = time.nanosecond.unwrap_or(0);
        let (milli, micro, nano) = (ns / 1_000_000, (ns / 1_000) % 1_000, ns % 1_000);
        if ns != 0 {
            out.push_str(&format!(".{:03}", milli));
            if micro != 0 || nano != 0 {
                out.push_str(&format!("{:03}", micro));
                if nano != 0 {
                    out.push_str(&format!("{:03}", nano));
                }
            }
        }
    }
    match d.offset {
        Some(toml::value::Offset::Z) => out.push('Z'),
        Some(toml::value::Offset::Custom { minutes }) => {
            if minutes == 0 {
                out.push('Z');
            } else {
                let sign = if minutes < 0 { '-' } else { '+' };
                let m = minutes.unsigned_abs();
                out.push_str(&format!("{}{:02}:{:02}", sign, m / 60, m % 60));
            }
        }
        None => {}
    }
    out
}

/// toml11's rendering of an error: a title and an excerpt of the line with a caret.
fn toml11_format(text: &str, title: &str, offset: usize, len: usize, msg: &str) -> String {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line_end = text[offset..].find('\n').map(|i| offset + i).unwrap_or(text.len());
    let line = text[line_start..line_end].trim_end_matches('\r');
    let line_no = text[..line_start].matches('\n').count() + 1;
    let lnw = line_no.to_string().len();
    let col = text[line_start..offset].len() + 1;
    let limit = if line.len() < col { 1 } else { line.len() - col + 1 };
    let len = len.min(limit).max(1);
    let pad = " ".repeat(lnw + 1);
    format!(
        "[error] {}\n --> fromTOML\n{} |\n {:>w$} | {}\n{} | {}{}-- {}\n",
        title,
        pad,
        line_no,
        line,
        pad,
        " ".repeat(col - 1),
        "^".repeat(len),
        msg,
        w = lnw
    )
}

fn toml11_error(text: &str, e: &toml::de::Error) -> String {
    let Some(span) = e.span() else {
        return format!("[error] {}", e.message());
    };
    let token = text.get(span.clone()).unwrap_or("");
    let digits: String = token.chars().filter(|&c| c != '_').collect();
    let unsigned = digits.trim_start_matches(['+', '-']);
    let kind = if let Some(h) = unsigned.strip_prefix("0x") {
        h.chars().all(|c| c.is_ascii_hexdigit()).then_some("hex")
    } else if let Some(o) = unsigned.strip_prefix("0o") {
        o.chars().all(|c| ('0'..='7').contains(&c)).then_some("oct")
    } else if let Some(b) = unsigned.strip_prefix("0b") {
        b.chars().all(|c| c == '0' || c == '1').then_some("bin")
    } else {
        (!unsigned.is_empty() && unsigned.chars().all(|c| c.is_ascii_digit())).then_some("dec")
    };
    if let Some(kind) = kind {
        // An integer that does not fit in 64 bits (the only way an integer token fails).
        let title = if kind == "dec" {
            "toml::parse_dec_integer: too large integer: current max digits = 2^63".to_string()
        } else {
            format!("toml::parse_{}_integer: too large integer: current max value = 2^63", kind)
        };
        return toml11_format(text, &title, span.end, 1, "must be < 2^63");
    }
    if e.message() == "duplicate key" {
        let key = token.trim_matches(|c| c == '"' || c == '\'');
        return toml11_format(
            text,
            &format!("toml::insert_value: value (\"{}\") already exists.", key),
            span.start,
            span.len(),
            "value already exists here",
        );
    }
    if e.message().contains("floating-point number overflowed") {
        return toml11_format(
            text,
            "toml::parse_floating: failed to read floating point value from stream",
            span.end,
            1,
            "here",
        );
    }
    toml11_format(text, e.message().trim_end(), span.start, span.len(), "here")
}
