//! The builtins of the Nix language.
//!
//! Each module holds one domain and exports a `BUILTINS: &[BuiltinDef]` table (and maybe
//! `CONSTANTS`); [`install`] hands them all to the evaluator. Builtins receive their
//! arguments unforced and use the helpers below, which name the builtin and the argument in
//! the error trace as the reference does ("while evaluating the first argument passed to
//! builtins.attrNames").

#![warn(missing_docs)]

pub mod json;
mod regex;
pub mod store;
mod store_io;
pub mod xml;

mod arith;
mod attrs;
mod context;
mod control;
mod derivation;
mod hash;
mod lists;
mod misc;
mod paths;
mod strings;
mod toml;
mod types;
mod versions;

use nix_eval::error::{AddTrace, Result};
use nix_eval::source::Pos;
use nix_eval::value::{Attrs, List, NixString};
use nix_eval::{Eval, EvalBuilder, Value};

/// Add every builtin and constant to an evaluator under construction.
pub fn install(b: EvalBuilder) -> EvalBuilder {
    b.add_builtins(arith::BUILTINS)
        .add_builtins(attrs::BUILTINS)
        .add_builtins(context::BUILTINS)
        .add_builtins(control::BUILTINS)
        .add_builtins(derivation::BUILTINS)
        .add_builtins(store::BUILTINS)
        .add_nix_builtin("derivation", derivation::DERIVATION_NIX, true)
        .add_virtual_file("/__corepkgs__/fetchurl.nix", derivation::FETCHURL_NIX)
        .add_virtual_file("/__corepkgs__/derivation-internal.nix", derivation::DERIVATION_NIX)
        .path_to_store(store::copy_path_to_store)
        .add_builtins(hash::BUILTINS)
        .add_builtins(lists::BUILTINS)
        .add_builtins(misc::BUILTINS)
        .add_builtins(strings::BUILTINS)
        .add_builtins(toml::BUILTINS)
        .add_builtins(versions::BUILTINS)
        .add_builtins(types::BUILTINS)
        .add_builtins(paths::BUILTINS)
        .add_builtins(json::BUILTINS)
        .add_builtins(xml::BUILTINS)
        .add_constants(types::CONSTANTS)
        .add_constants(paths::CONSTANTS)
        .add_constants(misc::CONSTANTS)
        .impure_only(misc::IMPURE_ONLY)
}

const ORDINALS: [&str; 4] = ["first", "second", "third", "fourth"];

/// "while evaluating the first argument passed to builtins.NAME"
pub(crate) fn arg_ctx(name: &str, i: usize) -> String {
    format!("while evaluating the {} argument passed to builtins.{}", ORDINALS.get(i).unwrap_or(&"an"), name)
}

/// Typed, traced access to the arguments of one builtin call.
pub(crate) struct Args<'a> {
    pub name: &'static str,
    pub args: &'a [Value],
    pub pos: Pos,
}

impl<'a> Args<'a> {
    pub fn new(name: &'static str, args: &'a [Value], pos: Pos) -> Args<'a> {
        Args { name, args, pos }
    }
    pub fn value(&self, ev: &mut Eval, i: usize) -> Result<Value> {
        ev.force(&self.args[i]).trace(self.pos, || arg_ctx(self.name, i))
    }
    pub fn list(&self, ev: &mut Eval, i: usize) -> Result<List> {
        ev.expect_list(&self.args[i], self.pos).trace(self.pos, || arg_ctx(self.name, i))
    }
    pub fn attrs(&self, ev: &mut Eval, i: usize) -> Result<Attrs> {
        ev.expect_attrs(&self.args[i], self.pos).trace(self.pos, || arg_ctx(self.name, i))
    }
    /// A string value as is (no coercion), context kept.
    pub fn string(&self, ev: &mut Eval, i: usize) -> Result<NixString> {
        ev.expect_string(&self.args[i], self.pos).trace(self.pos, || arg_ctx(self.name, i))
    }
    /// A string that must not refer to store paths (the reference's `forceStringNoCtx`).
    pub fn string_no_ctx(&self, ev: &mut Eval, i: usize) -> Result<NixString> {
        crate::strings::force_string_no_ctx(ev, &self.args[i], self.pos, || arg_ctx(self.name, i))
    }
    pub fn function(&self, ev: &mut Eval, i: usize) -> Result<Value> {
        ev.expect_function(&self.args[i], self.pos).trace(self.pos, || arg_ctx(self.name, i))
    }
    /// Coerced to a string like interpolation does (paths copied to the store).
    pub fn coerce(&self, ev: &mut Eval, i: usize, opts: nix_eval::CoerceOpts) -> Result<NixString> {
        let v = self.args[i].clone();
        ev.coerce_to_string(&v, self.pos, opts).trace(self.pos, || arg_ctx(self.name, i))
    }
    /// An absolute path from a path or string argument.
    pub fn path(&self, ev: &mut Eval, i: usize) -> Result<String> {
        let v = self.args[i].clone();
        ev.coerce_to_path(&v, self.pos).trace(self.pos, || arg_ctx(self.name, i))
    }
}

/// Build a set from (name, value) pairs.
pub(crate) fn make_attrs(pairs: Vec<(&str, Value)>) -> Value {
    Value::Attrs(Attrs::from_vec(
        pairs
            .into_iter()
            .map(|(n, v)| nix_eval::Attr { name: nix_eval::Symbol::new(n), pos: Pos::NONE, value: v })
            .collect(),
    ))
}
