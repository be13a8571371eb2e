//! Helpers for the integration tests (`tests/tests/*.rs`).

use crate::conformance::{
    discover_nix_test_corpus, discover_shared, filter_cases, run_cases, CaseResult, Category, Config,
};
use crate::paths;

/// The runner configuration for tests: binary from `RNIX_EVAL` or next to
/// the test executable (panics with instructions when absent).
pub fn config() -> Config {
    Config::new(paths::rnix_eval_for_tests())
}

/// Run every case of a shared-corpus category. Returns None (after printing
/// a clear note) when `../shared` is absent: such tests pass vacuously.
pub fn shared_results(cat: Category) -> Option<Vec<CaseResult>> {
    let Some(dir) = paths::conformance_dir() else {
        eprintln!("{}", paths::missing_shared_message());
        println!("{}", paths::missing_shared_message());
        return None;
    };
    let cfg = config();
    let cases = filter_cases(discover_shared(&dir), None, &[cat]);
    assert!(!cases.is_empty(), "no {} cases found in {}/lang", cat.name(), dir.display());
    Some(run_cases(&cfg, &cases))
}

/// Run every case of nix-test-corpus/ (always available).
pub fn nix_test_corpus_results() -> Vec<CaseResult> {
    let cfg = config();
    let cases = discover_nix_test_corpus(&paths::nix_test_corpus_dir());
    assert!(!cases.is_empty(), "no cases in {}", paths::nix_test_corpus_dir().display());
    run_cases(&cfg, &cases)
}

pub fn reproduce_hint(name: &str) -> String {
    format!("cargo run -p rnix-tests --bin conformance -- --filter {name} -v")
}

/// Panic listing every failing case, one line each, if any failed.
pub fn assert_all_pass(results: &[CaseResult], what: &str) {
    let failing: Vec<&CaseResult> = results.iter().filter(|r| r.failed()).collect();
    let passed = results.iter().filter(|r| r.passed()).count();
    let counted = results.iter().filter(|r| r.passed() || r.failed()).count();
    println!("{what}: {passed}/{counted}");
    if failing.is_empty() {
        return;
    }
    let mut msg = format!("{what}: {} of {counted} case(s) failed:\n", failing.len());
    for r in &failing {
        msg.push_str(&format!("  {}: {}\n", r.name, r.reason().unwrap_or("")));
    }
    msg.push_str(&format!("details of one case: {}\n", reproduce_hint(&failing[0].name)));
    panic!("{msg}");
}
