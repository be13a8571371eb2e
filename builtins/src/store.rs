//! The evaluator's store: where sources, `toFile` texts and `.drv` files go.
//!
//! One [`StoreState`] per evaluation (kept in `Eval::ext`): the backend (a directory store,
//! or a read-only one that only computes paths), the memo of copied source paths, the
//! derivations known to this evaluation (to compute hashes modulo and closures without
//! reading them back), and the references of the texts written.

use crate::{make_attrs, Args};
use nix_eval::error::{AddTrace, ErrorKind, EvalError, Result};
use nix_eval::source::Pos;
use nix_eval::value::{Context, NixString};
use nix_eval::{BuiltinDef, CoerceOpts, Eval, Value};
use nix_store_core::nar::FileType as NarType;
use nix_store_core::{Derivation, FileIngestionMethod, Hash, HashAlgo, ReadOnlyStore, Store, StorePath};
use rustc_hash::FxHashMap;
use std::collections::BTreeSet;
use std::path::Path;
use std::rc::Rc;

pub(crate) const BUILTINS: &[BuiltinDef] = &[
    BuiltinDef { name: "toFile", arity: 2, global: false, func: to_file },
    BuiltinDef { name: "path", arity: 1, global: false, func: path },
    BuiltinDef { name: "filterSource", arity: 2, global: false, func: filter_source },
    BuiltinDef { name: "storePath", arity: 1, global: false, func: store_path },
];

/// The evaluation's store state, kept in `Eval::ext`: where it writes, and what it made.
pub struct StoreState {
    /// The store the evaluation writes into (`toFile`, sources, `.drv` files).
    pub store: Rc<dyn Store>,
    sources: FxHashMap<String, String>,
    /// Derivations by `.drv` path: made in this evaluation or read from the store.
    pub(crate) drvs: FxHashMap<String, Rc<Derivation>>,
    /// Hash modulo of each known derivation, by `.drv` path.
    pub(crate) hash_modulo: FxHashMap<String, Hash>,
    /// References of text files written (`toFile`, `.drv`), for closures.
    pub(crate) references: FxHashMap<String, BTreeSet<String>>,
    /// Store path -> source it was copied from (shared with the file-access layer).
    source_map: crate::store_io::SourceMap,
    /// `allow-import-from-derivation` (default true).
    pub allow_import_from_derivation: bool,
    /// `!out!drv` contexts already built for import from derivation.
    realised: rustc_hash::FxHashSet<Box<str>>,
}

impl Default for StoreState {
    fn default() -> StoreState {
        StoreState {
            store: Rc::new(ReadOnlyStore::new()),
            sources: FxHashMap::default(),
            drvs: FxHashMap::default(),
            hash_modulo: FxHashMap::default(),
            references: FxHashMap::default(),
            source_map: Default::default(),
            allow_import_from_derivation: true,
            realised: Default::default(),
        }
    }
}

/// Import from derivation, as 2.8's `realiseContext`: before a path is read (`import`,
/// `readFile`, `readDir`, `pathExists`, …), the derivation outputs in its string context
/// (`!out!/nix/store/…drv`) are built by the store (the daemon, or Nix for a local store).
/// With `allow-import-from-derivation = false` that is refused, built or not.
pub(crate) fn realise_context(ev: &mut Eval, ctx: &Context, pos: Pos) -> Result<()> {
    let mut wanted: Vec<(String, Vec<String>)> = Vec::new();
    for c in ctx {
        let Some((output, drv)) = c.strip_prefix('!').and_then(|r| r.split_once('!')) else { continue };
        if ev.ext::<StoreState>().realised.contains(c) {
            continue;
        }
        match wanted.iter_mut().find(|(d, _)| d == drv) {
            Some((_, outs)) => outs.push(output.to_owned()),
            None => wanted.push((drv.to_owned(), vec![output.to_owned()])),
        }
    }
    let Some((first, _)) = wanted.first() else { return Ok(()) };
    if !ev.ext::<StoreState>().allow_import_from_derivation {
        return Err(EvalError::at(
            ErrorKind::Other,
            pos,
            format!(
                "cannot build '{first}' during evaluation because the option 'allow-import-from-derivation' is disabled"
            ),
        ));
    }
    let store = store(ev);
    for (drv, names) in wanted {
        let known = crate::derivation::load_drv(ev, &drv).ok();
        let outputs: Vec<(String, String)> = names
            .iter()
            .map(|n| {
                let path = known.as_ref().and_then(|d| d.outputs.get(n)).map(|o| o.path.clone()).unwrap_or_default();
                (n.clone(), path)
            })
            .filter(|(_, p)| !p.is_empty())
            .collect();
        store.build(&drv, &outputs).map_err(|e| store_error(pos, e))?;
        let state = ev.ext::<StoreState>();
        for n in names {
            state.realised.insert(format!("!{n}!{drv}").into_boxed_str());
        }
    }
    Ok(())
}

/// [`realise_context`] for a (forced) value about to be used as a path: a string (or a set
/// with `outPath`, such as a derivation) whose context has derivation outputs has them
/// built first. A path literal has no context; a value that does not coerce is left to
/// the caller's own coercion and its errors.
pub(crate) fn realise_value_context(ev: &mut Eval, v: &Value, pos: Pos) -> Result<()> {
    if matches!(v, Value::Path(_)) {
        return Ok(());
    }
    let Ok(s) = ev.coerce_to_string(v, pos, CoerceOpts::NO_COPY) else { return Ok(()) };
    match s.context() {
        Some(ctx) if ctx.iter().any(|c| c.starts_with('!')) => realise_context(ev, ctx, pos),
        _ => Ok(()),
    }
}

/// Use `store` for everything this evaluator writes, and let file access see the store
/// paths this evaluation creates.
pub fn set_store(ev: &mut Eval, store: Rc<dyn Store>) {
    let state = ev.ext::<StoreState>();
    state.store = store.clone();
    let sources = state.source_map.clone();
    let inner = std::mem::replace(&mut ev.io, Box::new(nix_eval::io::StdIo));
    ev.io = Box::new(crate::store_io::StoreIo { inner, sources, store });
}

/// Waits until everything this evaluation added to its store is on disk; the first write
/// error not reported yet, if any.
pub fn flush_store(ev: &mut Eval) -> std::result::Result<(), nix_store_core::StoreError> {
    store(ev).flush()
}

/// Leaves the derivations, hashes modulo and references this evaluation learned allocated,
/// for a process that ends right after (`rnix-eval`'s one-shot commands): freeing a NixOS
/// system's derivations one by one was most of the session's drop (0.8% of the 20.09
/// container's run in `perf`). Plain data only: the store, its writer, locks and temporary
/// roots are dropped as before.
pub fn leak_memos(ev: &mut Eval) {
    let state = ev.ext::<StoreState>();
    std::mem::forget(std::mem::take(&mut state.drvs));
    std::mem::forget(std::mem::take(&mut state.hash_modulo));
    std::mem::forget(std::mem::take(&mut state.references));
}

pub(crate) fn store(ev: &mut Eval) -> Rc<dyn Store> {
    ev.ext::<StoreState>().store.clone()
}

pub(crate) fn store_error(pos: Pos, e: impl std::fmt::Display) -> Box<EvalError> {
    EvalError::at(ErrorKind::Other, pos, e.to_string())
}

/// The hook behind `"${./file}"`: copy a source path into the store (memoised per path).
pub(crate) fn copy_path_to_store(ev: &mut Eval, path: &str) -> Result<String> {
    if let Some(p) = ev.ext::<StoreState>().sources.get(path) {
        return Ok(p.clone());
    }
    if let Err(msg) = ev.io.check_access(Path::new(path)) {
        return Err(EvalError::new(ErrorKind::Restricted, msg));
    }
    let name = path.rsplit('/').next().unwrap_or("");
    if name.ends_with(".drv") {
        return Err(EvalError::new(ErrorKind::Other, "file names are not allowed to end in '.drv'"));
    }
    let store = store(ev);
    let real = crate::store_io::real_path(&ev.ext::<StoreState>().source_map, store.as_ref(), Path::new(path));
    if std::fs::symlink_metadata(&real).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) {
        return Err(EvalError::new(ErrorKind::Other, format!("path '{}' does not exist", path)));
    }
    let (sp, _) = store
        .add_path_deferred(name, &real, FileIngestionMethod::Recursive, &mut |_: &Path, _: NarType| true)
        .map_err(|e| EvalError::new(ErrorKind::Other, format!("while copying '{}' to the store: {}", path, e)))?;
    nix_eval::error::talk(2, || format!("copied source '{path}' -> '{sp}'"));
    let state = ev.ext::<StoreState>();
    state.sources.insert(path.to_string(), sp.clone());
    state.source_map.borrow_mut().insert(sp.clone(), std::path::PathBuf::from(path));
    Ok(sp)
}

fn string_with_path_context(path: String) -> Value {
    let mut ctx = Context::new();
    ctx.insert(path.clone().into_boxed_str());
    Value::String(NixString::with_context(path.into_bytes(), ctx))
}

fn to_file(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a = Args::new("toFile", args, pos);
    let name = crate::strings::force_string_no_ctx(ev, &args[0], pos, || crate::arg_ctx("toFile", 0))?;
    let contents = a.coerce(ev, 1, CoerceOpts::INTERP)?;
    let name = name.to_str_lossy().into_owned();
    let mut refs = BTreeSet::new();
    for c in contents.context().into_iter().flatten() {
        if c.starts_with('=') || c.starts_with('!') {
            return Err(EvalError::at(
                ErrorKind::Other,
                pos,
                format!(
                    "files created by builtins.toFile may not reference derivations, but {} references {}",
                    name,
                    c.trim_start_matches('=')
                ),
            ));
        }
        refs.insert(c.to_string());
    }
    let store = store(ev);
    let p = store.add_text(&name, contents.as_bytes(), &refs).map_err(|e| store_error(pos, e))?;
    ev.ext::<StoreState>().references.insert(p.clone(), refs);
    Ok(string_with_path_context(p))
}

/// Copy `src` into the store with a Nix filter function (or none).
fn add_filtered(
    ev: &mut Eval,
    name: &str,
    src: &str,
    filter: Option<Value>,
    method: FileIngestionMethod,
    pos: Pos,
) -> Result<(String, Hash)> {
    if let Err(msg) = ev.io.check_access(Path::new(src)) {
        return Err(EvalError::at(ErrorKind::Restricted, pos, msg));
    }
    let store = store(ev);
    let real = crate::store_io::real_path(&ev.ext::<StoreState>().source_map, store.as_ref(), Path::new(src));
    let mut failure: Option<Box<EvalError>> = None;
    let result = {
        let mut f = |p: &Path, t: NarType| -> bool {
            let Some(filter) = &filter else { return true };
            if failure.is_some() {
                return false;
            }
            let pv = Value::string(p.to_string_lossy().into_owned());
            let tv = Value::string(t.as_str());
            match ev.call_n(filter, &[pv, tv], pos).and_then(|r| ev.expect_bool(&r, pos)) {
                Ok(b) => b,
                Err(e) => {
                    failure = Some(e);
                    false
                }
            }
        };
        store.add_path_deferred(name, &real, method, &mut f)
    };
    if let Some(e) = failure {
        return Err(e).trace(pos, || "while evaluating the filter of builtins.path".into());
    }
    result.map_err(|e| store_error(pos, e))
}

fn path(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a = Args::new("path", args, pos);
    let attrs = a.attrs(ev, 0)?;
    let mut src = None;
    let mut src_value = None;
    let mut name = None;
    let mut filter = None;
    let mut recursive = true;
    let mut expected: Option<String> = None;
    for attr in attrs.sorted() {
        match attr.name.as_str() {
            "path" => {
                src = Some(ev.coerce_to_path(&attr.value, pos)?);
                src_value = Some(ev.force(&attr.value)?);
            }
            "name" => {
                let n = crate::strings::force_string_no_ctx(ev, &attr.value, pos, || {
                    "while evaluating the `name` attribute passed to builtins.path".into()
                })?;
                name = Some(n.to_str_lossy().into_owned())
            }
            "filter" => filter = Some(ev.expect_function(&attr.value, pos)?),
            "recursive" => recursive = ev.expect_bool(&attr.value, pos)?,
            "sha256" => expected = Some(ev.expect_string(&attr.value, pos)?.to_str_lossy().into_owned()),
            other => {
                return Err(EvalError::at(
                    ErrorKind::Other,
                    pos,
                    format!("unsupported argument '{}' to 'addPath'", other),
                ));
            }
        }
    }
    let Some(src) = src else {
        return Err(EvalError::at(ErrorKind::Other, pos, "'path' required"));
    };
    // 2.8's addPath: the outputs the path refers to are built before it is read.
    if let Some(v) = &src_value {
        realise_value_context(ev, v, pos)?;
    }
    let name = name.unwrap_or_else(|| src.rsplit('/').next().unwrap_or("").to_string());
    let method = if recursive { FileIngestionMethod::Recursive } else { FileIngestionMethod::Flat };
    let (p, _) = add_filtered(ev, &name, &src, filter, method, pos)?;
    if let Some(exp) = expected {
        let h = Hash::parse_any(&exp, Some(HashAlgo::Sha256)).map_err(|e| store_error(pos, e))?;
        let want = nix_store_core::store_path::make_fixed_output_path(method, &h, &name, &BTreeSet::new())
            .map_err(|e| store_error(pos, e))?
            .to_absolute();
        if want != p {
            return Err(EvalError::at(
                ErrorKind::Other,
                pos,
                format!("store path mismatch in (possibly filtered) path added from '{}'", src),
            ));
        }
    }
    Ok(string_with_path_context(p))
}

fn filter_source(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a = Args::new("filterSource", args, pos);
    // The path first, as the reference evaluates them.
    let src = ev.coerce_to_path(&args[1].clone(), pos).trace(pos, || {
        "while evaluating the second argument (the path to filter) passed to 'builtins.filterSource'".into()
    })?;
    let filter = a.function(ev, 0)?;
    let src_value = ev.force(&args[1])?;
    realise_value_context(ev, &src_value, pos)?;
    let name = src.rsplit('/').next().unwrap_or("").to_string();
    let (p, _) = add_filtered(ev, &name, &src, Some(filter), FileIngestionMethod::Recursive, pos)?;
    Ok(string_with_path_context(p))
}

fn store_path(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    if ev.settings.pure {
        return Err(EvalError::at(
            ErrorKind::Restricted,
            pos,
            "'builtins.storePath' is not allowed in pure evaluation mode",
        ));
    }
    // The argument's own context is kept, and the store path it is in is added.
    let v = args[0].clone();
    let p = ev
        .coerce_to_path_with_context(&v, pos)
        .trace(pos, || "while evaluating the first argument passed to 'builtins.storePath'".into())?;
    let text = p.to_str_lossy();
    // 2.8's checkSourcePath: restricted mode refuses store paths the evaluation did not make.
    if let Err(msg) = ev.io.check_access(std::path::Path::new(text.as_ref())) {
        return Err(EvalError::at(ErrorKind::Restricted, pos, msg));
    }
    let Ok((sp, _)) = StorePath::parse_prefix(&text) else {
        return Err(EvalError::at(ErrorKind::Other, pos, format!("path '{}' is not in the Nix store", text)));
    };
    let mut ctx = p.context().cloned().unwrap_or_default();
    ctx.insert(sp.to_absolute().into_boxed_str());
    Ok(Value::String(NixString::with_context(p.as_bytes(), ctx)))
}

/// `{ drvPath = …; out = …; }` as derivationStrict returns it.
pub(crate) fn strict_result(drv_path: &str, outputs: &[(String, String)]) -> Value {
    let mut pairs: Vec<(String, Value)> = Vec::new();
    let mut ctx = Context::new();
    ctx.insert(format!("={}", drv_path).into_boxed_str());
    pairs.push(("drvPath".into(), Value::String(NixString::with_context(drv_path.as_bytes(), ctx))));
    for (o, p) in outputs {
        let mut ctx = Context::new();
        ctx.insert(format!("!{}!{}", o, drv_path).into_boxed_str());
        pairs.push((o.clone(), Value::String(NixString::with_context(p.as_bytes(), ctx))));
    }
    let pairs: Vec<(&str, Value)> = pairs.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    make_attrs(pairs)
}
