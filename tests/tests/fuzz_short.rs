//! A short, fixed-seed fuzz run (`rnix_tests::fuzz`) as part of the test
//! suite: generated and mutated programs through `rnix-eval instantiate
//! --parse` and `--eval --strict`; the test fails listing every distinct
//! finding (panic, signal, timeout, memory limit) with its minimised input.
//!
//! Knobs (environment): `FUZZ_SHORT_CASES` (default 1500), `FUZZ_SHORT_SEED`
//! (default 20261206), `RNIX_TEST_JOBS` (default 2). Longer runs: the `fuzz`
//! binary (see the README).

use std::time::Duration;

use rnix_tests::fuzz::{self, exec::Limits, Config};
use rnix_tests::paths;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[test]
fn fuzz_short_run_finds_nothing() {
    let cfg = Config {
        bin: paths::rnix_eval_for_tests(),
        reference: paths::reference_nix_instantiate(),
        seed: env_u64("FUZZ_SHORT_SEED", 20261206),
        cases: Some(env_u64("FUZZ_SHORT_CASES", 1500)),
        duration: None,
        jobs: env_u64("RNIX_TEST_JOBS", 2).max(1) as usize,
        limits: Limits { timeout: Duration::from_secs(10), memory: 1 << 30 },
        out: None,
        minimize: true,
        progress: Some(Duration::from_secs(30)),
    };
    let report = fuzz::run(&cfg);
    let text = report.render();
    println!("{text}");
    assert!(report.stats.cases > 0, "no case ran");
    assert!(
        report.findings.is_empty(),
        "{text}\nreproduce: cargo run --release -p rnix-tests --bin fuzz -- --seed {} --cases {} --out fuzz-out",
        cfg.seed,
        cfg.cases.unwrap_or(0)
    );
}
