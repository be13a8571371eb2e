//! A worker's evaluator: settings, stores, the root value (a flake's outputs at the
//! fragment, or a file or expression called with `--arg`/`--argstr`) and attribute
//! selection. Each piece here duplicates a little of the binary (`flake_cmd.rs`, `run.rs`)
//! and is marked `MERGE: Session` to be folded into the library `Session`.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use nix_eval::error::{ErrorKind, EvalError, Result};
use nix_eval::source::{Origin, Pos};
use nix_eval::{Attr, Attrs, Eval, EvalBuilder, Settings, Symbol, Value};
use nix_store_core::{DirStore, LocalLayout, ReadOnlyStore, ResolvedStore, Store, StoreUrl};

use super::options::Options;
use crate::eval::{call_flake, lock_flake, LockFlags};
use crate::flakeref::{FlakeRef, ParseOptions};

/// An evaluator with the root of the jobs.
pub struct Session {
    pub ev: Eval,
    pub root: Value,
    pub auto_args: Attrs,
    /// Where a local store keeps its state (for `--gc-roots-dir`).
    pub layout: Option<LocalLayout>,
}

fn other(msg: String) -> Box<EvalError> {
    EvalError::new(ErrorKind::Other, msg)
}

fn cwd() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"))
}

// MERGE: Session — the store of `--store` / `NIX_REMOTE` (run.rs `open_store_url`).
fn open_store(spec: Option<&str>) -> std::result::Result<(Rc<dyn Store>, Option<LocalLayout>), String> {
    let env = std::env::var("NIX_REMOTE").ok();
    let spec = spec.or(env.as_deref()).unwrap_or("auto");
    let url = StoreUrl::parse(spec, &cwd()).map_err(|e| e.to_string())?;
    let (url, _notice) = url.resolve(false);
    match url {
        ResolvedStore::Dummy => Ok((Rc::new(ReadOnlyStore::new()), None)),
        ResolvedStore::Local { root } => {
            let store = DirStore::new(root);
            let layout = Some(store.layout().clone());
            Ok((Rc::new(store), layout))
        }
        ResolvedStore::Daemon { socket } => {
            let path = StoreUrl::socket_path(socket.as_deref());
            match nix_store_core::daemon::DaemonStore::connect(&path) {
                Ok(store) => Ok((Rc::new(store), None)),
                Err(e) => Err(format!("cannot open the daemon store at '{}': {e}", path.display())),
            }
        }
    }
}

// MERGE: Session — settings and builtins as `flake_cmd::build_evaluator`; pure for flakes
// unless `--impure`, as nix-eval-jobs.
fn evaluator(o: &Options, store: Rc<dyn Store>) -> Eval {
    let pure = o.flake.is_some() && !o.impure;
    let mut settings = Settings { pure, show_trace: o.show_trace, ..Settings::default() };
    settings.experimental_features = vec!["nix-command".into(), "flakes".into()];
    if !pure {
        settings.nix_path = o.include.clone();
        if let Ok(p) = std::env::var("NIX_PATH") {
            settings.nix_path.extend(p.split(':').filter(|s| !s.is_empty()).map(String::from));
        }
    }
    let mut ev = crate::eval::install(nix_builtins::install(EvalBuilder::new(settings)), true).build();
    crate::eval::setup(&mut ev, store.clone(), store);
    ev
}

impl Session {
    /// Opens the store, builds the evaluator and evaluates the root.
    pub fn open(o: &Options) -> std::result::Result<Session, String> {
        let (store, layout) = open_store(o.store.as_deref())?;
        let mut ev = evaluator(o, store);
        let show = o.show_trace;
        let auto_args = auto_args(&mut ev, o).map_err(|e| e.render(show))?;
        let root = root(&mut ev, o, &auto_args).map_err(|e| e.render(show))?;
        Ok(Session { ev, root, auto_args, layout })
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

// MERGE: Session — `--arg`/`--argstr` (run.rs `auto_args`); later ones win.
fn auto_args(ev: &mut Eval, o: &Options) -> Result<Attrs> {
    let mut attrs = Vec::new();
    for (name, text, is_str) in o.auto_args() {
        let value = if is_str { Value::string(text.as_str()) } else { ev.eval_text(&text, Origin::String, &cwd())? };
        attrs.push(Attr { name: Symbol::new(&name), pos: Pos::NONE, value });
    }
    attrs.reverse();
    Ok(Attrs::from_vec(attrs))
}

// MERGE: Session — calling a function whose arguments are all named (run.rs `auto_call`).
fn auto_call(ev: &mut Eval, v: &Value, args: &Attrs) -> Result<Value> {
    let v = ev.force(v)?;
    match &v {
        Value::Lambda(c) if c.lambda.formals.is_some() => {
            let formals = c.lambda.formals.as_ref().expect("checked");
            let given: Vec<Attr> = args
                .iter()
                .filter(|a| formals.ellipsis || formals.entries.iter().any(|f| f.name == a.name))
                .cloned()
                .collect();
            ev.call(&v, Value::Attrs(Attrs::from_vec(given)), Pos::NONE)
        }
        Value::Attrs(a) if a.contains(nix_eval::sym::FUNCTOR) => {
            let f = ev.force(&a.get(nix_eval::sym::FUNCTOR).cloned().unwrap_or(Value::Null))?;
            let inner = ev.call(&f, v.clone(), Pos::NONE)?;
            auto_call(ev, &inner, args)
        }
        _ => Ok(v),
    }
}

// MERGE: Session — the root: a flake's `outputs` at the fragment (locked without writing
// the lock file, as nix-eval-jobs), or a file or expression.
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
            for key in crate::attr_path::split_attr_path(&parsed.fragment) {
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
        ev.import(&nix_eval::lower::canon_path(&p), Pos::NONE)?
    };
    auto_call(ev, &v, args)
}
