//! Lock files written by CppNix 2.8 (`tests/data/*.lock`, made by `nix flake lock` on small
//! flakes with git, path, follows and `flake = false` inputs) must read back and print
//! byte-identically, and a graph built by hand must get the same node keys.

use super::*;
use crate::attrs::Attrs;

const FOLLOWS: &str = include_str!("../tests/data/follows.lock");
const UPDATED: &str = include_str!("../tests/data/follows-updated.lock");

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn round_trips_byte_for_byte() {
    for text in [FOLLOWS, UPDATED] {
        let lf = LockFile::parse(text, "flake.lock").unwrap();
        assert_eq!(lf.to_file_contents(), text);
    }
}

#[test]
fn graph_and_follows() {
    let lf = LockFile::parse(FOLLOWS, "flake.lock").unwrap();
    let dep1 = lf.find_input(&s(&["dep1"])).unwrap();
    let inner = lf.find_input(&s(&["dep1", "dep2"])).unwrap();
    assert_eq!(lf.find_input(&s(&["alias"])), Some(inner));
    assert_eq!(lf.find_input(&s(&["dep3", "dep2"])), lf.find_input(&s(&["dep2"])));
    assert_ne!(lf.find_input(&s(&["dep2"])), Some(inner));
    let raw = lf.node(lf.find_input(&s(&["raw"])).unwrap()).locked.clone().unwrap();
    assert!(!raw.is_flake);
    assert_eq!(
        raw.locked.to_string(),
        "path:/tmp/lx/raw?lastModified=1709251200&narHash=sha256-lDbnZBagRKVEo77MlUg2E6R2I9oL9M0MHTC033bDKYc="
    );
    assert_eq!(lf.node(dep1).inputs.get("dep2"), Some(&Edge::Node(inner)));
    assert!(lf.is_immutable());
    let all: Vec<String> = lf.all_inputs().keys().map(|k| k.join("/")).collect();
    assert_eq!(all, ["alias", "dep1", "dep1/dep2", "dep2", "dep3", "dep3/dep2", "raw"]);
}

#[test]
fn keys_are_assigned_depth_first_with_suffixes() {
    // Rebuild FOLLOWS from its parts, adding nodes in a different order.
    let orig = LockFile::parse(FOLLOWS, "flake.lock").unwrap();
    let get = |p: &[&str]| orig.node(orig.find_input(&s(p)).unwrap()).locked.clone().unwrap();
    let mut lf = LockFile::new();
    let raw = lf.add_node(get(&["raw"]));
    let dep2_root = lf.add_node(get(&["dep2"]));
    let dep3 = lf.add_node(get(&["dep3"]));
    let dep2_inner = lf.add_node(get(&["dep1", "dep2"]));
    let dep1 = lf.add_node(get(&["dep1"]));
    lf.set_input(LockFile::ROOT, "raw", Edge::Node(raw));
    lf.set_input(LockFile::ROOT, "dep3", Edge::Node(dep3));
    lf.set_input(dep3, "dep2", Edge::Follows(s(&["dep2"])));
    lf.set_input(LockFile::ROOT, "dep2", Edge::Node(dep2_root));
    lf.set_input(LockFile::ROOT, "dep1", Edge::Node(dep1));
    lf.set_input(dep1, "dep2", Edge::Node(dep2_inner));
    lf.set_input(LockFile::ROOT, "alias", Edge::Follows(s(&["dep1", "dep2"])));
    assert_eq!(lf.to_file_contents(), FOLLOWS);
    assert!(lf == orig);
}

#[test]
fn diff_matches_the_reference_message() {
    let old = LockFile::parse(FOLLOWS, "a").unwrap();
    let new = LockFile::parse(UPDATED, "b").unwrap();
    assert_eq!(
        LockFile::diff(&old, &new, false),
        "• Updated input 'dep2':\n    'git+file:///tmp/lx/dep2?ref=main&rev=fa9263a05b35172d813ec1cf90040061a6ccfb13' (2024-01-01)\n  → 'git+file:///tmp/lx/dep2?ref=main&rev=7da57d8c01ac47f68b7403e239035c625b260914' (2024-02-01)\n• Removed input 'raw'\n"
    );
    let added = LockFile::diff(&LockFile::new(), &old, false);
    assert!(added.starts_with("• Added input 'alias':\n    follows 'dep1/dep2'\n• Added input 'dep1':\n    'git+file:///tmp/lx/dep1?ref=main&rev=a6972d6b739f0b5206b188a4fcbff5a121ce5e43' (2024-01-01)\n"), "{added}");
}

#[test]
fn reading_errors_and_old_versions() {
    let e = LockFile::parse(r#"{"nodes":{"root":{}},"root":"root","version":4}"#, "/nix/store/x-source//flake.lock")
        .unwrap_err();
    assert_eq!(e.message(), "lock file '/nix/store/x-source//flake.lock' has unsupported version 4");
    let e = LockFile::parse(r#"{"nodes":{"root":{"inputs":{"a":"x"}}},"root":"root","version":7}"#, "f").unwrap_err();
    assert_eq!(e.message(), "lock file references missing node 'x'");
    let mutable = r#"{"nodes":{"a":{"locked":{"lastModified":1,"path":"/tmp/ex/é","type":"path"},"original":{"path":"/tmp/ex/é","type":"path"}},"root":{"inputs":{"a":"a"}}},"root":"root","version":7}"#;
    assert_eq!(
        LockFile::parse(mutable, "f").unwrap_err().message(),
        r#"lockfile contains mutable lock '{"lastModified":1,"path":"/tmp/ex/é","type":"path"}'"#
    );
    // Version 5: `info` is merged into `locked`; written back as version 7.
    let v5 = r#"{"nodes":{"a":{"info":{"lastModified":5,"narHash":"sha256-BNNgkiT/gLr+aM2Vrm05tVo6Pnfa3VJteZHxEgyWHME="},"locked":{"path":"/p","type":"path"},"original":{"path":"/p","type":"path"}},"root":{"inputs":{"a":"a"}}},"root":"root","version":5}"#;
    let lf = LockFile::parse(v5, "f").unwrap();
    let out = lf.to_file_contents();
    assert!(out.contains("\"lastModified\": 5,\n        \"narHash\""), "{out}");
    assert!(out.ends_with("  \"version\": 7\n}\n"));
    // Empty lock: `"root": {}`.
    assert_eq!(
        LockFile::new().to_file_contents(),
        "{\n  \"nodes\": {\n    \"root\": {}\n  },\n  \"root\": \"root\",\n  \"version\": 7\n}\n"
    );
    let _ = Attrs::new();
}
