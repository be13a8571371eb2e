//! `fuzz`: grammar-aware and mutation fuzzing of `rnix-eval` on stable Rust.
//!
//!     cargo run --release -p rnix-tests --bin fuzz -- --seed 1 --seconds 3600 -j 2 --out fuzz-out
//!
//! See `rnix_tests::fuzz` for what a case is and what counts as a finding.
//! Exit status: 0 without new findings (those not in
//! `tests/fuzz-known-findings.txt`), 1 with, 2 on bad usage.

use std::path::PathBuf;
use std::time::Duration;

use rnix_tests::fuzz::{self, exec::Limits, Config};
use rnix_tests::paths;

const USAGE: &str = "usage: fuzz [--seed N] [--seconds N] [--cases N] [-j N] [--out DIR] [--bin PATH]
            [--timeout SECS] [--memory-mib N] [--no-minimize] [--no-reference]
  --seed N        seed of the run (default 1); case K of seed N is always the same input
  --seconds N     stop starting cases after N seconds
  --cases N       stop after N cases (default 1000 when neither limit is given)
  -j N            parallel children (default 1)
  --out DIR       write each distinct finding (minimised input, original, description) here
  --bin PATH      the rnix-eval binary (default: as the tests find it)
  --timeout SECS  CPU time per child run (default 10; wall-clock time at most 4x)
  --memory-mib N  resident memory limit per child run (default 1536: the evaluator's stack alone may take 1 GiB)
  --no-minimize   report findings as found, without shrinking them
  --no-reference  do not ask nix-instantiate whether it times out too
  --print-cases   print the inputs of the cases (--cases N, default 20) instead of running them";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let print = args.iter().any(|a| a == "--print-cases");
    let args = args.into_iter().filter(|a| a != "--print-cases").collect();
    match parse_args(args) {
        Ok(cfg) if print => print_cases(&cfg),
        Ok(cfg) => {
            eprintln!(
                "fuzz: {} (seed {}, {} job(s), limits {}s / {} MiB)",
                cfg.bin.display(),
                cfg.seed,
                cfg.jobs,
                cfg.limits.timeout.as_secs(),
                cfg.limits.memory >> 20
            );
            let report = fuzz::run(&cfg);
            print!("{}", report.render());
            let mut new = 0;
            for f in &report.findings {
                match cfg.known.iter().find(|k| k.matches(f)) {
                    Some(k) => println!("known (tests/fuzz-known-findings.txt: {}): {}", k.input, f.signature),
                    None => new += 1,
                }
            }
            println!("{new} new finding(s)");
            std::process::exit(if new == 0 { 0 } else { 1 });
        }
        Err(e) => {
            eprintln!("fuzz: {e}\n{USAGE}");
            std::process::exit(2);
        }
    }
}

/// Show what the cases of a seed are, without running them.
fn print_cases(cfg: &Config) {
    let seeds = fuzz::Seeds::discover();
    let builtins = fuzz::builtin_names(&cfg.bin);
    for index in 0..cfg.cases.unwrap_or(20) {
        let case = fuzz::make_case(cfg.seed, index, &seeds, &builtins);
        println!("=== case {index} ({}, {}) ===", case.origin, case.eval_mode.command_line("case.nix"));
        println!("{}", String::from_utf8_lossy(&case.input));
    }
}

fn parse_args(args: Vec<String>) -> Result<Config, String> {
    let mut seed = 1u64;
    let mut seconds = None;
    let mut cases = None;
    let mut jobs = 1usize;
    let mut out = None;
    let mut bin = None;
    let mut timeout = 10u64;
    let mut memory_mib = fuzz::exec::DEFAULT_MEMORY_MIB;
    let mut minimize = true;
    let mut reference = true;
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        let number = |name: &str, v: String| v.parse::<u64>().map_err(|_| format!("{name}: not a number: {v}"));
        match a.as_str() {
            "--seed" => seed = number("--seed", value("--seed")?)?,
            "--seconds" => seconds = Some(number("--seconds", value("--seconds")?)?),
            "--cases" => cases = Some(number("--cases", value("--cases")?)?),
            "-j" | "--jobs" => jobs = number("-j", value("-j")?)?.max(1) as usize,
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--bin" => bin = Some(PathBuf::from(value("--bin")?)),
            "--timeout" => timeout = number("--timeout", value("--timeout")?)?.max(1),
            "--memory-mib" => memory_mib = number("--memory-mib", value("--memory-mib")?)?.max(16),
            "--no-minimize" => minimize = false,
            "--no-reference" => reference = false,
            "-h" | "--help" => return Err("help".into()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if seconds.is_none() && cases.is_none() {
        cases = Some(1000);
    }
    let bin = paths::find_rnix_eval(bin.as_deref())?;
    Ok(Config {
        bin,
        reference: if reference { paths::reference_nix_instantiate() } else { None },
        seed,
        cases,
        duration: seconds.map(Duration::from_secs),
        jobs,
        limits: Limits { timeout: Duration::from_secs(timeout), memory: memory_mib << 20 },
        out,
        minimize,
        known: fuzz::known::read(&fuzz::known::file())?,
        progress: Some(Duration::from_secs(60)),
    })
}
