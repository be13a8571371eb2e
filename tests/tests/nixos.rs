//! NixOS 20.09 systems against the reference (issue #5's "done when"):
//!
//! * the toplevel drv paths of `../shared/configs/*.nix` equal
//!   `../shared/golden/nixos-20.09.drvpaths.tsv`;
//! * `instantiate … -A system -I nixos-config=minimal.nix` prints the golden
//!   path (the command line users type);
//! * the desktop closure written into a fresh `--store` is exactly the golden
//!   list `../shared/golden/closures/nixos-20.09-desktop.txt`, each path
//!   recomputed from the bytes written (hence byte-identical to the
//!   reference's files, whose names the list gives);
//! * the configs of `tests/nixos-configs/20.09/` that this project wrote
//!   (unseen by the evaluator's authors while developing) give the toplevel
//!   drv paths the reference printed for them, and those of its `fail/` fail
//!   with the reference's messages.
//!
//! The checks are shared with the other NixOS trees (`common/nixos.rs`).
//! Without ../shared these tests print a note and pass vacuously.

mod common;

use common::nixos::NixosTree;

const TREE: NixosTree = NixosTree { release: "20.09", known_mismatches: &[] };

#[test]
fn golden_configs_toplevels() {
    TREE.check_golden_toplevels(4);
}

/// The command line of the README: `instantiate NIXOS -A system -I nixos-config=…`.
#[test]
fn minimal_instantiate_command_line() {
    TREE.check_command_line("minimal");
}

/// The desktop system instantiated into a fresh `--store`: exactly the golden
/// closure (3,030 paths), every one recomputed from the bytes written.
#[test]
fn desktop_closure_byte_identical() {
    TREE.check_closure_byte_identical("desktop", None);
}

/// The project's own configs (tests/nixos-configs/20.09/), expected values
/// from the reference (see the header of expected-drvpaths.tsv).
#[test]
fn unseen_configs_match_reference() {
    TREE.check_own_configs();
}

/// The configs of tests/nixos-configs/20.09/fail/ fail with exit 1 and the
/// reference's message (fail/NAME.err, see tests/nixos-configs/README.md).
#[test]
fn failing_configs_fail_like_the_reference() {
    TREE.check_failing_configs();
}
