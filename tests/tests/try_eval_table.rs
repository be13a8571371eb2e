//! Which errors `builtins.tryEval` catches, compared with the reference.
//!
//! CppNix's `tryEval` catches only `AssertionError` and what derives from it: `throw`, failed
//! `assert`s and failed search-path lookups (`<x>`, `findFile`: a `ThrownError`). Everything
//! else — `abort`, type errors, missing attributes, infinite recursion, I/O errors, pure- and
//! restricted-mode refusals, errors of builtins called with bad arguments — goes through it and
//! ends the evaluation. nixpkgs relies on this (`impure.nix` probes `<nixpkgs-overlays>` under
//! `tryEval`, also in pure mode), so every row of [`CASES`] is evaluated under plain,
//! `--pure-eval` and `--restrict-eval` mode, as `(builtins.tryEval (E)).success` and as
//! `builtins.tryEval (E)` with `--strict`, by `nix-instantiate` and by `rnix-eval`: a caught
//! error gives the same output, an uncaught one exit code 1 from both. Without the reference
//! the test only checks a few rows whose outcome is known (the rows of the Nix 2.36 corpus'
//! `eval-okay-tryeval`, where 2.8 agrees).

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use rnix_tests::paths;
use rnix_tests::process::{one_line, run, RunSpec};

/// (name, expression). `FIX` is replaced by a directory on the search path as `fix` (holding
/// `a.nix`, `data.txt` and the unparsable `bad.nix`), `OTHER` by one that is not.
const CASES: &[(&str, &str)] = &[
    ("value", "1"),
    ("throw", r#"throw "x""#),
    ("throw-non-string", "throw 1"),
    ("assert", "assert false; 1"),
    ("assert-throwing-condition", r#"assert throw "x"; 1"#),
    ("abort", r#"abort "x""#),
    ("type-add", r#"1 + "a""#),
    ("type-if", "if 1 then 1 else 2"),
    ("type-call-non-function", "1 2"),
    ("type-length", "builtins.length 1"),
    ("type-interpolate-set", r#""${{}}""#),
    ("missing-attr", "{}.a"),
    ("missing-attr-getAttr", r#"builtins.getAttr "a" {}"#),
    ("missing-argument", "({ x }: x) {}"),
    ("unexpected-argument", "({ x }: x) { x = 1; y = 2; }"),
    ("undefined-variable", "undefinedVariable"),
    ("infinite-recursion", "let x = x; in x"),
    ("infinite-recursion-rec", "rec { a = a; }.a"),
    ("stack-overflow", "let f = x: 1 + f x; in f 0"),
    ("div-by-zero", "builtins.div 1 0"),
    ("lookup-nixpkgs-overlays", "<nixpkgs-overlays>"),
    ("lookup-missing", "<nonexistent/file.nix>"),
    ("lookup-on-search-path", "<fix>"),
    ("lookup-file-on-search-path", "<fix/a.nix>"),
    ("lookup-missing-below-search-path", "<fix/missing.nix>"),
    ("import-on-search-path", "import <fix/a.nix>"),
    ("findFile-empty", r#"builtins.findFile [ ] "x""#),
    ("findFile-nixPath", r#"builtins.findFile builtins.nixPath "fix/a.nix""#),
    ("findFile-corepkgs", r#"builtins.isPath (builtins.findFile [ ] "nix/fetchurl.nix")"#),
    ("import-missing", "import /nonexistent/file.nix"),
    ("import-allowed", "import FIX/a.nix"),
    ("import-forbidden", "import OTHER/b.nix"),
    ("import-parse-error", "import FIX/bad.nix"),
    ("readFile-missing", "builtins.readFile /nonexistent/file"),
    ("readFile-allowed", "builtins.readFile FIX/data.txt"),
    ("readFile-forbidden", "builtins.readFile OTHER/data.txt"),
    ("readFile-store-string", r#"builtins.readFile "/nix/store/00000000000000000000000000000000-x""#),
    ("readDir-forbidden", "builtins.readDir OTHER"),
    ("pathExists-missing", "builtins.pathExists /nonexistent/file"),
    ("pathExists-forbidden", "builtins.pathExists OTHER/data.txt"),
    ("path-literal", "/etc"),
    ("path-coerced-to-store", r#""${OTHER/data.txt}""#),
    ("getEnv", r#"builtins.getEnv "HOME""#),
    ("currentTime", "builtins.currentTime"),
    ("currentSystem", "builtins.currentSystem"),
    ("storePath", r#"builtins.storePath "/nix/store/00000000000000000000000000000000-x""#),
    ("fetchurl-no-hash", r#"builtins.fetchurl "file:///nonexistent/x""#),
    ("fetchTarball-no-hash", r#"builtins.fetchTarball "file:///nonexistent/x.tar.gz""#),
    ("fetchTree-without-flakes", r#"builtins.fetchTree { type = "path"; path = "/nonexistent"; }"#),
    ("toPath-relative", r#"builtins.toPath "a""#),
    ("substring-negative", r#"builtins.substring (-1) 1 "abc""#),
    ("elemAt-out-of-bounds", "builtins.elemAt [ ] 0"),
    ("head-empty", "builtins.head [ ]"),
    ("genList-negative", "builtins.genList (x: x) (-1)"),
    ("functionArgs-non-function", "builtins.functionArgs 1"),
    ("replaceStrings-lengths", r#"builtins.replaceStrings [ "a" ] [ ] "a""#),
    ("match-bad-regex", r#"builtins.match "(" """#),
    ("fromJSON-bad", r#"builtins.fromJSON "{""#),
    ("toJSON-function", "builtins.toJSON (x: x)"),
    ("hashString-unknown", r#"builtins.hashString "md6" """#),
    ("toFile-bad-name", r#"builtins.toFile "a/b" """#),
    ("listToAttrs-bad", "builtins.listToAttrs [ 1 ]"),
    ("seq-throw", r#"builtins.seq (throw "a") 1"#),
    ("deepSeq-throw", r#"builtins.deepSeq [ (throw "a") ] 1"#),
    ("deepSeq-abort", r#"builtins.deepSeq [ (abort "a") ] 1"#),
    ("nested-tryEval", r#"builtins.tryEval (throw "x")"#),
    ("lazy-list-element", r#"[ (throw "x") ]"#),
    ("addErrorContext-throw", r#"builtins.addErrorContext "ctx" (throw "x")"#),
    ("addErrorContext-abort", r#"builtins.addErrorContext "ctx" (abort "x")"#),
    ("addErrorContext-type", r#"builtins.addErrorContext "ctx" (1 + "a")"#),
    ("derivation-no-name", "(derivation { }).drvPath"),
    ("derivation-no-builder", r#"(derivation { name = "a"; system = "x"; }).drvPath"#),
    ("derivation-bad-name", r#"(derivation { name = "a/b"; system = "x"; builder = "/b"; }).drvPath"#),
    ("derivation-no-outputs", r#"(derivation { name = "a"; system = "x"; builder = "/b"; outputs = [ ]; }).drvPath"#),
    (
        "derivation-throwing-attr",
        r#"(derivation { name = "a"; system = "x"; builder = "/b"; x = throw "t"; }).drvPath"#,
    ),
    (
        "derivation-asserting-attr",
        r#"(derivation { name = "a"; system = "x"; builder = "/b"; x = assert false; 1; }).drvPath"#,
    ),
    ("derivation-ok", r#"(derivation { name = "a"; system = "x"; builder = "/b"; }).drvPath"#),
    ("readFile-toFile", r#"builtins.readFile (builtins.toFile "a" "b")"#),
];

const MODES: &[&[&str]] = &[&[], &["--pure-eval"], &["--restrict-eval"]];

/// The two ways each expression is wrapped, with the extra flags they need.
fn wrappings(expr: &str) -> [(String, &'static [&'static str]); 2] {
    [(format!("(builtins.tryEval ({expr})).success"), &[]), (format!("builtins.tryEval ({expr})"), &["--strict"])]
}

struct Fixture {
    _dir: TempDir,
    fix: PathBuf,
    other: PathBuf,
    home: PathBuf,
}

fn fixture() -> Fixture {
    let dir = TempDir::new("try-eval-table");
    let fix = dir.path().join("fix");
    let other = dir.path().join("other");
    let home = dir.path().join("home");
    for d in [&fix, &other, &home] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(fix.join("a.nix"), "{ a = 1; }\n").unwrap();
    std::fs::write(fix.join("data.txt"), "data\n").unwrap();
    std::fs::write(fix.join("bad.nix"), "{ a = ;\n").unwrap();
    std::fs::write(other.join("b.nix"), "2\n").unwrap();
    std::fs::write(other.join("data.txt"), "other\n").unwrap();
    Fixture { _dir: dir, fix, other, home }
}

#[derive(Debug, PartialEq)]
struct Outcome {
    code: Option<i32>,
    stdout: String,
    /// First line of stderr (for the report only).
    error: String,
}

fn evaluate(prog: &Path, is_ours: bool, fx: &Fixture, mode: &[&str], wrapped: &str, extra: &[&str]) -> Outcome {
    let include = format!("fix={}", fx.fix.display());
    let mut spec = RunSpec::new(prog, &fx.home);
    if is_ours {
        spec = spec.arg("instantiate");
    }
    spec = spec
        .args(["--eval", "--readonly-mode", "-I", &include])
        .args(mode.iter().copied())
        .args(extra.iter().copied())
        .args(["-E", wrapped])
        .env("HOME", &fx.home.to_string_lossy())
        .env("XDG_CONFIG_HOME", &fx.home.join(".config").to_string_lossy())
        .env("XDG_CACHE_HOME", &fx.home.join(".cache").to_string_lossy())
        .env("XDG_DATA_HOME", &fx.home.join(".local/share").to_string_lossy())
        .timeout(Duration::from_secs(60));
    let out = run(&spec);
    let stderr = out.stderr_str();
    let error = stderr.lines().find(|l| l.starts_with("error:")).unwrap_or("").to_string();
    Outcome { code: out.code(), stdout: out.stdout_str(), error }
}

fn substitute(expr: &str, fx: &Fixture) -> String {
    expr.replace("FIX", &fx.fix.display().to_string()).replace("OTHER", &fx.other.display().to_string())
}

#[test]
fn try_eval_catches_what_the_reference_catches() {
    let fx = fixture();
    let ours = paths::rnix_eval_for_tests();
    let Some(reference) = reference_or_note("tryEval's table") else {
        // The corpus' eval-okay-tryeval rows, which 2.8 gives too.
        for (expr, out) in
            [(r#"throw "x""#, "false\n"), ("assert false; 1", "false\n"), ("<nixpkgs-overlays>", "false\n")]
        {
            for mode in MODES {
                let o = evaluate(&ours, true, &fx, mode, &format!("(builtins.tryEval ({expr})).success"), &[]);
                assert_eq!((o.code, o.stdout.as_str()), (Some(0), out), "{expr} {mode:?}: {}", o.error);
            }
        }
        return;
    };
    let mut jobs = Vec::new();
    for (name, expr) in CASES {
        let expr = substitute(expr, &fx);
        for mode in MODES {
            for (wrapped, extra) in wrappings(&expr) {
                jobs.push((*name, *mode, wrapped, extra));
            }
        }
    }
    let results = parallel_map(&jobs, |(_, mode, wrapped, extra)| {
        let theirs = evaluate(&reference, false, &fx, mode, wrapped, extra);
        let mine = evaluate(&ours, true, &fx, mode, wrapped, extra);
        (theirs, mine)
    });
    let mut diffs = Vec::new();
    let mut caught = 0;
    for ((name, mode, wrapped, _), (theirs, mine)) in jobs.iter().zip(&results) {
        assert!(
            mine.code == Some(0) || mine.code == Some(1),
            "{name} {mode:?}: rnix-eval exited with {:?}: {}",
            mine.code,
            mine.error
        );
        let same = theirs.code == mine.code && (theirs.code != Some(0) || theirs.stdout == mine.stdout);
        if theirs.code == Some(0) && theirs.stdout.contains("false") {
            caught += 1;
        }
        if !same {
            diffs.push(format!(
                "{name} {mode:?}: {wrapped}\n  nix:  {:?} {} {}\n  rnix: {:?} {} {}",
                theirs.code,
                one_line(&theirs.stdout),
                theirs.error,
                mine.code,
                one_line(&mine.stdout),
                mine.error
            ));
        }
    }
    eprintln!("{} evaluations compared, {caught} with an error caught by the reference", jobs.len());
    assert!(caught > 20, "the table should exercise caught errors ({caught})");
    assert!(diffs.is_empty(), "{} differences from nix-instantiate:\n{}", diffs.len(), diffs.join("\n"));
}

/// Restricted mode's refusals, worded as the reference words them (the first `error:` line).
#[test]
fn restricted_mode_refusals_as_the_reference() {
    let fx = fixture();
    let ours = paths::rnix_eval_for_tests();
    let Some(reference) = reference_or_note("restricted mode's messages") else { return };
    let allowed = ["--restrict-eval", "--option", "allowed-uris", "http://127.0.0.1:1/allowed"];
    let cases: &[(&[&str], &str)] = &[
        (&["--restrict-eval"], "builtins.readFile OTHER/data.txt"),
        (&["--restrict-eval"], "import OTHER/b.nix"),
        (&["--restrict-eval"], r#"builtins.storePath "/nix/store/00000000000000000000000000000000-x""#),
        (&["--restrict-eval"], r#"builtins.fetchurl "http://127.0.0.1:1/x""#),
        (&["--restrict-eval"], r#"builtins.fetchTarball "http://127.0.0.1:1/x.tar.gz""#),
        (&["--restrict-eval"], r#"builtins.fetchurl "file://OTHER/data.txt""#),
        (&allowed, r#"builtins.fetchurl "http://127.0.0.1:1/allowedx""#),
        (&["--restrict-eval"], "builtins.readFile FIX/data.txt"),
        (&["--restrict-eval"], "builtins.getEnv \"HOME\""),
        (&["--restrict-eval"], "builtins.length builtins.nixPath"),
    ];
    let mut diffs = vec![];
    for (mode, expr) in cases {
        let expr = substitute(expr, &fx);
        let theirs = evaluate(&reference, false, &fx, mode, &expr, &[]);
        let mine = evaluate(&ours, true, &fx, mode, &expr, &[]);
        if (theirs.code, &theirs.stdout, &theirs.error) != (mine.code, &mine.stdout, &mine.error) {
            diffs.push(format!("{mode:?} {expr}\n  nix:  {theirs:?}\n  rnix: {mine:?}"));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}
