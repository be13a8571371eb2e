//! Robustness: rnix-eval must never crash, whatever it is fed.
//!
//! Every `.nix` file of the shared corpus and of nix-test-corpus/, plus
//! mutated copies (truncated, bytes flipped/deleted/duplicated; fixed-seed
//! xorshift PRNG, so runs are reproducible), goes through
//! `BIN instantiate --parse -` and `BIN instantiate --eval --strict FILE` in a
//! temporary copy of the corpora (so relative imports resolve or fail
//! gracefully). A run fails the test if it panics (exit status 101 or
//! "panicked" on stderr), is killed by a signal (stack overflow =
//! SIGSEGV/SIGABRT) or exceeds the timeout (10 s) -- a timeout is forgiven
//! only when the reference nix-instantiate also times out on the same input.
//!
//! Knobs (environment): `ROBUSTNESS_MUTANTS` (mutants per file, default 4),
//! `ROBUSTNESS_SEED`, `ROBUSTNESS_BUDGET_SECS` (stop starting new runs after
//! this many seconds, default 120; the skipped count is printed),
//! `ROBUSTNESS_TIMEOUT` (seconds per run, default 10), `RNIX_TEST_JOBS`.
//!
//! Also deep-recursion cases: `foldl'` over a 10^6 list must work, and
//! 10^5-deep recursion / nesting must either work or fail with exit 1 and an
//! error about the stack / recursion depth -- never crash.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rnix_tests::conformance::parallel_map;
use rnix_tests::paths;
use rnix_tests::process::{run, truncate, Exit, Input, RunOutput, RunSpec};

// ------------------------------------------------------------------ PRNG

/// xorshift64* -- tiny, deterministic, good enough for sampling mutations.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15 | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform-ish in 0..n (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

/// Bytes that matter to the Nix lexer/parser; flips often pick one of these.
const SPECIAL: &[u8] = b"{}[]();:=.,?@\"'$\\/#*<>!&|+-~ \n0123456789abcdefinrt";

/// Apply one mutation; returns the new text and a description.
fn mutate(src: &[u8], rng: &mut Rng, truncation: bool) -> (Vec<u8>, String) {
    let len = src.len();
    if truncation || len < 2 {
        let at = if len == 0 { 0 } else { rng.below(len) };
        return (src[..at].to_vec(), format!("truncated at byte {at} of {len}"));
    }
    let mut v = src.to_vec();
    let mut ops = Vec::new();
    for _ in 0..1 + rng.below(3) {
        if v.is_empty() {
            break;
        }
        let i = rng.below(v.len());
        match rng.below(4) {
            0 => {
                let old = v[i];
                v[i] = if rng.below(2) == 0 { SPECIAL[rng.below(SPECIAL.len())] } else { old ^ (1 << rng.below(8)) };
                ops.push(format!("byte {i} {old:#04x}->{:#04x}", v[i]));
            }
            1 => {
                let n = 1 + rng.below(3.min(v.len() - i));
                v.drain(i..i + n);
                ops.push(format!("deleted {n} byte(s) at {i}"));
            }
            2 => {
                let n = 1 + rng.below(8.min(v.len() - i));
                let chunk: Vec<u8> = v[i..i + n].to_vec();
                v.splice(i..i, chunk);
                ops.push(format!("duplicated {n} byte(s) at {i}"));
            }
            _ => {
                let c = SPECIAL[rng.below(SPECIAL.len())];
                v.insert(i, c);
                ops.push(format!("inserted {:?} at {i}", c as char));
            }
        }
    }
    (v, ops.join(", "))
}

// ------------------------------------------------------------- temp corpus

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for e in fs::read_dir(from)? {
        let e = e?;
        let src = e.path();
        let dst = to.join(e.file_name());
        let ft = fs::symlink_metadata(&src)?.file_type();
        if ft.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&src)?, &dst)?;
        } else if ft.is_dir() {
            copy_tree(&src, &dst)?;
        } else if ft.is_file() {
            fs::write(&dst, fs::read(&src)?)?; // fresh, writable permissions
        }
    }
    Ok(())
}

fn nix_files_rec(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let Ok(m) = fs::symlink_metadata(&p) else {
            continue;
        };
        if m.is_dir() {
            nix_files_rec(&p, out);
        } else if m.is_file() && p.extension().is_some_and(|e| e == "nix") {
            out.push(p);
        }
    }
}

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Parse,
    Eval,
}

struct Job {
    /// path relative to the temp root
    rel: String,
    what: String,
    mode: Mode,
}

fn spec_for(bin: &Path, root: &Path, job: &Job, timeout: Duration) -> RunSpec {
    let spec = RunSpec::new(bin, root)
        .timeout(timeout)
        .env("HOME", "/fake-home")
        .env("TEST_VAR", "foo")
        .env("NIX_PATH", "lang/dir3:lang/dir4")
        .arg("instantiate");
    match job.mode {
        Mode::Parse => spec.args(["--parse", "-"]).stdin(Input::File(root.join(&job.rel))),
        Mode::Eval => spec.args(["--eval", "--strict"]).arg(&job.rel),
    }
}

/// The same command run with the reference nix-instantiate.
fn reference_spec(spec: &RunSpec, reference: &Path) -> RunSpec {
    let mut r = spec.clone();
    r.program = reference.to_path_buf();
    r.args.remove(0); // "instantiate"
    r
}

#[test]
fn corpus_and_mutants_never_crash() {
    let bin = paths::rnix_eval_for_tests();
    let reference = paths::reference_nix_instantiate();
    let mutants: usize = env_num("ROBUSTNESS_MUTANTS", 4);
    let seed: u64 = env_num("ROBUSTNESS_SEED", 20_241_122);
    let budget = Duration::from_secs_f64(env_num("ROBUSTNESS_BUDGET_SECS", 120.0));
    let timeout = Duration::from_secs_f64(env_num("ROBUSTNESS_TIMEOUT", 10.0));
    let jobs: usize = env_num("RNIX_TEST_JOBS", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2));

    let tmp = std::env::temp_dir().join(format!("rnix-robustness-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).unwrap();
    let root = tmp.canonicalize().unwrap();
    match paths::conformance_dir() {
        Some(d) => copy_tree(&d.join("lang"), &root.join("lang")).expect("copying the corpus"),
        None => paths::note_missing_shared(&format!(
            "{} (robustness then uses nix-test-corpus only)",
            paths::missing_shared_message()
        )),
    }
    copy_tree(&paths::nix_test_corpus_dir(), &root.join("nix-test-corpus")).expect("copying nix-test-corpus");

    let mut originals = Vec::new();
    nix_files_rec(&root, &mut originals);
    assert!(!originals.is_empty(), "no .nix files to test");

    let rel = |p: &Path| p.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
    let mut first = Vec::new();
    let mut rest = Vec::new();
    for p in &originals {
        let r = rel(p);
        for mode in [Mode::Parse, Mode::Eval] {
            first.push(Job { rel: r.clone(), what: "original".into(), mode });
        }
        let src = fs::read(p).unwrap();
        let mut rng = Rng::new(seed ^ fnv1a(&r));
        let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
        for k in 0..mutants {
            // half of the mutants are truncations, half byte-level edits
            let (text, what) = mutate(&src, &mut rng, k % 2 == 0);
            let mp = p.with_file_name(format!("{stem}.mut{k}.nix"));
            fs::write(&mp, &text).unwrap();
            for mode in [Mode::Parse, Mode::Eval] {
                rest.push(Job { rel: rel(&mp), what: format!("mutant of {r}: {what}"), mode });
            }
        }
    }
    // sample evenly when the budget runs out: shuffle the mutant runs
    let mut rng = Rng::new(seed);
    for i in (1..rest.len()).rev() {
        let j = rng.below(i + 1);
        rest.swap(i, j);
    }
    let all: Vec<Job> = first.into_iter().chain(rest).collect();

    let start = Instant::now();
    let skipped = AtomicUsize::new(0);
    let forgiven = AtomicUsize::new(0);
    let results: Vec<Option<(String, RunOutput, String)>> = parallel_map(&all, jobs, |job| {
        if start.elapsed() > budget {
            skipped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let spec = spec_for(&bin, &root, job, timeout);
        let out = run(&spec);
        let crash = out.crash()?;
        if out.exit == Exit::Timeout {
            if let Some(reference) = &reference {
                let r = run(&reference_spec(&spec, reference));
                if matches!(r.exit, Exit::Timeout | Exit::Signal(_)) {
                    forgiven.fetch_add(1, Ordering::Relaxed);
                    return None;
                }
            }
        }
        Some((crash, out, spec.display()))
    });
    let ran = all.len() - skipped.load(Ordering::Relaxed);
    let failures: Vec<(&Job, &(String, RunOutput, String))> =
        all.iter().zip(&results).filter_map(|(j, r)| r.as_ref().map(|r| (j, r))).collect();

    println!(
        "robustness: {} runs ({} files, {} mutants each, parse + eval) in {:.1}s; {} crash(es); \
         {} timeout(s) forgiven (reference times out too); {} run(s) skipped (budget {}s)",
        ran,
        originals.len(),
        mutants,
        start.elapsed().as_secs_f64(),
        failures.len(),
        forgiven.load(Ordering::Relaxed),
        skipped.load(Ordering::Relaxed),
        budget.as_secs()
    );
    if skipped.load(Ordering::Relaxed) > 0 {
        println!("NOTE: the time budget ran out; raise ROBUSTNESS_BUDGET_SECS to run all {} runs", all.len());
    }
    if failures.is_empty() {
        let _ = fs::remove_dir_all(&root);
        return;
    }
    let mut msg = format!("{} run(s) crashed (files kept in {}):\n", failures.len(), root.display());
    for (job, (crash, _, cmd)) in failures.iter().take(100) {
        msg.push_str(&format!(
            "  [{:?}] {} ({}): {}\n      $ (cd {} && {})\n",
            job.mode,
            job.rel,
            truncate(&job.what, 100),
            crash,
            root.display(),
            cmd
        ));
    }
    if failures.len() > 100 {
        msg.push_str(&format!("  … and {} more\n", failures.len() - 100));
    }
    panic!("{msg}");
}

// -------------------------------------------------------- deep recursion

fn eval_source(name: &str, src: &str, timeout: Duration) -> (RunOutput, String) {
    let bin = paths::rnix_eval_for_tests();
    let dir = std::env::temp_dir().join(format!("rnix-deep-{}-{name}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{name}.nix"));
    fs::write(&file, src).unwrap();
    let spec = RunSpec::new(&bin, &dir)
        .timeout(timeout)
        .env("HOME", "/fake-home")
        .args(["instantiate", "--eval", "--strict"])
        .arg(&file);
    let out = run(&spec);
    let cmd = spec.display();
    let _ = fs::remove_dir_all(&dir);
    (out, cmd)
}

fn parse_source(name: &str, src: &str, timeout: Duration) -> (RunOutput, String) {
    let bin = paths::rnix_eval_for_tests();
    let spec = RunSpec::new(&bin, std::env::temp_dir())
        .timeout(timeout)
        .env("HOME", "/fake-home")
        .args(["instantiate", "--parse", "-"])
        .stdin(Input::Bytes(src.as_bytes().to_vec()));
    let out = run(&spec);
    let cmd = format!("{} ({name})", spec.display());
    (out, cmd)
}

const DEEP_TIMEOUT: Duration = Duration::from_secs(60);

/// Exit 0 with `want` on stdout, or exit 1 with an error about the stack /
/// recursion depth; never a crash.
fn value_or_depth_error(name: &str, out: &RunOutput, cmd: &str, want: Option<&str>) {
    if let Some(c) = out.crash() {
        panic!("{name}: {c}\n  $ {cmd}\n  stderr: {}", truncate(&out.stderr_str(), 2000));
    }
    match out.code() {
        Some(0) => {
            if let Some(w) = want {
                assert_eq!(out.stdout_str().trim_end(), w, "{name}: wrong value\n  $ {cmd}");
            }
        }
        Some(1) => {
            let err = out.stderr_str().to_lowercase();
            assert!(
                ["stack", "recursion", "depth"].iter().any(|k| err.contains(k)),
                "{name}: exit 1 without mentioning the stack/recursion depth: {}\n  $ {cmd}",
                truncate(&out.stderr_str(), 500)
            );
        }
        c => panic!("{name}: exit status {c:?} (expected 0 or 1): {}\n  $ {cmd}", truncate(&out.stderr_str(), 500)),
    }
}

#[test]
fn deep_foldl_over_genlist_1e6() {
    let (out, cmd) =
        eval_source("foldl", "builtins.foldl' (a: b: a + b) 0 (builtins.genList (x: x) 1000000)\n", DEEP_TIMEOUT);
    if let Some(c) = out.crash() {
        panic!("foldl': {c}\n  $ {cmd}");
    }
    assert_eq!(
        out.code(),
        Some(0),
        "foldl' over 10^6 elements must evaluate: {}\n  $ {cmd}",
        truncate(&out.stderr_str(), 500)
    );
    assert_eq!(out.stdout_str().trim_end(), "499999500000", "  $ {cmd}");
}

#[test]
fn deep_non_tail_recursion_1e5() {
    let (out, cmd) =
        eval_source("calls", "let f = n: if n == 0 then 0 else 1 + f (n - 1); in f 100000\n", DEEP_TIMEOUT);
    value_or_depth_error("10^5 nested calls", &out, &cmd, Some("100000"));
}

#[test]
fn deep_thunk_chain_1e5() {
    // a chain of 10^5 thunks each forcing the previous one
    let (out, cmd) = eval_source(
        "thunks",
        "let xs = builtins.genList (i: if i == 0 then 0 else builtins.elemAt xs (i - 1) + 1) 100001; \
         in builtins.elemAt xs 100000\n",
        DEEP_TIMEOUT,
    );
    value_or_depth_error("10^5-deep thunk chain", &out, &cmd, Some("100000"));
}

#[test]
fn deep_nested_value_printing_1e5() {
    // printing / deepSeq of a 10^5-deep nested list
    let (out, cmd) =
        eval_source("nested-value", "let f = n: if n == 0 then [ ] else [ (f (n - 1)) ]; in f 100000\n", DEEP_TIMEOUT);
    value_or_depth_error("10^5-deep nested list (--strict printing)", &out, &cmd, None);
}

#[test]
fn deep_nested_value_tojson_1e5() {
    let (out, cmd) = eval_source(
        "nested-json",
        "let f = n: if n == 0 then { } else { a = f (n - 1); }; \
         in builtins.stringLength (builtins.toJSON (f 100000))\n",
        DEEP_TIMEOUT,
    );
    value_or_depth_error("toJSON of a 10^5-deep attrset", &out, &cmd, Some("600002"));
}

#[test]
fn deep_nested_parentheses_1e5() {
    let n = 100_000;
    let src = format!("{}1{}\n", "(".repeat(n), ")".repeat(n));
    let (out, cmd) = parse_source("10^5 nested parentheses", &src, DEEP_TIMEOUT);
    value_or_depth_error_or_parse("parse of 10^5 nested parentheses", &out, &cmd);
    let (out, cmd) = eval_source("parens", &src, DEEP_TIMEOUT);
    value_or_depth_error_or_parse("eval of 10^5 nested parentheses", &out, &cmd);
}

#[test]
fn deep_nested_lists_literal_1e5() {
    let n = 100_000;
    let src = format!("{}{}\n", "[".repeat(n), "]".repeat(n));
    let (out, cmd) = parse_source("10^5 nested list literal", &src, DEEP_TIMEOUT);
    value_or_depth_error_or_parse("parse of a 10^5-deep list literal", &out, &cmd);
}

/// For deeply nested *source*: exit 0, or exit 1 with any error (CppNix says
/// "memory exhausted" from its parser stack); never a crash.
fn value_or_depth_error_or_parse(name: &str, out: &RunOutput, cmd: &str) {
    if let Some(c) = out.crash() {
        panic!("{name}: {c}\n  $ {cmd}\n  stderr: {}", truncate(&out.stderr_str(), 1000));
    }
    assert!(
        matches!(out.code(), Some(0) | Some(1)),
        "{name}: exit status {:?} (expected 0 or 1)\n  $ {cmd}",
        out.code()
    );
    if out.code() == Some(1) {
        assert!(!out.stderr_str().trim().is_empty(), "{name}: exit 1 without a message\n  $ {cmd}");
    }
}

/// Long chains without brackets: the fast parser declines what would nest too deeply for its
/// lowering and rnix takes over; either way a value or an error, never a crash.
#[test]
fn deep_operator_chains_1e5() {
    let n = 100_000;
    let cases = [
        ("sum", format!("1{}\n", " + 1".repeat(n)), Some(format!("{}", n + 1))),
        ("concat", format!("builtins.length ([1]{})\n", " ++ [1]".repeat(n)), Some(format!("{}", n + 1))),
        ("update", format!("({{}}{}).a\n", " // { a = 1; }".repeat(n)), Some("1".to_string())),
        ("lambdas", format!("{}1\n", "x: ".repeat(n)), None),
        ("lets", format!("{}a\n", "let a = 1; in ".repeat(n)), Some("1".to_string())),
        ("nots", format!("{}true\n", "!".repeat(n)), Some("true".to_string())),
        ("negations", format!("{}1\n", "-".repeat(n)), None),
        // rnix (which reports errors) used to be quadratic on these: its tree interner
        // rehashed whole subtrees, its tokenizer rescanned runs of path characters.
        ("application-error", format!("f{}\n", " 1".repeat(n)), None),
        ("select-path", format!("{{ }}.a{} or 1\n", ".b".repeat(n)), Some("1".to_string())),
        ("select-syntax-error", format!("a{} )\n", ".b".repeat(n)), None),
    ];
    for (name, src, want) in cases {
        let (out, cmd) = eval_source(name, &src, DEEP_TIMEOUT);
        if out.code() == Some(0) {
            if let Some(w) = &want {
                assert_eq!(out.stdout_str().trim_end(), w, "{name}: wrong value\n  $ {cmd}");
            }
        }
        value_or_depth_error_or_parse(&format!("10^5 chain: {name}"), &out, &cmd);
    }
}
