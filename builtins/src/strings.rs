//! String builtins: toString, stringLength, substring, concatStringsSep, replaceStrings,
//! match and split (POSIX extended regexes through [`crate::regex`]).
//!
//! Strings are byte strings; lengths and offsets count bytes. Operations keep the string
//! context of their inputs the way the reference does (substring keeps all of it, even for
//! an empty result; match and split results carry none).

use crate::regex::Regex;
use nix_eval::error::{AddTrace, ErrorKind, EvalError, Result};
use nix_eval::source::Pos;
use nix_eval::value::{Context, NixString, StringBuilder};
use nix_eval::{BuiltinDef, CoerceOpts, Eval, Value};
use std::collections::HashMap;
use std::rc::Rc;

pub const BUILTINS: &[BuiltinDef] = &[
    BuiltinDef { name: "toString", arity: 1, global: true, func: to_string },
    BuiltinDef { name: "stringLength", arity: 1, global: false, func: string_length },
    BuiltinDef { name: "substring", arity: 3, global: false, func: substring },
    BuiltinDef { name: "concatStringsSep", arity: 2, global: false, func: concat_strings_sep },
    BuiltinDef { name: "replaceStrings", arity: 3, global: false, func: replace_strings },
    BuiltinDef { name: "match", arity: 2, global: false, func: match_ },
    BuiltinDef { name: "split", arity: 2, global: false, func: split },
];

/// `toString`'s coercion: everything `toString` accepts, paths stay paths (not copied).
const TO_STRING_NO_COPY: CoerceOpts = CoerceOpts { coerce_more: true, copy_to_store: false };

/// A string argument (not coerced), with a custom trace line.
pub(crate) fn force_string(ev: &mut Eval, v: &Value, pos: Pos, ctx: impl FnOnce() -> String) -> Result<NixString> {
    ev.expect_string(v, pos).trace(pos, ctx)
}

/// The reference's `forceStringNoCtx`: a string that must not refer to store paths.
pub(crate) fn force_string_no_ctx(ev: &mut Eval, v: &Value, pos: Pos, ctx: impl Fn() -> String) -> Result<NixString> {
    ev.expect_string_no_ctx(v, pos).trace(pos, ctx)
}

/// Coerce like the reference's `coerceToString` with its defaults (paths are copied to the
/// store, no `toString` extras); strings are returned as they are, without copying.
pub(crate) fn coerce_default(ev: &mut Eval, v: &Value, pos: Pos, ctx: impl FnOnce() -> String) -> Result<NixString> {
    let v = match ev.force(v) {
        Ok(v) => v,
        Err(e) => return Err(e).trace(pos, ctx),
    };
    match &v {
        Value::String(s) => Ok(s.clone()),
        _ => ev.coerce_to_string(&v, pos, CoerceOpts::INTERP).trace(pos, ctx),
    }
}

fn to_string(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let ctx = || "while evaluating the first argument passed to builtins.toString".to_string();
    let v = ev.force(&args[0]).trace(pos, ctx)?;
    if let Value::String(_) = v {
        return Ok(v);
    }
    let s = ev.coerce_to_string(&v, pos, TO_STRING_NO_COPY).trace(pos, ctx)?;
    Ok(Value::String(s))
}

fn string_length(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let s =
        coerce_default(ev, &args[0], pos, || "while evaluating the argument passed to builtins.stringLength".into())?;
    Ok(Value::Int(s.len() as i64))
}

fn substring(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let start = ev
        .expect_int(&args[0], pos)
        .trace(pos, || "while evaluating the first argument (the start offset) passed to builtins.substring".into())?;
    if start < 0 {
        return Err(EvalError::at(ErrorKind::Other, pos, "negative start position in 'substring'"));
    }
    let len = ev.expect_int(&args[1], pos).trace(pos, || {
        "while evaluating the second argument (the substring length) passed to builtins.substring".into()
    })?;
    let third = || "while evaluating the third argument (the string) passed to builtins.substring".to_string();
    // An empty substring keeps the context without looking at (or coercing) a string.
    if len == 0 {
        let v = ev.force(&args[2]).trace(pos, third)?;
        if let Value::String(s) = &v {
            return Ok(Value::String(match s.context() {
                None => NixString::new(&b""[..]),
                Some(c) => NixString::with_context(&b""[..], c.clone()),
            }));
        }
    }
    let s = coerce_default(ev, &args[2], pos, third)?;
    let n = s.len();
    let start = start as u64;
    if start == 0 && (len < 0 || len as u64 >= n as u64) {
        return Ok(Value::String(s));
    }
    let bytes: &[u8] = if start >= n as u64 {
        b""
    } else {
        let start = start as usize;
        let end = if len < 0 { n } else { start.saturating_add(len as usize).min(n) };
        &s.as_bytes()[start..end]
    };
    Ok(Value::String(match s.context() {
        None => NixString::new(bytes),
        Some(c) => NixString::with_context(bytes, c.clone()),
    }))
}

fn concat_strings_sep(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let sep = force_string(ev, &args[0], pos, || {
        "while evaluating the first argument (the separator string) passed to builtins.concatStringsSep".into()
    })?;
    let list = ev.expect_list(&args[1], pos).trace(pos, || {
        "while evaluating the second argument (the list of strings to concat) passed to builtins.concatStringsSep"
            .into()
    })?;
    let mut b = StringBuilder::default();
    // The separator's context is kept even when the separator is never used.
    if let Some(c) = sep.context() {
        b.context.extend(c.iter().cloned());
    }
    for (i, x) in list.iter().enumerate() {
        if i > 0 {
            b.push(&sep);
        }
        let s = coerce_default(ev, x, pos, || {
            "while evaluating one element of the list of strings to concat passed to builtins.concatStringsSep".into()
        })?;
        b.push(&s);
    }
    Ok(Value::String(b.finish()))
}

fn replace_strings(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let from = ev.expect_list(&args[0], pos).trace(pos, || crate::arg_ctx("replaceStrings", 0))?;
    let to = ev.expect_list(&args[1], pos).trace(pos, || crate::arg_ctx("replaceStrings", 1))?;
    if from.len() != to.len() {
        return Err(EvalError::at(
            ErrorKind::Other,
            pos,
            "'from' and 'to' arguments passed to builtins.replaceStrings have different lengths",
        ));
    }
    let mut pats: Vec<NixString> = Vec::with_capacity(from.len());
    for x in from.iter() {
        pats.push(force_string(ev, x, pos, || {
            "while evaluating one of the strings to replace passed to builtins.replaceStrings".into()
        })?);
    }
    let s = force_string(ev, &args[2], pos, || crate::arg_ctx("replaceStrings", 2))?;
    let mut context: Context = s.context().cloned().unwrap_or_default();
    if pats.is_empty() {
        return Ok(Value::String(s));
    }
    // Replacements are forced only when their pattern matches, once each.
    let mut cache: Vec<Option<NixString>> = vec![None; pats.len()];
    // A cheap filter: which bytes can start a non-empty pattern; any empty pattern matches
    // everywhere.
    let mut starts = [false; 256];
    let mut has_empty = false;
    for p in &pats {
        match p.as_bytes().first() {
            Some(&c) => starts[c as usize] = true,
            None => has_empty = true,
        }
    }
    let src = s.as_bytes();
    let n = src.len();
    let mut res: Vec<u8> = Vec::with_capacity(n);
    let mut changed = false;
    let mut p = 0;
    while p <= n {
        let mut found = None;
        if has_empty || (p < n && starts[src[p] as usize]) {
            for (k, pat) in pats.iter().enumerate() {
                if src[p..].starts_with(pat.as_bytes()) {
                    found = Some(k);
                    break;
                }
            }
        }
        match found {
            Some(k) => {
                changed = true;
                if cache[k].is_none() {
                    let t = force_string(ev, &to[k], pos, || {
                        "while evaluating one of the replacement strings passed to builtins.replaceStrings".into()
                    })?;
                    if let Some(c) = t.context() {
                        context.extend(c.iter().cloned());
                    }
                    cache[k] = Some(t);
                }
                res.extend_from_slice(cache[k].as_ref().unwrap().as_bytes());
                let plen = pats[k].len();
                if plen == 0 {
                    if p < n {
                        res.push(src[p]);
                    }
                    p += 1;
                } else {
                    p += plen;
                }
            }
            None => {
                if p < n {
                    res.push(src[p]);
                }
                p += 1;
            }
        }
    }
    if !changed {
        return Ok(Value::String(s));
    }
    Ok(Value::String(NixString::with_context(res, context)))
}

/// Compiled patterns, per pattern text.
#[derive(Default)]
struct RegexCache {
    map: HashMap<Box<[u8]>, Rc<Regex>>,
}

fn compile_regex(ev: &mut Eval, re: &NixString, pos: Pos) -> Result<Rc<Regex>> {
    let cache = ev.ext::<RegexCache>();
    if let Some(r) = cache.map.get(re.as_bytes()) {
        return Ok(r.clone());
    }
    match Regex::new(re.as_bytes()) {
        Ok(r) => {
            let r = Rc::new(r);
            cache.map.insert(re.as_bytes().into(), r.clone());
            Ok(r)
        }
        Err(e) => Err(EvalError::at(ErrorKind::Other, pos, e.to_string())),
    }
}

fn sub_value(s: &[u8], span: Option<(usize, usize)>) -> Value {
    match span {
        Some((a, b)) => Value::String(NixString::new(&s[a..b])),
        None => Value::Null,
    }
}

fn match_(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let re = force_string_no_ctx(ev, &args[0], pos, || crate::arg_ctx("match", 0))?;
    let regex = compile_regex(ev, &re, pos)?;
    let s = force_string(ev, &args[1], pos, || crate::arg_ctx("match", 1))?;
    let bytes = s.as_bytes();
    match regex.match_full(bytes) {
        None => Ok(Value::Null),
        Some(groups) => Ok(Value::list(groups.into_iter().map(|g| sub_value(bytes, g)).collect())),
    }
}

fn split(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let re = force_string_no_ctx(ev, &args[0], pos, || crate::arg_ctx("split", 0))?;
    let regex = compile_regex(ev, &re, pos)?;
    let s = force_string(ev, &args[1], pos, || crate::arg_ctx("split", 1))?;
    let bytes = s.as_bytes();
    let matches = regex.split_matches(bytes);
    if matches.is_empty() {
        // The original string, context and all.
        return Ok(Value::list(vec![Value::String(s)]));
    }
    let mut out = Vec::with_capacity(matches.len() * 2 + 1);
    let mut prev = 0;
    for m in &matches {
        let (b, e) = m[0].unwrap_or((bytes.len(), bytes.len()));
        out.push(Value::String(NixString::new(&bytes[prev..b])));
        out.push(Value::list(m[1..].iter().map(|g| sub_value(bytes, *g)).collect()));
        prev = e;
    }
    out.push(Value::String(NixString::new(&bytes[prev..])));
    Ok(Value::list(out))
}
