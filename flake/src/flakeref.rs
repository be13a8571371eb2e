//! Flake references: `github:NixOS/nixpkgs/nixos-20.09`, `.`, `git+file:///r?dir=sub`,
//! `{ type = "path"; path = …; }`, and how they print.
//!
//! A [`FlakeRef`] is an [`Input`] plus a `dir` inside it. Parsing follows 2.8's
//! `parseFlakeRefWithFragment` in its exact order, because the order decides
//! meaning: first the indirect shorthand (`nixpkgs/nixos-20.09`, and the trap
//! `rel/sub`), then path-like strings (resolved against a base directory,
//! searching up for `flake.nix` and turning a git work tree into `git+file`),
//! then general URLs. Notices (the "searching up" line) are returned to the
//! caller rather than printed, so the library never writes to stderr itself.
//!
//! The builtins `parseFlakeRef` and `flakeRefToString` exist only in newer Nix, and the
//! language corpus they are checked against is 2.36's, which changed some meanings (git's
//! ref-name rules, `file` inputs, `narHash` and `dir` in URLs, lenient URL syntax). They use
//! the same scheme rules ([`crate::input`]) in [`Compat::Nix2_36`] mode through
//! [`parse_attrs_2_36`] and [`attrs_to_url_string_2_36`]; lock files, registries and the
//! command line stay with 2.8 ([`Compat::Nix2_8`]).

use std::collections::BTreeMap;
use std::fmt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::attrs::{self, Attr, Attrs};
use crate::error::{bail, Error, Result};
use crate::input::{is_flake_id, is_ref, is_rev, Input};
use crate::url::{decode_query, is_query, parse_url, parse_url_2_36, percent_decode, ParsedUrl};

/// Which Nix's flake-reference rules to follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compat {
    /// CppNix 2.8: lock files, registries, `flake metadata`, the command line.
    Nix2_8,
    /// Nix 2.36: the builtins `parseFlakeRef` and `flakeRefToString`.
    Nix2_36,
}

/// A flake reference: where the flake's source comes from, and its directory inside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlakeRef {
    /// The source.
    pub input: Input,
    /// The flake's directory relative to the source root (`dir`), `""` for the root.
    pub subdir: String,
}

/// How a string is parsed: relative to a directory (the command line, or a parent flake's
/// source) or not at all (`builtins.getFlake`).
#[derive(Clone, Copy, Debug)]
pub struct ParseOptions<'a> {
    /// The directory relative paths resolve against; `None` requires absolute paths.
    pub base_dir: Option<&'a Path>,
    /// Do not require (or search up for) a `flake.nix` (flake inputs are parsed this way).
    pub allow_missing: bool,
    /// The reference is to a flake (paths must be directories; git roots are detected).
    pub is_flake: bool,
}

impl Default for ParseOptions<'_> {
    fn default() -> Self {
        ParseOptions { base_dir: None, allow_missing: false, is_flake: true }
    }
}

/// A parsed reference with its fragment (`#attr.path`) and any notices for stderr.
#[derive(Clone, Debug)]
pub struct Parsed {
    /// The reference.
    pub flake_ref: FlakeRef,
    /// The percent-decoded fragment, `""` if none.
    pub fragment: String,
    /// Informational lines the reference prints (without a `warning:` prefix).
    pub notices: Vec<String>,
}

impl FlakeRef {
    /// Parses a reference that must not have a fragment.
    pub fn parse(url: &str, opts: ParseOptions<'_>) -> Result<FlakeRef> {
        let p = FlakeRef::parse_with_fragment(url, opts)?;
        if !p.fragment.is_empty() {
            bail!("unexpected fragment '{}' in flake reference '{url}'", p.fragment);
        }
        Ok(p.flake_ref)
    }

    /// Parses `FLAKEREF[#FRAGMENT]` as 2.8 does.
    pub fn parse_with_fragment(url: &str, opts: ParseOptions<'_>) -> Result<Parsed> {
        if let Some((path, fragment)) = match_shorthand(url) {
            let parsed =
                ParsedUrl { url: url.to_owned(), scheme: "flake".into(), path: path.to_owned(), ..Default::default() };
            let flake_ref = FlakeRef { input: Input::from_url(&parsed)?, subdir: String::new() };
            return Ok(Parsed { flake_ref, fragment: percent_decode(fragment)?, notices: vec![] });
        }
        if let Some((path, query, fragment)) = match_path_like(url) {
            return parse_path_like(url, path, query, fragment, opts);
        }
        let mut parsed = parse_url(url)?;
        let fragment = std::mem::take(&mut parsed.fragment);
        let mut input = Input::from_url(&parsed)?;
        input.set_parent(opts.base_dir.map(|d| d.display().to_string()));
        let subdir = parsed.query.get("dir").cloned().unwrap_or_default();
        Ok(Parsed { flake_ref: FlakeRef { input, subdir }, fragment, notices: vec![] })
    }

    /// The reference an attribute set denotes (`dir` is split off).
    pub fn from_attrs(attrs: &Attrs) -> Result<FlakeRef> {
        let mut a = attrs.clone();
        a.remove("dir");
        let subdir = attrs::maybe_get_str(attrs, "dir")?.unwrap_or("").to_owned();
        Ok(FlakeRef { input: Input::from_attrs(a)?, subdir })
    }

    /// The attributes (`dir` added when set): a lock file's `original`/`locked`.
    pub fn to_attrs(&self) -> Attrs {
        let mut a = self.input.attrs().clone();
        if !self.subdir.is_empty() {
            a.entry("dir".into()).or_insert_with(|| self.subdir.as_str().into());
        }
        a
    }

    /// The attributes as an ordered JSON object.
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        attrs::attrs_to_json(&self.to_attrs())
    }

    /// The canonical URL string (`dir` as a query parameter); errors for unsupported types.
    pub fn to_url_string(&self) -> Result<String> {
        let mut extra = BTreeMap::new();
        if !self.subdir.is_empty() {
            extra.insert("dir".to_owned(), self.subdir.clone());
        }
        self.input.to_url_string(&extra)
    }

    /// Resolves an indirect reference through the registries (a direct one is returned as is).
    pub fn resolve(&self, registries: &crate::registry::Registries) -> Result<FlakeRef> {
        let (input, extra) = registries.lookup(&self.input)?;
        let subdir = match attrs::maybe_get_str(&extra, "dir")? {
            Some(d) if self.subdir.is_empty() => d.to_owned(),
            _ => self.subdir.clone(),
        };
        Ok(FlakeRef { input, subdir })
    }
}

impl fmt::Display for FlakeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_url_string() {
            Ok(s) => f.write_str(&s),
            Err(_) => f.write_str(&attrs::attrs_to_json_string(&self.to_attrs())),
        }
    }
}

/// `builtins.parseFlakeRef TEXT` (Nix 2.36): the reference's attributes, `dir` included.
/// Without a base directory a relative path is an error and an absolute one is taken as
/// it is (`dir` joined to it); a fragment is an error once the rest parsed.
pub fn parse_attrs_2_36(text: &str) -> Result<Attrs> {
    let attrs = parse_attrs_with_fragment_2_36(text)?;
    let fragment = text.split_once('#').map(|(_, f)| crate::url::percent_decode_lenient(f)).unwrap_or_default();
    if !fragment.is_empty() {
        bail!("unexpected fragment '{fragment}' in flake reference '{text}'");
    }
    Ok(attrs)
}

fn parse_attrs_with_fragment_2_36(text: &str) -> Result<Attrs> {
    let compat = Compat::Nix2_36;
    // A flake id, maybe with a ref and a rev: "nixpkgs", "nixpkgs/branch", "nixpkgs/branch/rev".
    let main = text.split_once('#').map_or(text, |(m, _)| m);
    let parts: Vec<&str> = main.split('/').collect();
    if is_flake_id(parts[0]) && !main.contains(':') && parts.len() <= 3 && parts.iter().all(|p| !p.is_empty()) {
        let url =
            ParsedUrl { url: text.to_owned(), scheme: "flake".into(), path: main.to_owned(), ..Default::default() };
        return crate::input::attrs_from_url(&url, compat);
    }
    if let Some(mut url) = parse_url_2_36(text).filter(|u| u.scheme.len() > 1 || !text.starts_with('/')) {
        let dir = url.query.remove("dir");
        let mut attrs = crate::input::attrs_from_url(&url, compat)?;
        if let Some(d) = dir.filter(|d| !d.is_empty()) {
            attrs.insert("dir".into(), d.into());
        }
        return Ok(attrs);
    }
    let (path, query) = main.split_once('?').unwrap_or((main, ""));
    if text.starts_with('/') {
        // Without a base directory, `dir` is part of the path (`canonPath(path + "/" + dir)`).
        let dir = crate::url::decode_query_2_36(query).remove("dir").unwrap_or_default();
        let mut attrs = Attrs::new();
        attrs.insert("type".into(), "path".into());
        attrs.insert("path".into(), nix_eval::canon_path(&format!("{path}/{dir}")).into());
        return Ok(attrs);
    }
    // The path-like shape `/?FN(/FN)*/?` (a relative path here).
    let path_like = !path.trim_matches('/').is_empty()
        && path.bytes().all(|c| c == b'/' || c.is_ascii_alphanumeric() || b"-._~!$&'\"()*+,;=".contains(&c));
    if path_like {
        bail!("flake reference '{text}' is not an absolute path");
    }
    bail!("'{text}' is not a valid URL")
}

/// `builtins.flakeRefToString ATTRS` (Nix 2.36): the URL of a reference's attributes, `dir`
/// as a query parameter.
pub fn attrs_to_url_string_2_36(attrs: &Attrs) -> Result<String> {
    let mut a = attrs.clone();
    let dir = match a.remove("dir") {
        Some(Attr::Str(d)) => Some(d),
        Some(_) => bail!("input attribute 'dir' is not a string"),
        None => None,
    };
    let mut url = crate::input::url_of_attrs(&a, Compat::Nix2_36)?;
    if let Some(d) = dir.filter(|d| !d.is_empty()) {
        url.query.insert("dir".into(), d);
    }
    Ok(url.to_url_string_2_36())
}

/// `((ID)(/(REV|REF(/REV)?))?)(#frag)?` → (path part, fragment).
fn match_shorthand(url: &str) -> Option<(&str, &str)> {
    let (main, frag) = match url.find('#') {
        Some(i) => (&url[..i], &url[i + 1..]),
        None => (url, ""),
    };
    if !is_query(frag) {
        return None;
    }
    let (id, rest) = match main.find('/') {
        Some(i) => (&main[..i], Some(&main[i + 1..])),
        None => (main, None),
    };
    if !is_flake_id(id) {
        return None;
    }
    let ok = match rest {
        None => true,
        Some(r) if is_rev(r) || is_ref(r) => true,
        // REF/REV where REF may itself contain slashes.
        Some(r) => {
            r.is_ascii()
                && r.len() > 41
                && r.as_bytes()[r.len() - 41] == b'/'
                && is_ref(&r[..r.len() - 41])
                && is_rev(&r[r.len() - 40..])
        }
    };
    ok.then_some((main, frag))
}

/// `(/?FN(/FN)*/?)(?QUERY)?(#FRAG)?` with FN = `[0-9a-zA-Z-._~!$&'"()*+,;=]+`.
fn match_path_like(url: &str) -> Option<(&str, &str, &str)> {
    let (main, frag) = match url.find('#') {
        Some(i) => (&url[..i], &url[i + 1..]),
        None => (url, ""),
    };
    let (path, query) = match main.find('?') {
        Some(i) => (&main[..i], &main[i + 1..]),
        None => (main, ""),
    };
    if !is_query(frag) || !is_query(query) {
        return None;
    }
    let inner = path.strip_prefix('/').unwrap_or(path);
    let inner = inner.strip_suffix('/').unwrap_or(inner);
    let fn_ok =
        |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric() || b"-._~!$&'\"()*+,;=".contains(&c));
    inner.split('/').all(fn_ok).then_some((path, query, frag))
}

fn lstat(p: &str) -> Result<std::fs::Metadata> {
    std::fs::symlink_metadata(p).map_err(|e| Error::from(e).prefixed(&format!("getting status of '{p}': ")))
}

fn exists(p: &str) -> bool {
    std::fs::symlink_metadata(p).is_ok()
}

fn dir_of(p: &str) -> String {
    match p.rfind('/') {
        Some(0) | None => "/".to_owned(),
        Some(i) => p[..i].to_owned(),
    }
}

/// Makes `p` absolute against `base` and canonicalises `.`/`..`/`//` lexically (Nix `absPath`).
pub(crate) fn abs_path(p: &str, base: &Path) -> String {
    let joined = if p.starts_with('/') { p.to_owned() } else { format!("{}/{p}", base.display()) };
    let mut parts: Vec<&str> = vec![];
    for seg in joined.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

fn parse_path_like(url: &str, path: &str, query: &str, fragment: &str, opts: ParseOptions<'_>) -> Result<Parsed> {
    let fragment = percent_decode(fragment)?;
    let mut notices = vec![];
    let path_attrs = |p: String| -> Result<FlakeRef> {
        let mut a = Attrs::new();
        a.insert("type".into(), "path".into());
        a.insert("path".into(), p.into());
        Ok(FlakeRef { input: Input::from_attrs(a)?, subdir: String::new() })
    };
    let Some(base) = opts.base_dir else {
        if !path.starts_with('/') {
            bail!("flake reference '{url}' is not an absolute path");
        }
        let q = decode_query(query)?;
        let p = abs_path(&format!("{path}/{}", q.get("dir").map_or("", String::as_str)), Path::new("/"));
        return Ok(Parsed { flake_ref: path_attrs(p)?, fragment, notices });
    };
    let mut path = abs_path(path, base);
    if opts.is_flake {
        if !opts.allow_missing && !exists(&format!("{path}/flake.nix")) {
            notices.push(format!("path '{path}' does not contain a 'flake.nix', searching up"));
            let device = lstat(&path)?.dev();
            let mut found = false;
            while path != "/" {
                if exists(&format!("{path}/flake.nix")) {
                    found = true;
                    break;
                } else if exists(&format!("{path}/.git")) {
                    bail!("path '{path}' is not part of a flake (neither it nor its parent directories contain a 'flake.nix' file)");
                } else if lstat(&path)?.dev() != device {
                    bail!("unable to find a flake before encountering filesystem boundary at '{path}'");
                }
                path = dir_of(&path);
            }
            if !found {
                bail!("could not find a flake.nix file");
            }
        }
        if !lstat(&path)?.is_dir() {
            bail!("path '{path}' is not a flake (because it's not a directory)");
        }
        if !opts.allow_missing && !exists(&format!("{path}/flake.nix")) {
            bail!("path '{path}' is not a flake (because it doesn't contain a 'flake.nix' file)");
        }
        let mut root = path.clone();
        let mut subdir = String::new();
        while root != "/" {
            if exists(&format!("{root}/.git")) {
                let mut q = decode_query(query)?;
                if !subdir.is_empty() {
                    if q.contains_key("dir") {
                        bail!("flake URL '{url}' has an inconsistent 'dir' parameter");
                    }
                    q.insert("dir".into(), subdir.clone());
                }
                if exists(&format!("{root}/.git/shallow")) {
                    q.insert("shallow".into(), "1".into());
                }
                let base_url = format!("git+file://{root}");
                let parsed = ParsedUrl {
                    url: base_url.clone(),
                    base: base_url,
                    scheme: "git+file".into(),
                    authority: Some(String::new()),
                    path: root.clone(),
                    query: q,
                    fragment: String::new(),
                };
                let subdir = parsed.query.get("dir").cloned().unwrap_or_default();
                let flake_ref = FlakeRef { input: Input::from_url(&parsed)?, subdir };
                return Ok(Parsed { flake_ref, fragment, notices });
            }
            let name = root.rsplit('/').next().unwrap_or("").to_owned();
            subdir = if subdir.is_empty() { name } else { format!("{name}/{subdir}") };
            root = dir_of(&root);
        }
    }
    Ok(Parsed { flake_ref: path_attrs(path)?, fragment, notices })
}

#[cfg(test)]
#[path = "flakeref_tests.rs"]
mod tests;
