//! How errors and progress look on stderr, through the binary: the reference's text (the
//! `--show-trace` hint, carets), `--error-format json|rich`, and the `-v` log lines — compared
//! with the reference `nix-instantiate` where it has the feature.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use rnix_tests::paths;

const HINT: &str = "(use '--show-trace' to show detailed location information)";

/// `a.nix` imports `b.nix`, whose `1 + "a"` fails (a trace: the import); `ok.nix` succeeds.
fn fixture(tag: &str) -> TempDir {
    let dir = TempDir::new(tag);
    std::fs::write(dir.path().join("a.nix"), "{ y = import ./b.nix; }\n").unwrap();
    std::fs::write(dir.path().join("b.nix"), "let z = 1 + \"a\"; in z\n").unwrap();
    std::fs::write(dir.path().join("ok.nix"), "{ y = import ./c.nix; }\n").unwrap();
    std::fs::write(dir.path().join("c.nix"), "1 + 2\n").unwrap();
    dir
}

/// Exit status and stderr of `prog [instantiate] --eval --strict ARGS` in `dir`.
fn run(prog: &Path, dir: &Path, args: &[&str]) -> (i32, String) {
    let mut cmd = Command::new(prog);
    if prog.file_name().is_some_and(|n| n == "rnix-eval") {
        cmd.arg("instantiate");
    }
    let out = cmd
        .args(["--eval", "--strict", "--readonly-mode"])
        .args(args)
        .current_dir(dir)
        .env_remove("NIX_PATH")
        .output()
        .expect("run evaluator");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The binary with `--error-format` wired, or None with a note (the option belongs to the
/// command line, which may not have it yet).
fn ours_with_error_format(dir: &Path) -> Option<std::path::PathBuf> {
    let ours = paths::rnix_eval_for_tests();
    let (_, err) = run(&ours, dir, &["--error-format", "text", "c.nix"]);
    if err.contains("--error-format") {
        let msg = format!("NOTE: this rnix-eval does not take --error-format ({}); skipping", err.trim());
        eprintln!("{msg}");
        println!("{msg}");
        return None;
    }
    Some(ours)
}

/// Lines of an error message without the blank lines 2.8 puts around positions.
fn dense(text: &str) -> Vec<&str> {
    text.lines().filter(|l| !l.trim().is_empty()).collect()
}

#[test]
fn text_has_the_hint_and_the_carets_of_the_reference() {
    let dir = fixture("error-format-text");
    let ours = paths::rnix_eval_for_tests();
    let (code, err) = run(&ours, dir.path(), &["a.nix", "-A", "y"]);
    assert_eq!(code, 1, "{err}");
    let b = dir.path().join("b.nix");
    let want = [
        "error: cannot add a string to an integer".to_string(),
        format!("       at {}:1:13:", b.display()),
        "            1| let z = 1 + \"a\"; in z".to_string(),
        "             |             ^".to_string(),
        HINT.to_string(),
    ];
    let got = dense(&err);
    assert_eq!(got.first().copied(), Some(want[0].as_str()), "{err}");
    for w in &want {
        assert!(got.contains(&w.as_str()), "stderr lacks {w:?}:\n{err}");
    }
    assert_eq!(got.last().copied(), Some(HINT), "{err}");
    let (_, traced) = run(&ours, dir.path(), &["--show-trace", "a.nix", "-A", "y"]);
    assert!(!traced.contains(HINT), "{traced}");
    // No trace, no hint.
    let (_, plain) = run(&ours, dir.path(), &["b.nix"]);
    assert!(!plain.contains(HINT), "{plain}");

    if let Some(reference) = reference_or_note("the --show-trace hint") {
        let (rcode, rerr) = run(&reference, dir.path(), &["a.nix", "-A", "y"]);
        assert_eq!(rcode, 1, "{rerr}");
        for w in &want {
            assert!(dense(&rerr).contains(&w.as_str()), "the reference's stderr lacks {w:?}:\n{rerr}");
        }
        let (_, rplain) = run(&reference, dir.path(), &["b.nix"]);
        assert!(!rplain.contains(HINT), "{rplain}");
        // (2.8 omits the empty line after the last one, which 2.36 shows: not compared.)
        for w in &want[..4] {
            assert!(dense(&rplain).contains(&w.as_str()), "the reference's stderr lacks {w:?}:\n{rplain}");
            assert!(dense(&plain).contains(&w.as_str()), "stderr lacks {w:?}:\n{plain}");
        }
    }
}

#[test]
fn json_is_one_object_per_error_on_one_line() {
    let dir = fixture("error-format-json");
    let Some(ours) = ours_with_error_format(dir.path()) else { return };
    let (code, err) = run(&ours, dir.path(), &["--error-format", "json", "a.nix", "-A", "y"]);
    assert_eq!(code, 1, "{err}");
    let a = dir.path().join("a.nix");
    let b = dir.path().join("b.nix");
    let want = format!(
        concat!(
            r#"{{"level":"error","kind":"type","message":"cannot add a string to an integer","#,
            r#""file":"{b}","line":1,"column":13,"span":{{"start":12,"end":13}},"suggestion":null,"trace":["#,
            r#"{{"message":"while calling the 'import' builtin","file":"{a}","line":1,"column":7,"span":{{"start":6,"end":12}}}},"#,
            r#"{{"message":"while importing '{b}'","file":"{a}","line":1,"column":7,"span":{{"start":6,"end":12}}}}]}}"#,
            "\n"
        ),
        a = a.display(),
        b = b.display()
    );
    assert_eq!(err, want);
    // The same with --show-trace: the trace is always complete in JSON.
    let (_, traced) = run(&ours, dir.path(), &["--error-format", "json", "--show-trace", "a.nix", "-A", "y"]);
    assert_eq!(traced, want);
}

#[test]
fn rich_shows_a_snippet_without_colour_when_not_a_terminal() {
    let dir = fixture("error-format-rich");
    let Some(ours) = ours_with_error_format(dir.path()) else { return };
    let (code, err) = run(&ours, dir.path(), &["--error-format", "rich", "a.nix", "-A", "y"]);
    assert_eq!(code, 1, "{err}");
    let b = dir.path().join("b.nix");
    assert!(err.starts_with("error: cannot add a string to an integer\n"), "{err}");
    assert!(err.contains(&format!("┌─ {}:1:13", b.display())), "{err}");
    assert!(err.contains("1 │ let z = 1 + \"a\"; in z"), "{err}");
    assert!(err.contains("use '--show-trace' to show detailed location information"), "{err}");
    assert!(!err.contains('\u{1b}'), "colour on a pipe: {err:?}");
    let (_, traced) = run(&ours, dir.path(), &["--error-format", "rich", "--show-trace", "a.nix", "-A", "y"]);
    assert!(traced.contains("(1) while calling the 'import' builtin"), "{traced}");

    // A usage error: exit 1 as nix, printed by the argument parser (README, "Exit status").
    let (code, bad) = run(&ours, dir.path(), &["--error-format", "yaml", "c.nix"]);
    assert_eq!(code, 1, "{bad}");
    assert!(bad.contains("invalid value 'yaml' for '--error-format"), "{bad}");
}

#[test]
fn verbose_prints_the_reference_log_lines_and_nothing_by_default() {
    let dir = fixture("error-format-verbose");
    let ours = paths::rnix_eval_for_tests();
    let (code, quiet) = run(&ours, dir.path(), &["ok.nix"]);
    assert_eq!((code, quiet.as_str()), (0, ""), "nothing on stderr without -v");
    let (code, err) = run(&ours, dir.path(), &["-v", "ok.nix"]);
    assert_eq!(code, 0, "{err}");
    let line = format!("evaluating file '{}'", dir.path().join("c.nix").display());
    assert!(err.lines().any(|l| l == line), "stderr lacks {line:?}:\n{err}");
    if let Some(reference) = reference_or_note("the -v log lines") {
        let (_, rerr) = run(&reference, dir.path(), &["-v", "ok.nix"]);
        let theirs: Vec<&str> = rerr.lines().filter(|l| l.starts_with("evaluating file")).collect();
        let mine: Vec<&str> = err.lines().filter(|l| l.starts_with("evaluating file")).collect();
        assert_eq!(mine, theirs, "the evaluating-file lines");
    }
    // -vv: sources copied into the store.
    let copy = ["-vv", "-E", "\"${./c.nix}\""];
    let (code, err) = run(&ours, dir.path(), &copy);
    assert_eq!(code, 0, "{err}");
    let copied = |text: &str| -> Vec<String> {
        text.lines().filter(|l| l.starts_with("copied source ")).map(String::from).collect()
    };
    let want = format!("copied source '{}' -> '/nix/store/", dir.path().join("c.nix").display());
    assert!(copied(&err).len() == 1 && copied(&err)[0].starts_with(&want), "stderr lacks {want:?}…:\n{err}");
    if let Some(reference) = reference_or_note("the -vv log lines") {
        let (_, rerr) = run(&reference, dir.path(), &copy);
        assert_eq!(copied(&err), copied(&rerr), "the copied-source lines");
    }
    // -vv: each derivation instantiated, once (the inner one is a dependency of the outer).
    let drv = "let d = n: x: derivation { name = n; system = \"x\"; builder = \"/b\"; inherit x; }; \
               in d \"outer\" (d \"inner\" 1)";
    let args = ["-vv", "-E", drv];
    let (code, err) = run(&ours, dir.path(), &args);
    assert_eq!(code, 0, "{err}");
    let instantiated = |text: &str| -> Vec<String> {
        text.lines().filter(|l| l.starts_with("instantiated ")).map(String::from).collect()
    };
    let mine = instantiated(&err);
    assert!(mine.len() == 2 && mine[0].starts_with("instantiated 'inner' -> '/nix/store/"), "{err}");
    if let Some(reference) = reference_or_note("the -vv instantiated lines") {
        let (_, rerr) = run(&reference, dir.path(), &args);
        assert_eq!(mine, instantiated(&rerr), "the instantiated lines");
    }
}

/// The first line of a syntax error, exactly: the reference's (2.36) "expecting …" lists
/// where its parser gives one, none where it gives none.
#[test]
fn syntax_errors_name_what_was_expected() {
    let ours = paths::rnix_eval_for_tests();
    let cases = [
        ("{ a = 1 }", "error: syntax error, unexpected '}', expecting ';'"),
        ("let a = 1 in a", "error: syntax error, unexpected 'in', expecting ';'"),
        ("[ (1 ]", "error: syntax error, unexpected ']', expecting ')'"),
        ("f (x", "error: syntax error, unexpected end of file, expecting ')'"),
        ("assert true 1", "error: syntax error, unexpected end of file, expecting ';'"),
        ("with {} 1", "error: syntax error, unexpected end of file, expecting ';'"),
        ("if a b", "error: syntax error, unexpected end of file, expecting 'then'"),
        ("if a then b", "error: syntax error, unexpected end of file, expecting 'else'"),
        ("let a = 1; a", "error: syntax error, unexpected end of file, expecting '.' or '='"),
        ("a.", "error: syntax error, unexpected end of file, expecting identifier or 'or' or '${' or '\"'"),
        ("{ x, y : 1 }: x", "error: syntax error, unexpected ':', expecting '}' or ','"),
        ("{ x, ... : 1 }: x", "error: syntax error, unexpected ':', expecting '}'"),
        // No list where the reference's parser has more than a few candidates.
        ("{ a = 1; ", "error: syntax error, unexpected end of file"),
        ("[ 1 2", "error: syntax error, unexpected end of file"),
        ("{ inherit a }", "error: syntax error, unexpected '}'"),
    ];
    let mut problems = Vec::new();
    for (expr, want) in cases {
        let out = Command::new(&ours).args(["instantiate", "--parse", "-E", expr]).output().expect("run rnix-eval");
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err.lines().next().unwrap_or("");
        if out.status.code() != Some(1) || first != want {
            problems.push(format!("{expr:?}: exit {:?}, {first:?}, want {want:?}", out.status.code()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `-v` on a Git fetch: `fetching Git repository 'URL'...` and `using revision REV of repo
/// 'URL'`, as 2.8's Git fetcher logs a fetch (a bare repository, so it is fetched, not read
/// in place); both evaluators with a private store and cache.
#[test]
fn verbose_git_fetch_lines_as_the_reference() {
    let dir = TempDir::new("error-format-git-fetch");
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .args(["-c", "user.email=t@t", "-c", "user.name=t", "-c", "init.defaultBranch=master"])
            .args(args)
            .current_dir(dir.path())
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q", "src"]);
    std::fs::write(dir.path().join("src/default.nix"), "{ }\n").unwrap();
    git(&["-C", "src", "add", "."]);
    git(&["-C", "src", "commit", "-qm", "x"]);
    git(&["clone", "-q", "--bare", "src", "bare.git"]);
    let url = format!("file://{}", dir.path().join("bare.git").display());
    let expr = format!("(builtins.fetchGit {url}).rev");
    let lines = |prog: &Path, side: &str| -> (i32, Vec<String>, String) {
        let mut cmd = Command::new(prog);
        if prog.file_name().is_some_and(|n| n == "rnix-eval") {
            cmd.arg("instantiate");
        }
        let store = dir.path().join(format!("store-{side}"));
        let out = cmd
            .args(["-v", "--eval", "--store"])
            .arg(&store)
            .args(["-E", &expr])
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .env("XDG_CACHE_HOME", dir.path().join(format!("cache-{side}")))
            .env_remove("NIX_PATH")
            .output()
            .expect("run evaluator");
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let picked = err
            .lines()
            .filter(|l| l.starts_with("fetching Git repository") || l.starts_with("using revision"))
            .map(String::from)
            .collect();
        (out.status.code().unwrap_or(-1), picked, err)
    };
    let (code, mine, err) = lines(&paths::rnix_eval_for_tests(), "ours");
    assert_eq!(code, 0, "{err}");
    assert_eq!(mine.first().map(String::as_str), Some(format!("fetching Git repository '{url}'...").as_str()), "{err}");
    assert!(mine.get(1).is_some_and(|l| l.starts_with("using revision ")), "{err}");
    if let Some(reference) = reference_or_note("the -v Git fetch lines") {
        let (rcode, theirs, rerr) = lines(&reference, "reference");
        assert_eq!(rcode, 0, "{rerr}");
        assert_eq!(mine, theirs, "the Git fetch lines");
    }
}
