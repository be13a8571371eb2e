//! Running `instantiate` and `eval` of files and expressions: evaluate each source, apply
//! the auto-arguments and attribute paths, print values or derivations.

use crate::args::{Mode, RunOptions};
use nix_eval::error::{ErrorKind, EvalError, Result};
use nix_eval::source::{Origin, Pos};
use nix_eval::{print, Eval, Value};
use nix_flake::cli::attr_path::{auto_args, find_along_attr_path};
use nix_flake::cli::derivations::collect_derivations;
use nix_flake::cli::session::{absolute, cwd, parent_dir};
use nix_flake::cli::Session;
use std::io::{Read, Write};
use std::path::Path;

/// Runs the command on an opened session; the exit code.
pub fn main(mut session: Session, opts: RunOptions) -> u8 {
    let started = std::time::Instant::now();
    let mut code = match run(&mut session.ev, &opts) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{}", session.render_error(&e));
            1
        }
    };
    // The store writes in the background: wait for it, and fail on a write that failed.
    let flush_started = std::time::Instant::now();
    if !session.flush_store_or_report() {
        code = 1;
    }
    let flush_time = flush_started.elapsed();
    if std::env::var_os("NIX_SHOW_STATS").is_some_and(|v| v != "0") {
        print_stats(&session.ev, started.elapsed(), flush_time);
    }
    // The process ends once the session is dropped (`main.rs`, `exit_now`).
    nix_builtins::store::leak_memos(&mut session.ev);
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

/// `<name>`: the path it names in the search path (2.8's `findFile`).
fn find_file(ev: &mut Eval, name: &str) -> Result<String> {
    let v = ev.eval_text(&format!("<{name}>"), Origin::String, &cwd())?;
    let v = ev.force(&v)?;
    Ok(ev.coerce_to_string(&v, Pos::NONE, nix_eval::CoerceOpts::NO_COPY)?.to_str_lossy().into_owned())
}

/// A file argument as the reference reads it (`lookupFileArg`): `<name>` from the search
/// path, else a path relative to the working directory.
fn file_arg(ev: &mut Eval, f: &str) -> Result<String> {
    match f.strip_prefix('<').and_then(|r| r.strip_suffix('>')) {
        Some(name) => find_file(ev, name),
        None => Ok(absolute(f)),
    }
}

fn run(ev: &mut Eval, opts: &RunOptions) -> Result<()> {
    match opts.mode {
        Mode::Parse => return parse_only(ev, opts),
        Mode::FindFile => {
            for f in &opts.files {
                let p = find_file(ev, f)?;
                println!("{p}");
            }
            return Ok(());
        }
        _ => {}
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
    let auto_args = auto_args(ev, &opts.auto_args, &cwd())?;
    let apply = match &opts.apply {
        Some(e) => Some(ev.eval_text(e, Origin::String, &cwd())?),
        None => None,
    };
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
            let path = file_arg(ev, &source)?;
            ev.import_file_arg(&path)?
        };
        for path in &paths {
            let mut v = find_along_attr_path(ev, &root, path, &auto_args)?;
            if let Some(f) = &apply {
                let f = ev.force(f)?;
                v = ev.call(&f, v, Pos::NONE)?;
            }
            match opts.mode {
                Mode::Eval => print_eval(ev, opts, &v, &mut out)?,
                Mode::EvalInstantiate => print_instantiate_eval(ev, opts, &v, &mut out)?,
                _ => {
                    let mut drvs = Vec::new();
                    collect_derivations(ev, &v, &auto_args, &mut drvs)?;
                    for d in drvs {
                        let shown = gc_root(ev, opts, &d.drv_path, &mut root_nr)?;
                        let _ = match d.output {
                            Some(o) => writeln!(out, "{shown}!{o}"),
                            None => writeln!(out, "{shown}"),
                        };
                    }
                }
            }
        }
    }
    Ok(())
}

/// `nix-instantiate --eval`: the value (forced deeply with `--strict`/`--json`).
fn print_instantiate_eval(ev: &mut Eval, opts: &RunOptions, v: &Value, out: &mut impl Write) -> Result<()> {
    let v = if opts.strict || opts.json { ev.force_deep(v)? } else { ev.force(v)? };
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
    Ok(())
}

/// `nix eval` (2.8 `CmdEval`): `--raw` coerces to a string (a derivation is its out path,
/// a path is copied to the store), `--json` prints JSON (likewise), otherwise the value
/// forced deeply.
pub fn print_eval(ev: &mut Eval, opts: &RunOptions, v: &Value, out: &mut dyn Write) -> Result<()> {
    if opts.raw {
        let s = ev.coerce_to_string(v, Pos::NONE, nix_eval::CoerceOpts::INTERP)?;
        let _ = out.write_all(s.as_bytes());
    } else if opts.json {
        // No newline after JSON, as 2.8.
        let s = nix_builtins::json::to_json_string(ev, v, Pos::NONE, true)?;
        let _ = write!(out, "{s}");
    } else if opts.xml {
        let v = ev.force_deep(v)?;
        let s = nix_builtins::xml::to_xml_string(ev, &v, !opts.no_location)?;
        let _ = writeln!(out, "{s}");
    } else {
        let v = ev.force_deep(v)?;
        let _ = writeln!(out, "{}", print::try_to_string(&v)?);
    }
    Ok(())
}

/// What `instantiate` prints for a derivation, as `nix-instantiate`: with `--add-root
/// PATH`, a GC root `PATH` (`PATH-2`, … for later ones) of the store (a local one or the
/// daemon's, also in read-only mode; none in `dummy://`), printed instead of the drv path;
/// without it, the warning that the result may be collected (once).
fn gc_root(ev: &mut Eval, opts: &RunOptions, drv_path: &str, root_nr: &mut usize) -> Result<String> {
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
    let mut name = absolute(root);
    if *root_nr > 1 {
        name = format!("{name}-{root_nr}");
    }
    let store = ev.ext::<nix_builtins::store::StoreState>().store.clone();
    match store.add_perm_root(drv_path, Path::new(&name)) {
        Ok(Some(root)) => Ok(root.display().to_string()),
        Ok(None) => Ok(drv_path.to_owned()),
        Err(e) => Err(EvalError::new(ErrorKind::Other, e.to_string())),
    }
}

fn parse_only(ev: &mut Eval, opts: &RunOptions) -> Result<()> {
    let mut texts = Vec::new();
    for e in &opts.exprs {
        texts.push((e.clone(), Origin::String, cwd()));
    }
    for f in &opts.files {
        if f == "-" {
            let mut text = String::new();
            let _ = std::io::stdin().read_to_string(&mut text);
            texts.push((text, Origin::Stdin, cwd()));
        } else {
            let p = file_arg(ev, f)?;
            let text = std::fs::read_to_string(&p)
                .map_err(|e| EvalError::new(ErrorKind::Other, format!("reading '{}': {}", p, e)))?;
            let dir = parent_dir(&p);
            texts.push((text, Origin::File(p), dir));
        }
    }
    for (text, origin, dir) in texts {
        println!("{}", ev.parse_to_string(&text, origin, &dir)?);
    }
    Ok(())
}
