//! `rnix-eval eval-jobs …`: evaluating many jobs in parallel (arrives with
//! `flake/src/eval_jobs/`; this stub keeps the command's place in the argument parser).

/// Runs `eval-jobs` with its raw arguments; the exit code.
pub fn eval_jobs(args: Vec<String>) -> u8 {
    let _ = args;
    eprintln!("not yet");
    1
}
