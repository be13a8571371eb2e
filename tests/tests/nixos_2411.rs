//! NixOS 24.11 systems against the reference (issue 12), with the checks
//! shared by every NixOS tree (`common/nixos.rs`):
//!
//! * the toplevel drv paths of `../shared/configs/24.11/*.nix` equal
//!   `../shared/golden/nixos-24.11.drvpaths.tsv`;
//! * `instantiate … -A system -I nixos-config=minimal.nix` prints the golden path;
//! * the desktop (Plasma 6, Steam, ~1.9 GiB) instantiated into a fresh
//!   `--store` writes exactly the 14,046 paths of
//!   `../shared/golden/closures/nixos-24.11-desktop.txt` and the 21 paths
//!   outside that closure the reference also writes
//!   (`tests/nixos-configs/24.11/desktop-store-extras.txt`), each recomputed
//!   from its bytes;
//! * the configs of `tests/nixos-configs/24.11/` give the reference's
//!   toplevels, and those of its `fail/` fail with the reference's messages;
//! * `mirrored-grub.nix` instantiated into a fresh `--store` writes the store
//!   the reference writes in the same test.
//!
//! The tree lacks three large files and `doc/` (see
//! `../shared/nixpkgs/nixos-24.11.SOURCE.md`): configs turn off the NixOS
//! manual and the firewall or stub shellcheck. Without ../shared these tests
//! print a note and pass vacuously.

mod common;

use common::nixos::NixosTree;
use rnix_tests::paths;

const TREE: NixosTree = NixosTree { release: "24.11", known_mismatches: &[] };

#[test]
fn golden_configs_toplevels() {
    TREE.check_golden_toplevels(4);
}

#[test]
fn minimal_instantiate_command_line() {
    TREE.check_command_line("minimal");
}

#[test]
fn desktop_closure_byte_identical() {
    let extras = paths::workspace_root().join("tests/nixos-configs/24.11/desktop-store-extras.txt");
    TREE.check_closure_byte_identical("desktop", Some(&extras));
}

#[test]
fn own_configs_match_reference() {
    TREE.check_own_configs();
}

#[test]
fn failing_configs_fail_like_the_reference() {
    TREE.check_failing_configs();
}

/// An own config that copies files of its directory into the store
/// (`./files/motd`, an authorized keys file): its fresh store equals the one
/// the reference writes in the same test.
#[test]
fn mirrored_grub_store_byte_identical_to_reference() {
    TREE.check_store_matches_reference("mirrored-grub");
}
