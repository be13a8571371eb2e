//! `builtins.getFlake` as `nix eval` 2.8 has it: impure with any reference, pure only with a
//! locked one (`path:…?narHash=`, `git+file:…?rev=`), refusing unlocked references with the
//! reference's message; absent from `nix-instantiate` unless the `flakes` feature is on. The
//! flakes are made by the test (a git repository with fixed dates, so its revision is fixed);
//! each row is compared with the output recorded from 2.8 and, when `nix` is installed, with
//! a run of it on the same flakes in a private store and home.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const FLAKE: &str = "{\n  outputs = { self }: {\n    foo = 42;\n    hello = builtins.readFile ./a.txt;\n  };\n}\n";
const WITH_INPUT: &str =
    "{\n  inputs.dep.url = \"path:./dep\";\n  outputs = { self, dep }: { fromDep = dep.value; };\n}\n";
const DEP: &str = "{ outputs = { self }: { value = \"dep\"; }; }\n";

/// `nix hash path` (2.8) of the `fl` tree.
const FL_NAR: &str = "sha256-oUrNwuGxWNebzDIiJUuoxldfvtMwAShZomeI7nLybos=";

fn reference_nix() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("nix")).find(|p| p.is_file())
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "a")
        .env("GIT_AUTHOR_EMAIL", "a@example.org")
        .env("GIT_COMMITTER_NAME", "a")
        .env("GIT_COMMITTER_EMAIL", "a@example.org")
        .env("GIT_AUTHOR_DATE", "2021-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2021-01-01T00:00:00Z")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "git {args:?} failed");
}

/// (stdout, first line of stderr, exit code).
fn summary(o: &Output) -> (String, String, Option<i32>) {
    (stdout(o), stderr(o).lines().find(|l| l.starts_with("error:")).unwrap_or("").to_owned(), o.status.code())
}

#[test]
fn get_flake_as_nix_eval() {
    if !bin_built() {
        return;
    }
    let base = scratch("get-flake");
    let fl = base.join("fl");
    std::fs::create_dir_all(&fl).unwrap();
    std::fs::write(fl.join("flake.nix"), FLAKE).unwrap();
    std::fs::write(fl.join("a.txt"), "hi\n").unwrap();
    let gfl = base.join("gfl");
    std::fs::create_dir_all(&gfl).unwrap();
    std::fs::write(gfl.join("flake.nix"), FLAKE).unwrap();
    std::fs::write(gfl.join("a.txt"), "hi\n").unwrap();
    git(&gfl, &["init", "-q"]);
    git(&gfl, &["add", "."]);
    git(&gfl, &["commit", "-q", "-m", "init"]);
    let rev =
        String::from_utf8(Command::new("git").args(["rev-parse", "HEAD"]).current_dir(&gfl).output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_owned();
    let inp = base.join("inp");
    std::fs::create_dir_all(inp.join("dep")).unwrap();
    std::fs::write(inp.join("flake.nix"), WITH_INPUT).unwrap();
    std::fs::write(inp.join("dep/flake.nix"), DEP).unwrap();

    let fl_s = fl.display().to_string();
    let gfl_s = gfl.display().to_string();
    let inp_s = inp.display().to_string();
    let get = |r: &str, rest: &str| format!("(builtins.getFlake \"{r}\"){rest}");
    let locked_path = format!("path:{fl_s}?narHash={FL_NAR}");
    let locked_git = format!("git+file://{gfl_s}?rev={rev}");
    // (args after `eval`, expected stdout, expected first error line)
    let unlocked = |r: &str| {
        format!("error: cannot call 'getFlake' on unlocked flake reference '{r}', at (string):1:2 (use --impure to override)")
    };
    let cases: Vec<(Vec<String>, String, String)> = vec![
        (vec!["--impure".into(), "--expr".into(), get(&format!("path:{fl_s}"), ".outputs.foo")], "42\n".into(), "".into()),
        (vec!["--impure".into(), "--expr".into(), get(&fl_s, ".hello")], "\"hi\\n\"\n".into(), "".into()),
        (vec!["--expr".into(), get(&format!("path:{fl_s}"), ".outputs.foo")], "".into(), unlocked(&format!("path:{fl_s}"))),
        (vec!["--expr".into(), get(&fl_s, ".outputs.foo")], "".into(), unlocked(&fl_s)),
        (vec!["--expr".into(), get(&locked_path, ".outputs.foo")], "42\n".into(), "".into()),
        (vec!["--expr".into(), get(&locked_path, ".outputs.hello")], "\"hi\\n\"\n".into(), "".into()),
        (
            vec!["--expr".into(), get(&locked_path, ".sourceInfo")],
            format!("{{ narHash = \"{FL_NAR}\"; outPath = \"/nix/store/8ahc0i8ghka2sdmdavivjpgpnfj5i09b-source\"; }}\n"),
            "".into(),
        ),
        (vec!["--expr".into(), get(&locked_git, ".outputs.foo")], "42\n".into(), "".into()),
        (vec!["--expr".into(), get(&locked_git, ".rev")], format!("\"{rev}\"\n"), "".into()),
        (vec!["--expr".into(), get(&format!("git+file://{gfl_s}"), ".foo")], "".into(), unlocked(&format!("git+file://{gfl_s}"))),
        (vec!["--expr".into(), get("nixpkgs", ".foo")], "".into(), unlocked("nixpkgs")),
        (
            vec!["--impure".into(), "--expr".into(), get(&format!("path:{inp_s}"), ".fromDep")],
            "".into(),
            format!("error: flake 'path:{inp_s}' requires lock file changes but they're not allowed due to '--no-update-lock-file'"),
        ),
    ];
    let ours_store = base.join("store").display().to_string();
    let mut failures = vec![];
    for (args, out, err) in &cases {
        let mut full: Vec<&str> = vec!["eval", "--store", &ours_store];
        full.extend(args.iter().map(String::as_str));
        let o = run(&base, &full);
        let (so, se, code) = summary(&o);
        let expected_code = if err.is_empty() { Some(0) } else { Some(1) };
        if (so.as_str(), se.as_str(), code) != (out.as_str(), err.as_str(), expected_code) {
            failures.push(format!(
                "{args:?}\n  expected {out:?} {err:?}\n  got      {so:?} {se:?} {code:?}\n{}",
                stderr(&o)
            ));
        }
    }
    // The flake with an input reads its lock file once it has one (never writing it).
    assert!(!inp.join("flake.lock").exists());
    // nix-instantiate has it only with the flakes feature.
    let expr = get(&format!("path:{fl_s}"), ".outputs.foo");
    let o = run(&base, &["instantiate", "--eval", "--store", &ours_store, "-E", &expr]);
    assert!(stderr(&o).starts_with("error: attribute 'getFlake' missing"), "{}", stderr(&o));
    let o = run(
        &base,
        &["instantiate", "--extra-experimental-features", "flakes", "--eval", "--store", &ours_store, "-E", &expr],
    );
    assert_eq!(stdout(&o), "42\n", "{}", stderr(&o));

    if let Some(nix) = reference_nix() {
        let home = base.join("home");
        let ref_store = base.join("ref-store").display().to_string();
        for (args, out, err) in &cases {
            let o = Command::new(&nix)
                .args(["--extra-experimental-features", "nix-command flakes", "eval", "--store", &ref_store])
                .args(args)
                .current_dir(&base)
                .env("HOME", &home)
                .env("XDG_CONFIG_HOME", home.join(".config"))
                .env("XDG_CACHE_HOME", home.join(".cache"))
                .env_remove("NIX_PATH")
                .output()
                .expect("run nix");
            let (so, se, _) = summary(&o);
            if (&so, &se) != (out, err) {
                failures.push(format!("reference: {args:?}\n  recorded {out:?} {err:?}\n  nix 2.8  {so:?} {se:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} differences:\n{}", failures.len(), failures.join("\n"));
    remove_with_store(&base);
}

/// `nix eval` 2.8: `--expr` is pure unless `--impure`, `--file` is not; the positional after
/// `--file`/`--expr` is an attribute path.
#[test]
fn eval_expr_is_pure_and_file_is_not() {
    if !bin_built() {
        return;
    }
    let base = scratch("eval-purity");
    std::fs::write(base.join("f.nix"), "{ t = builtins ? currentTime; a.b = 1; }\n").unwrap();
    for (args, out) in [
        (&["eval", "--expr", "builtins ? currentTime"][..], "false\n"),
        (&["eval", "--impure", "--expr", "builtins ? currentTime"], "true\n"),
        (&["eval", "-f", "./f.nix", "t"], "true\n"),
        (&["eval", "a.b", "-f", "./f.nix"], "1\n"),
        (&["eval", "--expr", "{ x.y = 2; }", "x.y"], "2\n"),
    ] {
        let o = run(&base, args);
        assert_eq!(summary(&o), (out.to_owned(), String::new(), Some(0)), "{args:?}: {}", stderr(&o));
        if let Some(nix) = reference_nix() {
            let o = Command::new(&nix)
                .args(["--extra-experimental-features", "nix-command flakes", "--store"])
                .arg(base.join("ref-store"))
                .args(args)
                .current_dir(&base)
                .env("HOME", base.join("home"))
                .env_remove("NIX_PATH")
                .output()
                .expect("run nix");
            assert_eq!(stdout(&o), out, "reference: {args:?}: {}", stderr(&o));
        }
    }
    remove_with_store(&base);
}
