//! Tarballs and the github archive API, served from 127.0.0.1 by the tiny server of
//! `common` (never the internet). Expected hashes: `nix hash path` / `nix store add-path` (2.8)
//! on the same tree unpacked by hand.

mod common;

use common::{serve, tarball, NAR, PATH, REV};
use std::collections::HashMap;
use std::path::PathBuf;

use nix_flake::fetch::{fetch, FetchOptions};
use nix_flake::flakeref::{FlakeRef, ParseOptions};
use nix_flake::source_info::SourceInfo;
use nix_store_core::ReadOnlyStore;

fn tmp(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("rnix-tarball-{}-{tag}", std::process::id()))
}

#[test]
fn github_input_is_fetched_locked_and_verified() {
    let routes = HashMap::from([
        ("/repos/owner/repo/commits/HEAD".to_owned(), format!(r#"{{"sha":"{REV}"}}"#).into_bytes()),
        (format!("/repos/owner/repo/tarball/{REV}"), tarball(false)),
    ]);
    let base = serve(routes, 2);
    std::env::set_var("RNIX_GITHUB_API", &base);
    let cache = tmp("gh-cache");
    let opts = FetchOptions { cache_dir: Some(cache.clone()), progress: Some(false), ..Default::default() };
    let r = FlakeRef::parse("github:owner/repo", ParseOptions::default()).unwrap();
    let f = fetch(&r.input, &ReadOnlyStore::new(), &opts).unwrap();
    assert_eq!(
        nix_flake::attrs::attrs_to_json_string(f.input.attrs()),
        format!(
            r#"{{"lastModified":1609459200,"narHash":"{NAR}","owner":"owner","repo":"repo","rev":"{REV}","type":"github"}}"#
        )
    );
    assert_eq!(f.store_path, PATH);
    assert_eq!(f.input.to_string(), format!("github:owner/repo/{REV}"));
    let names: Vec<String> = SourceInfo::new(&f.input, &f.store_path, &Default::default())
        .unwrap()
        .attrs
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(names, ["lastModified", "lastModifiedDate", "narHash", "outPath", "rev", "shortRev"]);

    // The server is gone now (two requests served): the locked input comes from the cache.
    let again = fetch(&f.input, &ReadOnlyStore::new(), &opts).unwrap();
    assert_eq!(again.store_path, PATH);
    assert_eq!(again.input.get_last_modified().unwrap(), Some(1609459200));

    // A lock with another narHash: downloaded again (fresh cache) and rejected.
    let routes = HashMap::from([(format!("/repos/owner/repo/tarball/{REV}"), tarball(false))]);
    std::env::set_var("RNIX_GITHUB_API", serve(routes, 1));
    let mut bad = f.input.clone();
    bad.set_attr("narHash", "sha256-BNNgkiT/gLr+aM2Vrm05tVo6Pnfa3VJteZHxEgyWHME=");
    let opts2 = FetchOptions { cache_dir: Some(tmp("gh-cache2")), progress: Some(false), ..Default::default() };
    let e = fetch(&bad, &ReadOnlyStore::new(), &opts2).unwrap_err();
    assert_eq!(e.status(), 102);
    assert_eq!(
        e.message(),
        format!("NAR hash mismatch in input 'github:owner/repo/{REV}' ({PATH}), expected 'sha256-BNNgkiT/gLr+aM2Vrm05tVo6Pnfa3VJteZHxEgyWHME=', got '{NAR}'")
    );
    let _ = std::fs::remove_dir_all(&cache);
    let _ = std::fs::remove_dir_all(tmp("gh-cache2"));
}

#[test]
fn plain_tarballs_over_http_and_file() {
    let dir = tmp("plain");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("src.tar.gz");
    std::fs::write(&file, tarball(false)).unwrap();
    std::fs::write(dir.join("bad.tar.gz"), tarball(true)).unwrap();
    let opts = FetchOptions { cache_dir: Some(dir.join("cache")), progress: Some(false), ..Default::default() };
    let base = serve(HashMap::from([("/x/src.tar.gz".to_owned(), tarball(false))]), 1);
    for url in [format!("file://{}", file.display()), format!("{base}/x/src.tar.gz")] {
        let r = FlakeRef::parse(&url, ParseOptions::default()).unwrap();
        assert_eq!(r.input.input_type(), "tarball");
        let f = fetch(&r.input, &ReadOnlyStore::new(), &opts).unwrap();
        assert_eq!(f.store_path, PATH);
        // 2.8: tarballs record no lastModified, so sourceInfo is narHash and outPath only.
        assert_eq!(
            nix_flake::attrs::attrs_to_json_string(f.input.attrs()),
            format!(r#"{{"narHash":"{NAR}","type":"tarball","url":"{url}"}}"#)
        );
        let si = SourceInfo::new(&f.input, &f.store_path, &Default::default()).unwrap();
        assert_eq!(si.attrs.len(), 2);
    }
    let bad = format!("file://{}/bad.tar.gz", dir.display());
    let r = FlakeRef::parse(&bad, ParseOptions::default()).unwrap();
    let e = fetch(&r.input, &ReadOnlyStore::new(), &opts).unwrap_err();
    assert_eq!(e.message(), format!("tarball '{bad}' contains an unexpected number of top-level files"));
    let _ = std::fs::remove_dir_all(&dir);
}
