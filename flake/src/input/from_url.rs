//! URL → attributes for each input type, and the small regular expressions
//! (flake ids, ref names, revisions) 2.8 checks them with.
//!
//! Split from [`super`] for size. Each `*_from_url` mirrors one scheme's
//! `inputFromURL` in CppNix 2.8, including its error wording; the result still
//! goes through [`super::Input::from_attrs`] for the attribute whitelist.

use crate::attrs::Attrs;
use crate::error::{bail, Result};
use crate::url::{is_host, ParsedUrl};

use super::parse_rev;

pub(super) fn is_archive(path: &str) -> bool {
    [".zip", ".tar", ".tgz", ".tar.gz", ".tar.xz", ".tar.bz2", ".tar.zst"].iter().any(|s| path.ends_with(s))
}

pub(super) fn path_from_url(url: &ParsedUrl) -> Result<Attrs> {
    if let Some(a) = url.authority.as_deref().filter(|a| !a.is_empty()) {
        bail!("path URL '{}' should not have an authority ('{a}')", url.url);
    }
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
                Err(_) => bail!("path URL '{}' has invalid parameter '{name}'", url.to_url_string()),
            },
            _ => bail!("path URL '{}' has unsupported parameter '{name}'", url.to_url_string()),
        }
    }
    Ok(attrs)
}

pub(super) fn git_from_url(url: &ParsedUrl) -> Result<Attrs> {
    let mut url2 = url.clone();
    if let Some(s) = url2.scheme.strip_prefix("git+") {
        url2.scheme = s.to_owned();
    }
    url2.query.clear();
    let mut attrs = Attrs::new();
    attrs.insert("type".into(), "git".into());
    for (name, value) in &url.query {
        match name.as_str() {
            "rev" | "ref" => {
                attrs.insert(name.clone(), value.as_str().into());
            }
            "shallow" | "submodules" => {
                attrs.insert(name.clone(), (value == "1").into());
            }
            _ => {
                url2.query.insert(name.clone(), value.clone());
            }
        }
    }
    attrs.insert("url".into(), url2.to_url_string().into());
    Ok(attrs)
}

pub(super) fn forge_from_url(url: &ParsedUrl) -> Result<Attrs> {
    let path: Vec<&str> = url.path.split('/').filter(|s| !s.is_empty()).collect();
    let u = &url.url;
    let mut rev = None;
    let mut r = None;
    match path.len() {
        0 | 1 => bail!("URL '{u}' is invalid"),
        2 => {}
        3 if is_rev(path[2]) => rev = Some(parse_rev(path[2])?),
        3 if is_ref(path[2]) => r = Some(path[2].to_owned()),
        3 => bail!("in URL '{u}', '{}' is not a commit hash or branch/tag name", path[2]),
        _ => {
            let rs = path[2..].join("/");
            if !is_ref(&rs) {
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
                rev = Some(parse_rev(value)?);
            }
            "ref" => {
                if !is_ref(value) {
                    bail!("URL '{u}' contains an invalid branch/tag name");
                }
                if r.is_some() {
                    bail!("URL '{u}' contains multiple branch/tag names");
                }
                r = Some(value.clone());
            }
            "host" => {
                if !is_host(value) {
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
    Ok(attrs)
}

pub(super) fn indirect_from_url(url: &ParsedUrl) -> Result<Attrs> {
    let path: Vec<&str> = url.path.split('/').filter(|s| !s.is_empty()).collect();
    let u = &url.url;
    let (mut r, mut rev) = (None, None);
    match path.len() {
        1 => {}
        2 if is_rev(path[1]) => rev = Some(parse_rev(path[1])?),
        2 if is_ref(path[1]) => r = Some(path[1]),
        2 => bail!("in flake URL '{u}', '{}' is not a commit hash or branch/tag name", path[1]),
        3 => {
            if !is_ref(path[1]) {
                bail!("in flake URL '{u}', '{}' is not a branch/tag name", path[1]);
            }
            r = Some(path[1]);
            if !is_rev(path[2]) {
                bail!("in flake URL '{u}', '{}' is not a commit hash", path[2]);
            }
            rev = Some(parse_rev(path[2])?);
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
