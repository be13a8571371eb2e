//! Arithmetic, equality and ordering.

use super::{explain, Eval};
use crate::ast::BinOp;
use crate::error::{ErrorKind, EvalError, Result};
use crate::print;
use crate::source::Pos;
use crate::symbol::sym;
use crate::value::*;
use std::cmp::Ordering;
use std::rc::Rc;

impl Eval {
    /// `+ - * /` on numbers (arguments forced here).
    pub fn arith(&mut self, pos: Pos, op: BinOp, l: &Value, r: &Value) -> Result<Value> {
        let l = self.force(l)?;
        let r = self.force(r)?;
        self.arith_forced(pos, op, &l, &r)
    }

    /// `+ - * /` on numbers already in weak head normal form.
    pub(crate) fn arith_forced(&mut self, pos: Pos, op: BinOp, l: &Value, r: &Value) -> Result<Value> {
        let (verb, sign) = match op {
            BinOp::Add => ("adding", "+"),
            BinOp::Sub => ("subtracting", "-"),
            BinOp::Mul => ("multiplying", "*"),
            _ => ("dividing", "/"),
        };
        match (l, r) {
            (Value::Int(a), Value::Int(b)) => {
                let (a, b) = (*a, *b);
                let res = match op {
                    BinOp::Add => a.checked_add(b),
                    BinOp::Sub => a.checked_sub(b),
                    BinOp::Mul => a.checked_mul(b),
                    _ => {
                        if b == 0 {
                            return Err(EvalError::at(ErrorKind::Other, pos, "division by zero"));
                        }
                        a.checked_div(b)
                    }
                };
                match res {
                    Some(v) => Ok(Value::Int(v)),
                    None => Err(EvalError::at(
                        ErrorKind::Other,
                        pos,
                        format!("integer overflow in {} {} {} {}", verb, a, sign, b),
                    )),
                }
            }
            (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
                let a = as_f64(l);
                let b = as_f64(r);
                Ok(Value::Float(match op {
                    BinOp::Add => a + b,
                    BinOp::Sub => a - b,
                    BinOp::Mul => a * b,
                    _ => {
                        if b == 0.0 {
                            return Err(EvalError::at(ErrorKind::Other, pos, "division by zero"));
                        }
                        a / b
                    }
                }))
            }
            (Value::Int(_) | Value::Float(_), _) => {
                if op == BinOp::Add {
                    Err(EvalError::at(
                        ErrorKind::Type,
                        pos,
                        format!("cannot add {} to {}", explain::show_type(r), l.ty().describe()),
                    ))
                } else {
                    Err(self.type_error(if matches!(l, Value::Int(_)) { "an integer" } else { "a float" }, r, pos))
                }
            }
            _ => Err(self.type_error("an integer", l, pos)),
        }
    }

    /// `==`, as the reference's `eqValues`: both sides are forced first; inside lists and sets,
    /// two elements that are the very same value (a shared thunk, or the same function, list or
    /// set object) are then equal without looking further. At the top level the operands are
    /// never the same value, so functions there are never equal. Lists and sets are compared
    /// element by element in order even when they are the same object, stopping at the first
    /// difference, so an element that throws throws as it does in the reference. Each level
    /// counts against `max-call-depth` (as the reference's `eqValues` does), so comparing
    /// cyclic or very deep values stops quickly with an error.
    pub fn values_equal(&mut self, a: &Value, b: &Value, top: bool) -> Result<bool> {
        if !top && same_value(a, b) {
            self.force(a)?;
            return Ok(true);
        }
        // Two integers (`length xs == 1`, the most common comparison): the same answer as
        // the step below, once the level it would count is known to be within the limits.
        if let (Value::Int(x), Value::Int(y)) = (a, b) {
            if self.call_depth < self.settings.max_call_depth && self.check_stack().is_ok() {
                return Ok(x == y);
            }
        }
        self.nested(Pos::NONE, |ev| ev.values_equal_step(a, b))
    }

    fn values_equal_step(&mut self, a: &Value, b: &Value) -> Result<bool> {
        let a = self.force(a)?;
        let b = self.force(b)?;
        Ok(match (&a, &b) {
            (Value::Int(x), Value::Int(y)) => x == y,
            (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => as_f64(&a) == as_f64(&b),
            (Value::String(x), Value::String(y)) => x.as_bytes() == y.as_bytes(),
            (Value::Path(x), Value::Path(y)) => x.as_bytes() == y.as_bytes(),
            (Value::Null, Value::Null) => true,
            (Value::Bool(x), Value::Bool(y)) => x == y,
            (Value::List(x), Value::List(y)) => {
                if x.len() != y.len() {
                    return Ok(false);
                }
                for (p, q) in x.iter().zip(y.iter()) {
                    if !self.values_equal(p, q, false)? {
                        return Ok(false);
                    }
                }
                true
            }
            (Value::Attrs(x), Value::Attrs(y)) => {
                // Derivations are equal when their output paths are.
                if self.is_derivation(x)? && self.is_derivation(y)? {
                    if let (Some(p), Some(q)) = (x.get(sym::OUT_PATH), y.get(sym::OUT_PATH)) {
                        return self.values_equal(p, q, false);
                    }
                }
                if x.len() != y.len() {
                    return Ok(false);
                }
                for (p, q) in x.iter().zip(y.iter()) {
                    if p.name != q.name || !self.values_equal(&p.value, &q.value, false)? {
                        return Ok(false);
                    }
                }
                true
            }
            _ => false,
        })
    }

    /// Whether a forced set has `type = "derivation"`.
    pub fn is_derivation(&mut self, a: &Attrs) -> Result<bool> {
        match a.get(sym::TYPE) {
            Some(t) => {
                let t = t.clone();
                Ok(matches!(self.force(&t)?, Value::String(s) if s.as_bytes() == b"derivation"))
            }
            None => Ok(false),
        }
    }

    /// `<` as `builtins.lessThan`: numbers, strings, paths, and lists lexicographically.
    pub fn less_than(&mut self, a: &Value, b: &Value, pos: Pos) -> Result<bool> {
        Ok(self.compare(a, b, pos)? == Ordering::Less)
    }

    /// The order of `a` and `b` as `<` sees it (numbers, strings, paths, lists), else a type error.
    pub fn compare(&mut self, a: &Value, b: &Value, pos: Pos) -> Result<Ordering> {
        if let (Value::Int(x), Value::Int(y)) = (a, b) {
            return Ok(x.cmp(y));
        }
        let a = self.force(a)?;
        let b = self.force(b)?;
        match (&a, &b) {
            (Value::Int(x), Value::Int(y)) => Ok(x.cmp(y)),
            (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
                let (x, y) = (as_f64(&a), as_f64(&b));
                Ok(x.partial_cmp(&y).unwrap_or(Ordering::Equal))
            }
            (Value::String(x), Value::String(y)) => Ok(x.as_bytes().cmp(y.as_bytes())),
            (Value::Path(x), Value::Path(y)) => Ok(x.as_bytes().cmp(y.as_bytes())),
            (Value::List(x), Value::List(y)) => {
                let (x, y) = (x.clone(), y.clone());
                for (p, q) in x.iter().zip(y.iter()) {
                    if self.values_equal(p, q, false)? {
                        continue;
                    }
                    // The reference names the comparison on its own "cannot compare" error only
                    // (the innermost list), not on errors of forcing the elements.
                    return self.nested(pos, |ev| ev.compare(p, q, pos)).map_err(|mut e| {
                        if e.trace.is_empty() && e.msg.starts_with("cannot compare") {
                            e.trace.push(crate::error::TraceFrame {
                                pos,
                                msg: "while comparing two list elements".into(),
                            });
                        }
                        e
                    });
                }
                Ok(x.len().cmp(&y.len()))
            }
            _ => {
                let msg = if a.ty() == b.ty() {
                    format!(
                        "cannot compare {} with {}; values of that type are incomparable (values are {} and {})",
                        explain::show_type(&a),
                        explain::show_type(&b),
                        print::short(&a),
                        print::short(&b)
                    )
                } else {
                    format!(
                        "cannot compare {} with {}; values are {} and {}",
                        explain::show_type(&a),
                        explain::show_type(&b),
                        print::short(&a),
                        print::short(&b)
                    )
                };
                Err(EvalError::at(ErrorKind::Type, pos, msg))
            }
        }
    }
}

fn as_f64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        _ => 0.0,
    }
}

/// The same value object: shared thunk, list, set or function.
pub(super) fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Thunk(x), Value::Thunk(y)) => Thunk::ptr_eq(x, y),
        (Value::Lambda(x), Value::Lambda(y)) => ThinRc::ptr_eq(x, y),
        (Value::Builtin(x), Value::Builtin(y)) => Rc::ptr_eq(x, y),
        (Value::List(x), Value::List(y)) => List::ptr_eq(x, y),
        (Value::Attrs(x), Value::Attrs(y)) => Attrs::ptr_eq(x, y),
        _ => false,
    }
}
