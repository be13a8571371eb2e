//! The environment and odds and ends: `getEnv`, `currentTime`, `currentSystem`,
//! `placeholder`. (`parseFlakeRef`/`flakeRefToString` are in `nix-flake`, beside the one
//! flake-reference parser.)

use crate::Args;
use nix_eval::error::Result;
use nix_eval::source::Pos;
use nix_eval::{BuiltinDef, ConstantDef, Eval, Value};

pub const BUILTINS: &[BuiltinDef] = &[
    BuiltinDef { name: "getEnv", arity: 1, global: false, func: get_env },
    BuiltinDef { name: "placeholder", arity: 1, global: true, func: placeholder },
];

/// `currentTime` and `currentSystem` do not exist at all in pure evaluation mode in the
/// reference; the builder should leave the names in [`IMPURE_ONLY`] out when `pure` is set.
pub const CONSTANTS: &[ConstantDef] = &[
    ConstantDef { name: "currentTime", global: false, value: current_time },
    ConstantDef { name: "currentSystem", global: false, value: current_system },
];

/// Constants the reference defines only outside pure evaluation mode.
pub const IMPURE_ONLY: &[&str] = &["currentTime", "currentSystem"];

fn current_time(_ev: &mut Eval) -> Value {
    let secs =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    Value::Int(secs)
}

fn current_system(ev: &mut Eval) -> Value {
    Value::string(ev.settings.system.as_str())
}

fn get_env(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a = Args::new("getEnv", args, pos);
    let name = a.string_no_ctx(ev, 0)?;
    if ev.settings.pure || ev.settings.restrict {
        return Ok(Value::string(""));
    }
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let name = std::ffi::OsStr::from_bytes(name.as_bytes());
    // A name the OS cannot hold (with '=' or NUL) is simply not set.
    let bytes = if name.is_empty() || name.as_bytes().contains(&b'=') || name.as_bytes().contains(&0) {
        Vec::new()
    } else {
        std::env::var_os(name).map(|v| v.into_vec()).unwrap_or_default()
    };
    Ok(Value::string(bytes))
}

/// `/` + nix32(sha256("nix-output:" + name)): the placeholder for an output path.
fn placeholder(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a = Args::new("placeholder", args, pos);
    let name = a.string_no_ctx(ev, 0)?;
    Ok(Value::string(nix_store_core::store_path::hash_placeholder(name.as_bytes())))
}
