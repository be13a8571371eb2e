//! Control flow and debugging: throw, abort, assertions' friends, tryEval, seq, trace.

use crate::{make_attrs, Args};
use nix_eval::error::{ErrorKind, EvalError, Result};
use nix_eval::source::Pos;
use nix_eval::{print, BuiltinDef, CoerceOpts, Eval, Value};

pub const BUILTINS: &[BuiltinDef] = &[
    BuiltinDef { name: "throw", arity: 1, global: true, func: throw },
    BuiltinDef { name: "abort", arity: 1, global: true, func: abort },
    BuiltinDef { name: "tryEval", arity: 1, global: false, func: try_eval },
    BuiltinDef { name: "seq", arity: 2, global: false, func: seq },
    BuiltinDef { name: "deepSeq", arity: 2, global: false, func: deep_seq },
    BuiltinDef { name: "trace", arity: 2, global: false, func: trace },
    BuiltinDef { name: "traceVerbose", arity: 2, global: false, func: trace_verbose },
    BuiltinDef { name: "warn", arity: 2, global: false, func: warn },
    BuiltinDef { name: "addErrorContext", arity: 2, global: false, func: add_error_context },
    BuiltinDef { name: "break", arity: 1, global: false, func: break_ },
];

fn throw(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a = Args::new("throw", args, pos);
    // An interpolation's coercion, as the reference's: `throw 1` is a type error, not a throw.
    let msg = a.coerce(ev, 0, CoerceOpts::INTERP)?;
    Err(EvalError::at(ErrorKind::Throw, pos, msg.to_str_lossy().into_owned()))
}

fn abort(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a = Args::new("abort", args, pos);
    let msg = a.coerce(ev, 0, CoerceOpts::INTERP)?;
    Err(EvalError::at(
        ErrorKind::Abort,
        pos,
        format!("evaluation aborted with the following error message: '{}'", msg.to_str_lossy()),
    ))
}

fn try_eval(ev: &mut Eval, args: &[Value], _pos: Pos) -> Result<Value> {
    match ev.force(&args[0]) {
        Ok(v) => Ok(make_attrs(vec![("success", Value::Bool(true)), ("value", v)])),
        Err(e) if e.kind.is_catchable() => {
            Ok(make_attrs(vec![("success", Value::Bool(false)), ("value", Value::Bool(false))]))
        }
        Err(e) => Err(e),
    }
}

fn seq(ev: &mut Eval, args: &[Value], _pos: Pos) -> Result<Value> {
    ev.force(&args[0])?;
    ev.force(&args[1])
}

fn deep_seq(ev: &mut Eval, args: &[Value], _pos: Pos) -> Result<Value> {
    ev.force_deep(&args[0])?;
    ev.force(&args[1])
}

fn print_trace(ev: &mut Eval, v: &Value) -> Result<()> {
    let v = ev.force(v)?;
    let text = match &v {
        Value::String(s) => s.to_str_lossy().into_owned(),
        v => print::to_trace_string(v),
    };
    eprintln!("trace: {}", text);
    Ok(())
}

fn trace(ev: &mut Eval, args: &[Value], _pos: Pos) -> Result<Value> {
    print_trace(ev, &args[0])?;
    ev.force(&args[1])
}

fn trace_verbose(ev: &mut Eval, args: &[Value], _pos: Pos) -> Result<Value> {
    ev.force(&args[1])
}

fn warn(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a = Args::new("warn", args, pos);
    let msg = a.string(ev, 0)?;
    eprintln!("{}", warning_text(&msg.to_str_lossy()));
    ev.force(&args[1])
}

/// The reference's layout of a warning: later lines line up under the first, except when the
/// message starts on a new line (then no line is indented).
fn warning_text(msg: &str) -> String {
    const PREFIX: &str = "evaluation warning:";
    match msg.strip_prefix('\n') {
        Some(rest) => format!("{PREFIX}\n{rest}"),
        None => format!("{PREFIX} {}", msg.replace('\n', &format!("\n{}", " ".repeat(PREFIX.len() + 1)))),
    }
}

fn add_error_context(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    match ev.force(&args[1]) {
        Ok(v) => Ok(v),
        Err(mut e) => {
            if let Ok(ctx) = ev.coerce_to_string(&args[0], pos, CoerceOpts::NO_COPY) {
                e.trace.push(nix_eval::error::TraceFrame { pos: Pos::NONE, msg: ctx.to_str_lossy().into_owned() });
            }
            Err(e)
        }
    }
}

fn break_(ev: &mut Eval, args: &[Value], _pos: Pos) -> Result<Value> {
    ev.force(&args[0])
}
