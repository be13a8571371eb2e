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

use std::collections::BTreeMap;
use std::fmt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::attrs::{self, Attrs};
use crate::error::{bail, Error, Result};
use crate::input::{is_flake_id, is_ref, is_rev, Input};
use crate::url::{decode_query, is_query, parse_url, percent_decode, ParsedUrl};

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
