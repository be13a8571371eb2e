//! The evaluation half of flakes: reading `flake.nix`, locking, calling `outputs`, the fetch
//! builtins and pure evaluation.
//!
//! Everything an evaluator needs for flakes hangs off one [`FlakeState`] kept in
//! `Eval::ext`: the store fetched trees go to (a writing store even for `--dry-run`, so
//! sources stay readable), the registries, a per-process cache of fetched inputs (locking
//! and `call-flake.nix`'s `fetchTree` fetch the same inputs) and the roots pure mode allows.
//! [`install`] adds the builtins (`getFlake`, `fetchTree`, `fetchGit`, `fetchTarball`,
//! `fetchurl`, `parseFlakeRef`, `flakeRefToString`); [`setup`] connects a built evaluator to its stores and turns on pure- or
//! restricted-mode file access. Warnings are printed to stderr here, as the reference prints them.

mod builtins;
mod call;
mod flake_file;
mod flake_ref_builtins;
mod lock;
mod pure_io;
mod values;

use std::path::PathBuf;
use std::rc::Rc;

use nix_eval::error::{ErrorKind, EvalError};
use nix_eval::{Eval, EvalBuilder};
use nix_store_core::Store;

use crate::error::Error;
use crate::fetch::{FetchOptions, Fetched};
use crate::input::Input;
use crate::registry::{Registries, Registry};

pub use call::call_flake;
pub use flake_file::{get_flake, Flake, FlakeInput};
pub use lock::{lock_flake, LockFlags, LockedFlake};
pub use pure_io::{AllowedRoots, PureIo, RecordingStore, Restriction};
pub use values::{pos_string, source_info_value};

/// Per-evaluator flake state.
#[derive(Default)]
pub struct FlakeState {
    /// Where fetched trees go; `None` = the evaluator's store.
    store: Option<Rc<dyn Store>>,
    /// Fetcher settings.
    pub fetch_options: FetchOptions,
    registries: Option<Registries>,
    /// `--override-flake` entries.
    pub flag_registry: Registry,
    /// `--flake-registry FILE`: the global registry.
    pub global_registry: Option<PathBuf>,
    cache: Vec<(Input, Fetched)>,
    /// The roots pure evaluation may read (shared with [`PureIo`]).
    pub allowed: AllowedRoots,
    /// `allowed-uris`: the URI prefixes restricted mode may fetch.
    pub allowed_uris: Vec<String>,
}

/// Adds the fetch builtins, `parseFlakeRef` and `flakeRefToString` (and, with `flakes`,
/// `getFlake`) to an evaluator under construction.
pub fn install(b: EvalBuilder, flakes: bool) -> EvalBuilder {
    let b = b.add_builtins(builtins::FETCH_BUILTINS).add_builtins(flake_ref_builtins::FLAKE_REF_BUILTINS);
    if flakes {
        b.add_builtins(builtins::FLAKE_BUILTINS)
    } else {
        b
    }
}

/// Connects a built evaluator to its stores: `eval_store` receives what the evaluation
/// writes (`toFile`, sources, `.drv`s), `fetch_store` fetched trees. In pure and restricted
/// mode, file access is then limited to the allowed roots: fetched trees, the paths the
/// evaluation adds to `eval_store` and, in restricted mode, the search path.
pub fn setup(ev: &mut Eval, eval_store: Rc<dyn Store>, fetch_store: Rc<dyn Store>) {
    let allowed = ev.ext::<FlakeState>().allowed.clone();
    let recording: Rc<dyn Store> = Rc::new(RecordingStore::new(eval_store, allowed.clone()));
    nix_builtins::store::set_store(ev, recording);
    ev.ext::<FlakeState>().store = Some(fetch_store.clone());
    let restriction = if ev.settings.pure {
        Restriction::Pure
    } else if ev.settings.restrict {
        for entry in &ev.settings.nix_path {
            let path = entry.split_once('=').map_or(entry.as_str(), |(_, p)| p);
            if !path.contains("://") {
                let abs = if path.starts_with('/') {
                    path.to_owned()
                } else {
                    format!("{}/{path}", std::env::current_dir().unwrap_or_default().display())
                };
                let abs = nix_eval::canon_path(&abs);
                allowed.allow(&abs, PathBuf::from(&abs));
            }
        }
        Restriction::Restricted
    } else {
        return;
    };
    let inner = std::mem::replace(&mut ev.io, Box::new(nix_eval::io::StdIo));
    ev.io = Box::new(PureIo::new(inner, allowed, fetch_store, restriction));
}

/// Prints a warning as the reference does.
pub fn warn(msg: &str) {
    eprintln!("warning: {msg}");
}

/// A flake-library error as an evaluation error.
pub fn to_eval_error(e: Error) -> Box<EvalError> {
    EvalError::new(ErrorKind::Other, e.message().to_owned())
}

pub(crate) fn fetch_store(ev: &mut Eval) -> Rc<dyn Store> {
    if let Some(s) = &ev.ext::<FlakeState>().store {
        return s.clone();
    }
    ev.ext::<nix_builtins::store::StoreState>().store.clone()
}

/// The registries, loaded on first use (unreadable files warn once).
pub(crate) fn registries(ev: &mut Eval) -> Registries {
    let st = ev.ext::<FlakeState>();
    if st.registries.is_none() {
        let (r, warnings) = Registries::load(st.flag_registry.clone(), st.global_registry.as_deref());
        for w in warnings {
            warn(&w);
        }
        st.registries = Some(r);
    }
    st.registries.clone().unwrap_or_default()
}

/// Fetches `input` once per process (by attributes) and allows its tree in pure mode.
pub(crate) fn fetch_cached(ev: &mut Eval, input: &Input) -> crate::Result<Fetched> {
    if let Some((_, f)) = ev.ext::<FlakeState>().cache.iter().find(|(i, _)| i == input) {
        return Ok(f.clone());
    }
    let store = fetch_store(ev);
    let opts = ev.ext::<FlakeState>().fetch_options.clone();
    let f = crate::fetch::fetch(input, store.as_ref(), &opts)?;
    for w in &f.warnings {
        warn(w);
    }
    let st = ev.ext::<FlakeState>();
    let real = f.real_path.clone().unwrap_or_else(|| PathBuf::from(&f.store_path));
    st.allowed.allow(&f.store_path, real);
    st.cache.push((input.clone(), f.clone()));
    if f.input != *input {
        let mut quiet = f.clone();
        quiet.warnings.clear();
        st.cache.push((f.input.clone(), quiet));
    }
    Ok(f)
}

/// Forgets cached fetches of `input` (the root flake after its lock file was written).
pub(crate) fn forget(ev: &mut Eval, input: &Input) {
    ev.ext::<FlakeState>().cache.retain(|(i, _)| i != input);
}
