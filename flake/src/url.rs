//! URLs as CppNix 2.8 parses and prints them (`libutil/url.cc`).
//!
//! Nix does not use a general URL library: a flake URL must match one regular
//! expression built from RFC 3986 character classes (ASCII only, so a UTF-8
//! path is "not a valid URL"), the path is never percent-decoded, query values
//! are, and printing re-encodes every query key and value with 2.8's own
//! `percentEncode` (lowercase hex, `/` encoded, `+ =` kept). Reproducing those
//! quirks is what makes canonical URL strings and lock files match, so the
//! regular expressions are transcribed here as small hand-written matchers.
//!
//! `builtins.parseFlakeRef`/`flakeRefToString` follow Nix 2.36 instead (2.8 has neither
//! builtin), whose URL parser is lenient: [`parse_url_2_36`] and
//! [`ParsedUrl::to_url_string_2_36`] are that grammar, used only in
//! [`Compat::Nix2_36`](crate::flakeref::Compat) mode.

use std::collections::BTreeMap;

use crate::error::{bail, Result};

/// A parsed URL; the fragment is percent-decoded, the path is not.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedUrl {
    /// The text this was parsed from.
    pub url: String,
    /// `scheme:` + authority + path, without query or fragment.
    pub base: String,
    /// The scheme, e.g. `git+file`.
    pub scheme: String,
    /// The authority after `//`, if the URL has one (possibly empty, as in `file:///x`).
    pub authority: Option<String>,
    /// The path, verbatim.
    pub path: String,
    /// Decoded query parameters (the first occurrence of a key wins).
    pub query: BTreeMap<String, String>,
    /// The decoded fragment.
    pub fragment: String,
}

impl ParsedUrl {
    /// `scheme:[//authority]path[?query][#fragment]`, query re-encoded in key order.
    pub fn to_url_string(&self) -> String {
        let mut s = format!("{}:", self.scheme);
        if let Some(a) = &self.authority {
            s.push_str("//");
            s.push_str(a);
        }
        s.push_str(&self.path);
        if !self.query.is_empty() {
            s.push('?');
            s.push_str(&encode_query(&self.query));
        }
        if !self.fragment.is_empty() {
            s.push('#');
            s.push_str(&percent_encode(&self.fragment));
        }
        s
    }
}

impl ParsedUrl {
    /// The URL as Nix 2.36 prints it: the path and fragment percent-encoded (uppercase hex,
    /// `/` and sub-delimiters kept), each query key and value encoded, in key order.
    pub fn to_url_string_2_36(&self) -> String {
        let mut out = format!("{}:", self.scheme);
        if let Some(a) = &self.authority {
            out.push_str("//");
            out.push_str(a);
        }
        out.push_str(&percent_encode_2_36(&self.path, "!$&'()*+,;=:@/"));
        if !self.query.is_empty() {
            out.push('?');
            let q: Vec<String> = self
                .query
                .iter()
                .map(|(k, v)| {
                    format!("{}={}", percent_encode_2_36(k, "!$'()*+,;:@/?"), percent_encode_2_36(v, "!$'()*+,;:@/?"))
                })
                .collect();
            out.push_str(&q.join("&"));
        }
        if !self.fragment.is_empty() {
            out.push('#');
            out.push_str(&percent_encode_2_36(&self.fragment, "!$&'()*+,;=:@/?"));
        }
        out
    }
}

/// Parses a URL as Nix 2.36 does for flake references: a scheme (a letter, then letters,
/// digits and `+-.`), no check of the other characters, path and fragment percent-decoded
/// (a malformed escape is kept as it is), query keys and values decoded, a parameter without
/// `=` kept with an empty value. `url` of the result is the whole text.
pub fn parse_url_2_36(s: &str) -> Option<ParsedUrl> {
    let (scheme, rest) = s.split_once(':')?;
    let mut sc = scheme.chars();
    if !matches!(sc.next(), Some(c) if c.is_ascii_alphabetic())
        || !sc.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return None;
    }
    let (rest, fragment) = match rest.split_once('#') {
        Some((r, f)) => (r, percent_decode_lenient(f)),
        None => (rest, String::new()),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, decode_query_2_36(q)),
        None => (rest, BTreeMap::new()),
    };
    let (authority, path) = match rest.strip_prefix("//") {
        Some(r) => match r.find('/') {
            Some(i) => (Some(r[..i].to_string()), r[i..].to_string()),
            None => (Some(r.to_string()), String::new()),
        },
        None => (None, rest.to_string()),
    };
    Some(ParsedUrl {
        url: s.to_owned(),
        base: String::new(),
        scheme: scheme.to_string(),
        authority,
        path: percent_decode_lenient(&path),
        query,
        fragment,
    })
}

/// Nix 2.36's query decoding: keys and values decoded, a parameter without `=` has an empty
/// value, the first occurrence of a key wins.
pub(crate) fn decode_query_2_36(q: &str) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for part in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        m.entry(percent_decode_lenient(k)).or_insert_with(|| percent_decode_lenient(v));
    }
    m
}

/// `%HH` decoded; a `%` not followed by two hex digits is kept as it is.
pub(crate) fn percent_decode_lenient(s: &str) -> String {
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

/// Nix 2.36's encoding: unreserved characters and those in `keep` as they are, every other
/// byte as `%HH` (uppercase).
fn percent_encode_2_36(s: &str, keep: &str) -> String {
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

/// Parses a URL, failing with `'<url>' is not a valid URL` exactly when 2.8 does.
pub fn parse_url(url: &str) -> Result<ParsedUrl> {
    let invalid = || crate::error::Error::new(format!("'{url}' is not a valid URL"));
    let colon = url.find(':').ok_or_else(invalid)?;
    let scheme = &url[..colon];
    if !is_scheme(scheme) {
        return Err(invalid());
    }
    let rest = &url[colon + 1..];
    let (before_frag, fragment) = match rest.find('#') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let (hier, query) = match before_frag.find('?') {
        Some(i) => (&before_frag[..i], Some(&before_frag[i + 1..])),
        None => (before_frag, None),
    };
    if !query.is_none_or(is_query) || !fragment.is_none_or(is_query) {
        return Err(invalid());
    }
    let mut authority = None;
    let path;
    match hier.strip_prefix("//").map(|h| h.split_at(h.find('/').unwrap_or(h.len()))) {
        Some((auth, p)) if is_authority(auth) && is_path(p) => {
            authority = Some(auth.to_owned());
            path = p.to_owned();
        }
        _ if is_path(hier) => path = hier.to_owned(),
        _ => return Err(invalid()),
    }
    let is_file = scheme.contains("file");
    if let (Some(a), true) = (&authority, is_file) {
        if !a.is_empty() {
            bail!("file:// URL '{url}' has unexpected authority '{a}'");
        }
    }
    let path = if is_file && path.is_empty() { "/".to_owned() } else { path };
    Ok(ParsedUrl {
        url: url.to_owned(),
        base: format!("{scheme}:{hier}"),
        scheme: scheme.to_owned(),
        authority,
        path,
        query: decode_query(query.unwrap_or(""))?,
        fragment: percent_decode(fragment.unwrap_or(""))?,
    })
}

/// 2.8's `percentEncode`: keeps `A-Za-z0-9-._~!$&'()*+,;=:@`, writes `%xx` (lowercase) otherwise.
/// Bytes above 0x7f come out sign-extended (`%ffffffc3`), as in the reference.
pub fn percent_encode(s: &str) -> String {
    let mut res = String::new();
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@\0".contains(&b) {
            res.push(b as char);
        } else if b >= 0x80 {
            res.push_str(&format!("%{:02x}", b as i8 as i32 as u32));
        } else {
            res.push_str(&format!("%{b:02x}"));
        }
    }
    res
}

/// Decodes `%xx` escapes; a truncated or malformed escape is `invalid URI parameter`.
pub fn percent_decode(s: &str) -> Result<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(v) if i + 2 < b.len() => out.push(v),
                _ => bail!("invalid URI parameter '{s}'"),
            }
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// `k=v&…` → map; values decoded, keys not; parameters without `=` are dropped; first key wins.
pub fn decode_query(q: &str) -> Result<BTreeMap<String, String>> {
    let mut res = BTreeMap::new();
    for part in q.split('&').filter(|p| !p.is_empty()) {
        if let Some(e) = part.find('=') {
            let v = percent_decode(&part[e + 1..])?;
            res.entry(part[..e].to_owned()).or_insert(v);
        }
    }
    Ok(res)
}

/// The map as `k=v&…` in key order, both sides [`percent_encode`]d.
pub fn encode_query(q: &BTreeMap<String, String>) -> String {
    q.iter().map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v))).collect::<Vec<_>>().join("&")
}

fn is_scheme(s: &str) -> bool {
    let mut b = s.bytes();
    b.next().is_some_and(|c| c.is_ascii_lowercase())
        && b.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"+.-".contains(&c))
}

fn unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-._~".contains(&c)
}

fn subdelim(c: u8) -> bool {
    b"!$&'\"()*+,;=".contains(&c)
}

/// The whole string is made of characters accepted by `ok` or `%HH` escapes.
fn chars_or_pct(s: &str, ok: impl Fn(u8) -> bool) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit) && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)) {
                return false;
            }
            i += 3;
        } else if ok(b[i]) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

fn pchar(c: u8) -> bool {
    unreserved(c) || subdelim(c) || c == b':' || c == b'@'
}

/// `queryRegex`: pchars plus `/ ? space "`.
pub(crate) fn is_query(s: &str) -> bool {
    chars_or_pct(s, |c| pchar(c) || b"/? \"".contains(&c))
}

/// `pathRegex` / `absPathRegex` (both reduce to pchars and slashes here).
fn is_path(s: &str) -> bool {
    chars_or_pct(s, |c| pchar(c) || c == b'/')
}

fn is_hostname(s: &str) -> bool {
    chars_or_pct(s, |c| unreserved(c) || subdelim(c))
}

fn is_ipv6(s: &str) -> bool {
    let inner = s.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(s);
    let (addr, zone) = match inner.find('%') {
        Some(i) => (&inner[..i], Some(&inner[i + 1..])),
        None => (inner, None),
    };
    !addr.is_empty()
        && addr.bytes().all(|c| c.is_ascii_hexdigit() || c == b':')
        && zone.is_none_or(|z| !z.is_empty() && z.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_'))
}

/// `hostRegex`.
pub(crate) fn is_host(s: &str) -> bool {
    is_hostname(s) || is_ipv6(s)
}

fn is_authority(s: &str) -> bool {
    let host_port = match s.split_once('@') {
        Some((user, rest)) => {
            if !chars_or_pct(user, |c| unreserved(c) || subdelim(c) || c == b':') {
                return false;
            }
            rest
        }
        None => s,
    };
    if is_host(host_port) {
        return true;
    }
    match host_port.rsplit_once(':') {
        Some((host, port)) => !port.is_empty() && port.bytes().all(|c| c.is_ascii_digit()) && is_host(host),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_authority_and_query() {
        let u = parse_url("git+ssh://git@github.com/owner/repo?ref=a%2Fb&x#frag%20x").unwrap();
        assert_eq!(u.scheme, "git+ssh");
        assert_eq!(u.authority.as_deref(), Some("git@github.com"));
        assert_eq!(u.path, "/owner/repo");
        assert_eq!(u.query.get("ref").map(String::as_str), Some("a/b"));
        assert_eq!(u.query.len(), 1);
        assert_eq!(u.fragment, "frag x");
        assert_eq!(u.base, "git+ssh://git@github.com/owner/repo");
        assert_eq!(u.to_url_string(), "git+ssh://git@github.com/owner/repo?ref=a%2fb#frag%20x");
    }

    #[test]
    fn rejects_non_ascii_and_bad_authority() {
        assert_eq!(parse_url("path:/tmp/ex/é").unwrap_err().message(), "'path:/tmp/ex/é' is not a valid URL");
        assert_eq!(
            parse_url("file://host/x").unwrap_err().message(),
            "file:// URL 'file://host/x' has unexpected authority 'host'"
        );
        assert_eq!(parse_url("file://").unwrap().path, "/");
    }

    #[test]
    fn percent_encoding_is_2_8s() {
        assert_eq!(percent_encode("sha256-a/b+c="), "sha256-a%2fb+c=");
        assert_eq!(percent_encode("a b#é"), "a%20b%23%ffffffc3%ffffffa9");
    }
}
