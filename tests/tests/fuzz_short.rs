//! A short, fixed-seed fuzz run (`rnix_tests::fuzz`) as part of the test
//! suite: generated and mutated programs through `rnix-eval instantiate
//! --parse` and `--eval --strict`; the test fails listing every distinct
//! finding (panic, signal, timeout, memory limit) with its minimised input,
//! except those listed in `tests/fuzz-known-findings.txt` -- and fails when
//! a listed one no longer occurs, so that list stays exact.
//!
//! Knobs (environment): `FUZZ_SHORT_CASES` (default 3000), `FUZZ_SHORT_SEED`
//! (default 20261206), `RNIX_TEST_JOBS` (default 2). Longer runs: the `fuzz`
//! binary (see the README).

use std::time::Duration;

use rnix_tests::fuzz::{self, exec::Limits, known, Config};
use rnix_tests::paths;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[test]
fn fuzz_short_run_finds_nothing_new() {
    let known = known::read(&known::file()).unwrap_or_else(|e| panic!("{e}"));
    let cfg = Config {
        bin: paths::rnix_eval_for_tests(),
        reference: paths::reference_nix_instantiate(),
        seed: env_u64("FUZZ_SHORT_SEED", 20261206),
        cases: Some(env_u64("FUZZ_SHORT_CASES", 3000)),
        duration: None,
        jobs: env_u64("RNIX_TEST_JOBS", 2).max(1) as usize,
        limits: Limits { timeout: Duration::from_secs(10), memory: fuzz::exec::DEFAULT_MEMORY_MIB << 20 },
        out: None,
        minimize: true,
        known: known.clone(),
        progress: Some(Duration::from_secs(30)),
    };
    let report = fuzz::run(&cfg);
    let text = report.render();
    println!("{text}");
    assert!(report.stats.cases > 0, "no case ran");
    let new: Vec<&fuzz::Finding> = report.findings.iter().filter(|f| !known.iter().any(|k| k.matches(f))).collect();
    let gone: Vec<&known::Known> = known.iter().filter(|k| !report.findings.iter().any(|f| k.matches(f))).collect();
    let mut problems = String::new();
    for f in &new {
        problems.push_str(&format!("  NEW: {}\n", f.summary()));
    }
    // Only a run with the default seed and size must meet the listed ones.
    let default_run = std::env::var_os("FUZZ_SHORT_SEED").is_none() && std::env::var_os("FUZZ_SHORT_CASES").is_none();
    for k in gone.iter().filter(|_| default_run) {
        problems.push_str(&format!(
            "  GONE (remove it from tests/fuzz-known-findings.txt): {} | {} | {}\n",
            k.signature, k.mode, k.input
        ));
    }
    assert!(
        problems.is_empty(),
        "{problems}\n{text}\nreproduce: cargo run --release -p rnix-tests --bin fuzz -- --seed {} --cases {} --out fuzz-out",
        cfg.seed,
        cfg.cases.unwrap_or(0)
    );
}
