//! The `export-ignore` attribute, as `git archive` applies it.
//!
//! 2.8 takes a clean commit through `git archive`, which drops paths marked
//! `export-ignore` in `.gitattributes` (of the archived tree) or in
//! `$GIT_DIR/info/attributes`. Only that one attribute matters here, so this is
//! a small matcher rather than a general attributes engine: files are checked
//! from the highest precedence (info/attributes, then the deepest directory's
//! `.gitattributes` up to the root), the last matching line of the first file
//! that mentions the attribute decides. (`export-subst` is not applied.)

/// A stack of `.gitattributes` files along the current tree walk.
pub(crate) struct ExportIgnore {
    info: Vec<Rule>,
    /// (directory prefix, rules), outermost first.
    dirs: Vec<(Vec<u8>, Vec<Rule>)>,
}

struct Rule {
    pattern: Vec<u8>,
    /// `Some(true)` set, `Some(false)` unset or reset.
    value: bool,
}

impl ExportIgnore {
    pub fn new(info_attributes: Vec<u8>) -> ExportIgnore {
        ExportIgnore { info: parse(&info_attributes), dirs: vec![] }
    }

    /// Adds the `.gitattributes` of directory `prefix` (`""` for the root).
    pub fn push_dir(&mut self, prefix: &[u8], data: &[u8]) {
        self.dirs.push((prefix.to_vec(), parse(data)));
    }

    pub fn mark(&self) -> usize {
        self.dirs.len()
    }

    /// Drops files pushed since `mark` (leaving a directory).
    pub fn reset(&mut self, mark: usize) {
        self.dirs.truncate(mark);
    }

    /// Whether `path` (relative to the repository root) is export-ignored.
    pub fn is_ignored(&self, path: &[u8], is_dir: bool) -> bool {
        if let Some(v) = decide(&self.info, b"", path, is_dir) {
            return v;
        }
        for (prefix, rules) in self.dirs.iter().rev() {
            let rel = if prefix.is_empty() {
                path
            } else {
                match path.strip_prefix(prefix.as_slice()).and_then(|r| r.strip_prefix(b"/")) {
                    Some(r) => r,
                    None => continue,
                }
            };
            if let Some(v) = decide(rules, prefix, rel, is_dir) {
                return v;
            }
        }
        false
    }
}

fn decide(rules: &[Rule], _prefix: &[u8], rel: &[u8], is_dir: bool) -> Option<bool> {
    rules.iter().rev().find(|r| matches(&r.pattern, rel, is_dir)).map(|r| r.value)
}

fn parse(data: &[u8]) -> Vec<Rule> {
    let mut rules = vec![];
    for line in data.split(|&c| c == b'\n') {
        let mut toks = line.split(|c| c.is_ascii_whitespace()).filter(|t| !t.is_empty());
        let Some(pattern) = toks.next() else { continue };
        if pattern.starts_with(b"#") {
            continue;
        }
        for t in toks {
            let value = match t {
                b"export-ignore" => true,
                b"-export-ignore" | b"!export-ignore" => false,
                t if t.starts_with(b"export-ignore=") => true,
                _ => continue,
            };
            rules.push(Rule { pattern: pattern.to_vec(), value });
        }
    }
    rules
}

fn matches(pattern: &[u8], rel: &[u8], is_dir: bool) -> bool {
    let (pattern, dir_only) = match pattern.strip_suffix(b"/") {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    if dir_only && !is_dir {
        return false;
    }
    if !pattern.contains(&b'/') {
        let base = rel.rsplit(|&c| c == b'/').next().unwrap_or(rel);
        return wildmatch(pattern, base);
    }
    wildmatch(pattern.strip_prefix(b"/").unwrap_or(pattern), rel)
}

/// Glob matching with `*` (not across `/`), `**` (across), `?`, `[...]` and `\` escapes.
fn wildmatch(p: &[u8], s: &[u8]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some(b'*') if p.get(1) == Some(&b'*') => match p[2..].strip_prefix(b"/") {
            // `**/`: zero or more leading directories.
            Some(r) => wildmatch(r, s) || s.iter().enumerate().any(|(i, &c)| c == b'/' && wildmatch(r, &s[i + 1..])),
            None => (0..=s.len()).any(|i| wildmatch(&p[2..], &s[i..])),
        },
        Some(b'*') => (0..=s.len()).take_while(|&i| i == 0 || s[i - 1] != b'/').any(|i| wildmatch(&p[1..], &s[i..])),
        Some(b'?') => s.first().is_some_and(|&c| c != b'/') && wildmatch(&p[1..], &s[1..]),
        Some(b'[') => {
            let Some(&c) = s.first() else { return false };
            let Some(end) = p[1..].iter().skip(1).position(|&x| x == b']').map(|e| e + 2) else {
                return c == b'[' && wildmatch(&p[1..], &s[1..]);
            };
            let class = &p[1..end];
            let (neg, class) = match class.first() {
                Some(b'!' | b'^') => (true, &class[1..]),
                _ => (false, class),
            };
            let mut hit = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == b'-' {
                    hit |= class[i] <= c && c <= class[i + 2];
                    i += 3;
                } else {
                    hit |= class[i] == c;
                    i += 1;
                }
            }
            hit != neg && c != b'/' && wildmatch(&p[end + 1..], &s[1..])
        }
        Some(b'\\') if p.len() > 1 => s.first() == Some(&p[1]) && wildmatch(&p[2..], &s[1..]),
        Some(&c) => s.first() == Some(&c) && wildmatch(&p[1..], &s[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        let mut e = ExportIgnore::new(vec![]);
        e.push_dir(
            b"",
            b"*.log export-ignore\n/secret export-ignore\ndocs/** export-ignore\nkeep.log -export-ignore\n",
        );
        assert!(e.is_ignored(b"a.log", false));
        assert!(e.is_ignored(b"x/y/b.log", false));
        assert!(!e.is_ignored(b"keep.log", false));
        assert!(e.is_ignored(b"secret", true));
        assert!(!e.is_ignored(b"x/secret", true));
        assert!(e.is_ignored(b"docs/a/b", false));
        assert!(!e.is_ignored(b"src/main.rs", false));
    }
}
