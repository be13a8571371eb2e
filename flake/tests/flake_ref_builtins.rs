//! `builtins.parseFlakeRef` and `builtins.flakeRefToString` on a table of references, against
//! the reference. The builtins are the flake library's one parser in `Compat::Nix2_36` mode
//! (`flake/src/eval/flake_ref_builtins.rs`); these rows are where that mode must agree with
//! the 2.8 rules locking uses.
//!
//! CppNix 2.8 has neither builtin, but it parses and prints flake references the same way
//! in `nix registry add` (which writes the parsed reference's attributes to a registry file)
//! and `nix registry list` (which prints a registry entry's attributes as a URL). The table
//! holds the references whose meaning Nix 2.36 (the language reference for the builtins)
//! kept from 2.8: github/gitlab/sourcehut, git URLs with ref/rev, path:, absolute paths with
//! `dir`, indirect ids with ref/rev, tarball URLs and invalid ones. (Left out, because 2.36
//! changed them: `file`/`tarball+`/`file+` URLs, `narHash` and `dir` in github, git and
//! tarball URLs, `path:…?dir=`, git ref names in github URLs, `submodules` in printed git URLs.) Skips without the binary
//! or the reference (a failure under `RNIX_REQUIRE_SHARED`).

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

const REV: &str = "a3a3dda3bacf61e8a39258a0ed9c924eeca8e293";

/// References for `parseFlakeRef` (`@REV@` stands for a commit hash).
const PARSE: &[&str] = &[
    "github:NixOS/nixpkgs",
    "github:NixOS/nixpkgs/nixos-23.05",
    "github:NixOS/nixpkgs/23.05?dir=lib",
    "github:NixOS/nixpkgs/@REV@",
    "github:NixOS/nixpkgs?rev=@REV@",
    "github:NixOS/nixpkgs?ref=master&rev=@REV@",
    "github:NixOS/nixpkgs/release/23.05",
    "github:NixOS/nixpkgs?host=example.org",
    "github:NixOS/nixpkgs/nixos-23.05?ref=master",
    "github:NixOS",
    "gitlab:veloren/veloren/master?dir=sub/dir",
    "sourcehut:~user/repo",
    "git+https://github.com/NixOS/nix?ref=master",
    "git+https://github.com/NixOS/nix?ref=master&rev=@REV@",
    "git+ssh://git@github.com/NixOS/nix.git",
    "git+file:///tmp/repo?shallow=1&submodules=1",
    "git+https://example.org/r?foo=bar&ref=main",
    "git+https://github.com/NixOS/nix?ref=a..b",
    "git://example.org/repo",
    "path:/tmp/foo",
    "path:/tmp/foo?lastModified=123&narHash=sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D",
    "path:/tmp/foo?revCount=12",
    "path:/tmp/foo?foo=bar",
    "/tmp/foo",
    "/tmp/foo?dir=bar",
    "/tmp/foo/",
    "./foo",
    "https://example.org/foo.tar.gz",
    "https://example.org/foo.zip",
    "nixpkgs",
    "nixpkgs/nixos-23.05",
    "nixpkgs/@REV@",
    "nixpkgs/nixos-23.05/@REV@",
    "flake:nixpkgs/release/23.05",
    "nixpkgs#hello",
    "github:NixOS/nixpkgs#hello",
    "ftp://example.org/foo",
];

/// Attribute sets for `flakeRefToString`, as JSON (the registry file's `to`).
const TO_STRING: &[&str] = &[
    r#"{"type": "github", "owner": "NixOS", "repo": "nixpkgs"}"#,
    r#"{"type": "github", "owner": "NixOS", "repo": "nixpkgs", "ref": "23.05", "dir": "lib"}"#,
    r#"{"type": "github", "owner": "NixOS", "repo": "nixpkgs", "rev": "@REV@"}"#,
    r#"{"type": "gitlab", "owner": "veloren", "repo": "veloren", "ref": "master"}"#,
    r#"{"type": "git", "url": "https://github.com/NixOS/nix", "ref": "master"}"#,
    r#"{"type": "git", "url": "https://github.com/NixOS/nix", "ref": "master", "rev": "@REV@", "dir": "sub"}"#,
    r#"{"type": "git", "url": "file:///tmp/repo", "shallow": true}"#,
    r#"{"type": "path", "path": "/tmp/foo"}"#,
    r#"{"type": "path", "path": "/tmp/foo", "dir": "bar"}"#,
    r#"{"type": "indirect", "id": "nixpkgs"}"#,
    r#"{"type": "indirect", "id": "nixpkgs", "ref": "nixos-23.05"}"#,
    r#"{"type": "indirect", "id": "nixpkgs", "ref": "master", "rev": "@REV@"}"#,
    r#"{"type": "tarball", "url": "https://example.org/foo.tar.gz"}"#,
];

/// `nix` 2.8 with flakes, in a private configuration (no user or global registry).
fn reference(scratch: &Path) -> Command {
    let mut c = Command::new("nix");
    c.args(["--extra-experimental-features", "nix-command flakes"])
        .env("HOME", scratch)
        .env("XDG_CONFIG_HOME", scratch.join("config"))
        .env("XDG_CACHE_HOME", scratch.join("cache"))
        .env("NIX_CONF_DIR", scratch.join("config"));
    c
}

fn reference_installed() -> bool {
    let ok = Command::new("nix").arg("--version").output().is_ok_and(|o| o.status.success());
    require_or_skip(ok, "the reference `nix` (CppNix 2.8)");
    if !ok {
        eprintln!("skipping: the reference `nix` is not installed");
    }
    ok
}

/// A JSON attribute set as `nix-instantiate --eval` prints it (names sorted).
fn nix_attrs(j: &serde_json::Value) -> String {
    let obj = j.as_object().expect("an object");
    let mut names: Vec<&String> = obj.keys().collect();
    names.sort();
    let mut out = String::from("{ ");
    for n in names {
        let v = match &obj[n] {
            serde_json::Value::String(s) => {
                format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"").replace("${", "\\${"))
            }
            other => other.to_string(),
        };
        out.push_str(&format!("{n} = {v}; "));
    }
    out.push('}');
    out
}

/// What `builtins.parseFlakeRef TEXT` is in the reference: the printed set, or `error: …`.
fn reference_parse(scratch: &Path, text: &str) -> String {
    let reg = scratch.join("parse-registry.json");
    let _ = std::fs::remove_file(&reg);
    let o = reference(scratch).args(["registry", "add", "--registry"]).arg(&reg).args(["x", text]).output().unwrap();
    if !o.status.success() {
        return stderr(&o).lines().next().unwrap_or("").to_owned();
    }
    let j: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&reg).unwrap()).unwrap();
    nix_attrs(&j["flakes"][0]["to"])
}

/// What `builtins.flakeRefToString ATTRS` is in the reference: the quoted URL.
fn reference_to_string(scratch: &Path, attrs: &str) -> String {
    let reg = scratch.join("list-registry.json");
    let text = format!(r#"{{"version": 2, "flakes": [{{"from": {{"type": "indirect", "id": "x"}}, "to": {attrs}}}]}}"#);
    std::fs::write(&reg, text).unwrap();
    let o = reference(scratch).args(["registry", "list", "--flake-registry"]).arg(&reg).output().unwrap();
    assert!(o.status.success() && stderr(&o).is_empty(), "registry list on {attrs}: {}", stderr(&o));
    let line = stdout(&o);
    let url = line.trim_end().strip_prefix("global flake:x ").unwrap_or_else(|| panic!("unexpected: {line}"));
    format!("\"{url}\"")
}

/// Ours: stdout, or the first line of the error.
fn ours(scratch: &Path, expr: &str) -> String {
    let o = run(scratch, &["instantiate", "--eval", "--strict", "--expr", expr]);
    if o.status.success() {
        stdout(&o).trim_end().to_owned()
    } else {
        stderr(&o).lines().next().unwrap_or("").to_owned()
    }
}

/// Runs every row through the reference (`want`) and through rnix-eval (`expr` is the
/// expression to evaluate); fails listing every row that differs.
fn compare(tag: &str, rows: &[&str], want: fn(&Path, &str) -> String, expr: fn(&str) -> String) {
    if !bin_built() || !reference_installed() {
        return;
    }
    let scratch = scratch(tag);
    let mut failures = vec![];
    for row in rows {
        let row = row.replace("@REV@", REV);
        let want = want(&scratch, &row);
        let got = ours(&scratch, &expr(&row));
        if got != want {
            failures.push(format!("{row}\n   reference: {want}\n   ours:      {got}"));
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(failures.is_empty(), "{tag} differs:\n{}", failures.join("\n"));
}

#[test]
fn parse_flake_ref_as_the_reference() {
    compare("parseFlakeRef", PARSE, reference_parse, |text| format!("builtins.parseFlakeRef \"{text}\""));
}

#[test]
fn flake_ref_to_string_as_the_reference() {
    compare("flakeRefToString", TO_STRING, reference_to_string, |json| {
        format!("builtins.flakeRefToString {}", nix_attrs(&serde_json::from_str(json).unwrap()))
    });
}
