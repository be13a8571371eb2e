//! The project's own cases (nix-test-corpus/, see its README.md): always run.

use rnix_tests::testing::{assert_all_pass, nix_test_corpus_results};

#[test]
fn nix_test_corpus_all_pass() {
    let results = nix_test_corpus_results();
    assert_all_pass(&results, "nix-test-corpus");
}
