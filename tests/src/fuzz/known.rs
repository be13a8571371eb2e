//! `tests/fuzz-known-findings.txt`: findings whose cause is known and owned
//! elsewhere, so that the CI fuzz run (`tests/fuzz_short.rs`) fails on new
//! findings only. Like `tests/expected-failures.txt` the list is kept exact:
//! the test also fails when a listed finding no longer occurs.
//!
//! One finding per line, three fields separated by ` | `: the signature
//! (`memory limit`, `timeout`, `panic at FILE:LINE:COL`, ...), a substring of
//! the mode's command line (`--xml`, `--parse`, or empty for any), and a
//! substring of the input that shows the cause. Lines starting with `#` are
//! comments (not inline: inputs may contain `#`).

use std::path::{Path, PathBuf};

use super::Finding;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Known {
    pub signature: String,
    pub mode: String,
    pub input: String,
}

impl Known {
    pub fn matches(&self, f: &Finding) -> bool {
        f.signature == self.signature
            && f.mode.command_line("case.nix").contains(&self.mode)
            && String::from_utf8_lossy(&f.original).contains(&self.input)
    }
}

pub fn file() -> PathBuf {
    crate::paths::workspace_root().join("tests").join("fuzz-known-findings.txt")
}

pub fn parse(text: &str) -> Result<Vec<Known>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.splitn(3, " | ").collect();
        let [signature, mode, input] = fields[..] else {
            return Err(format!("line {}: expected `SIGNATURE | MODE | INPUT`: {line}", i + 1));
        };
        out.push(Known { signature: signature.trim().into(), mode: mode.trim().into(), input: input.into() });
    }
    Ok(out)
}

/// The list (empty when the file is missing).
pub fn read(path: &Path) -> Result<Vec<Known>, String> {
    match std::fs::read_to_string(path) {
        Ok(t) => parse(&t).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::Mode;

    fn finding(sig: &str, input: &str) -> Finding {
        Finding {
            signature: sig.into(),
            mode: Mode::Eval { json: false, xml: true, pure: false, rnix: false },
            first_case: 0,
            origin: "generated".into(),
            count: 1,
            detail: String::new(),
            original: input.as_bytes().to_vec(),
            minimized: input.as_bytes().to_vec(),
            written: None,
        }
    }

    #[test]
    fn parse_and_match() {
        let k = parse("# comment\nmemory limit | --xml | let a = { a = a; }; in a\n").unwrap();
        assert_eq!(k.len(), 1);
        assert!(k[0].matches(&finding("memory limit", "let hard = let a = { a = a; }; in a; in hard")));
        assert!(!k[0].matches(&finding("timeout", "let a = { a = a; }; in a")));
        assert!(!k[0].matches(&finding("memory limit", "[ 1 ]")));
        assert!(parse("no separators").is_err());
    }
}
