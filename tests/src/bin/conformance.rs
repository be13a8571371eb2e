//! `conformance`: run the Nix language test corpus (../shared/conformance/lang)
//! and nix-test-corpus/ against rnix-eval and print a per-category report.
//!
//!     cargo run --release -p rnix-tests --bin conformance -- [options]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use rnix_tests::conformance::{
    check_expected, discover_nix_test_corpus, discover_shared, filter_cases, run_cases, Category, Config,
};
use rnix_tests::{expected, expected_messages, paths, report::Report};

const USAGE: &str = "\
usage: conformance [options]

Runs ../shared/conformance/lang (parse-okay, parse-fail, eval-okay, eval-fail)
and nix-test-corpus/ against `BIN instantiate ...` and prints one line per
category plus every failing case with a one-line reason.

options:
  --bin PATH                 binary to test (default: $RNIX_EVAL, else
                             rnix-eval next to this executable, else the newest
                             of target/{release,debug}/rnix-eval)
  --filter SUBSTR            only cases whose name contains SUBSTR
  --category CAT             only this category (repeatable): eval-okay,
                             eval-fail, parse-okay, parse-fail, nix-test-corpus
  -v, --verbose              print every case as it finishes (failures with the
                             command, a diff excerpt and stderr), on stderr
  -j, --jobs N               parallel runs (default: number of CPUs)
  --timeout SECS             per-case timeout (default 10)
  --json                     print the JSON summary on stdout instead of the report
  --summary-file PATH        also write the JSON summary to PATH
  --write-expected-failures  rewrite tests/expected-failures.txt with the
                             eval-okay cases that fail now
  --write-expected-messages  rewrite tests/expected-message-mismatches.txt with
                             the cases whose stderr differs from .err.exp
                             (needs a full run of the shared categories)
  --check                    exit 1 unless the results agree with the tests
                             (all pass except exactly the listed eval-okay cases)
  -h, --help                 this text
";

struct Opts {
    bin: Option<PathBuf>,
    filter: Option<String>,
    categories: Vec<Category>,
    verbose: bool,
    jobs: Option<usize>,
    timeout: Option<f64>,
    json: bool,
    summary_file: Option<PathBuf>,
    write_expected: bool,
    write_messages: bool,
    check: bool,
}

fn parse_args() -> Result<Opts, String> {
    let mut o = Opts {
        bin: None,
        filter: None,
        categories: vec![],
        verbose: false,
        jobs: None,
        timeout: None,
        json: false,
        summary_file: None,
        write_expected: false,
        write_messages: false,
        check: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--bin" => o.bin = Some(PathBuf::from(val("--bin")?)),
            "--filter" => o.filter = Some(val("--filter")?),
            "--category" => {
                let c = val("--category")?;
                o.categories.push(Category::from_name(&c).ok_or_else(|| format!("unknown category `{c}`"))?);
            }
            "-v" | "--verbose" => o.verbose = true,
            "-j" | "--jobs" => o.jobs = Some(val("--jobs")?.parse().map_err(|e| format!("--jobs: {e}"))?),
            "--timeout" => o.timeout = Some(val("--timeout")?.parse().map_err(|e| format!("--timeout: {e}"))?),
            "--json" => o.json = true,
            "--summary-file" => o.summary_file = Some(PathBuf::from(val("--summary-file")?)),
            "--write-expected-failures" => o.write_expected = true,
            "--write-expected-messages" => o.write_messages = true,
            "--check" => o.check = true,
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}`\n\n{USAGE}")),
        }
    }
    Ok(o)
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("conformance: {e}");
            return ExitCode::from(2);
        }
    };
    let bin = match paths::find_rnix_eval(opts.bin.as_deref()) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("conformance: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(w) = paths::staleness_warning(&bin) {
        eprintln!("{w}");
    }
    let mut cfg = Config::new(bin.clone());
    if let Some(j) = opts.jobs {
        cfg.jobs = j.max(1);
    }
    if let Some(t) = opts.timeout {
        cfg.timeout = Duration::from_secs_f64(t);
    }
    cfg.filter = opts.filter.clone();
    cfg.verbose = opts.verbose;

    let conf_dir = paths::conformance_dir();
    if conf_dir.is_none() {
        eprintln!("{}", paths::missing_shared_message());
    }
    let categories: Vec<Category> = Category::ALL
        .into_iter()
        .filter(|c| opts.categories.is_empty() || opts.categories.contains(c))
        .filter(|c| !c.is_shared() || conf_dir.is_some())
        .collect();
    let mut cases = Vec::new();
    if let Some(d) = &conf_dir {
        cases.extend(discover_shared(d));
    }
    cases.extend(discover_nix_test_corpus(&paths::nix_test_corpus_dir()));
    let cases = filter_cases(cases, opts.filter.as_deref(), &categories);

    let expected_path = paths::expected_failures_file();
    let expected_failures = match expected::read(&expected_path) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("conformance: reading {}: {e}", expected_path.display());
            Default::default()
        }
    };

    eprintln!(
        "running {} case(s) against {} ({} parallel, {:.0}s timeout each)…",
        cases.len(),
        bin.display(),
        cfg.jobs,
        cfg.timeout.as_secs_f64()
    );
    let start = Instant::now();
    let results = run_cases(&cfg, &cases);
    eprintln!("done in {:.1}s", start.elapsed().as_secs_f64());

    let complete = opts.filter.is_none();
    let report = Report {
        binary: bin.clone(),
        conformance_dir: conf_dir.clone(),
        nix_test_corpus_dir: paths::nix_test_corpus_dir(),
        results,
        categories: categories.clone(),
        expected_failures: expected_failures.clone(),
        complete,
    };

    if opts.json {
        print!("{}", report.json());
    } else {
        print!("{}", report.text());
    }
    if let Some(p) = &opts.summary_file {
        if let Err(e) = std::fs::write(p, report.json()) {
            eprintln!("conformance: writing {}: {e}", p.display());
            return ExitCode::from(2);
        }
    }

    if opts.write_expected {
        if !complete || !categories.contains(&Category::EvalOkay) {
            eprintln!("conformance: --write-expected-failures needs a full eval-okay run (no --filter)");
            return ExitCode::from(2);
        }
        let failing: std::collections::BTreeSet<String> = report
            .results
            .iter()
            .filter(|r| r.category == Category::EvalOkay && r.failed())
            .map(|r| r.name.clone())
            .collect();
        let s = report.summary(Category::EvalOkay);
        let note = format!("{} of {} eval-okay cases failing", failing.len(), s.total);
        if let Err(e) = expected::write(&expected_path, &failing, &note) {
            eprintln!("conformance: writing {}: {e}", expected_path.display());
            return ExitCode::from(2);
        }
        eprintln!("wrote {} ({note})", expected_path.display());
    }

    if opts.write_messages {
        let shared_all = [Category::EvalOkay, Category::EvalFail, Category::ParseFail];
        if !complete || !shared_all.iter().all(|c| categories.contains(c)) {
            eprintln!("conformance: --write-expected-messages needs a full run of the shared categories (no --filter)");
            return ExitCode::from(2);
        }
        let path = paths::expected_messages_file();
        let list = expected_messages::current(&report.results);
        if let Err(e) = std::fs::write(&path, expected_messages::render(&list)) {
            eprintln!("conformance: writing {}: {e}", path.display());
            return ExitCode::from(2);
        }
        eprintln!("wrote {} ({} case(s) differ)", path.display(), list.len());
    }

    if opts.check {
        let other_failures = report.results.iter().any(|r| r.failed() && r.category != Category::EvalOkay);
        let c = check_expected(&report.results, &expected_failures);
        // stale entries only mean something when every eval-okay case ran
        let eval_okay_ok = c.unexpected_failures.is_empty()
            && c.unexpected_passes.is_empty()
            && (c.stale.is_empty() || !complete || !categories.contains(&Category::EvalOkay));
        if other_failures || !eval_okay_ok {
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}
