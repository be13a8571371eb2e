//! `rnix-eval`: the command line. The main command `rnix-eval INSTALLABLE` prints a flake
//! output's .drv path; `instantiate` is a drop-in for `nix-instantiate`, `eval` for `nix
//! eval`, `flake metadata|show|check|lock|update` for the flake commands. Arguments are
//! parsed once (`cli`, clap), turned into a session's options (`args`), and the library's
//! `Session` is opened once for the command. Evaluation runs on a thread with a large
//! stack; deep recursion ends in an error, never a crash.
//!
//! Exit status: 0 on success, 1 on an error (evaluation or usage, as nix).

mod alloc;
mod args;
mod check;
mod cli;
mod flake_cmd;
mod legacy_argv;
mod prefault;
mod run;
mod show;

use cli::{Command, FlakeCommand};
use flake_cmd::Cmd;
use nix_flake::cli::{Session, SessionOptions};
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: alloc::Allocator = alloc::Allocator;

/// Native stack for the evaluation thread; memory is committed only as it is used.
const EVAL_STACK: usize = 1 << 30;
/// Stack kept free below the evaluator's guard for builtins and printing.
const STACK_MARGIN: usize = 16 << 20;

fn main() -> ExitCode {
    alloc::tune();
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match cli::parse(argv) {
        Ok(p) => p,
        // Usage errors as clap prints them, exit 1 as nix and nix-instantiate do (scripts
        // that tell their failures apart see the reference's status); `--help`/`--version` 0.
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 1 } else { 0 });
        }
    };
    prefault::start();
    let result = std::thread::Builder::new()
        .name("eval".into())
        .stack_size(EVAL_STACK)
        .spawn(move || {
            nix_eval::set_stack_budget(EVAL_STACK - STACK_MARGIN);
            let code = dispatch(parsed);
            exit_now(code)
        })
        .expect("spawn evaluation thread")
        .join();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(_) => ExitCode::from(1),
    }
}

/// Ends the process from the evaluation thread once the command is done: the session (and
/// with it every store, writer thread, lock and temporary root) has been dropped inside
/// [`dispatch`], so what is left is freeing memory. Returning would make the thread's exit
/// walk every page of its mimalloc heap to collect it (1.1% of the 20.09 container's run
/// in `perf`) before the kernel drops the whole address space anyway.
///
/// The profile-generating build of `bench/pgo-build` (`--cfg rnix_instrumented`) returns
/// instead: its profile is written by an exit handler, which `_exit` would skip.
fn exit_now(code: u8) -> u8 {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: `_exit` ends the process without running destructors or atexit handlers;
    // nothing is left that needs them (see above), and the standard streams are flushed.
    #[cfg(all(unix, not(rnix_instrumented)))]
    unsafe {
        libc::_exit(i32::from(code))
    }
    #[cfg(not(all(unix, not(rnix_instrumented))))]
    code
}

fn open(o: SessionOptions) -> Option<Session> {
    match Session::open(o) {
        Ok(s) => Some(s),
        Err(msg) => {
            eprintln!("error: {msg}");
            None
        }
    }
}

/// Runs the parsed command; the exit code.
fn dispatch(parsed: cli::Parsed) -> u8 {
    let cli::Parsed { cli, auto_args_order } = parsed;
    let mut o = args::session_options(&cli.global);
    let impure = cli.global.impure;
    let usage = |msg: String| {
        eprintln!("error: {msg}");
        1
    };
    match cli.command {
        Some(Command::Instantiate(a)) => {
            let r = match args::instantiate(&mut o, &a, &auto_args_order) {
                Ok(r) => r,
                Err(msg) => return usage(msg),
            };
            if impure {
                o.pure = false;
            }
            open(o).map_or(1, |s| run::main(s, r))
        }
        Some(Command::Eval(a)) if args::eval_is_files(&a) => {
            let r = match args::eval_files(&mut o, &a, &auto_args_order, impure) {
                Ok(r) => r,
                Err(msg) => return usage(msg),
            };
            if impure {
                o.pure = false;
            }
            open(o).map_or(1, |s| run::main(s, r))
        }
        Some(Command::Eval(a)) => {
            let mut f = match args::flake(&mut o, impure, &a.lock) {
                Ok(f) => f,
                Err(msg) => return usage(msg),
            };
            o.eval_read_only |= a.read_only;
            f.json = a.common.json;
            f.raw = a.common.raw;
            f.apply = a.apply.clone();
            open(o).map_or(1, |s| flake_cmd::main(s, Cmd::Eval, f, a.installables.clone()))
        }
        Some(Command::Build(b)) => build(o, impure, b),
        None => build(o, impure, cli.build),
        Some(Command::Flake(sub)) => {
            let mut pool = args::PoolOpts::default();
            let (cmd, lock, target, json, legacy, no_build) = match sub {
                FlakeCommand::Metadata(f) => (Cmd::Metadata, f.lock, f.flake, f.json, false, false),
                FlakeCommand::Show { flake, legacy, pool: p, .. } => {
                    pool = args::PoolOpts { jobs: p.jobs.unwrap_or(1), shard: None, worker: p.worker };
                    (Cmd::Show, flake.lock, flake.flake, flake.json, legacy, false)
                }
                FlakeCommand::Check { flake, no_build, pool: p, shard, .. } => {
                    pool = args::PoolOpts { jobs: p.jobs.unwrap_or(1), shard, worker: p.worker };
                    (Cmd::Check, flake.lock, flake.flake, flake.json, false, no_build)
                }
                FlakeCommand::Lock(f) => (Cmd::Lock, f.lock, f.flake, f.json, false, false),
                FlakeCommand::Update { inputs, lock } => {
                    let mut f = match args::flake(&mut o, impure, &lock) {
                        Ok(f) => f,
                        Err(msg) => return usage(msg),
                    };
                    f.error_format = o.error_format;
                    return open(o).map_or(1, |s| flake_cmd::main(s, Cmd::Update, f, inputs));
                }
            };
            let mut f = match args::flake(&mut o, impure, &lock) {
                Ok(f) => f,
                Err(msg) => return usage(msg),
            };
            f.json = json;
            f.legacy = legacy;
            f.no_build = no_build;
            f.pool = pool;
            open(o).map_or(1, |s| flake_cmd::main(s, cmd, f, target.into_iter().collect()))
        }
        Some(Command::Completions { shell }) => {
            cli::print_completions(shell);
            0
        }
        Some(Command::EvalJobs { args }) => {
            // Global options given before `eval-jobs` that it has too.
            let mut all = Vec::new();
            if let Some(store) = &cli.global.store {
                all.extend(["--store".to_owned(), store.clone()]);
            }
            if cli.global.show_trace && !cli.global.no_show_trace {
                all.push("--show-trace".to_owned());
            }
            if impure {
                all.push("--impure".to_owned());
            }
            all.extend(args);
            nix_flake::eval_jobs::main(all)
        }
    }
}

/// The main command (`rnix-eval INSTALLABLE`, `rnix-eval build INSTALLABLE`).
fn build(mut o: SessionOptions, impure: bool, b: cli::BuildArgs) -> u8 {
    let f = match args::flake(&mut o, impure, &b.lock) {
        Ok(f) => f,
        Err(msg) => {
            eprintln!("error: {msg}");
            return 1;
        }
    };
    open(o).map_or(1, |s| flake_cmd::main(s, Cmd::Build, f, b.installable.into_iter().collect()))
}
