//! Git inputs against values CppNix 2.8 computed (`nix flake metadata --json`) for the
//! repositories `tests/data/make-git-fixtures.sh` builds. Skips when `git` is missing.

mod common;

use common::remove_with_store;
use std::path::{Path, PathBuf};
use std::process::Command;

use nix_flake::fetch::{fetch, FetchOptions, Fetched};
use nix_flake::flakeref::{FlakeRef, ParseOptions};
use nix_flake::source_info::{SourceInfo, SourceValue};
use nix_store_core::{DirStore, ReadOnlyStore, Store};

fn fixtures(tag: &str) -> Option<PathBuf> {
    let dest = std::env::temp_dir().join(format!("rnix-gitfx-{}-{tag}", std::process::id()));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/make-git-fixtures.sh");
    match Command::new("bash").arg(script).arg(&dest).output() {
        Ok(o) if o.status.success() => Some(dest),
        Ok(o) => panic!("make-git-fixtures.sh failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(_) => {
            eprintln!("skipping: cannot run bash/git");
            None
        }
    }
}

fn fetch_url(url: &str, store: &dyn Store) -> Fetched {
    let r = FlakeRef::parse(url, ParseOptions::default()).unwrap();
    fetch(
        &r.input,
        store,
        &FetchOptions {
            cache_dir: Some(std::env::temp_dir().join(format!("rnix-gitcache-{}", std::process::id()))),
            ..Default::default()
        },
    )
    .unwrap()
}

fn locked(f: &Fetched) -> String {
    let mut a = f.input.attrs().clone();
    a.remove("url");
    nix_flake::attrs::attrs_to_json_string(&a)
}

#[test]
fn clean_dirty_uncommitted_and_pinned_trees() {
    let Some(d) = fixtures("main") else { return };
    let store = ReadOnlyStore::new();
    let u = |r: &str| format!("git+file://{}/{r}", d.display());

    // Clean: the commit, export-ignore applied, untracked file absent.
    let f = fetch_url(&u("gt"), &store);
    assert_eq!(
        locked(&f),
        r#"{"lastModified":1704067200,"narHash":"sha256-0xEBOXir0stUC3jWnpUzHw5f3qdkTrLhRlz9KasU2QY=","ref":"main","rev":"c53eb94c9923bda234982aa31aeeb3f0ec8b4d6c","revCount":1,"type":"git"}"#
    );
    assert_eq!(f.store_path, "/nix/store/ml74f8kn19lg22ikchfav5ci8sr2683w-source");
    assert!(f.warnings.is_empty());

    // Dirty: index files from the working tree, a warning, no rev.
    let f = fetch_url(&u("gt-dirty"), &store);
    assert_eq!(
        locked(&f),
        r#"{"lastModified":1704067200,"narHash":"sha256-lCKZp8IzIbqIiaczLVJs2aPg1hwG4IQJ7ystraSieMA=","type":"git"}"#
    );
    assert_eq!(f.store_path, "/nix/store/ajd2rqzz5dnf9wzzw49wf4x650szb1ff-source");
    assert_eq!(f.warnings, [format!("Git tree '{}/gt-dirty' is dirty", d.display())]);
    assert_eq!(f.dirty_rev.as_deref(), Some("c53eb94c9923bda234982aa31aeeb3f0ec8b4d6c"));
    let si = SourceInfo::new(&f.input, &f.store_path, &Default::default()).unwrap();
    assert!(si.get("rev").is_none() && si.get("revCount").is_none());
    assert_eq!(si.get("submodules"), Some(&SourceValue::Bool(false)));

    // No commits at all: dirty, lastModified 0.
    let f = fetch_url(&u("nc"), &store);
    assert_eq!(
        locked(&f),
        r#"{"lastModified":0,"narHash":"sha256-CLc6LPF87dovaouP1cUh3Kc3ZaCmde1DVMu1gdqvqhQ=","type":"git"}"#
    );

    // Two commits; and the older one pinned by ref+rev.
    let f = fetch_url(&u("dep2"), &store);
    assert_eq!(
        locked(&f),
        r#"{"lastModified":1706745600,"narHash":"sha256-CNL/Pt/rC1m9eHOFm44+Pp/OJ9Mf1c9qnOsfvYqIF7o=","ref":"main","rev":"7da57d8c01ac47f68b7403e239035c625b260914","revCount":2,"type":"git"}"#
    );
    let f = fetch_url(&format!("{}?ref=main&rev=fa9263a05b35172d813ec1cf90040061a6ccfb13", u("dep2")), &store);
    assert_eq!(
        locked(&f),
        r#"{"lastModified":1704067200,"narHash":"sha256-CXyAAu9ZF/DW4II6Wwmys23lgDEaBanVObDLcH1I+TQ=","ref":"main","rev":"fa9263a05b35172d813ec1cf90040061a6ccfb13","revCount":1,"type":"git"}"#
    );
    // dep1 as locked in tests/data/follows.lock.
    let f = fetch_url(&u("dep1"), &store);
    assert_eq!(f.input.get_rev().unwrap().as_deref(), Some("a6972d6b739f0b5206b188a4fcbff5a121ce5e43"));
    assert_eq!(
        f.input.get_nar_hash().unwrap().unwrap().to_sri(),
        "sha256-gN8UNdZG5aMp0bYB1L/pqlEVpMsKKHxcbTwsQDDAins="
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn submodules_empty_by_default_and_included_on_request() {
    let Some(d) = fixtures("sub") else { return };
    let store = ReadOnlyStore::new();
    let u = format!("git+file://{}/sm", d.display());
    let f = fetch_url(&u, &store);
    assert_eq!(
        f.input.get_nar_hash().unwrap().unwrap().to_sri(),
        "sha256-ufImJuV3534AmbJjhk3DU64uJl+lXplC3uhNKEKkKJ4="
    );
    let f = fetch_url(&format!("{u}?submodules=1"), &store);
    assert_eq!(
        locked(&f),
        r#"{"lastModified":1704067200,"narHash":"sha256-s6dJaYNZPBO9A64MYz7MskrxzOyUZA9eCbiPwIMUuBA=","ref":"main","rev":"3801bff04d944a7e030f61ed1144e079401c6edc","revCount":1,"submodules":true,"type":"git"}"#
    );
    // A change inside the submodule only matters when submodules are included.
    let inner = d.join("sm/mod/inner.txt");
    let mut text = std::fs::read_to_string(&inner).unwrap();
    text.push_str("edit\n");
    std::fs::write(&inner, text).unwrap();
    let f = fetch_url(&u, &store);
    assert!(f.warnings.is_empty());
    assert_eq!(
        f.input.get_nar_hash().unwrap().unwrap().to_sri(),
        "sha256-ufImJuV3534AmbJjhk3DU64uJl+lXplC3uhNKEKkKJ4="
    );
    let f = fetch_url(&format!("{u}?submodules=1"), &store);
    assert_eq!(
        locked(&f),
        r#"{"lastModified":1704067200,"narHash":"sha256-Rq8mfih0nwUP50uMO6X0k45TdCCy0TuJysMnky5GlOo=","submodules":true,"type":"git"}"#
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn bare_repository_through_the_cache_and_store_copy() {
    let Some(d) = fixtures("bare") else { return };
    let bare = d.join("dep2.git");
    let ok =
        Command::new("git").args(["clone", "-q", "--bare"]).arg(d.join("dep2")).arg(&bare).status().unwrap().success();
    assert!(ok);
    let root = d.join("store");
    let store = DirStore::new(&root);
    let f = fetch_url(&format!("git+file://{}?ref=main", bare.display()), &store);
    assert_eq!(f.input.get_rev().unwrap().as_deref(), Some("7da57d8c01ac47f68b7403e239035c625b260914"));
    assert_eq!(f.input.get_rev_count().unwrap(), Some(2));
    assert_eq!(f.store_path, "/nix/store/6jr66gjjc98vir4rd5ma1sxk95v44bg6-source");
    let copy = f.real_path.clone().unwrap();
    assert_eq!(std::fs::read_to_string(copy.join("x.txt")).unwrap(), "x\n");
    // Locked now: a second fetch is answered from the store.
    let again = fetch(&f.input, &store, &FetchOptions::default()).unwrap();
    assert_eq!(again.store_path, f.store_path);
    // A wrong narHash is the reference's error, exit status 102.
    let mut bad = f.input.clone();
    bad.set_attr("narHash", "sha256-BNNgkiT/gLr+aM2Vrm05tVo6Pnfa3VJteZHxEgyWHME=");
    bad.remove_attr("revCount");
    let e =
        fetch(&bad, &ReadOnlyStore::new(), &FetchOptions { cache_dir: Some(d.join("cache")), ..Default::default() })
            .unwrap_err();
    assert_eq!(e.status(), 102);
    assert!(e.message().starts_with("NAR hash mismatch in input 'git+file://"), "{e}");
    assert!(e.message().ends_with("expected 'sha256-BNNgkiT/gLr+aM2Vrm05tVo6Pnfa3VJteZHxEgyWHME=', got 'sha256-CNL/Pt/rC1m9eHOFm44+Pp/OJ9Mf1c9qnOsfvYqIF7o='"), "{e}");
    remove_with_store(&d);
}

#[test]
fn dirty_tree_refused_when_not_allowed() {
    let Some(d) = fixtures("refuse") else { return };
    let r = FlakeRef::parse(&format!("git+file://{}/gt-dirty", d.display()), ParseOptions::default()).unwrap();
    let e =
        fetch(&r.input, &ReadOnlyStore::new(), &FetchOptions { allow_dirty: false, ..Default::default() }).unwrap_err();
    assert_eq!(e.message(), format!("Git tree '{}/gt-dirty' is dirty", d.display()));
    let _ = std::fs::remove_dir_all(&d);
}
