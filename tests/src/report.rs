//! Rendering results: the human-readable report and the JSON summary.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;

use crate::conformance::{check_expected, summarize, CaseResult, Category, Status, Summary};

pub struct Report {
    pub binary: PathBuf,
    /// None when ../shared is absent.
    pub conformance_dir: Option<PathBuf>,
    pub nix_test_corpus_dir: PathBuf,
    pub results: Vec<CaseResult>,
    /// Categories that were run.
    pub categories: Vec<Category>,
    pub expected_failures: BTreeSet<String>,
    /// Whether the run covered all eval-okay cases (no --filter), so the
    /// expected-failures check is meaningful.
    pub complete: bool,
}

fn pct(a: usize, b: usize) -> String {
    if b == 0 {
        "-".into()
    } else {
        format!("{:.1}%", 100.0 * a as f64 / b as f64)
    }
}

impl Report {
    pub fn summary(&self, cat: Category) -> Summary {
        summarize(&self.results, cat)
    }

    /// The line for one category, e.g. `eval-okay: 120/148  (…)`.
    pub fn category_line(&self, cat: Category) -> String {
        let s = self.summary(cat);
        let mut line = format!("{}: {}/{}", cat.name(), s.passed, s.total);
        let mut extra = Vec::new();
        if s.skipped > 0 {
            extra.push(format!("{} skipped", s.skipped));
        }
        if let Some(label) = cat.info_label() {
            if s.info_exact.1 > 0 {
                let mut t = format!("{label}: {}/{}", s.info_exact.0, s.info_exact.1);
                if s.info_final_line.1 > 0 {
                    t.push_str(&format!(", final error line matches: {}/{}", s.info_final_line.0, s.info_final_line.1));
                }
                extra.push(t);
            }
        }
        if !extra.is_empty() {
            line = format!("{line:<24} ({})", extra.join("; "));
        }
        line
    }

    pub fn failing(&self) -> Vec<&CaseResult> {
        self.results.iter().filter(|r| r.failed()).collect()
    }

    pub fn text(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "rnix-eval conformance report");
        let _ = writeln!(o, "binary: {}", self.binary.display());
        match &self.conformance_dir {
            Some(d) => {
                let _ = writeln!(o, "corpus: {}/lang (Nix language tests)", d.display());
            }
            None => {
                let _ = writeln!(o, "{}", crate::paths::missing_shared_message());
            }
        }
        let _ = writeln!(o, "nix-test-corpus: {}", self.nix_test_corpus_dir.display());
        let _ = writeln!(o);
        for &cat in &self.categories {
            let _ = writeln!(o, "{}", self.category_line(cat));
        }
        let shared: Vec<Category> = self.categories.iter().copied().filter(|c| c.is_shared()).collect();
        if shared.len() > 1 {
            let (p, t) = shared.iter().fold((0, 0), |(p, t), &c| {
                let s = self.summary(c);
                (p + s.passed, t + s.total)
            });
            let _ = writeln!(o, "shared corpus total: {p}/{t} ({})", pct(p, t));
        }
        let failing = self.failing();
        let _ = writeln!(o);
        if failing.is_empty() {
            let _ = writeln!(o, "no failing cases");
        } else {
            let _ = writeln!(o, "failing cases ({}):", failing.len());
            for r in &failing {
                let mark = if r.category == Category::EvalOkay && self.expected_failures.contains(&r.name) {
                    " [expected]"
                } else {
                    ""
                };
                let _ = writeln!(o, "  {}{mark}: {}", r.name, r.reason().unwrap_or(""));
            }
        }
        let skipped: Vec<&CaseResult> = self.results.iter().filter(|r| matches!(r.status, Status::Skip(_))).collect();
        if !skipped.is_empty() {
            let _ = writeln!(o, "skipped cases ({}):", skipped.len());
            for r in skipped {
                let _ = writeln!(o, "  {}: {}", r.name, r.reason().unwrap_or(""));
            }
        }
        if self.complete && self.categories.contains(&Category::EvalOkay) && self.conformance_dir.is_some() {
            let c = check_expected(&self.results, &self.expected_failures);
            let _ = writeln!(o);
            let _ = writeln!(
                o,
                "tests/expected-failures.txt: {} listed, {} of them failing; {} unexpected failure(s), {} unexpected pass(es), {} stale entr(y/ies)",
                self.expected_failures.len(),
                c.listed_and_failing,
                c.unexpected_failures.len(),
                c.unexpected_passes.len(),
                c.stale.len()
            );
            for n in &c.unexpected_passes {
                let _ = writeln!(o, "  now passes (remove from the list): {n}");
            }
            for n in &c.unexpected_failures {
                let _ = writeln!(o, "  fails but is not listed: {n}");
            }
            for n in &c.stale {
                let _ = writeln!(o, "  listed but not an enabled eval-okay case: {n}");
            }
        }
        o
    }

    pub fn json(&self) -> String {
        let mut o = String::from("{\n");
        let _ = writeln!(o, "  \"binary\": {},", js(&self.binary.to_string_lossy()));
        let _ = writeln!(
            o,
            "  \"conformance_dir\": {},",
            self.conformance_dir.as_ref().map(|d| js(&d.to_string_lossy())).unwrap_or_else(|| "null".into())
        );
        o.push_str("  \"categories\": {");
        let mut first = true;
        for &cat in &self.categories {
            let s = self.summary(cat);
            if !first {
                o.push(',');
            }
            first = false;
            let _ = write!(
                o,
                "\n    {}: {{\"passed\": {}, \"total\": {}, \"failed\": {}, \"skipped\": {}, \
                 \"info_exact\": [{}, {}], \"info_final_line\": [{}, {}]}}",
                js(cat.name()),
                s.passed,
                s.total,
                s.failed,
                s.skipped,
                s.info_exact.0,
                s.info_exact.1,
                s.info_final_line.0,
                s.info_final_line.1
            );
        }
        o.push_str("\n  },\n");
        if self.complete && self.categories.contains(&Category::EvalOkay) && self.conformance_dir.is_some() {
            let c = check_expected(&self.results, &self.expected_failures);
            let list = |v: &Vec<String>| format!("[{}]", v.iter().map(|s| js(s)).collect::<Vec<_>>().join(", "));
            let _ = writeln!(
                o,
                "  \"expected_failures\": {{\"listed\": {}, \"listed_and_failing\": {}, \"unexpected_failures\": {}, \"unexpected_passes\": {}, \"stale\": {}}},",
                self.expected_failures.len(),
                c.listed_and_failing,
                list(&c.unexpected_failures),
                list(&c.unexpected_passes),
                list(&c.stale)
            );
        }
        o.push_str("  \"cases\": [");
        for (i, r) in self.results.iter().enumerate() {
            if i > 0 {
                o.push(',');
            }
            let (status, reason) = match &r.status {
                Status::Pass => ("pass", None),
                Status::Fail(w) => ("fail", Some(w)),
                Status::Skip(w) => ("skip", Some(w)),
            };
            let ob = |b: Option<bool>| b.map(|b| b.to_string()).unwrap_or_else(|| "null".into());
            let _ = write!(
                o,
                "\n    {{\"name\": {}, \"category\": {}, \"status\": {}, \"reason\": {}, \"info_exact\": {}, \"info_final_line\": {}, \"duration_ms\": {}}}",
                js(&r.name),
                js(r.category.name()),
                js(status),
                reason.map(|w| js(w)).unwrap_or_else(|| "null".into()),
                ob(r.info_exact),
                ob(r.info_final_line),
                r.duration.as_millis()
            );
        }
        o.push_str("\n  ]\n}\n");
        o
    }
}

/// A JSON string literal.
pub fn js(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}
