//! The environment and odds and ends: `getEnv`, `currentTime`, `currentSystem`,
//! `placeholder`, and flake references (`parseFlakeRef`, `flakeRefToString`).

use crate::{make_attrs, Args};
use nix_eval::error::{AddTrace, ErrorKind, EvalError, Result};
use nix_eval::source::Pos;
use nix_eval::{BuiltinDef, ConstantDef, Eval, Value};

pub const BUILTINS: &[BuiltinDef] = &[
    BuiltinDef { name: "getEnv", arity: 1, global: false, func: get_env },
    BuiltinDef { name: "placeholder", arity: 1, global: true, func: placeholder },
    BuiltinDef { name: "parseFlakeRef", arity: 1, global: false, func: crate::misc::flakeref::parse_flake_ref },
    BuiltinDef { name: "flakeRefToString", arity: 1, global: false, func: crate::misc::flakeref::flake_ref_to_string },
];

/// `currentTime` and `currentSystem` do not exist at all in pure evaluation mode in the
/// reference; the builder should leave the names in [`IMPURE_ONLY`] out when `pure` is set.
pub const CONSTANTS: &[ConstantDef] = &[
    ConstantDef { name: "currentTime", global: false, value: current_time },
    ConstantDef { name: "currentSystem", global: false, value: current_system },
];

/// Constants the reference defines only outside pure evaluation mode.
pub const IMPURE_ONLY: &[&str] = &["currentTime", "currentSystem"];

fn current_time(_ev: &mut Eval) -> Value {
    let secs =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    Value::Int(secs)
}

fn current_system(ev: &mut Eval) -> Value {
    Value::string(ev.settings.system.as_str())
}

fn get_env(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a = Args::new("getEnv", args, pos);
    let name = a.string_no_ctx(ev, 0)?;
    if ev.settings.pure || ev.settings.restrict {
        return Ok(Value::string(""));
    }
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let name = std::ffi::OsStr::from_bytes(name.as_bytes());
    // A name the OS cannot hold (with '=' or NUL) is simply not set.
    let bytes = if name.is_empty() || name.as_bytes().contains(&b'=') || name.as_bytes().contains(&0) {
        Vec::new()
    } else {
        std::env::var_os(name).map(|v| v.into_vec()).unwrap_or_default()
    };
    Ok(Value::string(bytes))
}

/// `/` + nix32(sha256("nix-output:" + name)): the placeholder for an output path.
fn placeholder(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a = Args::new("placeholder", args, pos);
    let name = a.string_no_ctx(ev, 0)?;
    Ok(Value::string(nix_store_core::store_path::hash_placeholder(name.as_bytes())))
}

pub(crate) mod flakeref {
    //! Flake references: the URL forms (`github:owner/repo/ref?dir=…`, `git+https://…`,
    //! `path:…`, `flake:id/ref`, bare ids, tarball URLs) and their attribute sets.

    use super::*;
    use std::collections::BTreeMap;

    /// An attribute of a flake reference: the reference's `fetchers::Attr`.
    #[derive(Clone, Debug, PartialEq)]
    pub enum FAttr {
        Str(String),
        Int(u64),
        Bool(bool),
    }

    type FAttrs = BTreeMap<String, FAttr>;

    fn err(pos: Pos, msg: String) -> Box<EvalError> {
        EvalError::at(ErrorKind::Other, pos, msg)
    }

    fn is_ref_name(s: &str) -> bool {
        // refRegexS = "[a-zA-Z0-9@][a-zA-Z0-9_.\/@+-]*", with git's ref-name restrictions
        // the reference checks separately (no "..", no "@{", no trailing ".lock" ...).
        let mut chars = s.chars();
        match chars.next() {
            Some(c) if c.is_ascii_alphanumeric() || c == '@' => {}
            _ => return false,
        }
        if !chars.all(|c| c.is_ascii_alphanumeric() || "_./@+-".contains(c)) {
            return false;
        }
        !(s.contains("..")
            || s.contains("@{")
            || s.ends_with('.')
            || s.ends_with('/')
            || s.ends_with(".lock")
            || s.contains("//"))
    }

    fn is_rev(s: &str) -> bool {
        s.len() == 40 && s.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    }

    fn is_flake_id(s: &str) -> bool {
        let mut chars = s.chars();
        matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    }

    fn percent_decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' && i + 2 < b.len() {
                let hex = |c: u8| (c as char).to_digit(16);
                if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
            }
            out.push(b[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    fn percent_encode(s: &str, keep: &str) -> String {
        let mut out = String::new();
        for &b in s.as_bytes() {
            let c = b as char;
            if c.is_ascii_alphanumeric() || "-._~".contains(c) || keep.contains(c) {
                out.push(c);
            } else {
                out.push_str(&format!("%{:02X}", b));
            }
        }
        out
    }

    /// A parsed URL, as the reference's `ParsedURL`.
    struct Url {
        scheme: String,
        authority: Option<String>,
        path: String,
        query: BTreeMap<String, String>,
        fragment: String,
    }

    impl Url {
        fn parse(s: &str) -> Option<Url> {
            let (scheme, rest) = s.split_once(':')?;
            let mut sc = scheme.chars();
            if !matches!(sc.next(), Some(c) if c.is_ascii_alphabetic())
                || !sc.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            {
                return None;
            }
            let (rest, fragment) = match rest.split_once('#') {
                Some((r, f)) => (r, percent_decode(f)),
                None => (rest, String::new()),
            };
            let (rest, query) = match rest.split_once('?') {
                Some((r, q)) => (r, decode_query(q)),
                None => (rest, BTreeMap::new()),
            };
            let (authority, path) = match rest.strip_prefix("//") {
                Some(r) => match r.find('/') {
                    Some(i) => (Some(r[..i].to_string()), r[i..].to_string()),
                    None => (Some(r.to_string()), String::new()),
                },
                None => (None, rest.to_string()),
            };
            Some(Url { scheme: scheme.to_string(), authority, path: percent_decode(&path), query, fragment })
        }

        fn render(&self) -> String {
            let mut out = format!("{}:", self.scheme);
            if let Some(a) = &self.authority {
                out.push_str("//");
                out.push_str(a);
            }
            out.push_str(&percent_encode(&self.path, "!$&'()*+,;=:@/"));
            if !self.query.is_empty() {
                out.push('?');
                let q: Vec<String> = self
                    .query
                    .iter()
                    .map(|(k, v)| {
                        format!("{}={}", percent_encode(k, "!$'()*+,;:@/?"), percent_encode(v, "!$'()*+,;:@/?"))
                    })
                    .collect();
                out.push_str(&q.join("&"));
            }
            if !self.fragment.is_empty() {
                out.push('#');
                out.push_str(&percent_encode(&self.fragment, "!$&'()*+,;=:@/?"));
            }
            out
        }
    }

    fn decode_query(q: &str) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        for part in q.split('&') {
            if part.is_empty() {
                continue;
            }
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            m.entry(percent_decode(k)).or_insert_with(|| percent_decode(v));
        }
        m
    }

    fn s(v: &str) -> FAttr {
        FAttr::Str(v.to_string())
    }

    /// The input attributes of a URL, per input scheme.
    fn input_from_url(url: &Url, text: &str, pos: Pos) -> Result<FAttrs> {
        let mut a = FAttrs::new();
        match url.scheme.as_str() {
            "github" | "gitlab" | "sourcehut" => {
                let path: Vec<&str> = url.path.split('/').filter(|p| !p.is_empty()).collect();
                let (mut rev, mut r#ref, mut host) = (None, None, None);
                match path.len() {
                    3 => {
                        if is_rev(path[2]) {
                            rev = Some(path[2].to_string());
                        } else if is_ref_name(path[2]) {
                            r#ref = Some(path[2].to_string());
                        } else {
                            return Err(err(
                                pos,
                                format!("in URL '{}', '{}' is not a commit hash or branch/tag name", text, path[2]),
                            ));
                        }
                    }
                    n if n > 3 => {
                        let rs = path[2..].join("/");
                        if is_ref_name(&rs) {
                            r#ref = Some(rs);
                        } else {
                            return Err(err(pos, format!("in URL '{}', '{}' is not a branch/tag name", text, rs)));
                        }
                    }
                    n if n < 2 => return Err(err(pos, format!("URL '{}' is invalid", text))),
                    _ => {}
                }
                for (k, v) in &url.query {
                    match k.as_str() {
                        "rev" => {
                            if rev.is_some() {
                                return Err(err(pos, format!("URL '{}' contains multiple commit hashes", text)));
                            }
                            rev = Some(v.clone());
                        }
                        "ref" => {
                            if !is_ref_name(v) {
                                return Err(err(pos, format!("URL '{}' contains an invalid branch/tag name", text)));
                            }
                            if r#ref.is_some() {
                                return Err(err(pos, format!("URL '{}' contains multiple branch/tag names", text)));
                            }
                            r#ref = Some(v.clone());
                        }
                        "host" => host = Some(v.clone()),
                        _ => {}
                    }
                }
                if let (Some(r), Some(h)) = (&r#ref, &rev) {
                    return Err(err(
                        pos,
                        format!("URL '{}' contains both a commit hash and a branch/tag name {} {}", text, r, h),
                    ));
                }
                a.insert("type".into(), s(&url.scheme));
                a.insert("owner".into(), s(path[0]));
                a.insert("repo".into(), s(path[1]));
                if let Some(r) = rev {
                    a.insert("rev".into(), FAttr::Str(r));
                }
                if let Some(r) = r#ref {
                    a.insert("ref".into(), FAttr::Str(r));
                }
                if let Some(h) = host {
                    a.insert("host".into(), FAttr::Str(h));
                }
                if let Some(h) = url.query.get("narHash") {
                    a.insert("narHash".into(), s(h));
                }
            }
            "flake" => {
                let path: Vec<&str> = url.path.split('/').filter(|p| !p.is_empty()).collect();
                if path.is_empty() || path.len() > 3 || !is_flake_id(path[0]) {
                    return Err(err(pos, format!("'{}' is not a valid URL", text)));
                }
                a.insert("type".into(), s("indirect"));
                a.insert("id".into(), s(path[0]));
                if path.len() == 2 {
                    if is_rev(path[1]) {
                        a.insert("rev".into(), s(path[1]));
                    } else if is_ref_name(path[1]) {
                        a.insert("ref".into(), s(path[1]));
                    } else {
                        return Err(err(
                            pos,
                            format!("in flake URL '{}', '{}' is not a commit hash or branch/tag name", text, path[1]),
                        ));
                    }
                } else if path.len() == 3 {
                    if !is_ref_name(path[1]) {
                        return Err(err(
                            pos,
                            format!("in flake URL '{}', '{}' is not a branch/tag name", text, path[1]),
                        ));
                    }
                    if !is_rev(path[2]) {
                        return Err(err(pos, format!("in flake URL '{}', '{}' is not a commit hash", text, path[2])));
                    }
                    a.insert("ref".into(), s(path[1]));
                    a.insert("rev".into(), s(path[2]));
                }
            }
            "path" => {
                if url.authority.as_deref().is_some_and(|x| !x.is_empty()) {
                    return Err(err(
                        pos,
                        format!(
                            "path URL '{}' should not have an authority ('{}')",
                            text,
                            url.authority.as_deref().unwrap_or("")
                        ),
                    ));
                }
                a.insert("type".into(), s("path"));
                a.insert("path".into(), s(&url.path));
                for (k, v) in &url.query {
                    match k.as_str() {
                        "rev" | "narHash" => {
                            a.insert(k.clone(), s(v));
                        }
                        "revCount" | "lastModified" => match v.parse::<u64>() {
                            Ok(n) => {
                                a.insert(k.clone(), FAttr::Int(n));
                            }
                            Err(_) => {
                                return Err(err(pos, format!("path URL '{}' has invalid parameter '{}'", text, k)))
                            }
                        },
                        _ => return Err(err(pos, format!("path URL '{}' has unsupported parameter '{}'", text, k))),
                    }
                }
            }
            sc if sc == "git" || sc.starts_with("git+") => {
                let mut url2 = Url {
                    scheme: sc.strip_prefix("git+").unwrap_or(sc).to_string(),
                    authority: url.authority.clone(),
                    path: url.path.clone(),
                    query: BTreeMap::new(),
                    fragment: String::new(),
                };
                a.insert("type".into(), s("git"));
                for (k, v) in &url.query {
                    match k.as_str() {
                        "ref" if !is_ref_name(v) => {
                            return Err(err(pos, format!("invalid Git branch/tag name '{}'", v)));
                        }
                        "rev" | "ref" | "keytype" | "publicKey" | "publicKeys" => {
                            a.insert(k.clone(), s(v));
                        }
                        "shallow" | "submodules" | "lfs" | "exportIgnore" | "allRefs" | "verifyCommit" => {
                            a.insert(k.clone(), FAttr::Bool(v == "1"));
                        }
                        _ => {
                            url2.query.insert(k.clone(), v.clone());
                        }
                    }
                }
                a.insert("url".into(), FAttr::Str(url2.render()));
            }
            sc => {
                // Tarballs and files over http(s)/file.
                let (kind, base) = if let Some(b) = sc.strip_prefix("tarball+") {
                    ("tarball", b)
                } else if let Some(b) = sc.strip_prefix("file+") {
                    ("file", b)
                } else if matches!(sc, "http" | "https" | "file") {
                    let p = url.path.to_ascii_lowercase();
                    let tarball = [".zip", ".tar", ".tgz", ".tar.gz", ".tar.xz", ".tar.bz2", ".tar.zst"]
                        .iter()
                        .any(|e| p.ends_with(e));
                    (if tarball { "tarball" } else { "file" }, sc)
                } else {
                    return Err(err(pos, format!("input '{}' is unsupported", text)));
                };
                let mut url2 = Url {
                    scheme: base.to_string(),
                    authority: url.authority.clone(),
                    path: url.path.clone(),
                    query: BTreeMap::new(),
                    fragment: String::new(),
                };
                a.insert("type".into(), s(kind));
                for (k, v) in &url.query {
                    match k.as_str() {
                        "narHash" | "rev" => {
                            a.insert(k.clone(), s(v));
                        }
                        "revCount" | "lastModified" => {
                            if let Ok(n) = v.parse::<u64>() {
                                a.insert(k.clone(), FAttr::Int(n));
                            }
                        }
                        _ => {
                            url2.query.insert(k.clone(), v.clone());
                        }
                    }
                }
                a.insert("url".into(), FAttr::Str(url2.render()));
            }
        }
        Ok(a)
    }

    /// `parseFlakeRef`'s attribute set (the input attributes plus `dir`).
    fn parse(text: &str, pos: Pos) -> Result<FAttrs> {
        let a = parse_with_fragment(text, pos)?;
        // `parseFlakeRef` (not `…WithFragment`): a fragment is an error, once the rest parsed.
        let fragment = text.split_once('#').map(|(_, f)| percent_decode(f)).unwrap_or_default();
        if !fragment.is_empty() {
            return Err(err(pos, format!("unexpected fragment '{}' in flake reference '{}'", fragment, text)));
        }
        Ok(a)
    }

    fn parse_with_fragment(text: &str, pos: Pos) -> Result<FAttrs> {
        // A flake id, maybe with a ref and a rev: "nixpkgs", "nixpkgs/branch", "nixpkgs/branch/rev".
        let (main, _fragment) = text.split_once('#').unwrap_or((text, ""));
        let parts: Vec<&str> = main.split('/').collect();
        if is_flake_id(parts[0]) && !main.contains(':') && parts.len() <= 3 && parts.iter().all(|p| !p.is_empty()) {
            let url = Url {
                scheme: "flake".into(),
                authority: None,
                path: main.to_string(),
                query: BTreeMap::new(),
                fragment: String::new(),
            };
            return input_from_url(&url, text, pos);
        }
        if let Some(mut url) = Url::parse(text).filter(|u| u.scheme.len() > 1 || !text.starts_with('/')) {
            let dir = url.query.remove("dir");
            let mut a = input_from_url(&url, text, pos)?;
            if let Some(d) = dir.filter(|d| !d.is_empty()) {
                a.insert("dir".into(), FAttr::Str(d));
            }
            return Ok(a);
        }
        let (path, query) = main.split_once('?').unwrap_or((main, ""));
        if text.starts_with('/') {
            // Without a base directory, `dir` is part of the path (the reference's
            // `canonPath(path + "/" + dir)`), not an attribute.
            let dir = decode_query(query).remove("dir").unwrap_or_default();
            let mut a = FAttrs::new();
            a.insert("type".into(), s("path"));
            a.insert("path".into(), s(&nix_eval::canon_path(&format!("{}/{}", path, dir))));
            return Ok(a);
        }
        // The reference's path-like shape: `/?FN(/FN)*/?` (a relative path here).
        let path_like = !path.trim_matches('/').is_empty()
            && path.bytes().all(|c| c == b'/' || c.is_ascii_alphanumeric() || b"-._~!$&'\"()*+,;=".contains(&c));
        if path_like {
            return Err(err(pos, format!("flake reference '{}' is not an absolute path", text)));
        }
        Err(err(pos, format!("'{}' is not a valid URL", text)))
    }

    pub fn parse_flake_ref(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
        let a = Args::new("parseFlakeRef", args, pos);
        let text = a.string_no_ctx(ev, 0)?;
        let attrs = parse(&text.to_str_lossy(), pos)?;
        let pairs: Vec<(&str, Value)> = attrs
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    FAttr::Str(x) => Value::string(x.as_str()),
                    FAttr::Int(n) => Value::Int(*n as i64),
                    FAttr::Bool(b) => Value::Bool(*b),
                };
                (k.as_str(), v)
            })
            .collect();
        Ok(make_attrs(pairs))
    }

    fn str_attr<'a>(a: &'a FAttrs, name: &str, pos: Pos) -> Result<&'a str> {
        match a.get(name) {
            Some(FAttr::Str(x)) => Ok(x),
            Some(_) => Err(err(pos, format!("input attribute '{}' is not a string", name))),
            None => Err(err(pos, format!("input attribute '{}' is missing", name))),
        }
    }

    fn opt_str<'a>(a: &'a FAttrs, name: &str, pos: Pos) -> Result<Option<&'a str>> {
        match a.get(name) {
            Some(FAttr::Str(x)) => Ok(Some(x)),
            Some(_) => Err(err(pos, format!("input attribute '{}' is not a string", name))),
            None => Ok(None),
        }
    }

    fn check_allowed(a: &FAttrs, allowed: &[&str], ty: &str, pos: Pos) -> Result<()> {
        for k in a.keys() {
            if !allowed.contains(&k.as_str()) {
                return Err(err(pos, format!("unsupported {} input attribute '{}'", ty, k)));
            }
        }
        Ok(())
    }

    /// The URL of a flake reference's attributes (`FlakeRef::fromAttrs` then `to_string`).
    fn to_url(attrs: &FAttrs, pos: Pos) -> Result<String> {
        let mut a = attrs.clone();
        let dir = match a.remove("dir") {
            Some(FAttr::Str(d)) => Some(d),
            Some(_) => return Err(err(pos, "input attribute 'dir' is not a string".into())),
            None => None,
        };
        let ty = str_attr(&a, "type", pos)?.to_string();
        let mut url = match ty.as_str() {
            "github" | "gitlab" | "sourcehut" => {
                check_allowed(
                    &a,
                    &["type", "owner", "repo", "ref", "rev", "narHash", "lastModified", "host", "treeHash"],
                    &ty,
                    pos,
                )?;
                let mut path = format!("{}/{}", str_attr(&a, "owner", pos)?, str_attr(&a, "repo", pos)?);
                if let Some(r) = opt_str(&a, "ref", pos)? {
                    path.push('/');
                    path.push_str(r);
                }
                if let Some(r) = opt_str(&a, "rev", pos)? {
                    path.push('/');
                    path.push_str(r);
                }
                let mut query = BTreeMap::new();
                if let Some(h) = opt_str(&a, "narHash", pos)? {
                    query.insert("narHash".to_string(), h.to_string());
                }
                if let Some(h) = opt_str(&a, "host", pos)? {
                    query.insert("host".to_string(), h.to_string());
                }
                Url { scheme: ty.clone(), authority: None, path, query, fragment: String::new() }
            }
            "indirect" => {
                check_allowed(&a, &["type", "id", "ref", "rev", "narHash"], &ty, pos)?;
                let mut path = str_attr(&a, "id", pos)?.to_string();
                if let Some(r) = opt_str(&a, "ref", pos)? {
                    path.push('/');
                    path.push_str(r);
                }
                if let Some(r) = opt_str(&a, "rev", pos)? {
                    path.push('/');
                    path.push_str(r);
                }
                Url { scheme: "flake".into(), authority: None, path, query: BTreeMap::new(), fragment: String::new() }
            }
            "path" => {
                let path = str_attr(&a, "path", pos)?.to_string();
                let mut query = BTreeMap::new();
                for (k, v) in &a {
                    if k == "path" || k == "type" || k == "__final" {
                        continue;
                    }
                    query.insert(k.clone(), attr_to_query(v));
                }
                Url { scheme: "path".into(), authority: None, path, query, fragment: String::new() }
            }
            "git" => {
                let base = str_attr(&a, "url", pos)?;
                let mut url = Url::parse(base).ok_or_else(|| err(pos, format!("'{}' is not a valid URL", base)))?;
                if url.scheme != "git" {
                    url.scheme = format!("git+{}", url.scheme);
                }
                if let Some(r) = opt_str(&a, "rev", pos)? {
                    url.query.insert("rev".into(), r.to_string());
                }
                if let Some(r) = opt_str(&a, "ref", pos)? {
                    url.query.insert("ref".into(), r.to_string());
                }
                for flag in ["shallow", "lfs", "submodules", "exportIgnore", "verifyCommit"] {
                    if a.get(flag) == Some(&FAttr::Bool(true)) {
                        url.query.insert(flag.into(), "1".into());
                    }
                }
                url
            }
            "tarball" | "file" => {
                let base = str_attr(&a, "url", pos)?;
                let mut url = Url::parse(base).ok_or_else(|| err(pos, format!("'{}' is not a valid URL", base)))?;
                if let Some(h) = opt_str(&a, "narHash", pos)? {
                    url.query.insert("narHash".into(), h.to_string());
                }
                let p = url.path.to_ascii_lowercase();
                let looks_tarball = [".zip", ".tar", ".tgz", ".tar.gz", ".tar.xz", ".tar.bz2", ".tar.zst"]
                    .iter()
                    .any(|e| p.ends_with(e));
                if (ty == "tarball") != looks_tarball || !matches!(url.scheme.as_str(), "http" | "https" | "file") {
                    url.scheme = format!("{}+{}", ty, url.scheme);
                }
                url
            }
            _ => return Err(err(pos, format!("unsupported input type '{}'", ty))),
        };
        if let Some(d) = dir.filter(|d| !d.is_empty()) {
            url.query.insert("dir".into(), d);
        }
        Ok(url.render())
    }

    fn attr_to_query(v: &FAttr) -> String {
        match v {
            FAttr::Str(x) => x.clone(),
            FAttr::Int(n) => n.to_string(),
            FAttr::Bool(b) => (if *b { "1" } else { "0" }).to_string(),
        }
    }

    pub fn flake_ref_to_string(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
        let set = ev
            .expect_attrs(&args[0], Pos::NONE)
            .trace(Pos::NONE, || "while evaluating the argument passed to builtins.flakeRefToString".into())?;
        let mut attrs = FAttrs::new();
        for attr in set.iter() {
            // The reference looks at the values as they are, without forcing them.
            let v = match &attr.value {
                Value::Thunk(t) => t.value(),
                v => Some(v.clone()),
            };
            let fa = match &v {
                Some(Value::Int(i)) => {
                    if *i < 0 {
                        return Err(err(pos, format!("negative value given for flake ref attr {}: {}", attr.name, i)));
                    }
                    FAttr::Int(*i as u64)
                }
                Some(Value::Bool(b)) => FAttr::Bool(*b),
                Some(Value::String(x)) => FAttr::Str(x.to_str_lossy().into_owned()),
                other => {
                    let ty = other.as_ref().map(|v| v.ty().describe()).unwrap_or("a thunk");
                    return Err(err(
                        Pos::NONE,
                        format!(
                            "flake reference attribute sets may only contain integers, Booleans, and strings, but attribute '{}' is {}",
                            attr.name, ty
                        ),
                    ));
                }
            };
            attrs.insert(attr.name.as_str().to_string(), fa);
        }
        Ok(Value::string(to_url(&attrs, pos)?))
    }
}
