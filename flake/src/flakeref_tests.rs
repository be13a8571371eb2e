//! Expected values from CppNix 2.8: attributes as `nix registry add` writes them, URLs as
//! `nix registry list` prints them, errors as `nix` reports them.

use super::*;
use crate::attrs::attrs_to_json_string;

fn attrs_and_url(s: &str) -> (String, String) {
    let r = FlakeRef::parse(s, ParseOptions::default()).unwrap_or_else(|e| panic!("{s}: {e}"));
    (attrs_to_json_string(&r.to_attrs()), r.to_string())
}

fn err(s: &str) -> String {
    FlakeRef::parse(s, ParseOptions::default()).unwrap_err().to_string()
}

#[test]
fn url_forms() {
    let cases = [
        (
            "git+file:///r?dir=sub&ref=main",
            r#"{"dir":"sub","ref":"main","type":"git","url":"file:///r?dir=sub"}"#,
            "git+file:///r?dir=sub&ref=main",
        ),
        (
            "https://x/foo.tar.gz?narHash=sha256-BNNgkiT/gLr%2BaM2Vrm05tVo6Pnfa3VJteZHxEgyWHME%3D&dir=z",
            r#"{"dir":"z","narHash":"sha256-BNNgkiT/gLr+aM2Vrm05tVo6Pnfa3VJteZHxEgyWHME=","type":"tarball","url":"https://x/foo.tar.gz?dir=z&narHash=sha256-BNNgkiT%2fgLr+aM2Vrm05tVo6Pnfa3VJteZHxEgyWHME="}"#,
            "https://x/foo.tar.gz?dir=z&narHash=sha256-BNNgkiT%2fgLr+aM2Vrm05tVo6Pnfa3VJteZHxEgyWHME=",
        ),
        (
            "nixpkgs/nixos-20.09",
            r#"{"id":"nixpkgs","ref":"nixos-20.09","type":"indirect"}"#,
            "flake:nixpkgs/nixos-20.09",
        ),
        (
            "git://h/p?allRefs=1&rev=0123456789abcdef0123456789abcdef01234567&shallow=1&submodules=1",
            r#"{"rev":"0123456789abcdef0123456789abcdef01234567","shallow":true,"submodules":true,"type":"git","url":"git://h/p?allRefs=1"}"#,
            "git://h/p?allRefs=1&rev=0123456789abcdef0123456789abcdef01234567&shallow=1",
        ),
        (
            "path:/a/b?lastModified=12&narHash=sha256-BNNgkiT/gLr%2BaM2Vrm05tVo6Pnfa3VJteZHxEgyWHME%3D",
            r#"{"lastModified":12,"narHash":"sha256-BNNgkiT/gLr+aM2Vrm05tVo6Pnfa3VJteZHxEgyWHME=","path":"/a/b","type":"path"}"#,
            "path:/a/b?lastModified=12&narHash=sha256-BNNgkiT%2fgLr+aM2Vrm05tVo6Pnfa3VJteZHxEgyWHME=",
        ),
        (
            "github:o/r?host=h.org&rev=0123456789ABCDEF0123456789abcdef01234567",
            r#"{"host":"h.org","owner":"o","repo":"r","rev":"0123456789abcdef0123456789abcdef01234567","type":"github"}"#,
            "github:o/r/0123456789abcdef0123456789abcdef01234567",
        ),
        (
            "flake:x/r1/0123456789abcdef0123456789abcdef01234567",
            r#"{"id":"x","ref":"r1","rev":"0123456789abcdef0123456789abcdef01234567","type":"indirect"}"#,
            "flake:x/r1/0123456789abcdef0123456789abcdef01234567",
        ),
        (
            "github:o/r/release/23.05",
            r#"{"owner":"o","ref":"release/23.05","repo":"r","type":"github"}"#,
            "github:o/r/release/23.05",
        ),
        ("github:o/r?dir=lib&foo=1", r#"{"dir":"lib","owner":"o","repo":"r","type":"github"}"#, "github:o/r?dir=lib"),
        ("flake:foo?ref=x&dir=d", r#"{"dir":"d","id":"foo","type":"indirect"}"#, "flake:foo?dir=d"),
        ("sourcehut:~u/r/v1.0", r#"{"owner":"~u","ref":"v1.0","repo":"r","type":"sourcehut"}"#, "sourcehut:~u/r/v1.0"),
        (
            "gitlab:o/r/0123456789abcdef0123456789abcdef01234567",
            r#"{"owner":"o","repo":"r","rev":"0123456789abcdef0123456789abcdef01234567","type":"gitlab"}"#,
            "gitlab:o/r/0123456789abcdef0123456789abcdef01234567",
        ),
        (
            "git+https://example.org/repo?submodules=1&shallow=1&allRefs=1",
            r#"{"shallow":true,"submodules":true,"type":"git","url":"https://example.org/repo?allRefs=1"}"#,
            "git+https://example.org/repo?allRefs=1&shallow=1",
        ),
        (
            "git+ssh://git@github.com/owner/repo",
            r#"{"type":"git","url":"ssh://git@github.com/owner/repo"}"#,
            "git+ssh://git@github.com/owner/repo",
        ),
        ("github:NixOS/nixpkgs", r#"{"owner":"NixOS","repo":"nixpkgs","type":"github"}"#, "github:NixOS/nixpkgs"),
        ("file:///tmp/x.tar.gz", r#"{"type":"tarball","url":"file:///tmp/x.tar.gz"}"#, "file:///tmp/x.tar.gz"),
    ];
    for (input, attrs, url) in cases {
        assert_eq!(attrs_and_url(input), (attrs.to_owned(), url.to_owned()), "{input}");
    }
}

#[test]
fn errors_are_worded_as_2_8() {
    assert_eq!(err("path:/x?dir=sub"), "path URL 'path:/x?dir=sub' has unsupported parameter 'dir'");
    assert_eq!(err("github:owner"), "URL 'github:owner' is invalid");
    assert_eq!(err("github:o/r/a?ref=b"), "URL 'github:o/r/a?ref=b' contains multiple branch/tag names");
    assert_eq!(err("git+file:///r?ref=a..b"), "invalid Git branch/tag name 'a..b'");
    assert_eq!(err("github:o/r?rev=abc"), "hash 'abc' has wrong length for hash type 'sha1'");
    assert_eq!(err("path:./rel?rev=abc"), "hash 'abc' has wrong length for hash type 'sha1'");
    assert_eq!(err("foo:bar"), "input 'foo:bar' is unsupported");
    assert_eq!(err("http://x/y.zip#frag"), "unexpected fragment 'frag' in flake reference 'http://x/y.zip#frag'");
    assert_eq!(err("/tmp/ex/é"), "'/tmp/ex/é' is not a valid URL");
    assert_eq!(err("path:/tmp/ex/é"), "'path:/tmp/ex/é' is not a valid URL");
    assert_eq!(err("./rel"), "flake reference './rel' is not an absolute path");
}

#[test]
fn shorthand_and_fragment() {
    let p = FlakeRef::parse_with_fragment("nixpkgs#hello%20x", ParseOptions::default()).unwrap();
    assert_eq!(p.flake_ref.to_string(), "flake:nixpkgs");
    assert_eq!(p.fragment, "hello x");
    // The trap: `rel/sub` is indirect.
    assert_eq!(attrs_and_url("rel/sub").1, "flake:rel/sub");
    let p = FlakeRef::parse_with_fragment(
        "github:NixOS/nixpkgs/nixos-20.09#legacyPackages.x86_64-linux.hello",
        ParseOptions::default(),
    )
    .unwrap();
    assert_eq!(p.fragment, "legacyPackages.x86_64-linux.hello");
    assert_eq!(p.flake_ref.to_string(), "github:NixOS/nixpkgs/nixos-20.09");
    // Attribute form, with a UTF-8 path (not expressible as a URL in 2.8).
    let mut a = Attrs::new();
    a.insert("type".into(), "path".into());
    a.insert("path".into(), "/tmp/ex/é".into());
    assert_eq!(FlakeRef::from_attrs(&a).unwrap().to_string(), "path:/tmp/ex/é");
    a.insert("foo".into(), "1".into());
    assert_eq!(FlakeRef::from_attrs(&a).unwrap_err().to_string(), "unsupported path input attribute 'foo'");
}

#[test]
fn bare_paths_against_a_base_dir() {
    let root = std::env::temp_dir().join(format!("rnix-flakeref-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let repo = root.join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::create_dir_all(repo.join("sub/deeper")).unwrap();
    std::fs::write(repo.join("flake.nix"), "{}").unwrap();
    std::fs::write(repo.join("sub/flake.nix"), "{}").unwrap();
    let plain = root.join("plain");
    std::fs::create_dir_all(plain.join("x")).unwrap();
    std::fs::write(plain.join("flake.nix"), "{}").unwrap();
    let at = |base: &Path, s: &str| {
        FlakeRef::parse_with_fragment(s, ParseOptions { base_dir: Some(base), ..Default::default() })
    };
    let r = root.display();
    assert_eq!(at(&repo, ".").unwrap().flake_ref.to_string(), format!("git+file://{r}/repo"));
    let p = at(&repo, "./sub#pkg").unwrap();
    assert_eq!(p.flake_ref.to_string(), format!("git+file://{r}/repo?dir=sub"));
    assert_eq!(p.flake_ref.subdir, "sub");
    assert_eq!(p.fragment, "pkg");
    assert_eq!(
        attrs_to_json_string(&p.flake_ref.to_attrs()),
        format!(r#"{{"dir":"sub","type":"git","url":"file://{r}/repo?dir=sub"}}"#)
    );
    let p = at(&repo.join("sub/deeper"), ".").unwrap();
    assert_eq!(p.notices, [format!("path '{r}/repo/sub/deeper' does not contain a 'flake.nix', searching up")]);
    assert_eq!(p.flake_ref.to_string(), format!("git+file://{r}/repo?dir=sub"));
    assert_eq!(at(&plain, ".").unwrap().flake_ref.to_string(), format!("path:{r}/plain"));
    assert_eq!(at(&plain.join("x"), ".").unwrap().flake_ref.to_string(), format!("path:{r}/plain"));
    std::fs::remove_file(repo.join("flake.nix")).unwrap();
    assert_eq!(
        at(&repo, ".").unwrap_err().to_string(),
        format!(
            "path '{r}/repo' is not part of a flake (neither it nor its parent directories contain a 'flake.nix' file)"
        )
    );
    assert_eq!(
        at(&root, "./nope").unwrap_err().to_string(),
        format!("getting status of '{r}/nope': No such file or directory")
    );
    // Inputs inside flake.nix: no search, no flake.nix needed.
    let opts = ParseOptions { base_dir: Some(&plain), allow_missing: true, is_flake: false };
    assert_eq!(FlakeRef::parse("./x", opts).unwrap().to_string(), format!("path:{r}/plain/x"));
    std::fs::remove_dir_all(&root).unwrap();
}
