//! The flake commands: `rnix-eval [--store DIR] [--dry-run] INSTALLABLE` (like `nix build`,
//! printing the drv path), `eval INSTALLABLE`, `flake metadata|show|check|lock|update`.
//!
//! [`dispatch`] decides whether a command line is a flake command (so `instantiate` keeps
//! its `nix-instantiate` behaviour); options may come before or after the installable.
//! Evaluation is pure unless `--impure`; fetched trees go to a directory store (`--store
//! DIR`, or the data directory) even with `--dry-run`, which only stops `.drv` writes.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

use nix_eval::error::{ErrorKind, EvalError, Result};
use nix_eval::source::Pos;
use nix_eval::{print, CoerceOpts, Eval, EvalBuilder, Settings, Symbol, Value};
use nix_flake::eval::{call_flake, lock_flake, LockFlags, LockedFlake};
use nix_flake::flakeref::{FlakeRef, ParseOptions};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmd {
    Build,
    Eval,
    Metadata,
    Show,
    Check,
    Lock,
    Update,
}

#[derive(Debug)]
pub struct FlakeOpts {
    pub cmd: Cmd,
    pub positional: Vec<String>,
    pub store: Option<String>,
    pub dry_run: bool,
    pub json: bool,
    pub raw: bool,
    pub impure: bool,
    pub show_trace: bool,
    pub legacy: bool,
    pub overrides: Vec<(String, String)>,
    pub updates: Vec<String>,
    pub lock: LockFlags,
    /// `--flake-registry FILE`.
    pub global_registry: Option<String>,
    /// `--option allow-import-from-derivation false`.
    pub forbid_ifd: bool,
    /// `--no-eval-cache`: evaluate even when the evaluation cache has the answer.
    pub no_eval_cache: bool,
}

/// Flags that take one value (skipped when looking for the installable).
const VALUE_FLAGS: &[&str] = &[
    "--store",
    "-I",
    "--include",
    "--option",
    "--arg",
    "--argstr",
    "--max-call-depth",
    "--extra-experimental-features",
    "--experimental-features",
    "--override-input",
    "--update-input",
    "-A",
    "--attr",
    "-E",
    "--expr",
    "-f",
    "--file",
    "--timeout",
    "--out-link",
    "-o",
    "--add-root",
    "--system",
    "--override-flake",
    "--flake-registry",
];

fn positionals(argv: &[String]) -> Vec<&str> {
    let mut out = vec![];
    let mut i = 0;
    while i < argv.len() {
        let a = argv[i].as_str();
        if a.starts_with('-') {
            let n = match a {
                "--option" | "--arg" | "--argstr" | "--override-input" | "--override-flake" => 2,
                _ if VALUE_FLAGS.contains(&a) => 1,
                _ => 0,
            };
            i += 1 + n;
        } else {
            out.push(a);
            i += 1;
        }
    }
    out
}

fn is_flake_url(s: &str) -> bool {
    s.contains('#')
        || ["path:", "git+", "github:", "gitlab:", "sourcehut:", "flake:", "tarball+", "file+"]
            .iter()
            .any(|p| s.starts_with(p))
}

/// The flake command `argv` asks for, if any.
fn detect(argv: &[String]) -> Option<(Cmd, usize)> {
    let has = |f: &[&str]| argv.iter().any(|a| f.contains(&a.as_str()));
    match argv.first().map(String::as_str) {
        Some("flake") => {
            let cmd = match argv.get(1).map(String::as_str) {
                Some("metadata") | Some("info") => Cmd::Metadata,
                Some("show") => Cmd::Show,
                Some("check") => Cmd::Check,
                Some("lock") => Cmd::Lock,
                Some("update") => Cmd::Update,
                _ => return None,
            };
            Some((cmd, 2))
        }
        Some("eval") => {
            if has(&["--expr", "-E", "--file", "-f"]) {
                return None;
            }
            let pos = positionals(&argv[1..]);
            let is_file = pos.iter().any(|p| std::path::Path::new(p).is_file());
            (!is_file).then_some((Cmd::Eval, 1))
        }
        Some("build") => Some((Cmd::Build, 1)),
        Some("instantiate") => None,
        _ => {
            if has(&["--eval", "--eval-only", "-E", "--expr", "-A", "--attr", "--parse", "--parse-only"]) {
                return None;
            }
            positionals(argv).iter().any(|p| is_flake_url(p)).then_some((Cmd::Build, 0))
        }
    }
}

/// Runs a flake command if `argv` is one; `None` leaves it to `instantiate`.
pub fn dispatch(argv: &[String]) -> Option<u8> {
    let (cmd, skip) = detect(argv)?;
    let opts = match parse(cmd, &argv[skip..]) {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("error: {msg}");
            return Some(1);
        }
    };
    let mut ev = match build_evaluator(&opts) {
        Ok(ev) => ev,
        Err(msg) => {
            eprintln!("error: {msg}");
            return Some(1);
        }
    };
    let mut code = match run(&mut ev, &opts) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", crate::diag_opts::render(&e, opts.show_trace));
            1
        }
    };
    // The store writes in the background: wait for it, and fail on a write that failed.
    if !crate::run::flush_store_or_report(&mut ev) {
        code = 1;
    }
    Some(code)
}

fn parse(cmd: Cmd, args: &[String]) -> std::result::Result<FlakeOpts, String> {
    let mut o = FlakeOpts {
        cmd,
        positional: vec![],
        store: None,
        dry_run: false,
        json: false,
        raw: false,
        impure: false,
        show_trace: false,
        legacy: false,
        overrides: vec![],
        updates: vec![],
        lock: LockFlags::default(),
        global_registry: None,
        forbid_ifd: false,
        no_eval_cache: false,
    };
    let mut it = args.iter();
    let need = |it: &mut std::slice::Iter<String>, f: &str| {
        it.next().cloned().ok_or_else(|| format!("flag '{f}' requires an argument"))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--store" => o.store = Some(need(&mut it, a)?),
            "--dry-run" => o.dry_run = true,
            "--json" => o.json = true,
            "--raw" => o.raw = true,
            "--impure" => o.impure = true,
            "--show-trace" => o.show_trace = true,
            "--legacy" => o.legacy = true,
            "--no-eval-cache" => o.no_eval_cache = true,
            "--no-write-lock-file" => o.lock.write_lock_file = false,
            "--no-update-lock-file" => o.lock.update_lock_file = false,
            "--recreate-lock-file" => o.lock.recreate_lock_file = true,
            "--no-registries" => o.lock.use_registries = false,
            "--override-input" => {
                let n = need(&mut it, a)?;
                let r = need(&mut it, a)?;
                o.overrides.push((n, r));
            }
            "--update-input" => o.updates.push(need(&mut it, a)?),
            "--extra-experimental-features" | "--experimental-features" | "--system" => {
                need(&mut it, a)?;
            }
            "--flake-registry" => o.global_registry = Some(need(&mut it, a)?),
            "--option" => {
                let k = need(&mut it, a)?;
                let v = need(&mut it, a)?;
                if k == "store" {
                    o.store = Some(v);
                } else if k == "flake-registry" {
                    o.global_registry = Some(v);
                } else if k == "allow-import-from-derivation" {
                    o.forbid_ifd = v == "false";
                }
            }
            "--all-systems" | "--no-build" | "--keep-going" | "-L" | "--print-build-logs" | "--quiet" | "-v"
            | "--verbose" | "--commit-lock-file" => {}
            s if s.starts_with('-') && s.len() > 1 => return Err(format!("unrecognised flag '{s}'")),
            _ => o.positional.push(a.clone()),
        }
    }
    Ok(o)
}

fn cwd() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"))
}

/// The evaluator with its stores: fetched trees go to the store of `--store` (default
/// `auto`) even with `--dry-run`, which only keeps `.drv` files from being written.
fn build_evaluator(opts: &FlakeOpts) -> std::result::Result<Eval, String> {
    let mut settings = Settings { pure: !opts.impure, show_trace: opts.show_trace, ..Settings::default() };
    settings.experimental_features = vec!["nix-command".into(), "flakes".into()];
    if opts.impure {
        if let Ok(p) = std::env::var("NIX_PATH") {
            settings.nix_path = p.split(':').filter(|s| !s.is_empty()).map(String::from).collect();
        }
    }
    let b = nix_flake::eval::install(nix_builtins::install(EvalBuilder::new(settings)), true);
    let mut ev = b.build();
    let fetch = crate::run::open_store_url(opts.store.as_deref(), false)?.store;
    let eval_store =
        if opts.dry_run { crate::run::open_store_url(opts.store.as_deref(), true)?.store } else { fetch.clone() };
    ev.ext::<nix_flake::eval::FlakeState>().global_registry = opts.global_registry.as_ref().map(PathBuf::from);
    nix_flake::eval::setup(&mut ev, eval_store, fetch);
    ev.ext::<nix_builtins::store::StoreState>().allow_import_from_derivation = !opts.forbid_ifd;
    Ok(ev)
}

fn other(msg: String) -> Box<EvalError> {
    EvalError::new(ErrorKind::Other, msg)
}

fn lib_err(e: nix_flake::Error) -> Box<EvalError> {
    other(e.message().to_owned())
}

/// The flake reference (and fragment) of an installable, relative to the working directory.
pub fn parse_installable(s: &str) -> Result<(FlakeRef, String)> {
    let base = cwd();
    let p =
        FlakeRef::parse_with_fragment(s, ParseOptions { base_dir: Some(&base), allow_missing: false, is_flake: true })
            .map_err(lib_err)?;
    for n in &p.notices {
        eprintln!("{n}");
    }
    Ok((p.flake_ref, p.fragment))
}

fn lock_flags(opts: &FlakeOpts) -> Result<LockFlags> {
    let mut flags = opts.lock.clone();
    let base = cwd();
    for (name, r) in &opts.overrides {
        let fr = FlakeRef::parse(r, ParseOptions { base_dir: Some(&base), allow_missing: true, is_flake: true })
            .map_err(lib_err)?;
        flags.input_overrides.insert(input_path(name), fr);
    }
    for u in &opts.updates {
        flags.input_updates.insert(input_path(u));
    }
    Ok(flags)
}

fn input_path(s: &str) -> Vec<String> {
    s.split('/').filter(|x| !x.is_empty()).map(String::from).collect()
}

/// Locks the flake of `flake_ref` with the command's flags.
pub fn lock(ev: &mut Eval, opts: &FlakeOpts, flake_ref: &FlakeRef) -> Result<LockedFlake> {
    let flags = lock_flags(opts)?;
    lock_flake(ev, flake_ref, &flags)
}

/// The `outputs` of a locked flake.
pub fn outputs(ev: &mut Eval, locked: &LockedFlake) -> Result<Value> {
    let v = call_flake(ev, locked)?;
    let v = ev.force(&v)?;
    let Value::Attrs(a) = &v else {
        return Err(other("flake result is not a set".into()));
    };
    let o = a.get(Symbol::new("outputs")).cloned().unwrap_or(Value::Null);
    ev.force(&o)
}

fn run(ev: &mut Eval, opts: &FlakeOpts) -> Result<u8> {
    let default = ".".to_owned();
    let installable = match opts.cmd {
        Cmd::Update => &default,
        _ => opts.positional.first().unwrap_or(&default),
    };
    match opts.cmd {
        Cmd::Build | Cmd::Eval => {
            let key = format!("{:?}\0{}\0{}\0{installable}", opts.cmd, opts.json, opts.raw);
            with_eval_cache(ev, opts, installable, &key, |ev, out| build_or_eval(ev, opts, installable, out))
        }
        Cmd::Metadata => metadata(ev, opts, installable),
        Cmd::Show => {
            let key = format!("show\0{}\0{}", opts.json, opts.legacy);
            with_eval_cache(ev, opts, installable, &key, |ev, out| crate::show::show(ev, opts, installable, out))
        }
        Cmd::Check => crate::check::check(ev, opts, installable),
        Cmd::Lock => {
            let (r, _) = parse_installable(installable)?;
            let mut o = lock_flags(opts)?;
            o.write_lock_file = true;
            lock_flake(ev, &r, &o)?;
            Ok(0)
        }
        Cmd::Update => {
            let (r, _) = parse_installable(".")?;
            let mut o = lock_flags(opts)?;
            o.write_lock_file = true;
            if opts.positional.is_empty() {
                o.recreate_lock_file = true;
            }
            for p in &opts.positional {
                o.input_updates.insert(input_path(p));
            }
            lock_flake(ev, &r, &o)?;
            Ok(0)
        }
    }
}

enum Found {
    Value(Value),
    Missing,
}

/// Follows an attribute path; a missing attribute is [`Found::Missing`], not an error.
fn select(ev: &mut Eval, root: &Value, path: &[String]) -> Result<Found> {
    let mut v = root.clone();
    for (i, key) in path.iter().enumerate() {
        v = ev.force(&v)?;
        let Value::Attrs(a) = &v else {
            return Err(EvalError::new(
                ErrorKind::Type,
                format!(
                    "the expression selected by the selection path '{}' should be a set but is {}",
                    path[..i].join("."),
                    v.ty().describe()
                ),
            ));
        };
        match a.get(Symbol::new(key)) {
            Some(x) => v = x.clone(),
            None => return Ok(Found::Missing),
        }
    }
    Ok(Found::Value(ev.force(&v)?))
}

fn attr_paths(cmd: Cmd, fragment: &str, system: &str) -> Vec<String> {
    let parts = nix_flake::attr_path::split_attr_path(fragment);
    if fragment.is_empty() {
        return vec![format!("packages.{system}.default"), format!("defaultPackage.{system}")];
    }
    if cmd == Cmd::Build && parts.len() == 2 && parts[0] == "nixosConfigurations" {
        return vec![format!("{fragment}.config.system.build.toplevel")];
    }
    vec![format!("packages.{system}.{fragment}"), format!("legacyPackages.{system}.{fragment}"), fragment.to_owned()]
}

fn show_attr_paths(paths: &[String]) -> String {
    let q: Vec<String> = paths.iter().map(|p| format!("'{p}'")).collect();
    match q.len() {
        0 => String::new(),
        1 => q[0].clone(),
        n => format!("{} or {}", q[..n - 1].join(", "), q[n - 1]),
    }
}

/// Answers from the evaluation cache of a locked flake (when the `.drv` files the answer
/// names are still in the store), else runs `compute` and records what it printed.
fn with_eval_cache(
    ev: &mut Eval,
    opts: &FlakeOpts,
    installable: &str,
    key: &str,
    compute: impl FnOnce(&mut Eval, &mut dyn Write) -> Result<u8>,
) -> Result<u8> {
    use nix_flake::eval_cache::{drv_paths_in, Answer, EvalCache};
    let cache = if opts.no_eval_cache || opts.impure {
        None
    } else {
        let locked = lock(ev, opts, &parse_installable(installable)?.0)?;
        EvalCache::for_flake(&locked, &ev.settings.system)
    };
    let store = crate::run::open_store_url(opts.store.as_deref(), true).map_err(other)?.store;
    if let Some(a) = cache.as_ref().and_then(|c| c.get(key)) {
        if opts.dry_run || a.paths.iter().all(|p| store.exists(p)) {
            let _ = std::io::stdout().lock().write_all(&a.output);
            return Ok(0);
        }
    }
    let mut buf = Vec::new();
    let result = compute(ev, &mut buf);
    let _ = std::io::stdout().lock().write_all(&buf);
    if let (Ok(0), Some(c)) = (&result, &cache) {
        c.put(key, &Answer { paths: drv_paths_in(&buf), output: buf });
    }
    result
}

fn build_or_eval(ev: &mut Eval, opts: &FlakeOpts, installable: &str, out: &mut dyn Write) -> Result<u8> {
    let (r, fragment) = parse_installable(installable)?;
    let locked = lock(ev, opts, &r)?;
    let outs = outputs(ev, &locked)?;
    let system = ev.settings.system.clone();
    let paths = attr_paths(opts.cmd, &fragment, &system);
    let mut found = None;
    for p in &paths {
        if let Found::Value(v) = select(ev, &outs, &nix_flake::attr_path::split_attr_path(p))? {
            found = Some(v);
            break;
        }
    }
    let Some(v) = found else {
        return Err(other(format!("flake '{r}' does not provide attribute {}", show_attr_paths(&paths))));
    };
    if opts.cmd == Cmd::Eval {
        let v = ev.force_deep(&v)?;
        if opts.json {
            let s = nix_builtins::json::to_json_string(ev, &v, Pos::NONE, true)?;
            let _ = write!(out, "{s}");
        } else if opts.raw {
            let s = ev.coerce_to_string(&v, Pos::NONE, CoerceOpts::NO_COPY)?;
            let _ = out.write_all(s.as_bytes());
        } else {
            let _ = writeln!(out, "{}", print::to_string(&v));
        }
        return Ok(0);
    }
    let drv = drv_path_of(ev, &v)?;
    let _ = writeln!(out, "{drv}");
    Ok(0)
}

/// The `drvPath` of a derivation value (writing its closure when the store writes).
pub fn drv_path_of(ev: &mut Eval, v: &Value) -> Result<String> {
    let v = ev.force(v)?;
    let Value::Attrs(a) = &v else {
        return Err(other(format!("expected a derivation but got {}", v.ty().describe())));
    };
    if !ev.is_derivation(a)? {
        return Err(other("expected a derivation but got a set".into()));
    }
    let d = a.get(Symbol::new("drvPath")).cloned().unwrap_or(Value::Null);
    let d = ev.force(&d)?;
    Ok(ev.coerce_to_string(&d, Pos::NONE, CoerceOpts::NO_COPY)?.to_str_lossy().into_owned())
}

fn metadata(ev: &mut Eval, opts: &FlakeOpts, installable: &str) -> Result<u8> {
    let (r, _) = parse_installable(installable)?;
    let locked = lock(ev, opts, &r)?;
    let f = &locked.flake;
    let input = &f.locked_ref.input;
    let rev = input.get_rev().ok().flatten();
    let rev_count = input.get_rev_count().ok().flatten();
    let last_modified = input.get_last_modified().ok().flatten();
    let mut out = std::io::stdout().lock();
    if opts.json {
        let mut j = serde_json::Map::new();
        if let Some(d) = &f.description {
            j.insert("description".into(), d.as_str().into());
        }
        j.insert("originalUrl".into(), f.original_ref.to_string().into());
        j.insert("original".into(), serde_json::Value::Object(f.original_ref.to_json()));
        j.insert("resolvedUrl".into(), f.resolved_ref.to_string().into());
        j.insert("resolved".into(), serde_json::Value::Object(f.resolved_ref.to_json()));
        j.insert("url".into(), f.locked_ref.to_string().into());
        j.insert("locked".into(), serde_json::Value::Object(f.locked_ref.to_json()));
        if let Some(rev) = &rev {
            j.insert("revision".into(), rev.as_str().into());
        }
        if let Some(n) = rev_count {
            j.insert("revCount".into(), n.into());
        }
        if let Some(n) = last_modified {
            j.insert("lastModified".into(), n.into());
        }
        j.insert("path".into(), f.source.store_path.as_str().into());
        j.insert("locks".into(), locked.lock_file.to_json());
        let _ = writeln!(out, "{}", nix_flake::json::to_compact(&serde_json::Value::Object(j)));
        return Ok(0);
    }
    let b = |s: &str| format!("\x1b[1m{s}\x1b[0m");
    let _ = writeln!(out, "{}  {}", b("Resolved URL:"), f.resolved_ref);
    let _ = writeln!(out, "{}    {}", b("Locked URL:"), f.locked_ref);
    if let Some(d) = &f.description {
        let _ = writeln!(out, "{}   {d}", b("Description:"));
    }
    let _ = writeln!(out, "{}          {}", b("Path:"), f.source.store_path);
    if let Some(rev) = &rev {
        let _ = writeln!(out, "{}      {rev}", b("Revision:"));
    }
    if let Some(n) = rev_count {
        let _ = writeln!(out, "{}     {n}", b("Revisions:"));
    }
    if let Some(t) = last_modified {
        let d = nix_flake::source_info::last_modified_date(t);
        let _ = writeln!(
            out,
            "{} {}-{}-{} {}:{}:{}",
            b("Last modified:"),
            &d[0..4],
            &d[4..6],
            &d[6..8],
            &d[8..10],
            &d[10..12],
            &d[12..14]
        );
    }
    let lf = &locked.lock_file;
    if !lf.node(nix_flake::lockfile::LockFile::ROOT).inputs.is_empty() {
        let _ = writeln!(out, "{}", b("Inputs:"));
    }
    let mut visited = BTreeSet::from([nix_flake::lockfile::LockFile::ROOT]);
    print_inputs(&mut out, lf, nix_flake::lockfile::LockFile::ROOT, "", &mut visited);
    Ok(0)
}

fn print_inputs(
    out: &mut impl Write,
    lf: &nix_flake::lockfile::LockFile,
    node: usize,
    prefix: &str,
    visited: &mut BTreeSet<usize>,
) {
    use nix_flake::lockfile::Edge;
    let inputs = &lf.node(node).inputs;
    for (i, (name, edge)) in inputs.iter().enumerate() {
        let last = i + 1 == inputs.len();
        let conn = if last { "└───" } else { "├───" };
        match edge {
            Edge::Node(n) => {
                let url = lf.node(*n).locked.as_ref().map(|l| l.locked.to_string()).unwrap_or_default();
                let _ = writeln!(out, "{prefix}{conn}\x1b[1m{name}\x1b[0m: {url}");
                if visited.insert(*n) {
                    let next = format!("{prefix}{}", if last { "    " } else { "│   " });
                    print_inputs(out, lf, *n, &next, visited);
                }
            }
            Edge::Follows(p) => {
                let _ = writeln!(out, "{prefix}{conn}\x1b[1m{name} follows input '{}'\x1b[0m", p.join("/"));
            }
        }
    }
}
