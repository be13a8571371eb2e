//! Attribute paths as the command line spells them (`-A a."b.c".d`, a flake fragment,
//! an `eval-jobs` root): one splitter for every command, so they agree on quoting.

/// `a.b."c.d".e` -> `["a", "b", "c.d", "e"]`: dots inside double quotes do not split.
pub fn split_attr_path(p: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in p.chars() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[cfg(test)]
mod tests {
    use super::split_attr_path;

    #[test]
    fn quotes_keep_dots() {
        assert_eq!(split_attr_path(r#"a."b.c".d"#), ["a", "b.c", "d"]);
        assert_eq!(split_attr_path("x"), ["x"]);
        assert_eq!(split_attr_path(""), [""]);
    }
}
