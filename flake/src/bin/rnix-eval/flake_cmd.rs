//! The flake commands: `rnix-eval [--store DIR] [--dry-run] INSTALLABLE` (like `nix build`,
//! printing the drv path), `eval INSTALLABLE`, `flake metadata|show|check|lock|update`.
//!
//! Evaluation is pure unless `--impure`; fetched trees go to the store (`--store`, or
//! `auto`) even with `--dry-run`, which only stops `.drv` writes.

use std::collections::BTreeSet;
use std::io::Write;

use crate::args::{FlakeOpts, Mode, RunOptions};
use nix_eval::error::{ErrorKind, EvalError, Result};
use nix_eval::source::{Origin, Pos};
use nix_eval::Eval;
use nix_flake::cli::installable::{self, select_installable, Purpose};
use nix_flake::cli::session::{cwd, open_store_url};
use nix_flake::cli::Session;
use nix_flake::eval::{lock_flake, LockedFlake};
use nix_flake::flakeref::FlakeRef;

pub use nix_flake::cli::installable::{drv_path_of, outputs};

/// Which flake command runs.
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

/// Runs flake command `cmd` on `target` (an installable, a flake, or for `update` the
/// inputs to update) with an opened session; the exit code.
pub fn main(mut session: Session, cmd: Cmd, opts: FlakeOpts, target: Vec<String>) -> u8 {
    let show_trace = session.options.show_trace;
    let format = session.options.error_format;
    let mut code = match run(&mut session, cmd, &opts, &target) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", nix_flake::cli::session::render_error(&e, show_trace, format));
            1
        }
    };
    // The store writes in the background: wait for it, and fail on a write that failed.
    if !session.flush_store_or_report() {
        code = 1;
    }
    code
}

fn other(msg: String) -> Box<EvalError> {
    EvalError::new(ErrorKind::Other, msg)
}

thread_local! {
    /// Installables whose notices were printed, and the flakes locked so far: a command
    /// that parses an installable or locks its flake twice (the evaluation cache's
    /// fingerprint, then the evaluation) prints the notices and lock warnings once.
    static SEEN_INSTALLABLES: std::cell::RefCell<BTreeSet<String>> = const { std::cell::RefCell::new(BTreeSet::new()) };
    static LOCKED: std::cell::RefCell<Vec<(String, LockedFlake)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The flake reference (and fragment) of an installable, relative to the working directory.
pub fn parse_installable(s: &str) -> Result<(FlakeRef, String)> {
    let p = installable::parse_installable(s, &cwd())?;
    if SEEN_INSTALLABLES.with(|seen| seen.borrow_mut().insert(s.to_owned())) {
        for n in &p.notices {
            eprintln!("{n}");
        }
    }
    Ok((p.flake_ref, p.fragment))
}

/// Locks the flake of `flake_ref` with the command's flags (once per process and flake).
pub fn lock(ev: &mut Eval, opts: &FlakeOpts, flake_ref: &FlakeRef) -> Result<LockedFlake> {
    let key = flake_ref.to_string();
    if let Some(l) = LOCKED.with(|l| l.borrow().iter().find(|(k, _)| *k == key).map(|(_, f)| f.clone())) {
        return Ok(l);
    }
    let locked = lock_flake(ev, flake_ref, &opts.lock)?;
    LOCKED.with(|l| l.borrow_mut().push((key, locked.clone())));
    Ok(locked)
}

fn run(session: &mut Session, cmd: Cmd, opts: &FlakeOpts, target: &[String]) -> Result<u8> {
    let installable = target.first().map(String::as_str).unwrap_or(".");
    let accept_config = session.options.accept_flake_config;
    let cache = CacheUse {
        // A worker answers its parent, which used the cache already.
        enabled: !opts.no_eval_cache && session.options.pure && !opts.pool.worker,
        store: session.options.store.clone(),
        dry_run: session.options.eval_read_only,
    };
    let ev = &mut session.ev;
    match cmd {
        Cmd::Build | Cmd::Eval => {
            let key =
                format!("{cmd:?}\0{}\0{}\0{}\0{installable}", opts.json, opts.raw, opts.apply.as_deref().unwrap_or(""));
            with_eval_cache(ev, opts, &cache, installable, &key, |ev, out| {
                build_or_eval(ev, cmd, opts, installable, accept_config, out)
            })
        }
        Cmd::Metadata => metadata(ev, opts, installable),
        Cmd::Show => {
            let key = format!("show\0{}\0{}", opts.json, opts.legacy);
            with_eval_cache(ev, opts, &cache, installable, &key, |ev, out| {
                crate::show::show(ev, opts, installable, out)
            })
        }
        Cmd::Check => crate::check::check(ev, opts, installable),
        Cmd::Lock => {
            let (r, _) = parse_installable(installable)?;
            let mut flags = opts.lock.clone();
            flags.write_lock_file = true;
            lock_flake(ev, &r, &flags)?;
            Ok(0)
        }
        Cmd::Update => {
            let (r, _) = parse_installable(".")?;
            let mut flags = opts.lock.clone();
            flags.write_lock_file = true;
            if target.is_empty() {
                flags.recreate_lock_file = true;
            }
            for p in target {
                flags.input_updates.insert(installable::input_path(p));
            }
            lock_flake(ev, &r, &flags)?;
            Ok(0)
        }
    }
}

/// Whether and how a command may answer from the evaluation cache.
struct CacheUse {
    /// Pure evaluation without `--no-eval-cache`.
    enabled: bool,
    /// The store the cached `.drv` files must still be in.
    store: Option<String>,
    /// `--dry-run`: the `.drv` files were never written, so none need to exist.
    dry_run: bool,
}

/// Answers from the evaluation cache of a locked flake (when the `.drv` files the answer
/// names are still in the store), else runs `compute` and records what it printed.
fn with_eval_cache(
    ev: &mut Eval,
    opts: &FlakeOpts,
    cache_use: &CacheUse,
    installable: &str,
    key: &str,
    compute: impl FnOnce(&mut Eval, &mut dyn Write) -> Result<u8>,
) -> Result<u8> {
    use nix_flake::eval_cache::{drv_paths_in, Answer, EvalCache};
    let cache = if cache_use.enabled {
        let locked = lock(ev, opts, &parse_installable(installable)?.0)?;
        EvalCache::for_flake(&locked, &ev.settings.system)
    } else {
        None
    };
    if let Some(a) = cache.as_ref().and_then(|c| c.get(key)) {
        let (store, _) = open_store_url(cache_use.store.as_deref(), true).map_err(other)?;
        if cache_use.dry_run || a.paths.iter().all(|p| store.exists(p)) {
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

/// A flake's `nixConfig`, as 2.8 treats it without a terminal: the prompt settings apply,
/// the others are ignored with a warning unless `--accept-flake-config`.
fn apply_flake_config(locked: &LockedFlake, accept: bool) {
    let mut config = locked.flake.config.clone();
    config.sort();
    for (name, _) in &config {
        let whitelisted = ["bash-prompt", "bash-prompt-prefix", "bash-prompt-suffix", "flake-registry"];
        if !whitelisted.contains(&name.as_str()) && !accept {
            eprintln!("warning: ignoring untrusted flake configuration setting '{name}'");
        }
    }
}

fn build_or_eval(
    ev: &mut Eval,
    cmd: Cmd,
    opts: &FlakeOpts,
    installable: &str,
    accept_config: bool,
    out: &mut dyn Write,
) -> Result<u8> {
    let (r, fragment) = parse_installable(installable)?;
    let locked = lock(ev, opts, &r)?;
    apply_flake_config(&locked, accept_config);
    let outs = outputs(ev, &locked)?;
    let purpose = if cmd == Cmd::Eval { Purpose::Eval } else { Purpose::Build };
    let mut v = select_installable(ev, &outs, &r, purpose, &fragment)?;
    if cmd == Cmd::Eval {
        if let Some(f) = &opts.apply {
            let f = ev.eval_text(f, Origin::String, &cwd())?;
            let f = ev.force(&f)?;
            v = ev.call(&f, v, Pos::NONE)?;
        }
        let printing = RunOptions { mode: Mode::Eval, json: opts.json, raw: opts.raw, ..RunOptions::default() };
        crate::run::print_eval(ev, &printing, &v, out)?;
        return Ok(0);
    }
    let drv = drv_path_of(ev, &v)?;
    let _ = writeln!(out, "{drv}");
    Ok(0)
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
    // 2.8 prints the header even when the flake has no inputs.
    let lf = &locked.lock_file;
    let _ = writeln!(out, "{}", b("Inputs:"));
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
