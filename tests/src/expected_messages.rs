//! `tests/expected-message-mismatches.txt`: the corpus cases whose error message (stderr) is
//! known to differ from upstream's `NAME.err.exp`, so that a message that regresses fails.
//!
//! One line per case: `NAME final` when even the final `error:` line differs, `NAME full`
//! when the final line matches but the whole message (traces, positions) does not. A case not
//! listed must match `.err.exp` exactly. Like `expected-failures.txt` the list is kept exact:
//! a listed case that now matches better fails the check until the list is regenerated
//! (`conformance --write-expected-messages`).

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use crate::conformance::{CaseResult, Category};

/// How far a case's message is from `.err.exp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mismatch {
    /// The final `error:` line matches, the whole message does not.
    Full,
    /// The final line differs.
    Final,
}

impl Mismatch {
    fn word(self) -> &'static str {
        match self {
            Mismatch::Full => "full",
            Mismatch::Final => "final",
        }
    }
}

/// The mismatch of one result, `None` when it matches exactly or has nothing to compare
/// (no `.err.exp`, or the case failed before its message could be compared).
pub fn mismatch_of(r: &CaseResult) -> Option<Mismatch> {
    if !matches!(r.category, Category::EvalFail | Category::ParseFail | Category::EvalOkay) {
        return None;
    }
    match (r.info_exact, r.info_final_line) {
        (Some(true), _) | (None, _) => None,
        (Some(false), Some(false)) => Some(Mismatch::Final),
        // eval-okay cases compare only the whole stderr (warnings, traces).
        (Some(false), _) => Some(Mismatch::Full),
    }
}

pub fn parse(text: &str) -> Result<BTreeMap<String, Mismatch>, String> {
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(name), Some(kind), None) = (words.next(), words.next(), words.next()) else {
            return Err(format!("line {}: expected `NAME final` or `NAME full`, got `{line}`", i + 1));
        };
        let kind = match kind {
            "final" => Mismatch::Final,
            "full" => Mismatch::Full,
            k => return Err(format!("line {}: unknown mismatch `{k}` (final or full)", i + 1)),
        };
        out.insert(name.to_string(), kind);
    }
    Ok(out)
}

/// Read the list; a missing file is an empty list.
pub fn read(path: &Path) -> io::Result<BTreeMap<String, Mismatch>> {
    match std::fs::read_to_string(path) {
        Ok(t) => parse(&t).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(e),
    }
}

pub const HEADER: &str = "\
# Corpus cases (../shared/conformance/lang) whose stderr differs from upstream's NAME.err.exp.
# `NAME final`: the final `error:` line differs; `NAME full`: the final line matches, the
# whole message (trace, positions) does not. An unlisted case must match exactly. The test
# `cargo test -p rnix-tests --test conformance messages` fails when a message gets worse than
# listed, and when one gets better (update the list then). Regenerate with:
#   cargo run --release -p rnix-tests --bin conformance -- --write-expected-messages
";

pub fn render(list: &BTreeMap<String, Mismatch>) -> String {
    let mut s = String::from(HEADER);
    for (name, m) in list {
        s.push_str(&format!("{name} {}\n", m.word()));
    }
    s
}

/// The current mismatches of `results` (only the categories present).
pub fn current(results: &[CaseResult]) -> BTreeMap<String, Mismatch> {
    results.iter().filter_map(|r| mismatch_of(r).map(|m| (r.name.clone(), m))).collect()
}

/// Differences between the list and `results` for the categories in `results`: cases that got
/// worse than listed (or are unlisted and differ), and cases that got better.
pub fn check(results: &[CaseResult], listed: &BTreeMap<String, Mismatch>) -> (Vec<String>, Vec<String>) {
    let (mut worse, mut better) = (Vec::new(), Vec::new());
    for r in results {
        if r.info_exact.is_none() && r.failed() {
            continue; // a failing case is reported by the other tests
        }
        let now = mismatch_of(r);
        let was = listed.get(&r.name).copied();
        match (was, now) {
            (a, b) if a == b => {}
            (None, Some(b)) => worse.push(format!("{}: message now differs ({})", r.name, b.word())),
            (Some(a), Some(b)) if b > a => worse.push(format!("{}: listed `{}`, now `{}`", r.name, a.word(), b.word())),
            (Some(a), b) => better.push(format!(
                "{}: listed `{}`, now {}",
                r.name,
                a.word(),
                b.map(|b| format!("`{}`", b.word())).unwrap_or_else(|| "matches".into())
            )),
            (None, None) => {}
        }
    }
    (worse, better)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::Status;
    use std::time::Duration;

    fn res(name: &str, exact: Option<bool>, fin: Option<bool>) -> CaseResult {
        CaseResult {
            name: name.into(),
            category: Category::EvalFail,
            status: Status::Pass,
            info_exact: exact,
            info_final_line: fin,
            duration: Duration::ZERO,
            command: String::new(),
            detail: String::new(),
        }
    }

    #[test]
    fn round_trip_and_check() {
        let text = render(&BTreeMap::from([("a".into(), Mismatch::Final), ("b".into(), Mismatch::Full)]));
        let listed = parse(&text).unwrap();
        assert_eq!(listed.len(), 2);
        let results = vec![
            res("a", Some(false), Some(true)),  // better: final -> full
            res("b", Some(false), Some(false)), // worse: full -> final
            res("c", Some(false), Some(true)),  // unlisted and differs
            res("d", Some(true), Some(true)),   // matches
        ];
        let (worse, better) = check(&results, &listed);
        assert_eq!(worse.len(), 2, "{worse:?}");
        assert!(worse[0].starts_with("b:") && worse[1].starts_with("c:"));
        assert_eq!(better.len(), 1);
        assert!(parse("x nonsense").is_err());
    }
}
