//! String coercion, interpolation and `+` (the reference's `ExprConcatStrings`), and
//! strings that must not carry a context (attribute names, regexes, version strings).

use super::Eval;
use crate::ast::ExprRef;
use crate::error::{AddTrace, ErrorKind, EvalError, Result};
use crate::lower::canon_path;
use crate::print;
use crate::source::Pos;
use crate::symbol::sym;
use crate::value::*;

/// How a value is coerced to a string (the reference's `coerceToString` flags).
#[derive(Copy, Clone, Debug)]
pub struct CoerceOpts {
    /// `toString` rules: null, Booleans, numbers and lists coerce too.
    pub coerce_more: bool,
    /// Paths are copied into the store and become their store path (with context).
    pub copy_to_store: bool,
}

impl CoerceOpts {
    /// String interpolation: strings, paths (copied), sets with `__toString`/`outPath`.
    pub const INTERP: CoerceOpts = CoerceOpts { coerce_more: false, copy_to_store: true };
    /// `toString`: also null, Booleans, numbers and lists.
    pub const TO_STRING: CoerceOpts = CoerceOpts { coerce_more: true, copy_to_store: true };
    /// As [`CoerceOpts::INTERP`], but paths stay paths (appending to a path).
    pub const NO_COPY: CoerceOpts = CoerceOpts { coerce_more: false, copy_to_store: false };
}

/// The path a path and the strings appended to it make (`./a + "/b"`, `./${x}/c`):
/// canonical, and refused when an appended string refers to a store path, as the reference
/// refuses it.
fn path_from(b: StringBuilder, pos: Pos) -> Result<Value> {
    if !b.context.is_empty() {
        return Err(EvalError::at(
            ErrorKind::Other,
            pos,
            "a string that refers to a store path cannot be appended to a path",
        ));
    }
    let s = String::from_utf8_lossy(&b.bytes).into_owned();
    Ok(Value::Path(NixString::from(canon_path(&s))))
}

/// Nix's float formatting for `toString` and interpolation: C++ `std::to_string` ("%f").
pub fn float_to_string(f: f64) -> String {
    format!("{:.6}", f)
}

/// The element of a context the reference names first in messages: plain paths, then
/// whole derivations, then derivation outputs (by derivation, then output name).
pub fn first_context_elem(c: &Context) -> &str {
    let key = |e: &str| -> (u8, String, String) {
        match e.as_bytes().first() {
            Some(b'=') => (1, e.to_string(), String::new()),
            Some(b'!') => {
                let rest = &e[1..];
                let (out, drv) = rest.split_once('!').unwrap_or(("", rest));
                (2, drv.to_string(), out.to_string())
            }
            _ => (0, e.to_string(), String::new()),
        }
    };
    c.iter().map(|e| &**e).min_by_key(|e| key(e)).unwrap_or("")
}

impl Eval {
    /// `v` coerced to a string as `opts` says, with the reference's errors.
    pub fn coerce_to_string(&mut self, v: &Value, pos: Pos, opts: CoerceOpts) -> Result<NixString> {
        // A string coerces to itself: share it rather than copy it twice through a builder
        // (the NixOS manual's 11 MB options document passes here on its way to `toFile`).
        if let Value::String(s) = v {
            return Ok(s.clone());
        }
        if let Value::Thunk(t) = v {
            if let Some(Value::String(s)) = t.value() {
                return Ok(s);
            }
        }
        let mut b = StringBuilder::default();
        self.coerce_into(&mut b, v, pos, opts)?;
        Ok(b.finish())
    }

    pub(crate) fn coerce_into(&mut self, out: &mut StringBuilder, v: &Value, pos: Pos, opts: CoerceOpts) -> Result<()> {
        // Recursion through `outPath` and list elements calls nothing that checks the stack.
        self.check_stack()?;
        let v = self.force(v)?;
        match &v {
            Value::String(s) => out.push(s),
            Value::Path(p) => {
                if opts.copy_to_store {
                    let sp = self.copy_path_to_store(&p.to_str_lossy(), pos)?;
                    out.push_bytes(sp.as_bytes());
                    out.context.insert(sp.into_boxed_str());
                } else {
                    out.push_bytes(p.as_bytes());
                }
            }
            Value::Attrs(a) => {
                if let Some(f) = a.get(sym::TO_STRING) {
                    let f = f.clone();
                    let r = self.call(&f, v.clone(), pos)?;
                    let r = self.force(&r)?;
                    self.nested(pos, |ev| ev.coerce_into(out, &r, pos, opts))
                        .trace(pos, || "while using the result of the `__toString` attribute".into())?;
                } else if let Some(p) = a.get(sym::OUT_PATH) {
                    let p = p.clone();
                    // A cyclic `outPath` (or `__toString` result) stops at `max-call-depth`.
                    self.nested(pos, |ev| ev.coerce_into(out, &p, pos, opts))?;
                } else {
                    return Err(self.cannot_coerce(&v, pos));
                }
            }
            Value::Int(i) if opts.coerce_more => out.push_bytes(i.to_string().as_bytes()),
            Value::Float(f) if opts.coerce_more => out.push_bytes(float_to_string(*f).as_bytes()),
            Value::Bool(true) if opts.coerce_more => out.push_bytes(b"1"),
            Value::Bool(false) | Value::Null if opts.coerce_more => {}
            Value::List(l) if opts.coerce_more => {
                let l = l.clone();
                for (i, x) in l.iter().enumerate() {
                    self.nested(pos, |ev| ev.coerce_into(out, x, pos, opts))?;
                    // The reference adds no separator after the last element, nor after an
                    // element that is an empty list.
                    if i + 1 < l.len() {
                        let empty_list = matches!(self.force(x)?, Value::List(ref e) if e.is_empty());
                        if !empty_list {
                            out.push_bytes(b" ");
                        }
                    }
                }
            }
            _ => return Err(self.cannot_coerce(&v, pos)),
        }
        Ok(())
    }

    /// The reference's `forceStringNoCtx`: a string that must not refer to store paths
    /// (dynamic attribute names, regexes, version strings…).
    pub fn expect_string_no_ctx(&mut self, v: &Value, pos: Pos) -> Result<NixString> {
        let s = self.expect_string(v, pos)?;
        if let Some(c) = s.context() {
            return Err(EvalError::at(
                ErrorKind::Other,
                pos,
                format!(
                    "the string '{}' is not allowed to refer to a store path (such as '{}')",
                    s.to_str_lossy(),
                    first_context_elem(c)
                ),
            ));
        }
        Ok(s)
    }

    fn cannot_coerce(&self, v: &Value, pos: Pos) -> Box<EvalError> {
        EvalError::at(
            ErrorKind::Type,
            pos,
            format!("cannot coerce {} to a string: {}", super::explain::show_type(v), print::short(v)),
        )
    }

    /// Copy a source path into the store (through the store layer's hook).
    pub fn copy_path_to_store(&mut self, path: &str, pos: Pos) -> Result<String> {
        match self.path_to_store {
            Some(hook) => hook(self, path).at_pos(pos),
            None => Err(EvalError::at(
                ErrorKind::Other,
                pos,
                format!("cannot copy path '{}' to the store: no store is available", path),
            )),
        }
    }

    /// A path value from a string: must be absolute; made canonical.
    pub fn coerce_to_path(&mut self, v: &Value, pos: Pos) -> Result<String> {
        let s = self.coerce_to_path_with_context(v, pos)?;
        Ok(s.to_str_lossy().into_owned())
    }

    /// Like [`Eval::coerce_to_path`], keeping the context of a string argument (the
    /// reference's `coerceToPath(pos, v, context)`: `toPath "${drv}"` still depends on `drv`).
    pub fn coerce_to_path_with_context(&mut self, v: &Value, pos: Pos) -> Result<NixString> {
        let v = self.force(v)?;
        if let Value::Path(p) = &v {
            return Ok(p.clone());
        }
        let s = self.coerce_to_string(&v, pos, CoerceOpts::NO_COPY)?;
        let text = s.to_str_lossy();
        if !text.starts_with('/') {
            return Err(EvalError::at(
                ErrorKind::Other,
                pos,
                format!("string '{}' doesn't represent an absolute path", text),
            ));
        }
        let canon = canon_path(&text);
        if canon.as_bytes() == s.as_bytes() {
            return Ok(s);
        }
        Ok(match s.context() {
            Some(c) => NixString::with_context(canon.as_bytes(), c.clone()),
            None => NixString::from(canon),
        })
    }

    // A case of `Eval::eval` kept out of it (see there): never inlined.
    #[inline(never)]
    pub(super) fn eval_interp(
        &mut self,
        pos: Pos,
        parts: &'static [ExprRef],
        is_path: bool,
        env: &Env,
    ) -> Result<Value> {
        let first = self.eval(parts[0], env)?;
        if is_path {
            // The leading literal was anchored at parse time; the rest is appended as text.
            let mut b = StringBuilder::default();
            match &first {
                Value::String(s) => b.push(s),
                Value::Path(p) => b.push_bytes(p.as_bytes()),
                _ => unreachable!("a path interpolation starts with a literal"),
            }
            for p in &parts[1..] {
                let v = self.eval(p, env)?;
                self.coerce_into(&mut b, &v, pos, CoerceOpts::NO_COPY)
                    .trace(pos, || "while evaluating a path segment".into())?;
            }
            return path_from(b, pos);
        }
        let mut b = StringBuilder::default();
        self.coerce_into(&mut b, &first, pos, CoerceOpts::INTERP)?;
        for p in &parts[1..] {
            let v = self.eval(p, env)?;
            self.coerce_into(&mut b, &v, pos, CoerceOpts::INTERP)?;
        }
        Ok(Value::String(b.finish()))
    }

    /// `l + r`: numbers add, strings and paths concatenate (the type of `l` decides). Errors
    /// about adding numbers are at the right operand (`rhs_pos`), as the reference reports them.
    pub(super) fn add_values(&mut self, pos: Pos, l: Value, rhs: ExprRef, rhs_pos: Pos, env: &Env) -> Result<Value> {
        match &l {
            Value::Int(_) | Value::Float(_) => {
                let r = self.eval_operand(rhs, env)?;
                self.arith_forced(if rhs_pos.is_none() { pos } else { rhs_pos }, crate::ast::BinOp::Add, &l, &r)
            }
            Value::Path(p) => {
                let r = self.eval_operand(rhs, env)?;
                let mut b = StringBuilder::default();
                b.push_bytes(p.as_bytes());
                self.coerce_into(&mut b, &r, pos, CoerceOpts::NO_COPY)
                    .trace(pos, || "while evaluating a path segment".into())?;
                path_from(b, pos)
            }
            _ => {
                let r = self.eval_operand(rhs, env)?;
                let mut b = StringBuilder::default();
                self.coerce_into(&mut b, &l, pos, CoerceOpts::INTERP)?;
                self.coerce_into(&mut b, &r, if rhs_pos.is_none() { pos } else { rhs_pos }, CoerceOpts::INTERP)?;
                Ok(Value::String(b.finish()))
            }
        }
    }
}
