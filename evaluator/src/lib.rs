//! The Nix language: parsing (rnix), lowering to a compact arena AST with statically resolved
//! variables, lazy evaluation and printing.
//!
//! This crate knows no builtin, store or flake. Higher layers assemble an evaluator with
//! [`EvalBuilder`]: they add tables of builtins and constants, Nix-source builtins, an
//! [`io::EvalIo`] (where pure-mode restrictions live) and a hook that copies paths into a store.
//!
//! # Embedding
//!
//! Build an [`Eval`] with [`EvalBuilder`], evaluate text ([`Eval::eval_expr`]) or a file
//! ([`Eval::eval_file`]), force the result ([`Eval::force`], [`Eval::force_deep`]), look at it
//! through [`Value`] (`Int`, `String`, `Attrs`, …) and print it as `nix-instantiate --eval`
//! does ([`Eval::print_value`]). Without `nix-builtins` installed, only the language itself
//! is there (no `builtins.*` functions):
//!
//! ```
//! use nix_eval::{EvalBuilder, Settings, Value};
//! use std::path::Path;
//!
//! let mut ev = EvalBuilder::new(Settings::default()).build();
//! let v = ev.eval_expr("let x = 20; in { a = x + 22; b = [ x ]; }", Path::new("/")).unwrap();
//! let Value::Attrs(set) = ev.force(&v).unwrap() else { panic!("not a set") };
//! let a = ev.force(set.get(nix_eval::Symbol::new("a")).unwrap()).unwrap();
//! assert!(matches!(a, Value::Int(42)));
//! assert_eq!(ev.print_value(&v, true).unwrap(), "{ a = 42; b = [ 20 ]; }");
//! ```
//!
//! The syntax tree (`ast`), the parser and the lowering pass are private: other crates see
//! functions through [`value::Closure`]'s methods ([`FormalParams`]) and paths through
//! [`canon_path`]. The remaining modules are public for the other crates of the workspace.

#![warn(missing_docs)]

pub(crate) mod ast;
pub mod builtin;
pub mod error;
mod error_render;
pub mod eval;
mod function_params;
pub mod io;
pub mod json_escape;
pub(crate) mod lower;
pub(crate) mod parse;
pub mod print;
pub mod source;
pub mod symbol;
pub mod value;

pub use builtin::{BuiltinDef, ConstantDef};
pub use error::{ErrorFormat, ErrorKind, EvalError, Result};
pub use eval::{set_stack_budget, CoerceOpts, Eval, PathToStore, Settings};
pub use function_params::{FormalParam, FormalParams};
pub use lower::canon_path;
pub use symbol::{sym, Symbol};
pub use value::{Attr, Attrs, NixString, Value};

/// The parser and lowering pass, for this crate's own differential test
/// (`tests/parse_diff.rs`, both front ends must lower every file to the same dump) and its
/// `ast_dump`/`parse_bench` examples, which are separate crates and so cannot see
/// `pub(crate)` items. Not part of the API: hidden from the docs and may change at any time.
#[doc(hidden)]
pub mod testing {
    pub use crate::lower::{dump, parse_and_lower, parse_and_lower_with, FrontEnd, LowerCtx};
}

use source::{Origin, Pos};
use std::path::Path;
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
    /// An evaluator with these settings, no builtins yet and plain file I/O.
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
    /// The file access the evaluator uses instead of plain `std::fs` ([`io::StdIo`]).
    pub fn io(mut self, io: Box<dyn io::EvalIo>) -> Self {
        self.io = io;
        self
    }
    /// A table of builtin functions (in `builtins`, and as globals where `global` is set).
    pub fn add_builtins(mut self, defs: &'static [BuiltinDef]) -> Self {
        self.builtins.extend(defs.iter());
        self
    }
    /// A table of builtin constants, computed when the evaluator is built.
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
    /// How a path is copied into the store when it is interpolated into a string.
    pub fn path_to_store(mut self, hook: PathToStore) -> Self {
        self.path_to_store = Some(hook);
        self
    }

    /// The evaluator, with `builtins` and the global names in place.
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
        // Constants are values from the start, as in the reference (which computes them when
        // the evaluator is made): `{ a = true; }` holds a Boolean, not a thunk, for builtins
        // that look at values without forcing them (`flakeRefToString`).
        for c in &self.constants {
            let v = (c.value)(&mut ev);
            add(c.name, v, c.global, &mut set);
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

/// The embedding API: evaluate, force and print without reaching into the AST.
impl Eval {
    /// Evaluates Nix text as `--expr` does; relative paths in it resolve against `base_dir`.
    /// The result is in weak head normal form (see [`Eval::force_deep`]).
    pub fn eval_expr(&mut self, text: &str, base_dir: &Path) -> Result<Value> {
        self.eval_text(text, Origin::String, base_dir)
    }

    /// Evaluates a file as `import` does (a directory means its `default.nix`); a relative
    /// path is taken against the current directory.
    pub fn eval_file(&mut self, path: &Path) -> Result<Value> {
        let path = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_else(|_| "/".into()).join(path)
        };
        self.import(&canon_path(&path.to_string_lossy()), Pos::NONE)
    }

    /// The value as `nix-instantiate --eval` prints it; `strict` forces it deeply first
    /// (`--strict`), otherwise only its outermost layer is forced.
    pub fn print_value(&mut self, v: &Value, strict: bool) -> Result<String> {
        let v = if strict { self.force_deep(v)? } else { self.force(v)? };
        print::try_to_string(&v)
    }

    /// Parses text without evaluating it and describes the result as `--parse` prints it
    /// (the syntax tree itself stays inside this crate). `origin` names the text in syntax
    /// errors; relative paths in it resolve against `base_dir`.
    pub fn parse_to_string(&mut self, text: &str, origin: Origin, base_dir: &Path) -> Result<String> {
        let e = self.parse(text, origin, base_dir, &[])?;
        Ok(print::expr_summary(e))
    }
}
