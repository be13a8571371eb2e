//! Arithmetic: add, sub, mul, div, bitAnd, bitOr, bitXor, lessThan, floor, ceil.
//!
//! The builtin forms of the operators have their own error contexts ("while evaluating the
//! first argument of the addition"), so they check their operands here rather than through the
//! evaluator's operator code; the arithmetic itself is the same (checked integer operations,
//! integers promoted to floats when the other operand is a float).

use crate::attrs::ctx;
use nix_eval::error::{ErrorKind, EvalError, Result};
use nix_eval::print::fmt_float;
use nix_eval::source::Pos;
use nix_eval::{BuiltinDef, Eval, Value};
use std::cmp::Ordering;

pub const BUILTINS: &[BuiltinDef] = &[
    BuiltinDef { name: "add", arity: 2, global: false, func: add },
    BuiltinDef { name: "sub", arity: 2, global: false, func: sub },
    BuiltinDef { name: "mul", arity: 2, global: false, func: mul },
    BuiltinDef { name: "div", arity: 2, global: false, func: div },
    BuiltinDef { name: "bitAnd", arity: 2, global: false, func: bit_and },
    BuiltinDef { name: "bitOr", arity: 2, global: false, func: bit_or },
    BuiltinDef { name: "bitXor", arity: 2, global: false, func: bit_xor },
    BuiltinDef { name: "lessThan", arity: 2, global: false, func: less_than },
    BuiltinDef { name: "floor", arity: 1, global: false, func: floor },
    BuiltinDef { name: "ceil", arity: 1, global: false, func: ceil },
];

#[derive(Clone, Copy)]
enum Op {
    Add,
    Sub,
    Mul,
}

/// add, sub and mul: floats if either operand is a float, else checked integer arithmetic.
fn arith(ev: &mut Eval, args: &[Value], pos: Pos, op: Op) -> Result<Value> {
    let a = ev.force(&args[0])?;
    let b = ev.force(&args[1])?;
    let (fl1, fl2, in1, in2, verb, sign): (&'static str, &'static str, &'static str, &'static str, &str, &str) =
        match op {
            Op::Add => (
                "while evaluating the first argument of the addition",
                "while evaluating the second argument of the addition",
                "while evaluating the first argument of the addition",
                "while evaluating the second argument of the addition",
                "adding",
                "+",
            ),
            Op::Sub => (
                "while evaluating the first argument of the subtraction",
                "while evaluating the second argument of the subtraction",
                "while evaluating the first argument of the subtraction",
                "while evaluating the second argument of the subtraction",
                "subtracting",
                "-",
            ),
            Op::Mul => (
                // sic: the reference's wording.
                "while evaluating the first of the multiplication",
                "while evaluating the second argument of the multiplication",
                "while evaluating the first argument of the multiplication",
                "while evaluating the second argument of the multiplication",
                "multiplying",
                "*",
            ),
        };
    if matches!(a, Value::Float(_)) || matches!(b, Value::Float(_)) {
        let x = ctx(ev.expect_float(&a, pos), pos, fl1)?;
        let y = ctx(ev.expect_float(&b, pos), pos, fl2)?;
        return Ok(Value::Float(match op {
            Op::Add => x + y,
            Op::Sub => x - y,
            Op::Mul => x * y,
        }));
    }
    let x = ctx(ev.expect_int(&a, pos), pos, in1)?;
    let y = ctx(ev.expect_int(&b, pos), pos, in2)?;
    let r = match op {
        Op::Add => x.checked_add(y),
        Op::Sub => x.checked_sub(y),
        Op::Mul => x.checked_mul(y),
    };
    match r {
        Some(r) => Ok(Value::Int(r)),
        None => Err(EvalError::at(ErrorKind::Other, pos, format!("integer overflow in {} {} {} {}", verb, x, sign, y))),
    }
}

fn add(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    arith(ev, args, pos, Op::Add)
}

fn sub(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    arith(ev, args, pos, Op::Sub)
}

fn mul(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    arith(ev, args, pos, Op::Mul)
}

fn div(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a = ev.force(&args[0])?;
    let b = ev.force(&args[1])?;
    let f2 = ctx(ev.expect_float(&b, pos), pos, "while evaluating the second operand of the division")?;
    if f2 == 0.0 {
        return Err(EvalError::at(ErrorKind::Other, pos, "division by zero"));
    }
    if matches!(a, Value::Float(_)) || matches!(b, Value::Float(_)) {
        let f1 = ctx(ev.expect_float(&a, pos), pos, "while evaluating the first operand of the division")?;
        return Ok(Value::Float(f1 / f2));
    }
    let x = ctx(ev.expect_int(&a, pos), pos, "while evaluating the first operand of the division")?;
    let y = ctx(ev.expect_int(&b, pos), pos, "while evaluating the second operand of the division")?;
    match x.checked_div(y) {
        Some(r) => Ok(Value::Int(r)),
        None => Err(EvalError::at(ErrorKind::Other, pos, format!("integer overflow in dividing {} / {}", x, y))),
    }
}

fn bit_op(ev: &mut Eval, args: &[Value], pos: Pos, names: [&'static str; 2], f: fn(i64, i64) -> i64) -> Result<Value> {
    let x = ctx(ev.expect_int(&args[0], pos), pos, names[0])?;
    let y = ctx(ev.expect_int(&args[1], pos), pos, names[1])?;
    Ok(Value::Int(f(x, y)))
}

fn bit_and(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    bit_op(
        ev,
        args,
        pos,
        [
            "while evaluating the first argument passed to builtins.bitAnd",
            "while evaluating the second argument passed to builtins.bitAnd",
        ],
        |a, b| a & b,
    )
}

fn bit_or(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    bit_op(
        ev,
        args,
        pos,
        [
            "while evaluating the first argument passed to builtins.bitOr",
            "while evaluating the second argument passed to builtins.bitOr",
        ],
        |a, b| a | b,
    )
}

fn bit_xor(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    bit_op(
        ev,
        args,
        pos,
        [
            "while evaluating the first argument passed to builtins.bitXor",
            "while evaluating the second argument passed to builtins.bitXor",
        ],
        |a, b| a ^ b,
    )
}

fn less_than(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    // Fast paths for the common cases (lessThan is called ~0.5 M times by NixOS).
    let a = ev.force(&args[0])?;
    let b = ev.force(&args[1])?;
    match (&a, &b) {
        (Value::Int(x), Value::Int(y)) => Ok(Value::Bool(x < y)),
        (Value::String(x), Value::String(y)) => Ok(Value::Bool(x.as_bytes() < y.as_bytes())),
        _ => Ok(Value::Bool(ev.compare(&a, &b, pos)? == Ordering::Less)),
    }
}

/// floor and ceil: a float (or an integer) rounded to an integer, as the reference does it:
/// through a double, with errors where that loses the value.
fn round(ev: &mut Eval, args: &[Value], pos: Pos, name: &'static str, f: fn(f64) -> f64) -> Result<Value> {
    let v = ev.force(&args[0])?;
    let x = ctx(ev.expect_float(&v, pos), pos, name)?;
    let r = f(x);
    const INT_MIN: f64 = -9223372036854775808.0;
    let res = if (INT_MIN..-INT_MIN).contains(&r) {
        r as i64
    } else if let Value::Int(i) = v {
        return Err(EvalError::at(
            ErrorKind::Other,
            pos,
            format!(
                "Due to a bug (see https://github.com/NixOS/nix/issues/12899) the NixInt argument {} caused undefined behavior in previous Nix versions.\n\tFuture Nix versions might implement the correct behavior.",
                i
            ),
        ));
    } else {
        return Err(EvalError::at(
            ErrorKind::Other,
            pos,
            format!("NixFloat argument {} is not in the range of NixInt", fmt_float(x)),
        ));
    };
    if let Value::Int(i) = v {
        if i != res {
            return Err(EvalError::at(
                ErrorKind::Other,
                pos,
                format!(
                    "Due to a bug (see https://github.com/NixOS/nix/issues/12899) a loss of precision occurred in previous Nix versions because the NixInt argument {} was rounded to {}.\n\tFuture Nix versions might implement the correct behavior.",
                    i, res
                ),
            ));
        }
    }
    Ok(Value::Int(res))
}

fn floor(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    round(ev, args, pos, "while evaluating the first argument passed to builtins.floor", f64::floor)
}

fn ceil(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    round(ev, args, pos, "while evaluating the first argument passed to builtins.ceil", f64::ceil)
}
