//! Running `instantiate` and `eval`: assemble the evaluator, evaluate, apply auto-arguments
//! and attribute paths, print.

use crate::args::{self, AutoArg, Command, Options};
use nix_eval::error::{ErrorKind, EvalError, Result};
use nix_eval::source::{Origin, Pos};
use nix_eval::{print, Attr, Attrs, Eval, EvalBuilder, Settings, Symbol, Value};
use nix_store_core::{DirStore, LocalLayout, ReadOnlyStore, ResolvedStore, Store, StoreUrl};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

pub fn main(mut argv: Vec<String>) -> u8 {
    if argv.first().map(String::as_str) == Some("eval-jobs") {
        return nix_flake::eval_jobs::main(argv[1..].to_vec());
    }
    if let Err(msg) = crate::diag_opts::take(&mut argv) {
        eprintln!("error: {msg}");
        return 1;
    }
    if let Some(code) = crate::flake_cmd::dispatch(&argv) {
        return code;
    }
    let opts = match args::parse(argv) {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("error: {}", msg);
            return 1;
        }
    };
    let started = std::time::Instant::now();
    let store = match open_store(&opts) {
        Ok(s) => s,
        Err(msg) => {
            eprintln!("error: {msg}");
            return 1;
        }
    };
    let mut ev = build_evaluator(&opts, store.store.clone());
    let mut code = match run(&mut ev, &opts, store.layout.as_ref()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{}", crate::diag_opts::render(&e, opts.show_trace));
            1
        }
    };
    // The store writes in the background: wait for it, and fail on a write that failed.
    let flush_started = std::time::Instant::now();
    if !flush_store_or_report(&mut ev) {
        code = 1;
    }
    let flush_time = flush_started.elapsed();
    if std::env::var_os("NIX_SHOW_STATS").is_some_and(|v| v != "0") {
        print_stats(&ev, started.elapsed(), flush_time);
    }
    code
}

/// `NIX_SHOW_STATS=1`: work counters, time per phase and peak memory on stderr, as JSON.
/// Phases: parsing and lowering files, evaluating (the rest, which includes computing
/// and queueing store paths), and waiting at the end for the store writes still queued.
fn print_stats(ev: &Eval, elapsed: std::time::Duration, flush_time: std::time::Duration) {
    let peak_kib = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    let st = &ev.stats;
    let eval_time = elapsed.saturating_sub(st.parse_time).saturating_sub(flush_time);
    eprintln!(
        "{{\"cpuTime\": {:.3}, \"time\": {{\"parse\": {:.3}, \"eval\": {:.3}, \"storeFlush\": {:.3}}}, \"nrFilesParsed\": {}, \"nrThunks\": {}, \"nrFunctionCalls\": {}, \"nrAttrsets\": {}, \"nrEnvs\": {}, \"peakRssKiB\": {}}}",
        elapsed.as_secs_f64(),
        st.parse_time.as_secs_f64(),
        eval_time.as_secs_f64(),
        flush_time.as_secs_f64(),
        st.files_parsed,
        st.thunks,
        st.calls,
        st.attrsets,
        st.envs,
        peak_kib
    );
}

fn nix_path(opts: &Options) -> Vec<String> {
    let mut v: Vec<String> = opts.include.clone();
    if let Ok(env) = std::env::var("NIX_PATH") {
        // Entries are separated by ':', but a URL's "scheme://" is not a separator.
        let mut cur = String::new();
        for piece in env.split(':') {
            if !cur.is_empty() && piece.starts_with("//") {
                cur.push(':');
                cur.push_str(piece);
                continue;
            }
            if !cur.is_empty() {
                v.push(std::mem::take(&mut cur));
            }
            cur.push_str(piece);
        }
        if !cur.is_empty() {
            v.push(cur);
        }
    }
    v
}

fn build_evaluator(opts: &Options, store: Rc<dyn Store>) -> Eval {
    let mut settings = Settings { pure: opts.pure, restrict: opts.restrict, ..Settings::default() };
    // Pure evaluation has no search path (2.8's EvalState ignores it).
    settings.nix_path = if opts.pure { Vec::new() } else { nix_path(opts) };
    settings.show_trace = opts.show_trace;
    if let Some(d) = opts.max_call_depth {
        settings.max_call_depth = d;
    }
    settings.experimental_features = opts.experimental.clone();
    settings.lints = opts.lints.clone();
    settings.trace_function_calls = opts.trace_function_calls;
    let flakes = opts.experimental.iter().any(|f| f == "flakes");
    let mut ev = nix_flake::eval::install(nix_builtins::install(EvalBuilder::new(settings)), flakes).build();
    ev.ext::<nix_flake::eval::FlakeState>().allowed_uris = opts.allowed_uris.clone();
    // Fetches and, in pure or restricted mode, file access limited to the allowed roots.
    nix_flake::eval::setup(&mut ev, store.clone(), store);
    ev.ext::<nix_builtins::store::StoreState>().allow_import_from_derivation = !opts.forbid_ifd;
    ev
}

/// The store of a command, opened.
pub struct OpenedStore {
    pub store: Rc<dyn Store>,
    /// Where a local store keeps its state (for GC roots); `None` for the others.
    pub layout: Option<LocalLayout>,
}

/// The store the evaluation writes to, from `--store` / `--option store` / `NIX_REMOTE`
/// (default `auto`): nothing is written in read-only mode (the default of `instantiate
/// --eval`, as in the reference) or with `dummy://`.
fn open_store(opts: &Options) -> std::result::Result<OpenedStore, String> {
    let read_only = opts.readonly
        || opts.dry_run
        || (opts.command == Command::Instantiate && (opts.eval_only || opts.parse_only) && !opts.read_write);
    open_store_url(opts.store.as_deref(), read_only)
}

/// Opens the store named by `spec` (else `NIX_REMOTE`, else `auto`); `read_only` stores
/// compute paths and write nothing, touching no database.
pub fn open_store_url(spec: Option<&str>, read_only: bool) -> std::result::Result<OpenedStore, String> {
    let env = std::env::var("NIX_REMOTE").ok();
    let spec = spec.or(env.as_deref()).unwrap_or("auto");
    let url = StoreUrl::parse(spec, &cwd()).map_err(|e| e.to_string())?;
    let (url, notice) = url.resolve(read_only);
    if let Some(n) = notice {
        eprintln!("{n}");
    }
    match url {
        ResolvedStore::Dummy => Ok(OpenedStore { store: Rc::new(ReadOnlyStore::new()), layout: None }),
        ResolvedStore::Local { root } if read_only => {
            Ok(OpenedStore { store: Rc::new(ReadOnlyStore::over(root)), layout: None })
        }
        ResolvedStore::Local { root } => {
            let store = DirStore::new(root);
            let layout = Some(store.layout().clone());
            Ok(OpenedStore { store: Rc::new(store), layout })
        }
        ResolvedStore::Daemon { .. } if read_only => {
            Ok(OpenedStore { store: Rc::new(ReadOnlyStore::over("/")), layout: None })
        }
        ResolvedStore::Daemon { socket } => {
            let path = StoreUrl::socket_path(socket.as_deref());
            match nix_store_core::daemon::DaemonStore::connect(&path) {
                Ok(store) => Ok(OpenedStore { store: Rc::new(store), layout: None }),
                Err(e) => Err(format!("cannot open the daemon store at '{}': {e}", path.display())),
            }
        }
    }
}

/// Waits for the store writes still queued; false (after printing the error) if one failed.
pub fn flush_store_or_report(ev: &mut Eval) -> bool {
    match nix_builtins::store::flush_store(ev) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("error: {}", e);
            false
        }
    }
}

fn cwd() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"))
}

fn absolute(p: &str) -> String {
    if p.starts_with('/') {
        nix_eval::lower::canon_path(p)
    } else {
        nix_eval::lower::canon_path(&format!("{}/{}", cwd().display(), p))
    }
}

fn run(ev: &mut Eval, opts: &Options, layout: Option<&LocalLayout>) -> Result<()> {
    if opts.parse_only {
        return parse_only(ev, opts);
    }
    // Each expression or file is evaluated and printed before the next is read, as the
    // reference does: an error in one leaves the output of those before it.
    let sources: Vec<(bool, String)> = if !opts.exprs.is_empty() {
        opts.exprs.iter().map(|e| (true, e.clone())).collect()
    } else if opts.files.is_empty() {
        vec![(false, "./default.nix".to_string())]
    } else {
        opts.files.iter().map(|f| (false, f.clone())).collect()
    };
    let auto_args = auto_args(ev, opts)?;
    let paths = if opts.attr_paths.is_empty() { vec![String::new()] } else { opts.attr_paths.clone() };
    let mut out = std::io::stdout().lock();
    let mut root_nr = 0;
    for (is_expr, source) in sources {
        let root = if is_expr {
            ev.eval_text(&source, Origin::String, &cwd())?
        } else if source == "-" {
            let mut text = String::new();
            let _ = std::io::stdin().read_to_string(&mut text);
            ev.eval_text(&text, Origin::Stdin, &cwd())?
        } else {
            ev.import_file_arg(&absolute(&source))?
        };
        for path in &paths {
            let v = find_along_attr_path(ev, &root, path, &auto_args)?;
            if opts.eval_only || opts.command == Command::Eval {
                let v = if opts.strict || opts.json { ev.force_deep(&v)? } else { ev.force(&v)? };
                let text = if opts.json {
                    nix_builtins::json::to_json_string(ev, &v, Pos::NONE, true)?
                } else if opts.xml {
                    nix_builtins::xml::to_xml_string(ev, &v, !opts.no_location)?
                } else if opts.raw {
                    ev.coerce_to_string(&v, Pos::NONE, nix_eval::CoerceOpts::NO_COPY)?.to_str_lossy().into_owned()
                } else {
                    print::try_to_string(&v)?
                };
                let _ = if opts.raw { write!(out, "{}", text) } else { writeln!(out, "{}", text) };
            } else {
                let mut drvs = Vec::new();
                collect_derivations(ev, &v, &auto_args, true, &mut drvs)?;
                for (drv_path, output) in drvs {
                    let shown = gc_root(opts, layout, &drv_path, &mut root_nr)?;
                    let _ = match output {
                        Some(o) => writeln!(out, "{shown}!{o}"),
                        None => writeln!(out, "{shown}"),
                    };
                }
            }
        }
    }
    Ok(())
}

/// What `instantiate` prints for a derivation, as `nix-instantiate`: with `--add-root
/// PATH`, a GC root `PATH` (`PATH-2`, … for later ones) in a local store, printed instead
/// of the drv path; without it, the warning that the result may be collected (once).
fn gc_root(opts: &Options, layout: Option<&LocalLayout>, drv_path: &str, root_nr: &mut usize) -> Result<String> {
    let Some(root) = &opts.add_root else {
        if *root_nr == 0 {
            eprintln!(
                "warning: you did not specify '--add-root'; the result might be removed by the garbage collector"
            );
        }
        *root_nr += 1;
        return Ok(drv_path.to_owned());
    };
    *root_nr += 1;
    let Some(layout) = layout else {
        return Ok(drv_path.to_owned());
    };
    let mut name = absolute(root);
    if *root_nr > 1 {
        name = format!("{name}-{root_nr}");
    }
    nix_store_core::gc_roots::add_perm_root(layout, drv_path, Path::new(&name))
        .map(|p| p.display().to_string())
        .map_err(|e| EvalError::new(ErrorKind::Other, e.to_string()))
}

fn parse_only(ev: &mut Eval, opts: &Options) -> Result<()> {
    let mut texts: Vec<(String, Origin, PathBuf)> = Vec::new();
    for e in &opts.exprs {
        texts.push((e.clone(), Origin::String, cwd()));
    }
    for f in &opts.files {
        if f == "-" {
            let mut text = String::new();
            let _ = std::io::stdin().read_to_string(&mut text);
            texts.push((text, Origin::Stdin, cwd()));
        } else {
            let p = absolute(f);
            let text = std::fs::read_to_string(&p)
                .map_err(|e| EvalError::new(ErrorKind::Other, format!("reading '{}': {}", p, e)))?;
            let dir = Path::new(&p).parent().map(PathBuf::from).unwrap_or_else(cwd);
            texts.push((text, Origin::File(p), dir));
        }
    }
    for (text, origin, dir) in texts {
        let e = ev.parse(&text, origin, &dir, &[])?;
        println!("{}", print::expr_summary(e));
    }
    Ok(())
}

fn auto_args(ev: &mut Eval, opts: &Options) -> Result<Attrs> {
    let mut attrs = Vec::new();
    for (name, a) in &opts.auto_args {
        let v = match a {
            AutoArg::Str(s) => Value::string(s.as_str()),
            AutoArg::Expr(e) => ev.eval_text(e, Origin::String, &cwd())?,
        };
        attrs.push(Attr { name: Symbol::new(name), pos: Pos::NONE, value: v });
    }
    attrs.reverse(); // later --arg wins, as in the reference
    Ok(Attrs::from_vec(attrs))
}

/// Call a function whose arguments are all named with the auto-arguments (`--arg`).
fn auto_call(ev: &mut Eval, v: &Value, args: &Attrs) -> Result<Value> {
    let v = ev.force(v)?;
    match &v {
        Value::Lambda(c) if c.lambda.formals.is_some() => {
            let formals = c.lambda.formals.as_ref().unwrap();
            let mut given = Vec::new();
            for a in args.iter() {
                if formals.ellipsis || formals.entries.iter().any(|f| f.name == a.name) {
                    given.push(a.clone());
                }
            }
            ev.call(&v, Value::Attrs(Attrs::from_vec(given)), Pos::NONE)
        }
        Value::Attrs(a) if a.contains(nix_eval::sym::FUNCTOR) => {
            let f = ev.force(&a.get(nix_eval::sym::FUNCTOR).unwrap().clone())?;
            let inner = ev.call(&f, v.clone(), Pos::NONE)?;
            auto_call(ev, &inner, args)
        }
        _ => Ok(v),
    }
}

fn find_along_attr_path(ev: &mut Eval, root: &Value, path: &str, args: &Attrs) -> Result<Value> {
    let mut v = auto_call(ev, root, args)?;
    if path.is_empty() {
        return Ok(v);
    }
    for key in nix_flake::attr_path::split_attr_path(path) {
        v = ev.force(&v)?;
        if let Ok(i) = key.parse::<usize>() {
            if let Value::List(l) = &v {
                let Some(x) = l.get(i) else {
                    return Err(EvalError::new(
                        ErrorKind::Other,
                        format!("list index {} in selection path '{}' is out of range", i, path),
                    ));
                };
                v = auto_call(ev, &x.clone(), args)?;
                continue;
            }
        }
        let Value::Attrs(a) = &v else {
            return Err(EvalError::new(
                ErrorKind::Type,
                format!(
                    "the expression selected by the selection path '{}' should be a set but is {}",
                    path,
                    v.ty().describe()
                ),
            ));
        };
        let Some(x) = a.get(Symbol::new(&key)) else {
            return Err(EvalError::new(
                ErrorKind::MissingAttr,
                format!("attribute '{}' in selection path '{}' not found", key, path),
            ));
        };
        v = auto_call(ev, &x.clone(), args)?;
    }
    Ok(v)
}

/// The derivations a value denotes, as `nix-instantiate` finds them: the value itself, the
/// attributes of a set (recursing only where `recurseForDerivations = true`), or a list's
/// elements. Each is printed as its drv path, with `!output` unless the output is `out`.
fn collect_derivations(
    ev: &mut Eval,
    v: &Value,
    args: &Attrs,
    top: bool,
    out: &mut Vec<(String, Option<String>)>,
) -> Result<()> {
    let v = auto_call(ev, v, args)?;
    match &v {
        Value::Attrs(a) => {
            if ev.is_derivation(a)? {
                let drv = ev.force(&a.get(Symbol::new("drvPath")).cloned().unwrap_or(Value::Null))?;
                let drv = ev.coerce_to_string(&drv, Pos::NONE, nix_eval::CoerceOpts::NO_COPY)?;
                let output = match a.get(Symbol::new("outputName")) {
                    Some(o) => {
                        ev.coerce_to_string(o, Pos::NONE, nix_eval::CoerceOpts::NO_COPY)?.to_str_lossy().into_owned()
                    }
                    None => "out".into(),
                };
                out.push((drv.to_str_lossy().into_owned(), (output != "out").then_some(output)));
                return Ok(());
            }
            let recurse = top
                || match a.get(Symbol::new("recurseForDerivations")) {
                    Some(r) => matches!(ev.force(r)?, Value::Bool(true)),
                    None => false,
                };
            if recurse {
                for attr in a.sorted() {
                    let x = ev.force(&attr.value)?;
                    if let Value::Attrs(inner) = &x {
                        if ev.is_derivation(inner)? || inner.contains(Symbol::new("recurseForDerivations")) {
                            collect_derivations(ev, &x, args, false, out)?;
                        }
                    }
                }
            }
        }
        Value::List(l) => {
            for x in l.iter() {
                collect_derivations(ev, x, args, false, out)?;
            }
        }
        _ => {
            return Err(EvalError::new(
                ErrorKind::Type,
                "expression does not evaluate to a derivation (or a set or list of those)",
            ));
        }
    }
    Ok(())
}
