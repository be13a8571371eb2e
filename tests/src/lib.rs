//! Conformance runners and shared test helpers for rnix-eval.
//!
//! * [`conformance`]: discovers and runs the cases of the Nix language test
//!   corpus (`../shared/conformance/lang`) and of `nix-test-corpus/`;
//! * [`report`]: the per-category report and the JSON summary;
//! * [`expected`]: the list in `tests/expected-failures.txt`;
//! * [`expected_messages`]: the list in `tests/expected-message-mismatches.txt`;
//! * [`process`]: running a child with a timeout and classifying crashes;
//! * [`corpus_links`]: the corpus with upstream's symlinks, however `../shared` was copied;
//! * [`paths`]: locating the workspace, the corpus and the binary;
//! * [`fuzz`]: the stable-Rust fuzzer (`fuzz` binary, `tests/fuzz_short.rs`);
//! * [`testing`]: helpers for the integration tests in `tests/tests/`.
//!
//! The binary under test is driven only through its command line
//! (`rnix-eval instantiate …`, a drop-in for `nix-instantiate`), so this
//! crate has no dependency on the evaluator crates.

pub mod conformance;
pub mod corpus_links;
pub mod expected;
pub mod expected_messages;
pub mod fuzz;
pub mod paths;
pub mod process;
pub mod report;
pub mod testing;

pub use conformance::{Case, CaseResult, Category, Config, Status};
