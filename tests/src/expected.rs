//! `tests/expected-failures.txt`: the eval-okay cases of the shared corpus
//! that are known to fail. One case name per line; `#` starts a comment.
//! The list is kept exact: a listed case that passes fails the test suite.

use std::collections::BTreeSet;
use std::io;
use std::path::Path;

pub fn parse(text: &str) -> BTreeSet<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Read the list; a missing file is an empty list.
pub fn read(path: &Path) -> io::Result<BTreeSet<String>> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(parse(&t)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(BTreeSet::new()),
        Err(e) => Err(e),
    }
}

pub const HEADER: &str = "\
# eval-okay cases of ../shared/conformance/lang that rnix-eval is known to fail.
# One name per line ('#' starts a comment). The integration test
# `cargo test -p rnix-tests --test conformance eval_okay` fails when a case
# that is NOT listed fails, and when a listed case now PASSES (remove it then),
# so this list stays exact. Regenerate with:
#   cargo run --release -p rnix-tests --bin conformance -- --write-expected-failures
";

pub fn render(names: &BTreeSet<String>, binary_note: &str) -> String {
    let mut s = String::from(HEADER);
    s.push_str(&format!("# Generated against: {binary_note}\n"));
    for n in names {
        s.push_str(n);
        s.push('\n');
    }
    s
}

pub fn write(path: &Path, names: &BTreeSet<String>, binary_note: &str) -> io::Result<()> {
    std::fs::write(path, render(names, binary_note))
}
