//! (to be written)

use nix_eval::BuiltinDef;

pub const BUILTINS: &[BuiltinDef] = &[];
