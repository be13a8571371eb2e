//! Fetcher inputs: the per-type rules that turn URLs into attributes and back.
//!
//! An [`Input`] is exactly CppNix 2.8's `fetchers::Input`: a sorted attribute
//! map whose `type` selects a scheme (`path`, `git`, `github`, `gitlab`,
//! `sourcehut`, `tarball`, `indirect`). Each scheme has three small functions,
//! kept side by side here so their asymmetries stay visible: which query
//! parameters become attributes (git keeps unknown ones, `dir` included, inside
//! `url`; tarball copies `narHash` and leaves it in `url`), which attributes are
//! accepted, and how the canonical URL is printed (git prints only `ref`, `rev`,
//! `shallow`; forges print `owner/repo/<ref-or-rev>`).

use std::collections::BTreeMap;
use std::fmt;

use nix_store_core::{Hash, HashAlgo};

use crate::attrs::{self, attrs_to_json_string, Attr, Attrs};
use crate::error::{bail, Error, Result};
use crate::flakeref::Compat;
use crate::url::{parse_url, ParsedUrl};

mod from_url;

pub(crate) use from_url::attrs_from_url;
use from_url::{is_archive, is_bad_git_ref};

pub(crate) use from_url::{is_flake_id, is_ref, is_rev};

/// A fetcher input (a flake reference without its `dir`). Equality compares attributes only.
#[derive(Clone, Debug)]
pub struct Input {
    attrs: Attrs,
    /// The directory a relative `path:` resolves against (not an attribute).
    parent: Option<String>,
}

impl PartialEq for Input {
    fn eq(&self, other: &Self) -> bool {
        self.attrs == other.attrs
    }
}

impl Eq for Input {}

const FORGES: [&str; 3] = ["github", "gitlab", "sourcehut"];
const KNOWN: [&str; 7] = ["path", "git", "github", "gitlab", "sourcehut", "tarball", "indirect"];

impl Input {
    /// The input a URL denotes; `input '<url>' is unsupported` for unknown schemes.
    pub fn from_url(url: &ParsedUrl) -> Result<Input> {
        Input::from_attrs(attrs_from_url(url, Compat::Nix2_8)?)
    }

    /// The input these attributes denote, checking each type's attribute whitelist.
    /// An unknown `type` gives an input that can be neither printed nor fetched.
    pub fn from_attrs(attrs: Attrs) -> Result<Input> {
        let ty = attrs::get_str(&attrs, "type")?.to_owned();
        let allowed: Option<(&[&str], &str)> = match ty.as_str() {
            "path" => Some((
                &["type", "path", "rev", "revCount", "lastModified", "narHash"],
                "unsupported path input attribute",
            )),
            "git" => Some((
                &[
                    "type",
                    "url",
                    "ref",
                    "rev",
                    "shallow",
                    "submodules",
                    "lastModified",
                    "revCount",
                    "narHash",
                    "allRefs",
                    "name",
                ],
                "unsupported Git input attribute",
            )),
            "tarball" => Some((&["type", "url", "narHash", "name"], "unsupported tarball input attribute")),
            "indirect" => Some((&["type", "id", "ref", "rev", "narHash"], "unsupported indirect input attribute")),
            t if FORGES.contains(&t) => Some((
                &["type", "owner", "repo", "ref", "rev", "narHash", "lastModified", "host"],
                "unsupported input attribute",
            )),
            _ => None,
        };
        if let Some((names, msg)) = allowed {
            if let Some(bad) = attrs.keys().find(|k| !names.contains(&k.as_str())) {
                bail!("{msg} '{bad}'");
            }
        }
        match ty.as_str() {
            "path" => {
                attrs::get_str(&attrs, "path")?;
            }
            "git" => {
                parse_url(attrs::get_str(&attrs, "url")?)?;
                for b in ["shallow", "submodules", "allRefs"] {
                    attrs::maybe_get_bool(&attrs, b)?;
                }
                if let Some(r) = attrs::maybe_get_str(&attrs, "ref")? {
                    if is_bad_git_ref(r) {
                        bail!("invalid Git branch/tag name '{r}'");
                    }
                }
            }
            "indirect" => {
                let id = attrs::get_str(&attrs, "id")?;
                if !is_flake_id(id) {
                    bail!("'{id}' is not a valid flake ID");
                }
            }
            t if FORGES.contains(&t) => {
                attrs::get_str(&attrs, "owner")?;
                attrs::get_str(&attrs, "repo")?;
            }
            _ => {}
        }
        let input = Input { attrs, parent: None };
        // fixupInput: every common attribute must have the right type.
        input.get_ref()?;
        input.get_rev()?;
        input.get_rev_count()?;
        input.get_last_modified()?;
        input.get_nar_hash()?;
        Ok(input)
    }

    /// The attributes (what lock files store as `original`/`locked`).
    pub fn attrs(&self) -> &Attrs {
        &self.attrs
    }

    /// The directory a relative `path:` input resolves against, if known.
    pub fn parent(&self) -> Option<&str> {
        self.parent.as_deref()
    }

    /// Sets the directory relative `path:` inputs resolve against.
    pub fn set_parent(&mut self, dir: Option<String>) {
        self.parent = dir;
    }

    /// The `type` attribute.
    pub fn input_type(&self) -> &str {
        match self.attrs.get("type") {
            Some(Attr::Str(s)) => s,
            _ => "",
        }
    }

    /// False only for `indirect` inputs, which need a registry lookup.
    pub fn is_direct(&self) -> bool {
        self.input_type() != "indirect"
    }

    /// 2.8's notion: the input names a `rev` or a `narHash` (any type).
    pub fn is_locked(&self) -> bool {
        self.attrs.contains_key("rev") || self.attrs.contains_key("narHash")
    }

    /// `ref`, if any.
    pub fn get_ref(&self) -> Result<Option<&str>> {
        attrs::maybe_get_str(&self.attrs, "ref")
    }

    /// `rev` as 40 lowercase hex digits, if any.
    pub fn get_rev(&self) -> Result<Option<String>> {
        match attrs::maybe_get_str(&self.attrs, "rev")? {
            None => Ok(None),
            Some(s) => Ok(Some(parse_rev(s)?)),
        }
    }

    /// `revCount`, if any.
    pub fn get_rev_count(&self) -> Result<Option<u64>> {
        attrs::maybe_get_int(&self.attrs, "revCount")
    }

    /// `lastModified`, if any.
    pub fn get_last_modified(&self) -> Result<Option<u64>> {
        attrs::maybe_get_int(&self.attrs, "lastModified")
    }

    /// `narHash` (SRI, sha256 only), if any.
    pub fn get_nar_hash(&self) -> Result<Option<Hash>> {
        match attrs::maybe_get_str(&self.attrs, "narHash")? {
            None => Ok(None),
            Some("") => Ok(Some(Hash::zero(HashAlgo::Sha256))),
            Some(s) => {
                let h = Hash::parse_sri(s)?;
                if h.algo() != HashAlgo::Sha256 {
                    bail!("narHash must use SHA-256");
                }
                Ok(Some(h))
            }
        }
    }

    /// The store path name: the `name` attribute or `source`.
    pub fn get_name(&self) -> &str {
        match self.attrs.get("name") {
            Some(Attr::Str(s)) => s,
            _ => "source",
        }
    }

    /// Sets (or replaces) one attribute; used by fetchers to record what they found.
    pub fn set_attr(&mut self, name: &str, value: impl Into<Attr>) {
        self.attrs.insert(name.to_owned(), value.into());
    }

    /// Removes one attribute.
    pub fn remove_attr(&mut self, name: &str) {
        self.attrs.remove(name);
    }

    /// The canonical URL (2.8 `toURL`).
    pub fn to_url(&self) -> Result<ParsedUrl> {
        url_of_attrs(&self.attrs, Compat::Nix2_8)
    }

    /// The canonical URL string with extra query parameters that do not override existing ones.
    pub fn to_url_string(&self, extra_query: &BTreeMap<String, String>) -> Result<String> {
        let mut url = self.to_url()?;
        for (k, v) in extra_query {
            url.query.entry(k.clone()).or_insert_with(|| v.clone());
        }
        Ok(url.to_url_string())
    }

    /// True if this input equals `other`, or equals it once `other`'s ref/rev are dropped
    /// (how a non-exact registry entry matches).
    pub fn contains(&self, other: &Input) -> bool {
        if self == other {
            return true;
        }
        let mut o = other.clone();
        o.attrs.remove("ref");
        o.attrs.remove("rev");
        *self == o
    }

    /// The input with `ref`/`rev` replaced (a registry lookup carrying the caller's ref/rev).
    pub fn apply_overrides(&self, r: Option<&str>, rev: Option<&str>) -> Result<Input> {
        let mut res = self.clone();
        match self.input_type() {
            "git" | "indirect" => {
                if let Some(rev) = rev {
                    res.set_attr("rev", rev);
                }
                if let Some(r) = r {
                    res.set_attr("ref", r);
                }
                if self.input_type() == "git" && res.get_ref()?.is_none() && res.get_rev()?.is_some() {
                    bail!("Git input '{res}' has a commit hash but no branch/tag name");
                }
            }
            t if FORGES.contains(&t) => {
                if let (Some(rev), Some(r)) = (rev, r) {
                    bail!("cannot apply both a commit hash ({rev}) and a branch/tag name ('{r}') to input '{self}'");
                }
                if let Some(rev) = rev {
                    res.set_attr("rev", rev);
                    res.remove_attr("ref");
                }
                if let Some(r) = r {
                    res.set_attr("ref", r);
                    res.remove_attr("rev");
                }
            }
            _ => {
                if let Some(r) = r {
                    bail!("don't know how to set branch/tag name of input '{self}' to '{r}'");
                }
                if let Some(rev) = rev {
                    bail!("don't know how to set revision of input '{self}' to '{rev}'");
                }
            }
        }
        Ok(res)
    }

    /// True if a fetch can be skipped when the store path already exists (2.8 `hasAllInfo`).
    pub fn has_all_info(&self) -> bool {
        let known = KNOWN.contains(&self.input_type());
        let nar = matches!(self.get_nar_hash(), Ok(Some(_)));
        let last_mod = matches!(self.get_last_modified(), Ok(Some(_)));
        nar && known
            && match self.input_type() {
                "git" => {
                    let shallow = matches!(attrs::maybe_get_bool(&self.attrs, "shallow"), Ok(Some(true)));
                    last_mod && (shallow || matches!(self.get_rev_count(), Ok(Some(_))))
                }
                t if FORGES.contains(&t) => last_mod && matches!(self.get_rev(), Ok(Some(_))),
                "indirect" => false,
                _ => true,
            }
    }

    /// The store path the locked `narHash` implies (`source` rule, name from [`Input::get_name`]).
    pub fn compute_store_path(&self) -> Result<Option<String>> {
        let Some(h) = self.get_nar_hash()? else {
            return Ok(None);
        };
        let sp = nix_store_core::store_path::make_fixed_output_path(
            nix_store_core::FileIngestionMethod::Recursive,
            &h,
            self.get_name(),
            &Default::default(),
        )
        .map_err(|e| Error::new(e.to_string()))?;
        Ok(Some(sp.to_absolute()))
    }
}

impl fmt::Display for Input {
    /// The canonical URL, or the attributes as JSON for an unsupported type.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_url() {
            Ok(u) => f.write_str(&u.to_url_string()),
            Err(_) => f.write_str(&attrs_to_json_string(&self.attrs)),
        }
    }
}

/// A commit hash in any encoding Nix accepts (prefixed, or bare sha1) as 40 lowercase hex.
pub(crate) fn parse_rev(s: &str) -> Result<String> {
    let h = Hash::parse_any_prefixed(s).or_else(|_| Hash::parse_any(s, Some(HashAlgo::Sha1)))?;
    Ok(h.to_base16())
}

/// A string attribute in the wording of `mode`'s `getStrAttr` (2.8 appends the attributes).
fn opt_str<'a>(a: &'a Attrs, name: &str, compat: Compat) -> Result<Option<&'a str>> {
    match (a.get(name), compat) {
        (Some(Attr::Str(s)), _) => Ok(Some(s)),
        (None, _) => Ok(None),
        (Some(_), Compat::Nix2_8) => attrs::maybe_get_str(a, name),
        (Some(_), Compat::Nix2_36) => bail!("input attribute '{name}' is not a string"),
    }
}

fn req_str<'a>(a: &'a Attrs, name: &str, compat: Compat) -> Result<&'a str> {
    opt_str(a, name, compat)?.ok_or_else(|| Error::new(format!("input attribute '{name}' is missing")))
}

/// The canonical URL of input attributes (`toURL`). In 2.8 mode the attributes were checked
/// by [`Input::from_attrs`]: revisions print as lowercase hex and `narHash` as SRI. In 2.36
/// mode (`builtins.flakeRefToString`) values print as they are, forges and indirect inputs
/// get their own attribute check here, forges also print `narHash` and `host`, git more
/// flags, and `file` inputs exist.
pub(crate) fn url_of_attrs(a: &Attrs, compat: Compat) -> Result<ParsedUrl> {
    let nix236 = compat == Compat::Nix2_36;
    let ty = match compat {
        Compat::Nix2_8 => match a.get("type") {
            Some(Attr::Str(s)) => s.as_str(),
            _ => "",
        },
        Compat::Nix2_36 => req_str(a, "type", compat)?,
    };
    let rev = |a: &Attrs| -> Result<Option<String>> {
        match opt_str(a, "rev", compat)? {
            Some(s) if !nix236 => Ok(Some(parse_rev(s)?)),
            r => Ok(r.map(str::to_owned)),
        }
    };
    let check_allowed = |names: &[&str]| -> Result<()> {
        match a.keys().find(|k| nix236 && !names.contains(&k.as_str())) {
            Some(k) => bail!("unsupported {ty} input attribute '{k}'"),
            None => Ok(()),
        }
    };
    let mut url = match ty {
        "path" => {
            let mut q = attrs::attrs_to_query(a);
            q.remove("path");
            q.remove("type");
            if nix236 {
                q.remove("__final");
            }
            ParsedUrl {
                scheme: "path".into(),
                path: req_str(a, "path", compat)?.into(),
                query: q,
                ..Default::default()
            }
        }
        "git" => {
            let base = req_str(a, "url", compat)?;
            let mut url = match compat {
                Compat::Nix2_8 => parse_url(base)?,
                Compat::Nix2_36 => crate::url::parse_url_2_36(base)
                    .ok_or_else(|| Error::new(format!("'{base}' is not a valid URL")))?,
            };
            if url.scheme != "git" {
                url.scheme = format!("git+{}", url.scheme);
            }
            if let Some(rev) = rev(a)? {
                url.query.insert("rev".into(), rev);
            }
            if let Some(r) = opt_str(a, "ref", compat)? {
                url.query.insert("ref".into(), r.into());
            }
            let flags: &[&str] =
                if nix236 { &["shallow", "lfs", "submodules", "exportIgnore", "verifyCommit"] } else { &["shallow"] };
            for flag in flags {
                let set = match compat {
                    Compat::Nix2_8 => attrs::maybe_get_bool(a, flag)?.unwrap_or(false),
                    Compat::Nix2_36 => a.get(*flag) == Some(&Attr::Bool(true)),
                };
                if set {
                    url.query.insert((*flag).into(), "1".into());
                }
            }
            url
        }
        "tarball" | "file" if nix236 => {
            let base = req_str(a, "url", compat)?;
            let mut url =
                crate::url::parse_url_2_36(base).ok_or_else(|| Error::new(format!("'{base}' is not a valid URL")))?;
            if let Some(h) = opt_str(a, "narHash", compat)? {
                url.query.insert("narHash".into(), h.into());
            }
            let looks_tarball = is_archive(&url.path.to_ascii_lowercase());
            if (ty == "tarball") != looks_tarball || !matches!(url.scheme.as_str(), "http" | "https" | "file") {
                url.scheme = format!("{ty}+{}", url.scheme);
            }
            url
        }
        "tarball" => {
            let mut url = parse_url(attrs::get_str(a, "url")?)?;
            if let Some(h) = (Input { attrs: a.clone(), parent: None }).get_nar_hash()? {
                url.query.insert("narHash".into(), h.to_sri());
            }
            url
        }
        "indirect" => {
            check_allowed(&["type", "id", "ref", "rev", "narHash"])?;
            let mut path = req_str(a, "id", compat)?.to_owned();
            if let Some(r) = opt_str(a, "ref", compat)? {
                path = format!("{path}/{r}");
            }
            if let Some(rev) = rev(a)? {
                path = format!("{path}/{rev}");
            }
            ParsedUrl { scheme: "flake".into(), path, ..Default::default() }
        }
        t if FORGES.contains(&t) => {
            check_allowed(&["type", "owner", "repo", "ref", "rev", "narHash", "lastModified", "host", "treeHash"])?;
            let mut path = format!("{}/{}", req_str(a, "owner", compat)?, req_str(a, "repo", compat)?);
            if let Some(r) = opt_str(a, "ref", compat)? {
                path = format!("{path}/{r}");
            }
            if let Some(rev) = rev(a)? {
                path = format!("{path}/{rev}");
            }
            let mut query = BTreeMap::new();
            if nix236 {
                for name in ["narHash", "host"] {
                    if let Some(v) = opt_str(a, name, compat)? {
                        query.insert(name.to_owned(), v.to_owned());
                    }
                }
            }
            ParsedUrl { scheme: t.into(), path, query, ..Default::default() }
        }
        _ if nix236 => bail!("unsupported input type '{ty}'"),
        _ => bail!("cannot show unsupported input '{}'", attrs_to_json_string(a)),
    };
    if !nix236 {
        url.fragment.clear();
    }
    Ok(url)
}
