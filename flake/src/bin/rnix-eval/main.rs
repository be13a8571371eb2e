//! `rnix-eval`: the command line. Subcommands: `instantiate` (a drop-in for
//! `nix-instantiate`), `eval`, and the flake commands (`rnix-eval INSTALLABLE`, `eval
//! INSTALLABLE`, `flake metadata|show|check|lock|update`, see `flake_cmd`).
//! Evaluation runs on a thread with a large stack; deep recursion ends in an error, never
//! a crash.

mod args;
mod check;
mod flake_cmd;
mod run;
mod show;

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Native stack for the evaluation thread; memory is committed only as it is used.
const EVAL_STACK: usize = 1 << 30;
/// Stack kept free below the evaluator's guard for builtins and printing.
const STACK_MARGIN: usize = 16 << 20;

/// `mi_option_purge_delay` in mimalloc.h (not exported by libmimalloc-sys).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// An evaluation frees and reallocates millions of small objects in waves. By default
/// mimalloc hands freed pages back to the kernel after 10 ms, and the next wave faults
/// them in again as zeroed pages: on a NixOS desktop that was a quarter of the run time.
/// Keep freed memory in the process instead; peak RSS is unchanged.
fn tune_allocator() {
    // SAFETY: setting an option is a plain store into mimalloc's option table, done
    // before any other thread exists.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

fn main() -> ExitCode {
    tune_allocator();
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let result = std::thread::Builder::new()
        .name("eval".into())
        .stack_size(EVAL_STACK)
        .spawn(move || {
            nix_eval::set_stack_budget(EVAL_STACK - STACK_MARGIN);
            run::main(argv)
        })
        .expect("spawn evaluation thread")
        .join();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(_) => ExitCode::from(1),
    }
}
