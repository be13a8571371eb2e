//! The fixtures' `self` values from `../shared/golden/flakes.tsv` (CppNix 2.8), recomputed by
//! parsing `.` in a committed fixture and fetching it. Skips when `../shared` is absent.

mod common;

use common::{golden, remove_with_store, shared_data};

use nix_flake::fetch::{fetch, FetchOptions};
use nix_flake::flakeref::{FlakeRef, ParseOptions};
use nix_flake::source_info::{SourceInfo, SourceValue};
use nix_store_core::{DirStore, ReadOnlyStore};

fn check_fixture(fixture: &str) {
    let Some(shared) = shared_data() else {
        eprintln!("skipping: ../shared (golden values and fixtures) is absent");
        return;
    };
    let dest = std::env::temp_dir().join(format!("rnix-golden-{}-{fixture}", std::process::id()));
    common::fixture(&shared, fixture, &dest);
    let r = FlakeRef::parse(".", ParseOptions { base_dir: Some(&dest), ..Default::default() }).unwrap();
    assert_eq!(r.to_string(), format!("git+file://{}", dest.display()));
    let store_dir = dest.with_extension("store");
    for store in [&ReadOnlyStore::new() as &dyn nix_store_core::Store, &DirStore::new(&store_dir)] {
        let f = fetch(&r.input, store, &FetchOptions::default()).unwrap();
        assert!(f.warnings.is_empty(), "{:?}", f.warnings);
        let si = SourceInfo::new(&f.input, &f.store_path, &Default::default()).unwrap();
        let s = |k: &str| match si.get(k) {
            Some(SourceValue::Str(s)) => s.clone(),
            Some(SourceValue::Int(n)) => n.to_string(),
            other => panic!("{k}: {other:?}"),
        };
        for field in ["outPath", "narHash", "rev", "lastModified", "revCount"] {
            assert_eq!(s(field), golden(&shared, fixture, &format!("self.{field}")), "{fixture} self.{field}");
        }
        assert_eq!(f.input.get_ref().unwrap(), Some("main"));
    }
    // The copy in the directory store has the same NAR hash.
    let sp = golden(&shared, fixture, "self.outPath");
    let on_disk = store_dir.join(sp.trim_start_matches('/'));
    let h = nix_store_core::nar::nar_hash_path(&on_disk, &mut |_, _| true).unwrap();
    assert_eq!(h.to_sri(), golden(&shared, fixture, "self.narHash"));
    remove_with_store(&store_dir);
    let _ = std::fs::remove_dir_all(&dest);
}

#[test]
fn fleet_self_matches_golden() {
    check_fixture("fleet");
}

#[test]
fn seed_container_self_matches_golden() {
    check_fixture("seed-container");
}
