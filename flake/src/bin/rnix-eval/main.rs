//! `rnix-eval`: the command line. Subcommands: `instantiate` (a drop-in for
//! `nix-instantiate`), `eval`, and the flake commands (`rnix-eval INSTALLABLE`, `eval
//! INSTALLABLE`, `flake metadata|show|check|lock|update`, see `flake_cmd`).
//! Evaluation runs on a thread with a large stack; deep recursion ends in an error, never
//! a crash.

mod alloc;
mod args;
mod check;
mod diag_opts;
mod flake_cmd;
mod prefault;
mod run;
mod show;

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: alloc::Allocator = alloc::Allocator;

/// Native stack for the evaluation thread; memory is committed only as it is used.
const EVAL_STACK: usize = 1 << 30;
/// Stack kept free below the evaluator's guard for builtins and printing.
const STACK_MARGIN: usize = 16 << 20;

fn main() -> ExitCode {
    alloc::tune();
    prefault::start();
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
