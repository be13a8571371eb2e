//! The conformance runner: discovers the cases of the Nix language test
//! corpus (`../shared/conformance/lang`) and of `nix-test-corpus/`, runs them
//! against a `nix-instantiate`-compatible binary and classifies the results.
//!
//! Conventions (those of upstream Nix' `tests/functional/lang.sh`):
//!
//! * everything runs with the corpus' parent directory as cwd, with
//!   `NIX_PATH=lang/dir3:lang/dir4 HOME=/fake-home TEST_VAR=foo
//!   NIX_STORE_DIR=/nix/store` (other `NIX_*`/`XDG_*` variables are removed);
//! * `eval-okay-NAME`: `BIN instantiate [FLAGS] --eval --strict lang/NAME.nix`
//!   (`--eval --xml --no-location --strict` when `NAME.exp.xml` exists) must
//!   exit 0 and print exactly `NAME.exp` (resp. `.exp.xml`) after the absolute
//!   cwd is replaced by `/pwd`; `NAME.exp-disabled` means skipped; stderr is
//!   compared with `NAME.err.exp` for information only;
//! * `eval-fail-NAME`: `BIN instantiate FLAGS lang/NAME.nix`, where FLAGS is
//!   `NAME.flags` if present (it *replaces* the default, as upstream) and
//!   `--eval --strict --show-trace` otherwise, must exit 1 and print something
//!   on stderr; stderr (after `/pwd` replacement and `NAME.postprocess`) vs
//!   `NAME.err.exp` is informational;
//! * `parse-okay-NAME`: `BIN instantiate --parse - < lang/NAME.nix` must exit
//!   0; stdout vs `NAME.exp` is informational;
//! * `parse-fail-NAME`: the same must exit 1; stderr vs `NAME.err.exp` is
//!   informational.
//!
//! Any run that panics, is killed by a signal or exceeds the timeout fails,
//! whatever its category.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::process::{one_line, run, truncate, Exit, Input, RunOutput, RunSpec};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    EvalOkay,
    EvalFail,
    ParseOkay,
    ParseFail,
    NixTestCorpus,
}

impl Category {
    pub const ALL: [Category; 5] =
        [Category::EvalOkay, Category::EvalFail, Category::ParseOkay, Category::ParseFail, Category::NixTestCorpus];
    pub fn name(self) -> &'static str {
        match self {
            Category::EvalOkay => "eval-okay",
            Category::EvalFail => "eval-fail",
            Category::ParseOkay => "parse-okay",
            Category::ParseFail => "parse-fail",
            Category::NixTestCorpus => "nix-test-corpus",
        }
    }
    pub fn from_name(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.name() == s)
    }
    pub fn is_shared(self) -> bool {
        self != Category::NixTestCorpus
    }
    /// What the informational statistic of this category compares.
    pub fn info_label(self) -> Option<&'static str> {
        match self {
            Category::EvalOkay => Some("stderr matches .err.exp"),
            Category::EvalFail => Some("message matches .err.exp"),
            Category::ParseOkay => Some("stdout matches .exp (informational)"),
            Category::ParseFail => Some("message matches .err.exp"),
            Category::NixTestCorpus => None,
        }
    }
}

/// One test case.
#[derive(Clone, Debug)]
pub struct Case {
    /// File name without `.nix` (`eval-okay-foo`, or `hello` in nix-test-corpus).
    pub name: String,
    pub category: Category,
    /// The working directory (the corpus' parent, or nix-test-corpus/).
    pub root: PathBuf,
    /// The directory holding NAME.nix and its companion files.
    pub dir: PathBuf,
    /// Path of NAME.nix relative to `root`, as passed on the command line.
    pub rel: String,
    /// Reason for skipping it (e.g. `.exp-disabled`).
    pub skip: Option<String>,
}

impl Case {
    pub fn file(&self, ext: &str) -> PathBuf {
        self.dir.join(format!("{}.{ext}", self.name))
    }
    fn read(&self, ext: &str) -> Option<String> {
        fs::read(self.file(ext)).ok().map(|b| String::from_utf8_lossy(&b).into_owned())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail(String),
    Skip(String),
}

#[derive(Clone, Debug)]
pub struct CaseResult {
    pub name: String,
    pub category: Category,
    pub status: Status,
    /// Informational comparison with the expected output/message, when there
    /// is an expectation file and the run got far enough.
    pub info_exact: Option<bool>,
    /// For error messages: does the final `error:` line match?
    pub info_final_line: Option<bool>,
    pub duration: Duration,
    pub command: String,
    /// Longer explanation (first lines of a diff, stderr), for `-v`.
    pub detail: String,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.status == Status::Pass
    }
    pub fn failed(&self) -> bool {
        matches!(self.status, Status::Fail(_))
    }
    pub fn reason(&self) -> Option<&str> {
        match &self.status {
            Status::Fail(r) | Status::Skip(r) => Some(r),
            Status::Pass => None,
        }
    }
}

/// Runner settings.
#[derive(Clone, Debug)]
pub struct Config {
    pub bin: PathBuf,
    pub jobs: usize,
    pub timeout: Duration,
    pub filter: Option<String>,
    pub verbose: bool,
}

impl Config {
    pub fn new(bin: PathBuf) -> Self {
        let jobs = std::env::var("RNIX_TEST_JOBS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2))
            .max(1);
        let timeout = std::env::var("RNIX_TEST_TIMEOUT")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .map(Duration::from_secs_f64)
            .unwrap_or(Duration::from_secs(10));
        Config { bin, jobs, timeout, filter: None, verbose: false }
    }
}

// ---------------------------------------------------------------- discovery

fn nix_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().is_file())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter_map(|n| n.strip_suffix(".nix").map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The cases of `CONF_DIR/lang` (CONF_DIR = `../shared/conformance`).
pub fn discover_shared(conf_dir: &Path) -> Vec<Case> {
    let lang = conf_dir.join("lang");
    let mut cases = Vec::new();
    for name in nix_files(&lang) {
        let category = if name.starts_with("eval-okay-") {
            Category::EvalOkay
        } else if name.starts_with("eval-fail-") {
            Category::EvalFail
        } else if name.starts_with("parse-okay-") {
            Category::ParseOkay
        } else if name.starts_with("parse-fail-") {
            Category::ParseFail
        } else {
            continue; // helpers: lib.nix, imported.nix, non-eval-*.nix …
        };
        let mut case = Case {
            rel: format!("lang/{name}.nix"),
            name,
            category,
            root: conf_dir.to_path_buf(),
            dir: lang.clone(),
            skip: None,
        };
        if category == Category::EvalOkay && !case.file("exp.xml").exists() && case.file("exp-disabled").exists() {
            case.skip = Some("has .exp-disabled".into());
        }
        cases.push(case);
    }
    cases
}

/// The cases of `nix-test-corpus/`: every top-level `NAME.nix` (helpers live
/// in subdirectories).
pub fn discover_nix_test_corpus(dir: &Path) -> Vec<Case> {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    nix_files(&dir)
        .into_iter()
        .map(|name| Case {
            rel: format!("{name}.nix"),
            name,
            category: Category::NixTestCorpus,
            root: dir.clone(),
            dir: dir.clone(),
            skip: None,
        })
        .collect()
}

pub fn filter_cases(cases: Vec<Case>, filter: Option<&str>, cats: &[Category]) -> Vec<Case> {
    cases
        .into_iter()
        .filter(|c| cats.is_empty() || cats.contains(&c.category))
        .filter(|c| filter.is_none_or(|f| c.name.contains(f)))
        .collect()
}

// ------------------------------------------------------------------ running

/// Words of a `.flags` file: `#` comments removed, split on whitespace.
pub fn parse_flags(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .flat_map(|l| l.split_whitespace().map(str::to_string))
        .collect()
}

fn base_spec(cfg: &Config, case: &Case) -> RunSpec {
    let mut spec = RunSpec::new(&cfg.bin, &case.root)
        .timeout(cfg.timeout)
        .env("HOME", "/fake-home")
        .env("TEST_VAR", "foo")
        .env("NIX_STORE_DIR", "/nix/store");
    if case.category.is_shared() {
        spec = spec.env("NIX_PATH", "lang/dir3:lang/dir4");
    }
    spec.arg("instantiate")
}

/// The command a case runs (without executing it).
pub fn command_for(cfg: &Config, case: &Case) -> RunSpec {
    let flags = case.read("flags").map(|t| parse_flags(&t));
    let spec = base_spec(cfg, case);
    match case.category {
        Category::ParseOkay | Category::ParseFail => {
            spec.args(["--parse", "-"]).stdin(Input::File(case.dir.join(format!("{}.nix", case.name))))
        }
        Category::EvalFail => {
            let flags = flags.unwrap_or_else(|| vec!["--eval".into(), "--strict".into(), "--show-trace".into()]);
            spec.args(flags).arg(&case.rel)
        }
        Category::EvalOkay => {
            let mut spec = spec.args(flags.unwrap_or_default());
            if case.file("exp.xml").exists() {
                spec = spec.args(["--eval", "--xml", "--no-location", "--strict"]);
            } else {
                spec = spec.args(["--eval", "--strict"]);
            }
            spec.arg(&case.rel)
        }
        Category::NixTestCorpus => spec.args(flags.unwrap_or_default()).args(["--eval", "--strict"]).arg(&case.rel),
    }
}

/// Replace the absolute working directory by `/pwd`.
pub fn pwd_replace(s: &str, root: &Path) -> String {
    let mut out = s.to_string();
    let mut roots = vec![root.to_string_lossy().into_owned()];
    if let Ok(c) = root.canonicalize() {
        let c = c.to_string_lossy().into_owned();
        if !roots.contains(&c) {
            roots.push(c);
        }
    }
    // longest first, so a canonical prefix does not clobber a longer spelling
    roots.sort_by_key(|r| std::cmp::Reverse(r.len()));
    for r in roots {
        if r.len() > 1 {
            out = out.replace(&r, "/pwd");
        }
    }
    out
}

/// The last line of an error message starting with `error:` (trimmed).
pub fn final_error_line(s: &str) -> Option<String> {
    s.lines()
        .map(str::trim)
        .rfind(|l| l.starts_with("error:"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// The most useful single line of stderr: the last `error:` line, else the
/// first non-empty one.
pub fn stderr_summary(stderr: &str) -> String {
    let l = final_error_line(stderr)
        .or_else(|| stderr.lines().map(str::trim).find(|l| !l.is_empty()).map(str::to_string))
        .unwrap_or_else(|| "(no output on stderr)".into());
    truncate(&l, 200)
}

/// One-line description of the first difference between two texts.
pub fn first_difference(expected: &str, got: &str) -> String {
    if got.is_empty() {
        return format!("empty output; expected `{}`", truncate(&expected.replace('\n', "⏎"), 80));
    }
    if expected.trim_end() == got.trim_end() {
        return format!(
            "output differs only in trailing whitespace: expected `{}`, got `{}` at the end",
            truncate(&one_line(&expected[expected.trim_end().len()..]), 20),
            truncate(&one_line(&got[got.trim_end().len()..]), 20)
        );
    }
    let e: Vec<&str> = expected.split('\n').collect();
    let g: Vec<&str> = got.split('\n').collect();
    for i in 0..e.len().max(g.len()) {
        let (a, b) = (e.get(i), g.get(i));
        if a != b {
            let show = |x: Option<&&str>| match x {
                Some(s) => {
                    // start near the first differing character
                    let other = if x == a { b } else { a };
                    let other = other.copied().unwrap_or("");
                    let s = *s;
                    let common = s
                        .char_indices()
                        .zip(other.chars())
                        .take_while(|((_, c1), c2)| c1 == c2)
                        .last()
                        .map(|((i, _), _)| i)
                        .unwrap_or(0);
                    let start = s[..common].char_indices().rev().nth(30).map(|(i, _)| i).unwrap_or(0);
                    let prefix = if start > 0 { "…" } else { "" };
                    format!("`{prefix}{}`", truncate(&s[start..], 90))
                }
                None => "end of output".to_string(),
            };
            return format!("output differs at line {}: expected {}, got {}", i + 1, show(a), show(b));
        }
    }
    "output differs".into()
}

fn diff_detail(expected: &str, got: &str) -> String {
    let mut d = String::new();
    let _ = writeln!(d, "--- expected");
    for l in expected.lines().take(15) {
        let _ = writeln!(d, "    {}", truncate(l, 200));
    }
    let _ = writeln!(d, "--- got");
    for l in got.lines().take(15) {
        let _ = writeln!(d, "    {}", truncate(l, 200));
    }
    d
}

/// Apply `NAME.postprocess` (a bash script editing `$1.err` in place) to an
/// error message, as upstream does before comparing.
fn postprocess(case: &Case, text: &str) -> String {
    let script = case.file("postprocess");
    if !script.exists() {
        return text.to_string();
    }
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let tmp = std::env::temp_dir().join(format!(
        "rnix-conformance-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    if fs::create_dir_all(&tmp).is_err() {
        return text.to_string();
    }
    let base = tmp.join(&case.name);
    let mut result = text.to_string();
    if fs::write(base.with_extension("err"), text).is_ok() {
        let ok = std::process::Command::new("bash")
            .arg(&script)
            .arg(&base)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            if let Ok(t) = fs::read_to_string(base.with_extension("err")) {
                result = t;
            }
        }
    }
    let _ = fs::remove_dir_all(&tmp);
    result
}

fn compare_message(case: &Case, stderr: &str) -> (Option<bool>, Option<bool>) {
    match case.read("err.exp") {
        None => (None, None),
        Some(exp) => {
            let got = postprocess(case, &pwd_replace(stderr, &case.root));
            let exact = got == exp;
            let fin = match (final_error_line(&exp), final_error_line(&got)) {
                (Some(a), Some(b)) => a == b,
                (None, None) => exact,
                _ => false,
            };
            (Some(exact), Some(fin))
        }
    }
}

/// Run one case.
pub fn run_case(cfg: &Config, case: &Case) -> CaseResult {
    let spec = command_for(cfg, case);
    let mut res = CaseResult {
        name: case.name.clone(),
        category: case.category,
        status: Status::Pass,
        info_exact: None,
        info_final_line: None,
        duration: Duration::ZERO,
        command: spec.display(),
        detail: String::new(),
    };
    if let Some(why) = &case.skip {
        res.status = Status::Skip(why.clone());
        return res;
    }
    let out = run(&spec);
    res.duration = out.duration;
    let stdout = pwd_replace(&out.stdout_str(), &case.root);
    let stderr = out.stderr_str();
    res.detail = format!(
        "stderr:\n{}",
        stderr.lines().take(20).map(|l| format!("    {}\n", truncate(l, 200))).collect::<String>()
    );
    let fail = |r: &mut CaseResult, why: String| r.status = Status::Fail(one_line(&why));
    if let Some(crash) = out.crash() {
        fail(&mut res, crash);
        return res;
    }
    let code = out.code().unwrap_or(-1);
    match case.category {
        Category::EvalOkay | Category::NixTestCorpus => {
            let (exp_file, expected) = if case.file("exp.xml").exists() {
                ("exp.xml", case.read("exp.xml"))
            } else {
                ("exp", case.read("exp"))
            };
            if case.category == Category::NixTestCorpus {
                if let Some(err_pattern) = case.read("err") {
                    if expected.is_some() {
                        fail(&mut res, format!("has both {0}.exp and {0}.err", case.name));
                        return res;
                    }
                    check_nix_test_corpus_failure(&mut res, &out, &err_pattern, case);
                    return res;
                }
            }
            let Some(expected) = expected else {
                fail(&mut res, format!("no {}.{exp_file} (nor .err) to compare with", case.name));
                return res;
            };
            if case.category == Category::EvalOkay {
                let (exact, _) = compare_message(case, &stderr);
                res.info_exact = exact;
            }
            if code != 0 {
                fail(&mut res, format!("exit status {code} (expected 0): {}", stderr_summary(&stderr)));
            } else if stdout != expected {
                res.detail = diff_detail(&expected, &stdout) + &res.detail;
                fail(&mut res, first_difference(&expected, &stdout));
            }
        }
        Category::EvalFail => {
            let (exact, fin) = compare_message(case, &stderr);
            if code == 1 {
                res.info_exact = exact;
                res.info_final_line = fin;
            }
            if code != 1 {
                let what = if code == 0 {
                    format!("exit status 0 (expected 1); stdout: `{}`", truncate(stdout.trim_end(), 80))
                } else {
                    format!("exit status {code} (expected 1): {}", stderr_summary(&stderr))
                };
                fail(&mut res, what);
            } else if stderr.trim().is_empty() {
                fail(&mut res, "exit status 1 but nothing on stderr".into());
            }
        }
        Category::ParseOkay => {
            if code != 0 {
                fail(&mut res, format!("exit status {code} (expected 0): {}", stderr_summary(&stderr)));
            } else if let Some(exp) = case.read("exp") {
                res.info_exact = Some(stdout == exp);
            }
        }
        Category::ParseFail => {
            if code != 1 {
                fail(
                    &mut res,
                    format!(
                        "exit status {code} (expected 1){}",
                        if code == 0 {
                            format!("; stdout: `{}`", truncate(stdout.trim_end(), 80))
                        } else {
                            format!(": {}", stderr_summary(&stderr))
                        }
                    ),
                );
            } else {
                let (exact, fin) = compare_message(case, &stderr);
                res.info_exact = exact;
                res.info_final_line = fin;
            }
        }
    }
    res
}

/// nix-test-corpus failure cases: exit 1, and every non-empty line of
/// `NAME.err` must occur in stderr (after `/pwd` replacement).
fn check_nix_test_corpus_failure(res: &mut CaseResult, out: &RunOutput, pattern: &str, case: &Case) {
    let stderr = pwd_replace(&out.stderr_str(), &case.root);
    match out.exit {
        Exit::Code(1) => {
            for want in pattern.lines().map(str::trim).filter(|l| !l.is_empty()) {
                if !stderr.contains(want) {
                    res.status = Status::Fail(one_line(&format!(
                        "stderr lacks `{}`; got: {}",
                        truncate(want, 80),
                        stderr_summary(&stderr)
                    )));
                    return;
                }
            }
        }
        _ => {
            res.status = Status::Fail(one_line(&format!(
                "{} (expected exit status 1){}",
                out.describe_exit(),
                if out.code() == Some(0) {
                    format!("; stdout: `{}`", truncate(out.stdout_str().trim_end(), 80))
                } else {
                    format!(": {}", stderr_summary(&stderr))
                }
            )));
        }
    }
}

/// Run `f` over `items` on `jobs` threads, preserving order.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], jobs: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<R>>> = items.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1).min(items.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= items.len() {
                    break;
                }
                let r = f(&items[i]);
                *results[i].lock().unwrap() = Some(r);
            });
        }
    });
    results.into_iter().map(|m| m.into_inner().unwrap().expect("every item was processed")).collect()
}

/// Run cases in parallel (`cfg.jobs` at a time). With `cfg.verbose`, each
/// result is printed to stderr as it completes.
pub fn run_cases(cfg: &Config, cases: &[Case]) -> Vec<CaseResult> {
    parallel_map(cases, cfg.jobs, |case| {
        let r = run_case(cfg, case);
        if cfg.verbose {
            let mut line = match &r.status {
                Status::Pass => format!("PASS {} ({:.2}s)", r.name, r.duration.as_secs_f64()),
                Status::Skip(w) => format!("SKIP {}: {w}", r.name),
                Status::Fail(w) => format!(
                    "FAIL {} ({:.2}s): {w}\n  $ (cd {} && {})\n{}",
                    r.name,
                    r.duration.as_secs_f64(),
                    case.root.display(),
                    r.command,
                    r.detail.lines().map(|l| format!("  {l}\n")).collect::<String>()
                ),
            };
            while line.ends_with('\n') {
                line.pop();
            }
            eprintln!("{line}");
        }
        r
    })
}

// ---------------------------------------------------------------- summaries

#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// (matching, compared)
    pub info_exact: (usize, usize),
    pub info_final_line: (usize, usize),
}

pub fn summarize(results: &[CaseResult], cat: Category) -> Summary {
    let mut s = Summary::default();
    for r in results.iter().filter(|r| r.category == cat) {
        match r.status {
            Status::Pass => {
                s.total += 1;
                s.passed += 1
            }
            Status::Fail(_) => {
                s.total += 1;
                s.failed += 1
            }
            Status::Skip(_) => s.skipped += 1,
        }
        if let Some(m) = r.info_exact {
            s.info_exact.1 += 1;
            s.info_exact.0 += m as usize;
        }
        if let Some(m) = r.info_final_line {
            s.info_final_line.1 += 1;
            s.info_final_line.0 += m as usize;
        }
    }
    s
}

/// Consistency of the eval-okay results with `tests/expected-failures.txt`.
#[derive(Clone, Debug, Default)]
pub struct ExpectedCheck {
    /// Failing and not listed.
    pub unexpected_failures: Vec<String>,
    /// Listed but now passing ("remove it from the list").
    pub unexpected_passes: Vec<String>,
    /// Listed but not an (enabled) eval-okay case of the corpus.
    pub stale: Vec<String>,
    pub listed_and_failing: usize,
}

impl ExpectedCheck {
    pub fn ok(&self) -> bool {
        self.unexpected_failures.is_empty() && self.unexpected_passes.is_empty() && self.stale.is_empty()
    }
}

/// Compare eval-okay `results` (the whole category) with the list.
pub fn check_expected(results: &[CaseResult], listed: &BTreeSet<String>) -> ExpectedCheck {
    let mut c = ExpectedCheck::default();
    let mut seen = BTreeSet::new();
    for r in results.iter().filter(|r| r.category == Category::EvalOkay) {
        let is_listed = listed.contains(&r.name);
        match r.status {
            Status::Skip(_) => continue,
            Status::Fail(_) if is_listed => c.listed_and_failing += 1,
            Status::Fail(_) => c.unexpected_failures.push(r.name.clone()),
            Status::Pass if is_listed => c.unexpected_passes.push(r.name.clone()),
            Status::Pass => {}
        }
        seen.insert(r.name.clone());
    }
    c.stale = listed.iter().filter(|n| !seen.contains(*n)).cloned().collect();
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_split_and_comments_dropped() {
        assert_eq!(
            parse_flags("--arg lib import(lang/lib.nix) # comment\n-A result\n"),
            ["--arg", "lib", "import(lang/lib.nix)", "-A", "result"]
        );
        assert!(parse_flags("# only a comment\n").is_empty());
    }

    #[test]
    fn pwd_is_replaced() {
        let root = Path::new("/some/dir");
        assert_eq!(pwd_replace("at /some/dir/lang/x.nix:1:2 and /some/dirx", root), "at /pwd/lang/x.nix:1:2 and /pwdx");
    }

    #[test]
    fn final_error_line_is_the_last_error() {
        let msg = "error:\n       … while evaluating\n\n       error: boom  here\n";
        assert_eq!(final_error_line(msg).as_deref(), Some("error: boom here"));
        assert_eq!(final_error_line("warning: x"), None);
    }

    #[test]
    fn first_difference_names_the_line() {
        let d = first_difference("a\nb\nc\n", "a\nx\nc\n");
        assert!(d.contains("line 2"), "{d}");
        assert!(d.contains("`b`") && d.contains("`x`"), "{d}");
        assert!(first_difference("1\n", "").starts_with("empty output"));
        assert!(first_difference("1\n", "1\n2\n").contains("line 2"));
        assert!(first_difference("1\n2\n3", "1\n2").contains("end of output"));
        assert!(first_difference("1\n", "1").contains("trailing whitespace"));
    }

    #[test]
    fn expected_failures_round_trip() {
        let names: BTreeSet<String> = ["eval-okay-b", "eval-okay-a"].iter().map(|s| s.to_string()).collect();
        let text = crate::expected::render(&names, "test");
        assert_eq!(crate::expected::parse(&text), names);
    }

    #[test]
    fn expected_check_classifies() {
        let mk = |name: &str, pass: bool| CaseResult {
            name: name.into(),
            category: Category::EvalOkay,
            status: if pass { Status::Pass } else { Status::Fail("x".into()) },
            info_exact: None,
            info_final_line: None,
            duration: Duration::ZERO,
            command: String::new(),
            detail: String::new(),
        };
        let results = vec![mk("a", true), mk("b", false), mk("c", false), mk("d", true)];
        let listed: BTreeSet<String> = ["b", "d", "zz"].iter().map(|s| s.to_string()).collect();
        let c = check_expected(&results, &listed);
        assert_eq!(c.unexpected_failures, ["c"]);
        assert_eq!(c.unexpected_passes, ["d"]);
        assert_eq!(c.stale, ["zz"]);
        assert_eq!(c.listed_and_failing, 1);
        assert!(!c.ok());
    }
}
