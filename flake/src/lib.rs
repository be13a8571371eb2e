//! Flakes: references, registries, lock files, fetchers and source info.
//!
//! The library is the data half of flake support, kept free of the evaluator so
//! each piece can be checked against CppNix 2.8 in isolation:
//! - [`flakeref`] parses and prints flake references (URL and attribute forms),
//!   on top of [`input`] (per-type rules) and [`url`] (2.8's URL grammar);
//! - [`registry`] resolves indirect references (`nixpkgs`);
//! - [`lockfile`] reads and writes `flake.lock` version 7 byte for byte;
//! - [`fetch`] turns an input into a store path (path, git via `gix`, tarballs and
//!   git forges over HTTP) and locks it;
//! - [`source_info`] is what a fetched input exposes to Nix code (`outPath`,
//!   `narHash`, `rev`, …), as plain data for the evaluator to wrap.
//!
//! - [`eval`] is the evaluation half: reading `flake.nix`, locking, calling
//!   `outputs`, the fetch builtins and pure-mode file access.
//!
//! - [`eval_cache`] keeps what installables of locked flakes resolved to, in SQLite.
//! - [`eval_jobs`] is `rnix-eval eval-jobs`: jobs of an attribute set evaluated in worker
//!   processes, one JSON line each (nix-eval-jobs).
//! - [`cli`] is the library half of the `rnix-eval` command line: one session
//!   (settings, search path, stores, evaluator) for every command.
//!
//! Apart from [`eval`], [`eval_jobs`], [`cli::session`] and [`progress`] (bars on a terminal,
//! `-v` log lines), nothing here prints: warnings and notices are returned to the caller.

#![warn(missing_docs)]

pub mod attrs;
pub mod cli;
pub mod error;
pub mod eval;
pub mod eval_cache;
pub mod eval_jobs;
pub mod fetch;
pub mod flakeref;
pub mod input;
pub mod json;
pub mod lockfile;
pub mod progress;
pub mod registry;
pub mod source_info;
pub mod url;

pub use attrs::{Attr, Attrs};
pub use error::{Error, Result};
pub use flakeref::{FlakeRef, ParseOptions};
pub use input::Input;
pub use lockfile::LockFile;
pub use registry::Registries;
