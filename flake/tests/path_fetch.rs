//! `path:` inputs against `tests/data/follows.lock` (CppNix 2.8 locked `/tmp/lx/raw`, a
//! directory holding `data.txt` = "raw data\n", both with mtime 2024-03-01).

mod common;

use common::remove_with_store;
use std::fs::File;
use std::time::{Duration, UNIX_EPOCH};

use nix_flake::fetch::{fetch, FetchOptions};
use nix_flake::flakeref::{FlakeRef, ParseOptions};
use nix_flake::source_info::SourceInfo;
use nix_store_core::{DirStore, ReadOnlyStore};

#[test]
fn path_input_hash_and_last_modified() {
    let dir = std::env::temp_dir().join(format!("rnix-pathfx-{}", std::process::id()));
    let raw = dir.join("raw");
    std::fs::create_dir_all(&raw).unwrap();
    std::fs::write(raw.join("data.txt"), "raw data\n").unwrap();
    let t = UNIX_EPOCH + Duration::from_secs(1709251200);
    File::open(raw.join("data.txt")).unwrap().set_modified(t).unwrap();
    File::open(&raw).unwrap().set_modified(t).unwrap();
    let r = FlakeRef::parse(&format!("path:{}", raw.display()), ParseOptions::default()).unwrap();
    let f = fetch(&r.input, &ReadOnlyStore::new(), &FetchOptions::default()).unwrap();
    assert_eq!(f.input.get_last_modified().unwrap(), Some(1709251200));
    assert_eq!(
        f.input.get_nar_hash().unwrap().unwrap().to_sri(),
        "sha256-lDbnZBagRKVEo77MlUg2E6R2I9oL9M0MHTC033bDKYc="
    );
    let names: Vec<String> = SourceInfo::new(&f.input, &f.store_path, &Default::default())
        .unwrap()
        .attrs
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(names, ["lastModified", "lastModifiedDate", "narHash", "outPath"]);

    // Copied into a directory store; a relative `path:./x` below it resolves inside it.
    let store = DirStore::new(dir.join("store"));
    let f = fetch(&r.input, &store, &FetchOptions::default()).unwrap();
    let mut rel = FlakeRef::parse(
        "path:./data.txt",
        ParseOptions { base_dir: Some(std::path::Path::new(&f.store_path)), allow_missing: true, is_flake: false },
    )
    .unwrap();
    assert_eq!(rel.input.parent(), Some(f.store_path.as_str()));
    let g = fetch(&rel.input, &store, &FetchOptions::default()).unwrap();
    assert_eq!(
        nix_store_core::nar::nar_hash_path(&g.real_path.unwrap(), &mut |_, _| true).unwrap(),
        g.input.get_nar_hash().unwrap().unwrap()
    );
    rel.input.set_parent(None);
    let e = fetch(&rel.input, &store, &FetchOptions::default()).unwrap_err();
    assert_eq!(e.message(), "cannot fetch input 'path:./data.txt' because it uses a relative path");
    let out = FlakeRef::parse(
        "path:../x",
        ParseOptions { base_dir: Some(std::path::Path::new(&f.store_path)), allow_missing: true, is_flake: false },
    )
    .unwrap();
    let e = fetch(&out.input, &store, &FetchOptions::default()).unwrap_err();
    assert_eq!(
        e.message(),
        format!("relative path '../x' points outside of its parent's store path '{}'", f.store_path)
    );
    remove_with_store(&dir);
}
