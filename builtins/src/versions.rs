//! Package names and versions: parseDrvName, compareVersions, splitVersion, with the
//! reference's component splitting (`nextComponent`) and ordering (`componentsLT`).

use crate::make_attrs;
use crate::strings::force_string_no_ctx;
use nix_eval::error::Result;
use nix_eval::source::Pos;
use nix_eval::value::NixString;
use nix_eval::{BuiltinDef, Eval, Value};
use std::cmp::Ordering;

pub const BUILTINS: &[BuiltinDef] = &[
    BuiltinDef { name: "parseDrvName", arity: 1, global: false, func: parse_drv_name },
    BuiltinDef { name: "compareVersions", arity: 2, global: false, func: compare_versions },
    BuiltinDef { name: "splitVersion", arity: 1, global: false, func: split_version },
];

/// Splits `name-version` at the first dash not followed by a letter.
pub fn parse_drv_name_bytes(s: &[u8]) -> (&[u8], &[u8]) {
    for i in 0..s.len() {
        if s[i] == b'-' && i + 1 < s.len() && !s[i + 1].is_ascii_alphabetic() {
            return (&s[..i], &s[i + 1..]);
        }
    }
    (s, b"")
}

/// The next version component at `*p`: separators (`.`, `-`) are skipped, then the longest
/// run of digits, or of non-digit non-separator bytes. Empty at the end.
pub fn next_component<'a>(s: &'a [u8], p: &mut usize) -> &'a [u8] {
    while *p < s.len() && (s[*p] == b'.' || s[*p] == b'-') {
        *p += 1;
    }
    let start = *p;
    if *p >= s.len() {
        return &s[start..start];
    }
    if s[*p].is_ascii_digit() {
        while *p < s.len() && s[*p].is_ascii_digit() {
            *p += 1;
        }
    } else {
        while *p < s.len() && !s[*p].is_ascii_digit() && s[*p] != b'.' && s[*p] != b'-' {
            *p += 1;
        }
    }
    &s[start..*p]
}

/// `string2Int<int>`: a component of digits that fits in a C `int`.
fn as_int(c: &[u8]) -> Option<i32> {
    if c.is_empty() || !c.iter().all(|b| b.is_ascii_digit()) {
        return None;
    }
    std::str::from_utf8(c).ok()?.parse::<i32>().ok()
}

fn components_lt(c1: &[u8], c2: &[u8]) -> bool {
    let n1 = as_int(c1);
    let n2 = as_int(c2);
    if let (Some(a), Some(b)) = (n1, n2) {
        a < b
    } else if (c1.is_empty() && n2.is_some()) || (c1 == b"pre" && c2 != b"pre") {
        true
    } else if c2 == b"pre" {
        false
    } else if n2.is_some() {
        // `2.3a` < `2.3.1`
        true
    } else if n1.is_some() {
        false
    } else {
        c1 < c2
    }
}

pub fn compare_versions_bytes(v1: &[u8], v2: &[u8]) -> Ordering {
    let (mut p1, mut p2) = (0, 0);
    while p1 < v1.len() || p2 < v2.len() {
        let c1 = next_component(v1, &mut p1);
        let c2 = next_component(v2, &mut p2);
        if components_lt(c1, c2) {
            return Ordering::Less;
        }
        if components_lt(c2, c1) {
            return Ordering::Greater;
        }
    }
    Ordering::Equal
}

fn parse_drv_name(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let s = force_string_no_ctx(ev, &args[0], pos, || crate::arg_ctx("parseDrvName", 0))?;
    let (name, version) = parse_drv_name_bytes(s.as_bytes());
    Ok(make_attrs(vec![
        ("name", Value::String(NixString::new(name))),
        ("version", Value::String(NixString::new(version))),
    ]))
}

fn compare_versions(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a = force_string_no_ctx(ev, &args[0], pos, || crate::arg_ctx("compareVersions", 0))?;
    let b = force_string_no_ctx(ev, &args[1], pos, || crate::arg_ctx("compareVersions", 1))?;
    Ok(Value::Int(match compare_versions_bytes(a.as_bytes(), b.as_bytes()) {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }))
}

fn split_version(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let s = force_string_no_ctx(ev, &args[0], pos, || crate::arg_ctx("splitVersion", 0))?;
    let bytes = s.as_bytes();
    let mut p = 0;
    let mut out = Vec::new();
    while p < bytes.len() {
        let c = next_component(bytes, &mut p);
        if c.is_empty() {
            break;
        }
        out.push(Value::String(NixString::new(c)));
    }
    Ok(Value::list(out))
}
