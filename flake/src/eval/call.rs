//! Calling a locked flake's `outputs` (2.8 `callFlake`).
//!
//! The exact semantics — laziness, `self` as a fixed point, follows resolved from the root,
//! `flake = false` inputs as bare source info — live in `call-flake.nix`, CppNix 2.8's own
//! Nix code, embedded here. Rust only supplies its three arguments: the lock file as JSON,
//! the root's source info (without `rev` when the lock changed but was not written) and the
//! root's subdirectory.

use std::path::Path;

use nix_eval::error::Result;
use nix_eval::source::{Origin, Pos};
use nix_eval::{Eval, Value};

use super::lock::LockedFlake;
use super::to_eval_error;
use super::values::source_info_value;
use crate::source_info::{SourceInfo, SourceInfoOptions};

const CALL_FLAKE_NIX: &str = include_str!("call-flake.nix");

/// The flake's result: its outputs merged with its source info, `inputs`, `outputs` and
/// `sourceInfo`.
pub fn call_flake(ev: &mut Eval, locked: &LockedFlake) -> Result<Value> {
    let flake = &locked.flake;
    let lock_json = crate::json::to_compact(&locked.lock_file.to_json());
    let opts = SourceInfoOptions { force_dirty: locked.force_dirty, ..Default::default() };
    let si = SourceInfo::new(&flake.locked_ref.input, &flake.source.store_path, &opts).map_err(to_eval_error)?;
    let root_src = source_info_value(&si);
    let f = ev.eval_text(CALL_FLAKE_NIX, Origin::String, Path::new("/"))?;
    ev.call_n(&f, &[Value::string(lock_json), root_src, Value::string(flake.locked_ref.subdir.as_str())], Pos::NONE)
}
