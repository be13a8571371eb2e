//! Printing values as `nix-instantiate --eval` does.
//!
//! Printing never forces: the caller forces first (`--strict` deep-forces), anything still
//! unevaluated shows as `<CODE>` in `nix-instantiate --eval` output and as `«thunk»` in
//! `trace` and error messages. A set or list met a second time in one printout shows as
//! `«repeated»`. As in the reference, a list of at most two elements is stored inside the value
//! that holds it, so its identity is that of the thunk it was reached through.

use crate::ast::{Expr, ExprRef, Var};
use crate::value::{NixString, Value};
use rustc_hash::FxHashSet;
use std::fmt::Write;

/// Format a float as C++ `ostream << double` (6 significant digits, `%g`).
pub fn fmt_float(f: f64) -> String {
    if f.is_nan() {
        return if f.is_sign_negative() { "-nan".into() } else { "nan".into() };
    }
    if f.is_infinite() {
        return if f < 0.0 { "-inf".into() } else { "inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let p = 6i32;
    let exp = format!("{:.*e}", (p - 1) as usize, f);
    let (mant, e) = exp.split_once('e').unwrap();
    let e: i32 = e.parse().unwrap();
    if e < -4 || e >= p {
        let mant = strip_zeros(mant);
        format!("{}e{}{:02}", mant, if e < 0 { '-' } else { '+' }, e.abs())
    } else {
        let decimals = (p - 1 - e).max(0) as usize;
        strip_zeros(&format!("{:.*}", decimals, f)).to_string()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Appends `s` as a Nix string literal, quoted and escaped as the reference prints it.
pub fn escape_string(out: &mut String, s: &[u8]) {
    out.push('"');
    let mut i = 0;
    let mut raw: Vec<u8> = Vec::new();
    while i < s.len() {
        let c = s[i];
        match c {
            b'"' => raw.extend_from_slice(b"\\\""),
            b'\\' => raw.extend_from_slice(b"\\\\"),
            b'\n' => raw.extend_from_slice(b"\\n"),
            b'\r' => raw.extend_from_slice(b"\\r"),
            b'\t' => raw.extend_from_slice(b"\\t"),
            b'$' if s.get(i + 1) == Some(&b'{') => raw.extend_from_slice(b"\\$"),
            c => raw.push(c),
        }
        i += 1;
    }
    out.push_str(&String::from_utf8_lossy(&raw));
    out.push('"');
}

/// Whether `s` can be written as a bare attribute name.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '\'' || c == '-') {
        return false;
    }
    !matches!(s, "if" | "then" | "else" | "assert" | "with" | "let" | "in" | "rec" | "inherit" | "or")
}

/// Appends an attribute name: bare if it is an identifier, else as a string literal.
pub fn attr_name(out: &mut String, name: &str) {
    if is_identifier(name) {
        out.push_str(name);
    } else {
        escape_string(out, name.as_bytes());
    }
}

/// Which of the reference's printers a [`Printer`] follows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Style {
    /// 2.36's `printAmbiguous` (`nix-instantiate --eval`): unevaluated values `<CODE>`,
    /// functions `<LAMBDA>` / `<PRIMOP>` / `<PRIMOP-APP>`.
    #[default]
    Ambiguous,
    /// 2.36's `printValue` (`trace`, error messages): unevaluated values `«thunk»`,
    /// functions with their name and position (`«lambda f @ FILE:L:C»`, `«primop map»`).
    Value,
}

/// Prints values as the reference does, with optional limits for error messages; cycles print as `«repeated»`.
#[derive(Default)]
pub struct Printer {
    seen: FxHashSet<usize>,
    /// Which reference printer this one follows.
    pub style: Style,
    /// Depth beyond which sets and lists are elided (error messages).
    pub max_depth: Option<usize>,
    /// At most this many attributes and this many list items in all, the rest elided (the
    /// reference's `errorPrintOptions`).
    pub max_items: Option<usize>,
    attrs_printed: usize,
    list_items_printed: usize,
    next_unique: usize,
    /// A set or list was too deep for the native stack and was cut short (`…`).
    pub too_deep: bool,
}

impl Printer {
    /// Appends `v` as it is (thunks not forced).
    pub fn print(&mut self, out: &mut String, v: &Value) {
        self.value(out, v, None, 0)
    }

    fn value(&mut self, out: &mut String, v: &Value, via: Option<usize>, depth: usize) {
        match v {
            Value::Thunk(t) => match t.value() {
                Some(x) => {
                    let id = t.cell() as *const _ as usize;
                    self.value(out, &x, Some(id), depth)
                }
                // `nix-instantiate --eval` prints through 2.36's `printAmbiguous` (`<CODE>`);
                // `trace` and error messages through `printValue` (`«thunk»`).
                None if self.style == Style::Value => out.push_str("«thunk»"),
                None => out.push_str("<CODE>"),
            },
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{}", i);
            }
            Value::Float(f) => out.push_str(&fmt_float(*f)),
            Value::String(s) => escape_string(out, s.as_bytes()),
            Value::Path(p) => out.push_str(&p.to_str_lossy()),
            Value::Lambda(c) if self.style == Style::Value => {
                out.push_str("«lambda");
                if let Some(name) = c.lambda.name {
                    out.push(' ');
                    out.push_str(name.as_str());
                }
                if let Some(l) = c.lambda.pos.resolve() {
                    let _ = write!(out, " @ {}:{}:{}", l.file.name(), l.line, l.column);
                }
                out.push('»');
            }
            Value::Builtin(b) if self.style == Style::Value => {
                let applied = if b.args.is_empty() { "" } else { "partially applied " };
                let _ = write!(out, "«{applied}primop {}»", b.def.name);
            }
            Value::Lambda(_) => out.push_str("<LAMBDA>"),
            Value::Builtin(b) => out.push_str(if b.args.is_empty() { "<PRIMOP>" } else { "<PRIMOP-APP>" }),
            Value::Attrs(_) | Value::List(_) if crate::eval::stack_exhausted() => {
                self.too_deep = true;
                out.push('…');
            }
            Value::Attrs(a) => {
                if a.is_empty() {
                    out.push_str("{ }");
                    return;
                }
                if !self.seen.insert(a.as_ptr() as usize) {
                    out.push_str("«repeated»");
                    return;
                }
                if self.max_depth.is_some_and(|m| depth >= m) {
                    out.push_str("{ ... }");
                    return;
                }
                out.push_str("{ ");
                for (k, attr) in a.sorted().into_iter().enumerate() {
                    if self.max_items.is_some_and(|m| self.attrs_printed >= m) {
                        elided(out, a.len() - k, "attribute", "attributes");
                        break;
                    }
                    attr_name(out, attr.name.as_str());
                    out.push_str(" = ");
                    self.value(out, &attr.value, None, depth + 1);
                    out.push_str("; ");
                    self.attrs_printed += 1;
                }
                out.push('}');
            }
            Value::List(l) => {
                let id = if l.len() <= 2 {
                    via.unwrap_or_else(|| {
                        self.next_unique += 1;
                        usize::MAX - self.next_unique
                    })
                } else {
                    l.as_ptr() as usize
                };
                if l.is_empty() {
                    out.push_str("[ ]");
                    return;
                }
                if !self.seen.insert(id) {
                    out.push_str("«repeated»");
                    return;
                }
                if self.max_depth.is_some_and(|m| depth >= m) {
                    out.push_str("[ ... ]");
                    return;
                }
                out.push_str("[ ");
                for (k, x) in l.iter().enumerate() {
                    if self.max_items.is_some_and(|m| self.list_items_printed >= m) {
                        elided(out, l.len() - k, "item", "items");
                        break;
                    }
                    self.value(out, x, None, depth + 1);
                    out.push(' ');
                    self.list_items_printed += 1;
                }
                out.push(']');
            }
        }
    }
}

/// The printed form of a value, as `nix-instantiate --eval` shows it.
pub fn to_string(v: &Value) -> String {
    let mut out = String::new();
    Printer::default().print(&mut out, v);
    out
}

/// `v` as 2.36's `trace` prints it (`printValue` with default options): like [`to_string`],
/// but unevaluated values are `«thunk»` and functions `«lambda NAME @ POS»` / `«primop NAME»`.
pub fn to_trace_string(v: &Value) -> String {
    let mut out = String::new();
    Printer { style: Style::Value, ..Default::default() }.print(&mut out, v);
    out
}

/// [`to_string`], or the reference's stack overflow error for a value nested too deeply to
/// print on the native stack (a list built a million levels deep by `foldl'`).
pub fn try_to_string(v: &Value) -> crate::error::Result<String> {
    let mut out = String::new();
    let mut p = Printer::default();
    p.print(&mut out, v);
    if p.too_deep {
        return Err(crate::error::error(
            crate::error::ErrorKind::StackOverflow,
            "stack overflow (possible infinite recursion)",
        ));
    }
    Ok(out)
}

fn elided(out: &mut String, n: usize, one: &str, many: &str) {
    let _ = write!(out, "«{n} {} elided» ", if n == 1 { one } else { many });
}

/// A value shown in an error message, as the reference's error printer shows it: ten
/// levels deep, ten attributes and ten list items in all.
pub fn short(v: &Value) -> String {
    let mut out = String::new();
    let mut p = Printer { style: Style::Value, max_depth: Some(10), max_items: Some(10), ..Default::default() };
    p.print(&mut out, v);
    out
}

/// `s` as a Nix string literal.
pub fn string_literal(s: &NixString) -> String {
    let mut out = String::new();
    escape_string(&mut out, s.as_bytes());
    out
}

/// A compact rendering of an expression, for assertion messages.
pub(crate) fn expr_summary(e: ExprRef) -> String {
    let mut out = String::new();
    summarize(&mut out, e, 0);
    out
}

fn summarize(out: &mut String, e: ExprRef, depth: usize) {
    if depth > 6 {
        out.push_str("...");
        return;
    }
    match e {
        Expr::Const(v) => out.push_str(&to_string(v)),
        Expr::Var(v) => out.push_str(match v {
            Var::Local { name, .. } | Var::Global { name, .. } | Var::With { name, .. } => name.as_str(),
        }),
        Expr::BinOp { op, lhs, rhs, .. } => {
            out.push('(');
            summarize(out, lhs, depth + 1);
            out.push(' ');
            out.push_str(op.symbol());
            out.push(' ');
            summarize(out, rhs, depth + 1);
            out.push(')');
        }
        Expr::Not { expr, .. } => {
            out.push_str("(! ");
            summarize(out, expr, depth + 1);
            out.push(')');
        }
        Expr::Apply { func, args, .. } => {
            out.push('(');
            summarize(out, func, depth + 1);
            for a in args.iter() {
                out.push(' ');
                summarize(out, a, depth + 1);
            }
            out.push(')');
        }
        Expr::Select { expr, path, .. } => {
            summarize(out, expr, depth + 1);
            for k in path.iter() {
                out.push('.');
                match k {
                    crate::ast::AttrKey::Static(s, _) => attr_name(out, s.as_str()),
                    crate::ast::AttrKey::Dynamic(_) => out.push_str("\"${...}\""),
                }
            }
        }
        Expr::HasAttr { expr, .. } => {
            out.push('(');
            summarize(out, expr, depth + 1);
            out.push_str(" ? ...)");
        }
        _ => out.push_str("..."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_too_deep_for_the_stack_is_an_error_not_a_crash() {
        let r = std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(|| {
                crate::eval::set_stack_budget(2 << 20);
                let mut v = Value::list(Vec::new());
                for _ in 0..100_000 {
                    v = Value::list(vec![v]);
                }
                let shallow = try_to_string(&Value::list(vec![Value::Int(1)]));
                let deep = try_to_string(&v).map_err(|e| e.msg);
                // Dropping the chain recurses as deep as printing it would.
                std::mem::forget(v);
                (shallow.ok(), deep)
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(r.0.as_deref(), Some("[ 1 ]"));
        assert!(r.1.as_ref().is_err_and(|e| e.contains("stack overflow")), "{:?}", r.1);
    }
}
