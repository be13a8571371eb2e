//! The search path for `<name>` lookups: `-I` entries, then `NIX_PATH`, split by 2.8's
//! rules (`parseNixPath`) so that every command reads it the same way.
//!
//! Entries are separated by `:`, except that the `:` of a URL scheme (`http://`,
//! `https://`, `file://`, `channel://`, `git://`, `s3://`, `ssh://`) after the entry's
//! `name=` prefix is kept with the entry.

/// The schemes 2.8 (`isUri`) treats as URLs in a search path entry.
const URL_SCHEMES: &[&str] = &["http", "https", "file", "channel", "git", "s3", "ssh"];

fn is_uri(s: &str) -> bool {
    match s.find("://") {
        Some(i) => URL_SCHEMES.contains(&&s[..i]),
        None => false,
    }
}

/// Splits a `NIX_PATH` value into entries (2.8's `parseNixPath`), dropping empty ones.
pub fn parse_nix_path(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut p = 0;
    while p < b.len() {
        let start = p;
        let mut value_start = p;
        while p < b.len() && b[p] != b':' {
            if b[p] == b'=' {
                value_start = p + 1;
            }
            p += 1;
        }
        if p < b.len() && is_uri(&s[value_start..]) {
            p += 1;
            while p < b.len() && b[p] != b':' {
                p += 1;
            }
        }
        if p > start {
            out.push(s[start..p].to_owned());
        }
        p += 1;
    }
    out
}

/// The search path of a command: the `-I` entries in order, then those of `nix_path_env`
/// (the value of `NIX_PATH`, if set).
pub fn search_path(includes: &[String], nix_path_env: Option<&str>) -> Vec<String> {
    let mut v = includes.to_vec();
    if let Some(env) = nix_path_env {
        v.extend(parse_nix_path(env));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_entries_split_on_colons() {
        assert_eq!(parse_nix_path("a:nixpkgs=/x/y:/z"), ["a", "nixpkgs=/x/y", "/z"]);
        assert_eq!(parse_nix_path("a::b:"), ["a", "b"]);
    }

    #[test]
    fn url_entries_keep_their_scheme() {
        assert_eq!(
            parse_nix_path("nixpkgs=https://example.org/a.tar.gz:/b:c=channel://nixos-20.09"),
            ["nixpkgs=https://example.org/a.tar.gz", "/b", "c=channel://nixos-20.09"]
        );
        // Not one of the schemes 2.8 knows: split as usual.
        assert_eq!(parse_nix_path("x=foo://a:b"), ["x=foo", "//a", "b"]);
    }

    #[test]
    fn includes_come_first() {
        assert_eq!(search_path(&["i".into()], Some("e1:e2")), ["i", "e1", "e2"]);
    }
}
