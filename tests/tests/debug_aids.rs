//! The debugging aids users reach for when an evaluation is slow or wrong:
//! `--trace-function-calls` (the reference's `function-trace entered/exited`
//! lines) and `NIX_SHOW_STATS` (work counters, time per phase, peak memory),
//! compared with the reference `nix-instantiate` where it is installed.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use rnix_tests::paths;

const EXPR: &str =
    "let\n  f = x: x + 1;\n  g = { a, b ? 2 }: a * b;\nin f (g { a = f 1; }) + builtins.length (map f [ 1 2 ])\n";

/// stderr of `prog --eval --strict FILE [extra]` with `env` set, and its exit status.
fn stderr_of(prog: &Path, file: &Path, extra: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new(prog);
    if prog.file_name().is_some_and(|n| n == "rnix-eval") {
        cmd.arg("instantiate");
    }
    cmd.args(["--eval", "--strict"]).args(extra).arg(file);
    cmd.env_remove("NIX_SHOW_STATS").env_remove("NIX_SHOW_STATS_PATH");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run evaluator");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The trace lines without their timestamps.
fn trace_lines(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.starts_with("function-trace "))
        .map(|l| l.rsplit_once(" at ").map_or(l, |(head, _)| head).to_string())
        .collect()
}

/// The integer after `"key":` in a JSON text.
fn json_int(text: &str, key: &str) -> Option<u64> {
    let at = text.find(&format!("\"{key}\""))?;
    let rest = text[at + key.len() + 2..].trim_start().strip_prefix(':')?.trim_start();
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

#[test]
fn trace_function_calls_as_the_reference() {
    let dir = TempDir::new("debug-aids-trace");
    let file = dir.path().join("calls.nix");
    std::fs::write(&file, EXPR).unwrap();
    let ours = paths::rnix_eval_for_tests();
    let (code, err) = stderr_of(&ours, &file, &["--trace-function-calls"], &[]);
    assert_eq!(code, 0, "{err}");
    let lines = trace_lines(&err);
    assert!(!lines.is_empty(), "no function-trace lines on stderr:\n{err}");
    for l in err.lines().filter(|l| l.starts_with("function-trace ")) {
        let ns = l.rsplit_once(" at ").map(|(_, t)| t).unwrap_or("");
        assert!(ns.parse::<u128>().is_ok(), "no timestamp in {l:?}");
    }
    let Some(reference) = reference_or_note("--trace-function-calls") else { return };
    let (rcode, rerr) = stderr_of(&reference, &file, &["--trace-function-calls"], &[]);
    assert_eq!(rcode, 0, "{rerr}");
    assert_eq!(lines, trace_lines(&rerr), "trace lines differ from the reference's");
}

/// `foldl'` calls its operator with both arguments at once, as the reference's
/// `callFunction(op, 2, …)`: one entered/exited pair per element (it once traced two).
#[test]
fn trace_function_calls_foldl_one_call_per_element() {
    let dir = TempDir::new("debug-aids-trace-foldl");
    let file = dir.path().join("foldl.nix");
    std::fs::write(&file, "builtins.foldl' (a: b: a + b) 0 [ 1 2 3 ]\n").unwrap();
    let ours = paths::rnix_eval_for_tests();
    let (code, err) = stderr_of(&ours, &file, &["--trace-function-calls"], &[]);
    assert_eq!(code, 0, "{err}");
    let lines = trace_lines(&err);
    let at = |what: &str| format!("function-trace {what} {}:1:1", file.display());
    // nix-instantiate 2.8: the `foldl'` application, then one call per element inside it.
    let mut expected = vec![at("entered")];
    for _ in 0..3 {
        expected.extend([at("entered"), at("exited")]);
    }
    expected.push(at("exited"));
    assert_eq!(lines, expected, "{err}");
    let Some(reference) = reference_or_note("--trace-function-calls") else { return };
    let (rcode, rerr) = stderr_of(&reference, &file, &["--trace-function-calls"], &[]);
    assert_eq!(rcode, 0, "{rerr}");
    assert_eq!(lines, trace_lines(&rerr), "trace lines differ from the reference's");
}

#[test]
fn show_stats_reports_counts_phases_and_memory() {
    let dir = TempDir::new("debug-aids-stats");
    let file = dir.path().join("calls.nix");
    std::fs::write(&file, EXPR).unwrap();
    let ours = paths::rnix_eval_for_tests();
    let (code, err) = stderr_of(&ours, &file, &[], &[("NIX_SHOW_STATS", "1")]);
    assert_eq!(code, 0, "{err}");
    for key in ["cpuTime", "parse", "eval", "storeFlush"] {
        assert!(err.contains(&format!("\"{key}\": ")), "no {key} in {err}");
    }
    assert!(json_int(&err, "peakRssKiB").is_some_and(|k| k > 0), "{err}");
    assert_eq!(json_int(&err, "nrFilesParsed"), Some(1), "{err}");
    let calls = json_int(&err, "nrFunctionCalls").expect("nrFunctionCalls");
    let Some(reference) = reference_or_note("NIX_SHOW_STATS") else { return };
    // The reference counts lambda calls and primop calls apart; ours counts both.
    let stats = dir.path().join("stats.json");
    let (rcode, rerr) =
        stderr_of(&reference, &file, &[], &[("NIX_SHOW_STATS", "1"), ("NIX_SHOW_STATS_PATH", stats.to_str().unwrap())]);
    assert_eq!(rcode, 0, "{rerr}");
    let text = std::fs::read_to_string(&stats).expect("reference stats file");
    let expected = json_int(&text, "nrFunctionCalls").unwrap() + json_int(&text, "nrPrimOpCalls").unwrap();
    assert_eq!(calls, expected, "ours: {err}\nreference: {text}");
}

/// `builtins.trace` prints a value as 2.36's `printValue` does (the corpus' `eval-okay-print`
/// shows `«thunk»`; 2.8 printed `<CODE>`): functions with their name and position, primops
/// by name — while `nix-instantiate --eval` output keeps `<LAMBDA>`/`<PRIMOP>`.
#[test]
fn trace_prints_values_as_2_36() {
    let dir = TempDir::new("trace-print");
    let file = dir.path().join("t.nix");
    std::fs::write(
        &file,
        "let s = { f = x: x; p = builtins.add; q = builtins.add 1; l = [ (1 + 1) ]; };\n\
         in builtins.trace (builtins.seq s.f (builtins.seq s.p (builtins.seq s.q s))) s\n",
    )
    .unwrap();
    let ours = paths::rnix_eval_for_tests();
    let mut cmd = Command::new(&ours);
    let out = cmd.args(["instantiate", "--eval"]).arg(&file).output().expect("run rnix-eval");
    let err = String::from_utf8_lossy(&out.stderr);
    let want = format!(
        "trace: {{ f = «lambda f @ {0}:1:15»; l = «thunk»; p = «primop add»; q = «partially applied primop add»; }}\n",
        file.display()
    );
    assert_eq!(err, want);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "{ f = <LAMBDA>; l = <CODE>; p = <PRIMOP>; q = <PRIMOP-APP>; }\n");
}
