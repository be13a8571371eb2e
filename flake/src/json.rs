//! JSON text exactly as CppNix's nlohmann::json prints it.
//!
//! Lock files and registries must be byte-identical to the reference, and
//! nlohmann differs from serde_json's pretty printer: objects are `std::map`s
//! (keys sorted bytewise whatever the insertion order), control characters are
//! escaped as `\u00xx` in lowercase hex, everything else (UTF-8 included) is
//! written raw, and empty containers print as `{}` / `[]`.

use nix_eval::json_escape::{push_json_str, JsonEscapes};
use serde_json::Value;

/// `json.dump()`: no whitespace at all.
pub fn to_compact(v: &Value) -> String {
    let mut out = String::new();
    write(v, None, 0, &mut out);
    out
}

/// `json.dump(indent)`: one member or element per line, `"key": value`.
pub fn to_pretty(v: &Value, indent: usize) -> String {
    let mut out = String::new();
    write(v, Some(indent), 0, &mut out);
    out
}

fn write(v: &Value, indent: Option<usize>, level: usize, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_str(s, out),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(indent, level + 1, out);
                write(item, indent, level + 1, out);
            }
            newline(indent, level, out);
            out.push(']');
        }
        Value::Object(map) => {
            if map.is_empty() {
                out.push_str("{}");
                return;
            }
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (k, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(indent, level + 1, out);
                write_str(k, out);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write(item, indent, level + 1, out);
            }
            newline(indent, level, out);
            out.push('}');
        }
    }
}

fn newline(indent: Option<usize>, level: usize, out: &mut String) {
    if let Some(n) = indent {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', n * level));
    }
}

fn write_str(s: &str, out: &mut String) {
    push_json_str(out, s, JsonEscapes::Nlohmann);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_matches_nlohmann_layout() {
        let v: Value = serde_json::from_str(r#"{"b":[1,"x"],"a":{},"c":[],"d":{"z":true,"y":"\u0001é\n"}}"#).unwrap();
        assert_eq!(
            to_pretty(&v, 2),
            "{\n  \"a\": {},\n  \"b\": [\n    1,\n    \"x\"\n  ],\n  \"c\": [],\n  \"d\": {\n    \"y\": \"\\u0001é\\n\",\n    \"z\": true\n  }\n}"
        );
        assert_eq!(to_compact(&v), r#"{"a":{},"b":[1,"x"],"c":[],"d":{"y":"\u0001é\n","z":true}}"#);
    }
}
