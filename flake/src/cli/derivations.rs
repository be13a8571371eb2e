//! The derivations a value denotes, as `nix-instantiate` (2.8 `getDerivations`) finds
//! them: the value itself, the attributes of a set (recursing only where
//! `recurseForDerivations = true`), or a list's elements.

use crate::cli::attr_path::auto_call;
use nix_eval::error::{ErrorKind, EvalError, Result};
use nix_eval::source::Pos;
use nix_eval::{Attrs, CoerceOpts, Eval, Symbol, Value};

/// One derivation found: its drv path and the output selected when it is not `out`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundDrv {
    /// The `.drv` store path.
    pub drv_path: String,
    /// The output named by `outputName` when it is not `out` (printed as `DRV!OUTPUT`).
    pub output: Option<String>,
}

/// Appends the derivations of `v` to `out` in the reference's order (attributes sorted).
pub fn collect_derivations(ev: &mut Eval, v: &Value, args: &Attrs, out: &mut Vec<FoundDrv>) -> Result<()> {
    collect(ev, v, args, true, out)
}

fn collect(ev: &mut Eval, v: &Value, args: &Attrs, top: bool, out: &mut Vec<FoundDrv>) -> Result<()> {
    let v = auto_call(ev, v, args)?;
    match &v {
        Value::Attrs(a) => {
            if ev.is_derivation(a)? {
                let drv = ev.force(&a.get(Symbol::new("drvPath")).cloned().unwrap_or(Value::Null))?;
                let drv = ev.coerce_to_string(&drv, Pos::NONE, CoerceOpts::NO_COPY)?;
                let output = match a.get(Symbol::new("outputName")) {
                    Some(o) => ev.coerce_to_string(o, Pos::NONE, CoerceOpts::NO_COPY)?.to_str_lossy().into_owned(),
                    None => "out".into(),
                };
                out.push(FoundDrv {
                    drv_path: drv.to_str_lossy().into_owned(),
                    output: (output != "out").then_some(output),
                });
                return Ok(());
            }
            let recurse = top
                || match a.get(Symbol::new("recurseForDerivations")) {
                    Some(r) => matches!(ev.force(r)?, Value::Bool(true)),
                    None => false,
                };
            if recurse {
                for attr in a.sorted() {
                    let x = ev.force(&attr.value)?;
                    if let Value::Attrs(inner) = &x {
                        if ev.is_derivation(inner)? || inner.contains(Symbol::new("recurseForDerivations")) {
                            collect(ev, &x, args, false, out)?;
                        }
                    }
                }
            }
        }
        Value::List(l) => {
            for x in l.iter() {
                collect(ev, x, args, false, out)?;
            }
        }
        _ => {
            return Err(EvalError::new(
                ErrorKind::Type,
                "expression does not evaluate to a derivation (or a set or list of those)",
            ));
        }
    }
    Ok(())
}
