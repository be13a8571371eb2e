//! URL → attributes for each input type, and the small regular expressions
//! (flake ids, ref names, revisions) they are checked with.
//!
//! Split from [`super`] for size. Each `*_from_url` mirrors one scheme's
//! `inputFromURL` in CppNix 2.8, including its error wording; in 2.8 mode the result still
//! goes through [`super::Input::from_attrs`] for the attribute whitelist. In
//! [`Compat::Nix2_36`] mode (the builtins `parseFlakeRef`) the same functions follow Nix
//! 2.36 where it differs: git's ref-name rules, lowercase-only revisions, `narHash` kept for
//! forges, more git flags, `file`/`tarball+`/`file+` inputs, and no attribute checks after.

use crate::attrs::{Attr, Attrs};
use crate::error::{bail, Result};
use crate::flakeref::Compat;
use crate::url::{is_host, ParsedUrl};

use super::parse_rev;

/// The input attributes of a URL (2.8's or 2.36's `inputFromURL` over every input scheme).
pub(crate) fn attrs_from_url(url: &ParsedUrl, compat: Compat) -> Result<Attrs> {
    let scheme = url.scheme.as_str();
    match compat {
        Compat::Nix2_8 => match scheme {
            "path" => path_from_url(url, compat),
            "git" | "git+http" | "git+https" | "git+ssh" | "git+file" => git_from_url(url, compat),
            "github" | "gitlab" | "sourcehut" => forge_from_url(url, compat),
            "file" | "http" | "https" if is_archive(&url.path) => {
                let mut a = Attrs::new();
                a.insert("type".into(), "tarball".into());
                a.insert("url".into(), url.to_url_string().into());
                if let Some(h) = url.query.get("narHash") {
                    a.insert("narHash".into(), h.as_str().into());
                }
                Ok(a)
            }
            "flake" => indirect_from_url(url, compat),
            _ => bail!("input '{}' is unsupported", url.url),
        },
        Compat::Nix2_36 => match scheme {
            "path" => path_from_url(url, compat),
            s if s == "git" || s.starts_with("git+") => git_from_url(url, compat),
            "github" | "gitlab" | "sourcehut" => forge_from_url(url, compat),
            "flake" => indirect_from_url(url, compat),
            _ => file_from_url_2_36(url),
        },
    }
}

/// Nix 2.36's tarball and file inputs: `tarball+`/`file+` schemes, or http(s)/file URLs
/// whose path names an archive (tarball) or anything else (file).
fn file_from_url_2_36(url: &ParsedUrl) -> Result<Attrs> {
    let sc = url.scheme.as_str();
    let (kind, base) = if let Some(b) = sc.strip_prefix("tarball+") {
        ("tarball", b)
    } else if let Some(b) = sc.strip_prefix("file+") {
        ("file", b)
    } else if matches!(sc, "http" | "https" | "file") {
        (if is_archive(&url.path.to_ascii_lowercase()) { "tarball" } else { "file" }, sc)
    } else {
        bail!("input '{}' is unsupported", url.url);
    };
    let mut url2 = ParsedUrl {
        scheme: base.to_owned(),
        authority: url.authority.clone(),
        path: url.path.clone(),
        ..Default::default()
    };
    let mut a = Attrs::new();
    a.insert("type".into(), kind.into());
    for (k, v) in &url.query {
        match k.as_str() {
            "narHash" | "rev" => {
                a.insert(k.clone(), v.as_str().into());
            }
            "revCount" | "lastModified" => {
                if let Ok(n) = v.parse::<u64>() {
                    a.insert(k.clone(), n.into());
                }
            }
            _ => {
                url2.query.insert(k.clone(), v.clone());
            }
        }
    }
    a.insert("url".into(), url2.to_url_string_2_36().into());
    Ok(a)
}

pub(super) fn is_archive(path: &str) -> bool {
    [".zip", ".tar", ".tgz", ".tar.gz", ".tar.xz", ".tar.bz2", ".tar.zst"].iter().any(|s| path.ends_with(s))
}

fn path_from_url(url: &ParsedUrl, compat: Compat) -> Result<Attrs> {
    if let Some(a) = url.authority.as_deref().filter(|a| !a.is_empty()) {
        bail!("path URL '{}' should not have an authority ('{a}')", url.url);
    }
    // How the URL is named in the parameter errors below.
    let shown = match compat {
        Compat::Nix2_8 => url.to_url_string(),
        Compat::Nix2_36 => url.url.clone(),
    };
    let mut attrs = Attrs::new();
    attrs.insert("type".into(), "path".into());
    attrs.insert("path".into(), url.path.as_str().into());
    for (name, value) in &url.query {
        match name.as_str() {
            "rev" | "narHash" => {
                attrs.insert(name.clone(), value.as_str().into());
            }
            "revCount" | "lastModified" => match value.parse::<u64>() {
                Ok(n) => {
                    attrs.insert(name.clone(), n.into());
                }
                Err(_) => bail!("path URL '{shown}' has invalid parameter '{name}'"),
            },
            _ => bail!("path URL '{shown}' has unsupported parameter '{name}'"),
        }
    }
    Ok(attrs)
}

fn git_from_url(url: &ParsedUrl, compat: Compat) -> Result<Attrs> {
    let mut url2 = url.clone();
    if let Some(s) = url2.scheme.strip_prefix("git+") {
        url2.scheme = s.to_owned();
    }
    url2.query.clear();
    if compat == Compat::Nix2_36 {
        url2.fragment.clear();
    }
    // The parameters that become attributes (the rest stay in `url`).
    let (strings, flags): (&[&str], &[&str]) = match compat {
        Compat::Nix2_8 => (&["rev", "ref"], &["shallow", "submodules"]),
        Compat::Nix2_36 => (
            &["rev", "ref", "keytype", "publicKey", "publicKeys"],
            &["shallow", "submodules", "lfs", "exportIgnore", "allRefs", "verifyCommit"],
        ),
    };
    let mut attrs = Attrs::new();
    attrs.insert("type".into(), "git".into());
    for (name, value) in &url.query {
        if compat == Compat::Nix2_36 && name == "ref" && !is_ref_2_36(value) {
            bail!("invalid Git branch/tag name '{value}'");
        }
        if strings.contains(&name.as_str()) {
            attrs.insert(name.clone(), value.as_str().into());
        } else if flags.contains(&name.as_str()) {
            attrs.insert(name.clone(), (value == "1").into());
        } else {
            url2.query.insert(name.clone(), value.clone());
        }
    }
    let shown = match compat {
        Compat::Nix2_8 => url2.to_url_string(),
        Compat::Nix2_36 => url2.to_url_string_2_36(),
    };
    attrs.insert("url".into(), shown.into());
    Ok(attrs)
}

/// A revision: 2.8 takes any hash encoding (normalised to lowercase hex), 2.36's URL
/// grammar only 40 lowercase hex digits, kept as written.
fn rev_in_path(s: &str, compat: Compat) -> Option<Result<String>> {
    match compat {
        Compat::Nix2_8 => is_rev(s).then(|| parse_rev(s)),
        Compat::Nix2_36 => is_rev_2_36(s).then(|| Ok(s.to_owned())),
    }
}

/// A branch or tag name in a URL: 2.8's `refRegex`, or 2.36's (git's ref-name rules).
fn ref_ok(s: &str, compat: Compat) -> bool {
    match compat {
        Compat::Nix2_8 => is_ref(s),
        Compat::Nix2_36 => is_ref_2_36(s),
    }
}

fn forge_from_url(url: &ParsedUrl, compat: Compat) -> Result<Attrs> {
    let path: Vec<&str> = url.path.split('/').filter(|s| !s.is_empty()).collect();
    let u = &url.url;
    let mut rev = None;
    let mut r = None;
    match path.len() {
        0 | 1 => bail!("URL '{u}' is invalid"),
        2 => {}
        3 => match rev_in_path(path[2], compat) {
            Some(h) => rev = Some(h?),
            None if ref_ok(path[2], compat) => r = Some(path[2].to_owned()),
            None => bail!("in URL '{u}', '{}' is not a commit hash or branch/tag name", path[2]),
        },
        _ => {
            let rs = path[2..].join("/");
            if !ref_ok(&rs, compat) {
                bail!("in URL '{u}', '{rs}' is not a branch/tag name");
            }
            r = Some(rs);
        }
    }
    let mut host = None;
    for (name, value) in &url.query {
        match name.as_str() {
            "rev" => {
                if rev.is_some() {
                    bail!("URL '{u}' contains multiple commit hashes");
                }
                rev = Some(match compat {
                    Compat::Nix2_8 => parse_rev(value)?,
                    Compat::Nix2_36 => value.clone(),
                });
            }
            "ref" => {
                if !ref_ok(value, compat) {
                    bail!("URL '{u}' contains an invalid branch/tag name");
                }
                if r.is_some() {
                    bail!("URL '{u}' contains multiple branch/tag names");
                }
                r = Some(value.clone());
            }
            "host" => {
                if compat == Compat::Nix2_8 && !is_host(value) {
                    bail!("URL '{u}' contains an invalid instance host");
                }
                host = Some(value.clone());
            }
            _ => {}
        }
    }
    if let (Some(r), Some(rev)) = (&r, &rev) {
        bail!("URL '{u}' contains both a commit hash and a branch/tag name {r} {rev}");
    }
    let mut attrs = Attrs::new();
    attrs.insert("type".into(), url.scheme.as_str().into());
    attrs.insert("owner".into(), path[0].into());
    attrs.insert("repo".into(), path[1].into());
    if let Some(rev) = rev {
        attrs.insert("rev".into(), rev.into());
    }
    if let Some(r) = r {
        attrs.insert("ref".into(), r.into());
    }
    if let Some(h) = host {
        attrs.insert("host".into(), h.into());
    }
    if compat == Compat::Nix2_36 {
        if let Some(h) = url.query.get("narHash") {
            attrs.insert("narHash".into(), Attr::Str(h.clone()));
        }
    }
    Ok(attrs)
}

fn indirect_from_url(url: &ParsedUrl, compat: Compat) -> Result<Attrs> {
    let path: Vec<&str> = url.path.split('/').filter(|s| !s.is_empty()).collect();
    let u = &url.url;
    if compat == Compat::Nix2_36 && (path.is_empty() || path.len() > 3 || !is_flake_id(path[0])) {
        bail!("'{u}' is not a valid URL");
    }
    let (mut r, mut rev) = (None, None);
    match path.len() {
        1 => {}
        2 => match rev_in_path(path[1], compat) {
            Some(h) => rev = Some(h?),
            None if ref_ok(path[1], compat) => r = Some(path[1]),
            None => bail!("in flake URL '{u}', '{}' is not a commit hash or branch/tag name", path[1]),
        },
        3 => {
            if !ref_ok(path[1], compat) {
                bail!("in flake URL '{u}', '{}' is not a branch/tag name", path[1]);
            }
            r = Some(path[1]);
            match rev_in_path(path[2], compat) {
                Some(h) => rev = Some(h?),
                None => bail!("in flake URL '{u}', '{}' is not a commit hash", path[2]),
            }
        }
        _ => bail!("GitHub URL '{u}' is invalid"),
    }
    if !is_flake_id(path[0]) {
        bail!("'{}' is not a valid flake ID", path[0]);
    }
    let mut attrs = Attrs::new();
    attrs.insert("type".into(), "indirect".into());
    attrs.insert("id".into(), path[0].into());
    if let Some(rev) = rev {
        attrs.insert("rev".into(), rev.into());
    }
    if let Some(r) = r {
        attrs.insert("ref".into(), r.into());
    }
    Ok(attrs)
}

/// `[a-zA-Z][a-zA-Z0-9_-]*`
pub(crate) fn is_flake_id(s: &str) -> bool {
    let mut b = s.bytes();
    b.next().is_some_and(|c| c.is_ascii_alphabetic()) && b.all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

/// `[a-zA-Z0-9][a-zA-Z0-9_./-]*`
pub(crate) fn is_ref(s: &str) -> bool {
    let mut b = s.bytes();
    b.next().is_some_and(|c| c.is_ascii_alphanumeric()) && b.all(|c| c.is_ascii_alphanumeric() || b"_./-".contains(&c))
}

/// `[0-9a-fA-F]{40}`
pub(crate) fn is_rev(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|c| c.is_ascii_hexdigit())
}

/// Nix 2.36's `revRegex`: 40 lowercase hex digits.
fn is_rev_2_36(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// Nix 2.36's `refRegex` (`[a-zA-Z0-9@][a-zA-Z0-9_.\/@+-]*`) with the git ref-name rules it
/// checks beside it: no `..`, `@{`, `//`, and no trailing `.`, `/` or `.lock`.
fn is_ref_2_36(s: &str) -> bool {
    let mut b = s.bytes();
    b.next().is_some_and(|c| c.is_ascii_alphanumeric() || c == b'@')
        && b.all(|c| c.is_ascii_alphanumeric() || b"_./@+-".contains(&c))
        && !(s.contains("..")
            || s.contains("@{")
            || s.ends_with('.')
            || s.ends_with('/')
            || s.ends_with(".lock")
            || s.contains("//"))
}

/// 2.8's `badGitRefRegex`, searched anywhere in the name.
pub(super) fn is_bad_git_ref(r: &str) -> bool {
    r.is_empty()
        || r == "@"
        || r.contains("//")
        || r.starts_with(['.', '/'])
        || r.contains("/.")
        || r.contains("..")
        || r.bytes().any(|c| c.is_ascii_control() || c.is_ascii_whitespace() || b":?^~[\\*".contains(&c))
        || r.ends_with(".lock")
        || r.contains(".lock/")
        || r.contains("@{")
        || r.ends_with(['/', '.'])
}
