//! The library half of the `rnix-eval` command line: one [`session::Session`] (settings,
//! search path, stores, evaluator) built the same way for every command, and the
//! evaluation steps commands share — attribute paths and auto-arguments
//! ([`attr_path`]), the derivations a value denotes ([`derivations`]) and flake
//! installables ([`installable`]). The binary only parses arguments and prints.

pub mod attr_path;
pub mod derivations;
pub mod installable;
pub mod search_path;
pub mod session;
pub mod settings;

pub use session::{ErrorFormat, Session, SessionOptions};
