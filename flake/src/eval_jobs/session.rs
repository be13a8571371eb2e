//! A worker's evaluator: the command line's [`crate::cli::Session`] (settings, stores,
//! search path) with the root of the jobs (a flake's outputs at the fragment, or a file or
//! expression called with `--arg`/`--argstr`) and attribute selection.

use std::path::Path;

use nix_eval::error::{ErrorKind, EvalError, Result};
use nix_eval::source::{Origin, Pos};
use nix_eval::{Attrs, Eval, Symbol, Value};

use super::options::Options;
use crate::cli::attr_path::{auto_args, auto_call, split_attr_path, AutoArg};
use crate::cli::session::cwd;
use crate::cli::SessionOptions;
use crate::eval::{call_flake, lock_flake, LockFlags};
use crate::flakeref::{FlakeRef, ParseOptions};

/// An evaluator with the root of the jobs.
pub struct Session {
    /// The evaluator.
    pub ev: Eval,
    /// The attribute set whose jobs are evaluated.
    pub root: Value,
    /// `--arg`/`--argstr` values for functions met on the way.
    pub auto_args: Attrs,
}

fn other(msg: String) -> Box<EvalError> {
    EvalError::new(ErrorKind::Other, msg)
}

impl Session {
    /// Opens the store, builds the evaluator and evaluates the root.
    pub fn open(o: &Options) -> std::result::Result<Session, String> {
        // Pure for flakes unless `--impure`, as nix-eval-jobs; notices (the store `auto`
        // chose) are the collector's to print, not each worker's.
        let options = SessionOptions {
            pure: o.flake.is_some() && !o.impure,
            show_trace: o.show_trace,
            includes: o.include.clone(),
            experimental: vec!["nix-command".into(), "flakes".into()],
            store: o.store.clone(),
            verbosity: -1,
            ..SessionOptions::default()
        };
        let mut ev = crate::cli::Session::open(options)?.ev;
        let show = o.show_trace;
        let args: Vec<(String, AutoArg)> = o
            .auto_args()
            .into_iter()
            .map(|(name, text, is_str)| (name, if is_str { AutoArg::Str(text) } else { AutoArg::Expr(text) }))
            .collect();
        let auto_args = auto_args(&mut ev, &args, &cwd()).map_err(|e| e.render(show))?;
        let root = root(&mut ev, o, &auto_args).map_err(|e| e.render(show))?;
        Ok(Session { ev, root, auto_args })
    }

    /// The value at `path` below the root, each step called with the auto-arguments.
    pub fn select(&mut self, path: &[String]) -> Result<Value> {
        let mut v = self.root.clone();
        for (i, key) in path.iter().enumerate() {
            v = self.ev.force(&v)?;
            let Value::Attrs(a) = &v else {
                return Err(EvalError::new(
                    ErrorKind::Type,
                    format!("'{}' should be a set but is {}", path[..i].join("."), v.ty().describe()),
                ));
            };
            let Some(x) = a.get(Symbol::new(key)) else {
                return Err(EvalError::new(ErrorKind::MissingAttr, format!("attribute '{key}' not found")));
            };
            v = auto_call(&mut self.ev, &x.clone(), &self.auto_args)?;
        }
        self.ev.force(&v)
    }
}

/// The root: a flake's `outputs` at the fragment (locked without writing the lock file,
/// as nix-eval-jobs), or a file or expression.
fn root(ev: &mut Eval, o: &Options, args: &Attrs) -> Result<Value> {
    let base = cwd();
    let v = if let Some(installable) = &o.flake {
        let opts = ParseOptions { base_dir: Some(&base), allow_missing: false, is_flake: true };
        let parsed = FlakeRef::parse_with_fragment(installable, opts).map_err(|e| other(e.message().to_owned()))?;
        let mut flags = LockFlags { write_lock_file: false, ..LockFlags::default() };
        for (input, r) in o.overrides() {
            let opts = ParseOptions { base_dir: Some(&base), allow_missing: true, is_flake: true };
            let fr = FlakeRef::parse(&r, opts).map_err(|e| other(e.message().to_owned()))?;
            let path: Vec<String> = input.split('/').filter(|x| !x.is_empty()).map(String::from).collect();
            flags.input_overrides.insert(path, fr);
        }
        let locked = lock_flake(ev, &parsed.flake_ref, &flags)?;
        let flake = call_flake(ev, &locked)?;
        let flake = ev.force(&flake)?;
        let Value::Attrs(a) = &flake else {
            return Err(other("flake result is not a set".into()));
        };
        let mut v = a.get(Symbol::new("outputs")).cloned().unwrap_or(Value::Null);
        if !parsed.fragment.is_empty() {
            for key in split_attr_path(&parsed.fragment) {
                let forced = ev.force(&v)?;
                let Value::Attrs(a) = &forced else {
                    return Err(other(format!("flake output '{}' is not a set", parsed.fragment)));
                };
                v = a.get(Symbol::new(&key)).cloned().ok_or_else(|| {
                    other(format!("flake '{}' does not provide attribute '{}'", parsed.flake_ref, parsed.fragment))
                })?;
            }
        }
        v
    } else if let Some(e) = &o.expr {
        ev.eval_text(e, Origin::String, &base)?
    } else {
        let file = o.file.clone().unwrap_or_else(|| "./default.nix".into());
        let p = if Path::new(&file).is_absolute() { file } else { format!("{}/{}", base.display(), file) };
        ev.import(&nix_eval::canon_path(&p), Pos::NONE)?
    };
    auto_call(ev, &v, args)
}
