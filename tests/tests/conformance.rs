//! The Nix language test corpus (../shared/conformance/lang) against rnix-eval.
//!
//! Binary: `RNIX_EVAL`, else `target/PROFILE/rnix-eval` next to this test
//! executable. Without ../shared these tests print a note and pass vacuously.

use rnix_tests::conformance::{check_expected, Category};
use rnix_tests::testing::{assert_all_pass, assert_messages_as_listed, reproduce_hint, shared_results};
use rnix_tests::{expected, paths};

#[test]
fn parse_okay_all_pass() {
    let Some(results) = shared_results(Category::ParseOkay) else {
        return;
    };
    assert_all_pass(&results, "parse-okay (must exit 0)");
}

#[test]
fn parse_fail_all_pass() {
    let Some(results) = shared_results(Category::ParseFail) else {
        return;
    };
    assert_all_pass(&results, "parse-fail (must exit 1)");
    assert_messages_as_listed(&results, Category::ParseFail);
}

#[test]
fn eval_fail_all_exit_1() {
    let Some(results) = shared_results(Category::EvalFail) else {
        return;
    };
    assert_all_pass(&results, "eval-fail (must exit 1 with a message)");
    assert_messages_as_listed(&results, Category::EvalFail);
}

/// Every eval-okay case passes except exactly those listed in
/// tests/expected-failures.txt.
#[test]
fn eval_okay_all_pass_except_expected_failures() {
    let Some(results) = shared_results(Category::EvalOkay) else {
        return;
    };
    let list_path = paths::expected_failures_file();
    let listed = expected::read(&list_path).unwrap_or_else(|e| panic!("reading {}: {e}", list_path.display()));
    let c = check_expected(&results, &listed);
    assert_messages_as_listed(&results, Category::EvalOkay);
    let total = results.iter().filter(|r| r.passed() || r.failed()).count();
    let passed = results.iter().filter(|r| r.passed()).count();
    println!(
        "eval-okay: {passed}/{total} ({} listed in {}, {} of them failing)",
        listed.len(),
        list_path.display(),
        c.listed_and_failing
    );
    if c.ok() {
        return;
    }
    let mut msg = String::new();
    if !c.unexpected_failures.is_empty() {
        msg.push_str(&format!(
            "{} eval-okay case(s) failed that are not in {}:\n",
            c.unexpected_failures.len(),
            list_path.display()
        ));
        for n in &c.unexpected_failures {
            let r = results.iter().find(|r| &r.name == n).unwrap();
            msg.push_str(&format!("  {n}: {}\n", r.reason().unwrap_or("")));
        }
        msg.push_str(&format!("  (details: {})\n", reproduce_hint(&c.unexpected_failures[0])));
    }
    if !c.unexpected_passes.is_empty() {
        msg.push_str(&format!(
            "{} listed eval-okay case(s) now PASS -- remove them from {}:\n",
            c.unexpected_passes.len(),
            list_path.display()
        ));
        for n in &c.unexpected_passes {
            msg.push_str(&format!("  {n}\n"));
        }
    }
    if !c.stale.is_empty() {
        msg.push_str(&format!(
            "{} entr(y/ies) of {} are not enabled eval-okay cases of the corpus -- remove them:\n",
            c.stale.len(),
            list_path.display()
        ));
        for n in &c.stale {
            msg.push_str(&format!("  {n}\n"));
        }
    }
    msg.push_str(
        "to regenerate the list: cargo run --release -p rnix-tests --bin conformance -- --write-expected-failures\n",
    );
    panic!("{msg}");
}
