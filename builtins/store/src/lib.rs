//! Store-path arithmetic, NAR serialisation, ATerm derivations and store backends.
//!
//! This crate is the "pure data + filesystem" half of the store: it knows how
//! CppNix 2.8 names things in `/nix/store` and how it writes them, and nothing
//! about the Nix language. The evaluator's builtins (`toFile`, `path`,
//! `derivationStrict`, `placeholder`, …) call into it; it never calls back,
//! except through the plain closures it is handed (NAR filters, the
//! derivation-hash lookup).
//!
//! Layout, one concern per module:
//! - [`nixbase32`]: Nix's own base-32 (reversed bit order, no `e o u t`);
//! - [`hash`]: algorithms, digests, every textual form Nix accepts or prints;
//! - [`store_path`]: store-path names and the fingerprint rules that make them;
//! - [`nar`]: the NAR archive format, streamed into any writer or hash; [`nar_restore`]
//!   unpacks one (what a daemon sends for a path this machine cannot read directly);
//! - [`derivation`]: the `.drv` ATerm format and `hashDerivationModulo`;
//! - [`store`]: the narrow [`Store`] trait with a local (directory)
//!   implementation, and [`ReadOnlyStore`] (`read_only.rs`) for read-only evaluation
//!   over a local store, a daemon or nothing (`dummy://`); `writer` is the local store's background
//!   writer thread, `local_db` its state and SQLite database as Nix keeps them,
//!   `path_lock` Nix's per-path locks, `realise` import from derivation's builds
//!   (by the installed `nix-store`);
//! - [`store_url`]: the store URLs of `--store` / `NIX_REMOTE`, parsed once;
//! - [`gc_roots`]: `--add-root`'s permanent GC roots;
//! - [`daemon`]: a client of the Nix daemon's worker protocol and `DaemonStore`,
//!   a [`Store`] writing into a daemon's store over its Unix socket; `LazyDaemonStore`
//!   connects it at the first use, as 2.8 does.
//!
//! The logical store directory is always [`STORE_DIR`] (`/nix/store`): it is
//! part of every hash, so a store rooted elsewhere on disk still reports
//! `/nix/store/...` paths.

#![warn(missing_docs)]

pub mod daemon;
pub mod derivation;
pub mod gc_roots;
pub mod hash;
pub mod local_db;
pub mod nar;
pub mod nar_restore;
pub mod nixbase32;
mod path_lock;
mod read_only;
mod realise;
pub mod store;
pub mod store_path;
pub mod store_url;
mod writer;

#[cfg(test)]
mod test_support;

pub use derivation::{Derivation, DerivationError, DerivationOutput};
pub use hash::{Hash, HashAlgo, HashError, HashFormat, Hasher};
pub use local_db::LocalLayout;
pub use nar::FileType;
pub use read_only::ReadOnlyStore;
pub use store::{DirStore, Store, StoreError};
pub use store_path::{FileIngestionMethod, StorePath, StorePathError, STORE_DIR};
pub use store_url::{ResolvedStore, StoreUrl, StoreUrlError};
