//! `toXML` and the `--xml` output (not yet implemented).

use nix_eval::error::{ErrorKind, EvalError, Result};
use nix_eval::{BuiltinDef, Eval, Value};

pub const BUILTINS: &[BuiltinDef] = &[];

pub fn to_xml_string(_ev: &mut Eval, _v: &Value, _location: bool) -> Result<String> {
    Err(EvalError::new(ErrorKind::Other, "XML output is not implemented yet"))
}
