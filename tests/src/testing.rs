//! Helpers for the integration tests (`tests/tests/*.rs`).

use crate::conformance::{
    discover_nix_test_corpus, discover_shared, filter_cases, run_cases, CaseResult, Category, Config,
};
use crate::{expected_messages, paths};

/// The runner configuration for tests: binary from `RNIX_EVAL` or next to
/// the test executable (panics with instructions when absent).
pub fn config() -> Config {
    Config::new(paths::rnix_eval_for_tests())
}

/// Run every case of a shared-corpus category. Returns None (after printing
/// a clear note) when `../shared` is absent: such tests pass vacuously.
pub fn shared_results(cat: Category) -> Option<Vec<CaseResult>> {
    let Some(dir) = paths::conformance_dir() else {
        paths::note_missing_shared(&paths::missing_shared_message());
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

/// Panic unless the messages of `results` (one category) differ from `.err.exp` exactly as
/// `tests/expected-message-mismatches.txt` lists: none worse, none better.
pub fn assert_messages_as_listed(results: &[CaseResult], cat: Category) {
    let path = paths::expected_messages_file();
    let listed = expected_messages::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let prefix = format!("{}-", cat.name());
    let listed = listed.into_iter().filter(|(n, _)| n.starts_with(&prefix)).collect();
    let (worse, better) = expected_messages::check(results, &listed);
    let matching = results.iter().filter(|r| expected_messages::mismatch_of(r).is_none() && r.info_exact.is_some());
    println!("{}: {} message(s) match .err.exp exactly", cat.name(), matching.count());
    if worse.is_empty() && better.is_empty() {
        return;
    }
    let mut msg = String::new();
    if !worse.is_empty() {
        msg.push_str(&format!(
            "{} {} message(s) differ from .err.exp more than listed in {}:\n",
            worse.len(),
            cat.name(),
            path.display()
        ));
        worse.iter().for_each(|w| msg.push_str(&format!("  {w}\n")));
    }
    if !better.is_empty() {
        msg.push_str(&format!(
            "{} {} message(s) now match better than listed (update the list):\n",
            better.len(),
            cat.name()
        ));
        better.iter().for_each(|w| msg.push_str(&format!("  {w}\n")));
    }
    msg.push_str("to regenerate: cargo run --release -p rnix-tests --bin conformance -- --write-expected-messages\n");
    panic!("{msg}");
}
