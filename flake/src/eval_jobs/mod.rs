//! `rnix-eval eval-jobs`: evaluate every job of an attribute set in worker processes and
//! print one JSON line per job as it finishes, compatible with `nix-eval-jobs`.
//!
//! Why processes: evaluation is single-threaded (thunks are shared), so independent roots
//! (each `nixosConfigurations` host, each package) scale out only as separate evaluators;
//! a process also contains a crash or a memory blow-up, which is reported for its
//! attribute while the run goes on, and is replaced before its memory would pass
//! `--max-memory-size`.
//!
//! - [`options`]: the command line (nix-eval-jobs' flags, plus `--shard I/N`);
//! - [`collector`]: the parent: a queue of attribute paths, one thread per worker, output;
//! - [`pool`]: worker processes of this binary, also used by `flake check`/`flake show -j N`;
//! - [`memory`]: keeping each worker under `--max-memory-size` (predicted growth, a guard
//!   during a job, the limit checked after it);
//! - [`worker`]: the hidden `eval-jobs --worker` mode, speaking [`protocol`] over
//!   stdin/stdout;
//! - [`session`]: evaluator, store, flake and attribute selection for a worker (to be
//!   folded into the library `Session`);
//! - [`job`]: what a value is for the walk (a job, a set to recurse into, nothing).

pub mod collector;
pub mod job;
pub mod memory;
pub mod options;
pub mod pool;
pub mod protocol;
pub mod session;
pub mod worker;

use clap::Parser;

/// Runs `eval-jobs` with the arguments after the subcommand name; the exit status.
pub fn main(args: Vec<String>) -> u8 {
    let argv = std::iter::once("rnix-eval eval-jobs".to_owned()).chain(args.iter().cloned());
    let opts = match options::Options::try_parse_from(argv) {
        Ok(o) => o,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    if let Err(msg) = opts.check() {
        eprintln!("error: {msg}");
        return 1;
    }
    if opts.worker {
        worker::main(&opts)
    } else {
        collector::main(&opts, &args)
    }
}
