//! NixOS 18.03 systems against the reference (issue 12), with the checks
//! shared by every NixOS tree (`common/nixos.rs`): an old nixpkgs that uses
//! language features and builtins newer trees no longer do
//! (`builtins.toPath`, string-typed paths in options, `stdenv` of 2018).
//!
//! * the toplevel drv paths of `../shared/configs/18.03/*.nix` equal
//!   `../shared/golden/nixos-18.03.drvpaths.tsv`;
//! * `instantiate … -A system -I nixos-config=server.nix` prints the golden path;
//! * the desktop-less `headless.nix` instantiated into a fresh `--store`
//!   writes a store equal to the one the reference writes in the same test
//!   (when `nix-instantiate` is installed);
//! * the configs of `tests/nixos-configs/18.03/` give the reference's
//!   toplevels, and those of its `fail/` fail with the reference's messages.
//!
//! Without ../shared these tests print a note and pass vacuously.

mod common;

use common::nixos::NixosTree;

const TREE: NixosTree = NixosTree { release: "18.03", known_mismatches: &[] };

#[test]
fn golden_configs_toplevels() {
    TREE.check_golden_toplevels(2);
}

#[test]
fn server_instantiate_command_line() {
    TREE.check_command_line("server");
}

#[test]
fn own_configs_match_reference() {
    TREE.check_own_configs();
}

#[test]
fn failing_configs_fail_like_the_reference() {
    TREE.check_failing_configs();
}

/// No golden closure for 18.03: the headless config's fresh store against
/// the one the reference writes in the same test.
#[test]
fn headless_store_byte_identical_to_reference() {
    TREE.check_store_matches_reference("headless");
}
