//! The 2024 nixpkgs subset (`../shared/nixpkgs/aux-core-2024`) against the
//! reference: every drvPath of `../shared/golden/aux-core-2024.drvpaths.tsv`
//! in one evaluation, and the python3 closure written into a fresh `--store`
//! byte-identical to what the reference writes (issue #4's "done when").
//!
//! Without ../shared these tests print a note and pass vacuously; without
//! `nix-instantiate` the python3 closure is checked for self-consistency
//! (every path recomputed from its bytes) but not against the reference.

mod common;

use common::*;
use rnix_tests::paths;

/// All 347 drvPaths in ONE `instantiate --eval --strict --json` run (into a
/// temp store, so the write path is exercised too).
#[test]
fn aux_core_drvpaths_in_one_evaluation() {
    let (Some(tree), Some(golden)) =
        (shared_or_skip("nixpkgs/aux-core-2024"), shared_or_skip("golden/aux-core-2024.drvpaths.tsv"))
    else {
        return;
    };
    let expected = read_tsv(&golden);
    assert_eq!(expected.len(), 347, "{} changed?", golden.display());
    let names: Vec<String> = expected.iter().map(|(n, _)| nix_str(n)).collect();
    let expr = format!(
        "let p = import {} {{ }}; in map (n: p.${{n}}.drvPath) [ {} ]",
        nix_str(&tree.to_string_lossy()),
        names.join(" ")
    );
    let tmp = TempDir::new("aux");
    let store = tmp.path().join("store");
    let out = run_ok(
        &paths::rnix_eval_for_tests(),
        &["instantiate", "--eval", "--strict", "--json", "--store", &store.to_string_lossy(), "-E", &expr],
        tmp.path(),
        tmp.path(),
    );
    let got = parse_json_string_list(&out).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(got.len(), expected.len());
    let wrong: Vec<String> = expected
        .iter()
        .zip(&got)
        .filter(|((_, want), got)| want != *got)
        .map(|((n, want), got)| format!("{n}: got {got}, want {want}"))
        .collect();
    println!("aux-core drvPaths: {}/{} equal", expected.len() - wrong.len(), expected.len());
    assert_no_problems(&wrong, "aux-core drvPaths");
    // Like nix-instantiate, `--eval` is read-only unless `--read-write-mode`:
    // `nix-instantiate --eval --store DIR -E '(derivation …).drvPath'` (2.8)
    // leaves DIR/nix/store empty.
    let written = store_entries(&store.join("nix/store"));
    assert!(written.is_empty(), "--eval wrote {} paths", written.len());
}

/// `instantiate --store DIR -A python3` prints the golden drv path, and the
/// store equals the one the reference writes for the same command: the same
/// set of paths, every file byte-identical.
#[test]
fn python3_closure_byte_identical() {
    let (Some(tree), Some(golden)) =
        (shared_or_skip("nixpkgs/aux-core-2024"), shared_or_skip("golden/aux-core-2024.drvpaths.tsv"))
    else {
        return;
    };
    let want =
        read_tsv(&golden).into_iter().find(|(n, _)| n == "python3").map(|(_, p)| p).expect("python3 in the golden tsv");
    let ours = TempDir::new("py-ours");
    let out = run_ok(
        &paths::rnix_eval_for_tests(),
        &["instantiate", "--store", &ours.path().to_string_lossy(), "-A", "python3", "."],
        &tree,
        ours.path(),
    );
    assert_eq!(out.trim(), want, "printed drv path");
    let entries = store_entries(&ours.store_dir());
    assert!(entries.contains(want.trim_start_matches("/nix/store/")));
    assert_no_problems(&check_closure(&ours.store_dir(), &entries), "python3 closure (ours)");
    println!("python3 closure: {} paths, all consistent", entries.len());

    let Some(nix) = reference_or_note("the python3 closure") else {
        return;
    };
    let theirs = TempDir::new("py-ref");
    let home = TempDir::new("py-home");
    let out = run_ok(&nix, &["--store", &theirs.path().to_string_lossy(), "-A", "python3", "."], &tree, home.path());
    assert_eq!(out.trim(), want, "the reference printed another path");
    assert_no_problems(&compare_stores(&ours.store_dir(), &theirs.store_dir()), "python3 store vs the reference's");
    println!("python3 closure: byte-identical to the reference's ({} paths)", entries.len());
}
