//! The Nix language: parsing (rnix), lowering to a compact arena AST with statically resolved
//! variables, lazy evaluation and printing.
//!
//! This crate knows no builtin, store or flake. Higher layers assemble an evaluator with
//! [`EvalBuilder`]: they add tables of builtins and constants, Nix-source builtins, an
//! [`io::EvalIo`] (where pure-mode restrictions live) and a hook that copies paths into a store.

pub mod ast;
pub mod builtin;
pub mod error;
mod error_render;
pub mod eval;
pub mod io;
pub mod lower;
pub mod parse;
pub mod print;
pub mod source;
pub mod symbol;
pub mod value;

pub use builtin::{BuiltinDef, ConstantDef};
pub use error::{ErrorFormat, ErrorKind, EvalError, Result};
pub use eval::{set_stack_budget, CoerceOpts, Eval, PathToStore, Settings};
pub use symbol::{sym, Symbol};
pub use value::{Attr, Attrs, NixString, Value};

use source::{Origin, Pos};
use std::rc::Rc;
use value::{BuiltinApp, Thunk};

/// Assembles an [`Eval`] from builtin tables, settings and I/O.
pub struct EvalBuilder {
    settings: Settings,
    io: Box<dyn io::EvalIo>,
    builtins: Vec<&'static BuiltinDef>,
    constants: Vec<&'static ConstantDef>,
    nix_builtins: Vec<(&'static str, &'static str, bool)>,
    path_to_store: Option<PathToStore>,
    virtual_files: Vec<(&'static str, &'static str)>,
    impure_only: Vec<&'static str>,
}

impl EvalBuilder {
    pub fn new(settings: Settings) -> EvalBuilder {
        EvalBuilder {
            settings,
            io: Box::new(io::StdIo),
            builtins: Vec::new(),
            constants: Vec::new(),
            nix_builtins: Vec::new(),
            path_to_store: None,
            virtual_files: Vec::new(),
            impure_only: Vec::new(),
        }
    }
    /// Names that do not exist at all in pure evaluation (`currentTime`, `currentSystem`).
    pub fn impure_only(mut self, names: &[&'static str]) -> Self {
        self.impure_only.extend_from_slice(names);
        self
    }
    /// A file that exists only in memory (e.g. `/__corepkgs__/fetchurl.nix`).
    pub fn add_virtual_file(mut self, path: &'static str, text: &'static str) -> Self {
        self.virtual_files.push((path, text));
        self
    }
    pub fn io(mut self, io: Box<dyn io::EvalIo>) -> Self {
        self.io = io;
        self
    }
    pub fn add_builtins(mut self, defs: &'static [BuiltinDef]) -> Self {
        self.builtins.extend(defs.iter());
        self
    }
    pub fn add_constants(mut self, defs: &'static [ConstantDef]) -> Self {
        self.constants.extend(defs.iter());
        self
    }
    /// A builtin written in Nix (like the reference's `derivation.nix`); evaluated on first use
    /// in the base environment.
    pub fn add_nix_builtin(mut self, name: &'static str, source: &'static str, global: bool) -> Self {
        self.nix_builtins.push((name, source, global));
        self
    }
    pub fn path_to_store(mut self, hook: PathToStore) -> Self {
        self.path_to_store = Some(hook);
        self
    }

    pub fn build(self) -> Eval {
        let mut ev = Eval::new(self.settings, self.io);
        ev.path_to_store = self.path_to_store;
        for (p, t) in self.virtual_files {
            ev.virtual_files.insert(p.to_string(), t);
        }
        let mut set: Vec<Attr> = Vec::new();
        let mut globals: Vec<(Symbol, Value)> = Vec::new();
        let pure = ev.settings.pure;
        let impure_only = self.impure_only.clone();
        let mut add = |name: &str, v: Value, global: bool, set: &mut Vec<Attr>| {
            if pure && impure_only.contains(&name) {
                return;
            }
            set.push(Attr { name: Symbol::new(name), pos: Pos::NONE, value: v.clone() });
            globals.push((Symbol::new(&format!("__{}", name)), v.clone()));
            if global {
                globals.push((Symbol::new(name), v));
            }
        };
        for def in &self.builtins {
            let v = Value::Builtin(Rc::new(BuiltinApp { def, args: Default::default() }));
            add(def.name, v, def.global, &mut set);
        }
        for c in &self.constants {
            let f = c.value;
            add(c.name, Thunk::native(move |ev| Ok(f(ev))), c.global, &mut set);
        }
        for &(name, src, global) in &self.nix_builtins {
            let v = Thunk::native(move |ev| {
                let v = ev.eval_text(src, Origin::String, std::path::Path::new("/"))?;
                Ok(v)
            });
            add(name, v, global, &mut set);
        }
        let builtins_self = Thunk::native(|ev| Ok(ev.builtins_set.clone()));
        set.push(Attr { name: sym::BUILTINS, pos: Pos::NONE, value: builtins_self });
        let builtins = Value::Attrs(Attrs::from_vec(set));
        globals.push((sym::BUILTINS, builtins.clone()));
        ev.builtins_set = builtins;
        for (name, v) in globals {
            if ev.global_index.contains_key(&name) {
                continue;
            }
            ev.global_index.insert(name, ev.globals.len() as u32);
            ev.globals.push(v);
        }
        ev
    }
}
