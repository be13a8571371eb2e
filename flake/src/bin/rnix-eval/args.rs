//! From the parsed command line ([`crate::cli`]) to what the commands run with: the
//! session's options ([`SessionOptions`]) and each command's own ([`RunOptions`] for
//! `instantiate` and file/expression `eval`, [`FlakeOpts`] for the flake commands).

use crate::cli::{ErrorFormatArg, EvalCommonArgs, GlobalArgs, LockArgs};
use nix_flake::cli::attr_path::AutoArg;
use nix_flake::cli::installable::input_path;
use nix_flake::cli::{settings, ErrorFormat, SessionOptions};
use nix_flake::eval::LockFlags;
use nix_flake::flakeref::{FlakeRef, ParseOptions};

/// What `instantiate` (and `eval` of files and expressions) does.
#[derive(Default, Debug, PartialEq, Eq, Clone, Copy)]
pub enum Mode {
    /// Print the .drv paths of the derivations found.
    #[default]
    Instantiate,
    /// Print values, `nix-instantiate --eval` style.
    EvalInstantiate,
    /// Print values, `nix eval` style (`--raw` copies paths, `--apply`).
    Eval,
    Parse,
    FindFile,
}

#[derive(Default, Debug)]
pub struct RunOptions {
    pub mode: Mode,
    pub strict: bool,
    pub json: bool,
    pub xml: bool,
    pub raw: bool,
    pub no_location: bool,
    pub exprs: Vec<String>,
    pub files: Vec<String>,
    pub attr_paths: Vec<String>,
    pub auto_args: Vec<(String, AutoArg)>,
    pub apply: Option<String>,
    pub add_root: Option<String>,
}

/// What a flake command needs beyond the session.
#[derive(Debug, Default)]
pub struct FlakeOpts {
    pub json: bool,
    pub raw: bool,
    pub legacy: bool,
    pub no_build: bool,
    pub apply: Option<String>,
    pub lock: LockFlags,
    /// `--no-eval-cache`: evaluate even when the evaluation cache has the answer.
    pub no_eval_cache: bool,
    pub error_format: ErrorFormat,
    /// `flake check`/`flake show`: worker processes, shard, worker mode.
    pub pool: PoolOpts,
}

/// `-j N`, `--shard I/N` and the hidden `--worker` of `flake check`/`flake show`.
#[derive(Debug, Default, Clone, Copy)]
pub struct PoolOpts {
    /// Worker processes; 0 or 1: evaluate in this process.
    pub jobs: usize,
    pub shard: Option<nix_flake::eval_jobs::options::Shard>,
    /// This process is a worker of another `flake check`/`flake show`.
    pub worker: bool,
}

/// The session options every command shares, from the global options.
pub fn session_options(g: &GlobalArgs) -> SessionOptions {
    let mut o = SessionOptions {
        store: g.store.clone(),
        show_trace: g.show_trace && !g.no_show_trace,
        system: g.system.clone(),
        global_registry: g.flake_registry.as_ref().map(Into::into),
        accept_flake_config: g.accept_flake_config,
        eval_read_only: g.dry_run,
        verbosity: i32::from(g.verbose) - i32::from(g.quiet),
        error_format: match g.error_format {
            ErrorFormatArg::Text => ErrorFormat::Text,
            ErrorFormatArg::Json => ErrorFormat::Json,
            ErrorFormatArg::Rich => ErrorFormat::Rich,
        },
        ..SessionOptions::default()
    };
    for f in g.experimental_features.iter().chain(&g.extra_experimental_features) {
        o.experimental.extend(f.split_whitespace().map(String::from));
    }
    for pair in g.option.chunks(2) {
        if let [name, value] = pair {
            if !settings::apply(&mut o, name, value) {
                eprintln!("warning: unknown setting '{name}'");
            }
        }
    }
    o
}

/// Applies the evaluation options of `instantiate`/`eval` to `o`.
fn apply_common(o: &mut SessionOptions, c: &EvalCommonArgs) {
    o.includes = c.include.clone();
    if c.pure_eval {
        o.pure = true;
    }
    if c.no_pure_eval {
        o.pure = false;
    }
    o.restrict |= c.restrict_eval;
    if c.no_restrict_eval {
        o.restrict = false;
    }
    if let Some(u) = &c.allowed_uris {
        o.allowed_uris = u.split_whitespace().map(String::from).collect();
    }
    if c.max_call_depth.is_some() {
        o.max_call_depth = c.max_call_depth;
    }
    o.trace_function_calls |= c.trace_function_calls;
    for (name, level) in [
        ("absolute-path-literals", &c.lint_absolute_path_literals),
        ("short-path-literals", &c.lint_short_path_literals),
        ("url-literals", &c.lint_url_literals),
    ] {
        if let Some(l) = level {
            o.lints.push((name.to_owned(), l.clone()));
        }
    }
}

/// The auto-arguments in command-line order (`order` from [`crate::cli::Parsed`]).
fn auto_args(c: &EvalCommonArgs, order: &[(usize, &'static str)]) -> Result<Vec<(String, AutoArg)>, String> {
    let mut next = std::collections::HashMap::<&str, usize>::new();
    let mut out = Vec::new();
    for (_, id) in order {
        let k = next.entry(id).or_default();
        let values = match *id {
            "arg" => &c.arg,
            "argstr" => &c.argstr,
            _ => &c.arg_from_file,
        };
        let (Some(name), Some(v)) = (values.get(*k * 2), values.get(*k * 2 + 1)) else { continue };
        *k += 1;
        let a = match *id {
            "arg" => AutoArg::Expr(v.clone()),
            "argstr" => AutoArg::Str(v.clone()),
            _ => {
                AutoArg::Str(std::fs::read_to_string(v).map_err(|e| format!("reading '{v}' for --arg-from-file: {e}"))?)
            }
        };
        out.push((name.clone(), a));
    }
    Ok(out)
}

/// `instantiate`'s options; `o` gets the evaluation settings.
pub fn instantiate(
    o: &mut SessionOptions,
    a: &crate::cli::InstantiateArgs,
    order: &[(usize, &'static str)],
) -> Result<RunOptions, String> {
    let c = &a.common;
    apply_common(o, c);
    let mode = if a.find_file {
        Mode::FindFile
    } else if a.parse {
        Mode::Parse
    } else if a.eval {
        Mode::EvalInstantiate
    } else {
        Mode::Instantiate
    };
    // `--eval` and `--parse` write nothing unless `--read-write-mode`, as in the reference.
    o.eval_read_only |= c.readonly_mode || (matches!(mode, Mode::EvalInstantiate | Mode::Parse) && !c.read_write_mode);
    let (exprs, files) = if a.expr { (a.files.clone(), Vec::new()) } else { (Vec::new(), a.files.clone()) };
    Ok(RunOptions {
        mode,
        strict: c.strict,
        json: c.json,
        xml: c.xml,
        raw: c.raw,
        no_location: a.no_location && !a.location,
        exprs,
        files,
        attr_paths: c.attr.clone(),
        auto_args: auto_args(c, order)?,
        apply: None,
        add_root: a.add_root.clone(),
    })
}

/// `eval` of expressions or files (`--expr`, `--file`, or installables naming files).
pub fn eval_files(
    o: &mut SessionOptions,
    a: &crate::cli::EvalArgs,
    order: &[(usize, &'static str)],
    impure: bool,
) -> Result<RunOptions, String> {
    let c = &a.common;
    apply_common(o, c);
    if !o.has_feature("flakes") {
        o.experimental.push("flakes".into());
    }
    o.eval_read_only |= a.read_only || c.readonly_mode;
    let mut r = RunOptions {
        mode: Mode::Eval,
        strict: c.strict,
        json: c.json,
        xml: c.xml,
        raw: c.raw,
        exprs: a.expr.clone(),
        files: a.file.clone(),
        attr_paths: c.attr.clone(),
        auto_args: auto_args(c, order)?,
        apply: a.apply.clone(),
        ..RunOptions::default()
    };
    // Installables are attribute paths in the `--expr`/`--file`, else files.
    if !r.exprs.is_empty() || !r.files.is_empty() {
        r.attr_paths.extend(a.installables.iter().cloned());
    } else {
        r.files.extend(a.installables.iter().cloned());
    }
    // `nix eval`: `--expr` is evaluated purely unless `--impure`, `--file` is not (2.8).
    if r.files.is_empty() && !impure && !c.no_pure_eval {
        o.pure = true;
    }
    Ok(r)
}

/// Flake commands: flakes on, pure unless `--impure`, lock flags from `l`.
pub fn flake(o: &mut SessionOptions, impure: bool, l: &LockArgs) -> Result<FlakeOpts, String> {
    for f in ["nix-command", "flakes"] {
        if !o.has_feature(f) {
            o.experimental.push(f.into());
        }
    }
    o.pure = !impure;
    // Fetched trees go to the store even with `--dry-run`, which only stops `.drv` writes.
    o.fetch_writes = true;
    let mut lock = LockFlags::default();
    if l.no_write_lock_file {
        lock.write_lock_file = false;
    }
    if l.no_update_lock_file {
        lock.update_lock_file = false;
    }
    lock.recreate_lock_file |= l.recreate_lock_file;
    lock.commit_lock_file = l.commit_lock_file;
    lock.commit_lock_file_summary = o.commit_lock_file_summary.clone().unwrap_or_default();
    if l.no_registries {
        lock.use_registries = false;
    }
    let base = nix_flake::cli::session::cwd();
    for pair in l.override_input.chunks(2) {
        if let [name, r] = pair {
            let fr = FlakeRef::parse(r, ParseOptions { base_dir: Some(&base), allow_missing: true, is_flake: true })
                .map_err(|e| e.message().to_owned())?;
            lock.input_overrides.insert(input_path(name), fr);
        }
    }
    for u in &l.update_input {
        lock.input_updates.insert(input_path(u));
    }
    Ok(FlakeOpts { lock, no_eval_cache: l.no_eval_cache, error_format: o.error_format, ..FlakeOpts::default() })
}

/// Whether `eval`'s command line names files rather than a flake installable.
pub fn eval_is_files(a: &crate::cli::EvalArgs) -> bool {
    !a.expr.is_empty()
        || !a.file.is_empty()
        || a.installables.iter().any(|p| p == "-" || std::path::Path::new(p).is_file())
}
