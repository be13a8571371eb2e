//! The command line, black-box: help, version and completions for every command, global
//! options before the command, usage errors (exit 1, as nix), and nix-instantiate / nix eval
//! parity on what people type (`<nixpkgs>` with `-I`/`NIX_PATH`, `--find-file`, `eval
//! --raw/--json` on a derivation, `--apply`, the flake commands' messages, `nixConfig`),
//! and the README's offline run of `examples/demo`. Expected values come from the
//! reference (run here when installed, else recorded from CppNix 2.8).

use rnix_tests::paths::{note_missing_shared, rnix_eval_for_tests, shared_dir, workspace_root};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(rnix_eval_for_tests());
    c.args(args).current_dir(dir).env_remove("NIX_PATH").env("HOME", dir);
    // Caches and data under the test's directory, never the user's home.
    c.env("XDG_CACHE_HOME", dir.join(".cache")).env("XDG_DATA_HOME", dir.join(".local/share"));
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run rnix-eval")
}

fn rnix(args: &[&str]) -> Output {
    run_in(&std::env::temp_dir(), args, &[])
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The reference `nix` with flakes, if installed.
fn reference_nix(dir: &Path, args: &[&str]) -> Option<Output> {
    Command::new("nix")
        .args(["--extra-experimental-features", "nix-command flakes"])
        .args(args)
        .current_dir(dir)
        .env_remove("NIX_PATH")
        .output()
        .ok()
}

fn reference_instantiate(dir: &Path, args: &[&str]) -> Option<Output> {
    Command::new("nix-instantiate").args(args).current_dir(dir).env_remove("NIX_PATH").output().ok()
}

/// `dir` under the shared data, or `None` after noting that it is missing.
fn shared(rel: &str) -> Option<PathBuf> {
    let p = shared_dir().join(rel);
    if p.exists() {
        Some(p.canonicalize().unwrap_or(p))
    } else {
        note_missing_shared(&format!("skipping: {} is missing", p.display()));
        None
    }
}

/// One directory store for the flake runs, kept in the target directory across runs:
/// nixpkgs is copied into it once, not once per test (the store takes concurrent writers).
fn test_store() -> String {
    rnix_tests::paths::target_dir().join("cli-test-store").display().to_string()
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("rnix-cli-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = Command::new("chmod").arg("-R").arg("u+w").arg(&self.0).status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const COMMANDS: &[&[&str]] = &[
    &[],
    &["instantiate"],
    &["eval"],
    &["build"],
    &["flake"],
    &["flake", "metadata"],
    &["flake", "show"],
    &["flake", "check"],
    &["flake", "lock"],
    &["flake", "update"],
    &["completions"],
    &["eval-jobs"],
];

#[test]
fn every_command_has_help_listing_its_options() {
    for cmd in COMMANDS {
        for flag in ["--help", "-h"] {
            let mut args = cmd.to_vec();
            args.push(flag);
            let o = rnix(&args);
            assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
            assert!(stdout(&o).contains("Usage: rnix-eval"), "{args:?}: {}", stdout(&o));
            // Global options are listed on every command.
            assert!(stdout(&o).contains("--store"), "{args:?}");
        }
    }
    let help = |args: &[&str]| stdout(&rnix(args));
    let instantiate = help(&["instantiate", "--help"]);
    for opt in [
        "--attr",
        "-A",
        "--arg ",
        "--argstr",
        "--arg-from-file",
        "--include",
        "-I",
        "--expr",
        "--eval",
        "--strict",
        "--json",
        "--xml",
        "--parse",
        "--find-file",
        "--add-root",
        "--indirect",
        "--read-write-mode",
        "-r,",
        "--readonly-mode",
        "--dry-run",
        "--option",
        "--show-trace",
        "--pure-eval",
        "--restrict-eval",
        "--extra-experimental-features",
        "--trace-function-calls",
        "--error-format",
        "--verbose",
        "--quiet",
    ] {
        assert!(instantiate.contains(opt), "instantiate --help lacks {opt}");
    }
    let eval = help(&["eval", "--help"]);
    for opt in [
        "--raw",
        "--json",
        "--apply",
        "--expr",
        "--file",
        "-f,",
        "--impure",
        "--override-input",
        "--update-input",
        "--recreate-lock-file",
        "--no-write-lock-file",
        "--commit-lock-file",
        "--refresh",
        "--offline",
        "--read-only",
        "--no-eval-cache",
        "--accept-flake-config",
    ] {
        assert!(eval.contains(opt), "eval --help lacks {opt}");
    }
    assert!(help(&["flake", "check", "--help"]).contains("--no-build"));
    assert!(help(&["flake", "show", "--help"]).contains("--legacy"));
    // `help COMMAND` is the same text as `COMMAND --help`.
    assert_eq!(help(&["help", "eval"]), eval);
    // eval-jobs parses its own options (nix-eval-jobs'): both forms of help list them.
    for args in [&["eval-jobs", "--help"][..], &["help", "eval-jobs"]] {
        let text = help(args);
        for opt in ["--flake", "--expr", "--workers", "--max-memory-size", "--gc-roots-dir", "--shard", "--meta"] {
            assert!(text.contains(opt), "{args:?} lacks {opt}:\n{text}");
        }
    }
}

#[test]
fn version_and_usage_errors() {
    let o = rnix(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).starts_with("rnix-eval "), "{}", stdout(&o));
    // `flake` alone lists the flake subcommands (a usage error: exit 1, as `nix flake`).
    let o = rnix(&["flake"]);
    assert_eq!(o.status.code(), Some(1));
    let text = stderr(&o) + &stdout(&o);
    for sub in ["metadata", "show", "check", "lock", "update"] {
        assert!(text.contains(sub), "{text}");
    }
    let o = rnix(&["instantiate", "--no-such-flag"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    if let Some(r) = reference_instantiate(&std::env::temp_dir(), &["--no-such-flag"]) {
        assert_eq!(r.status.code(), Some(1), "the reference's status for an unknown flag");
    }
    assert!(stderr(&o).contains("--no-such-flag"));
    // An evaluation error is exit 1.
    let o = rnix(&["instantiate", "--eval", "-E", "throw \"no\""]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let o = rnix(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        let s = stdout(&o);
        assert!(s.contains("rnix-eval") && s.contains("instantiate") && s.contains("override-input"), "{shell}");
    }
}

#[test]
fn global_options_before_or_after_the_command() {
    let store = TempDir::new("global-store");
    let st = store.0.to_str().unwrap();
    for args in [
        vec!["--store", st, "eval", "--expr", "1 + 2"],
        vec!["eval", "--store", st, "--expr", "1 + 2"],
        vec!["eval", "--expr", "1 + 2", "--store", st],
        vec!["--show-trace", "-v", "instantiate", "--eval", "-E", "1 + 2"],
        vec!["--option", "max-call-depth", "1000", "instantiate", "--eval", "-E", "1 + 2"],
        // nix-instantiate forms: no command, options after the positional.
        vec!["--eval", "-E", "1 + 2"],
        vec!["instantiate", "-E", "1 + 2", "--eval"],
    ] {
        let o = rnix(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert_eq!(stdout(&o).trim(), "3", "{args:?}");
    }
}

#[test]
fn instantiate_odd_forms_as_nix_instantiate() {
    let dir = TempDir::new("odd");
    std::fs::create_dir_all(dir.0.join("sp")).unwrap();
    std::fs::write(dir.0.join("sp/x.nix"), "{ a, b ? 0 }: a + b").unwrap();
    std::fs::write(dir.0.join("f.txt"), "from a file").unwrap();
    let cases: &[(&[&str], &str)] = &[
        // `--arg` takes two values; the later of `--arg`/`--argstr` wins.
        (&["--eval", "-E", "{ x }: x", "--arg", "x", "1", "--argstr", "x", "s"], "\"s\"\n"),
        (&["--eval", "-E", "{ x }: x", "--argstr", "x", "s", "--arg", "x", "1"], "1\n"),
        // `-I name=path` and `-I path`.
        (&["--eval", "-E", "import <p/x.nix> { a = 1; }", "-I", "p=sp"], "1\n"),
        (&["--eval", "-E", "import <x.nix> { a = 2; b = 1; }", "-I", "sp"], "3\n"),
        (&["--eval", "-E", "[ 1 2 3 ]", "-A", "1"], "2\n"),
        // Without `--strict`, what is not evaluated prints as 2.8's (and 2.36's
        // `printAmbiguous`) placeholders. (A lambda literal in a list is not delayed here, so
        // it prints `<LAMBDA>` where the reference, which delays it, prints `<CODE>`.)
        (
            &["--eval", "-E", "[ (1 + 1) { a = 1 + 1; } builtins.add (builtins.add 1) ]"],
            "[ <CODE> <CODE> <CODE> <CODE> ]\n",
        ),
        (&["--eval", "-E", "{ a = 1 + 1; f = x: x; }", "-A", "f"], "<LAMBDA>\n"),
        (&["--eval", "-E", "builtins.add 1"], "<PRIMOP-APP>\n"),
        (&["--eval", "-E", "let x = { a = 1 + 1; }; in builtins.seq x.a x"], "{ a = 2; }\n"),
    ];
    for (args, want) in cases {
        let o = run_in(&dir.0, &[&["instantiate"][..], args].concat(), &[]);
        assert_eq!(stdout(&o), *want, "{args:?}: {}", stderr(&o));
        if let Some(r) = reference_instantiate(&dir.0, args) {
            assert_eq!(stdout(&r), *want, "reference {args:?}");
        }
    }
    // Beyond 2.8: `--arg-from-file` (2.36).
    let o = run_in(&dir.0, &["instantiate", "--eval", "-E", "{ t }: t", "--arg-from-file", "t", "f.txt"], &[]);
    assert_eq!(stdout(&o), "\"from a file\"\n", "{}", stderr(&o));
    // Settings as flags and unknown settings.
    let o = run_in(&dir.0, &["instantiate", "--eval", "-E", "1", "--cores", "2", "--option", "no-such", "1"], &[]);
    assert_eq!(stdout(&o), "1\n");
    assert!(stderr(&o).contains("warning: unknown setting 'no-such'"), "{}", stderr(&o));
}

/// `rnix-eval instantiate '<nixpkgs>' -A python3 -I nixpkgs=…` and `--eval -A lib.version`,
/// `eval -f '<nixpkgs>'` with `NIX_PATH`, `--find-file`: the reference's output.
#[test]
fn nixpkgs_from_the_search_path() {
    let Some(aux) = shared("nixpkgs/aux-core-2024") else { return };
    let aux = aux.to_str().unwrap();
    let inc = format!("nixpkgs={aux}");
    let dir = TempDir::new("nixpkgs");
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, String);
    let cases: Vec<Case> = vec![
        (
            vec!["instantiate", "<nixpkgs>", "-A", "python3", "-I", &inc, "--readonly-mode"],
            vec![],
            "/nix/store/5qmi07dp0d8m2lbpskdf021rfk5rvhs9-python3-3.11.9.drv\n".into(),
        ),
        (
            vec!["instantiate", "--eval", "<nixpkgs>", "-A", "lib.version", "-I", &inc],
            vec![],
            "\"24.05pre-git\"\n".into(),
        ),
        (
            vec!["instantiate", "--eval", "<nixpkgs>", "-A", "lib.version"],
            vec![("NIX_PATH", &inc)],
            "\"24.05pre-git\"\n".into(),
        ),
        (vec!["eval", "-f", "<nixpkgs>", "lib.version"], vec![("NIX_PATH", &inc)], "\"24.05pre-git\"\n".into()),
        (vec!["eval", "-f", "<nixpkgs>", "lib.version", "-I", &inc], vec![], "\"24.05pre-git\"\n".into()),
        (vec!["instantiate", "--find-file", "nixpkgs/default.nix", "-I", &inc], vec![], format!("{aux}/default.nix\n")),
    ];
    for (args, env, want) in cases {
        let o = run_in(&dir.0, &args, &env);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert_eq!(stdout(&o), want, "{args:?}");
        if args[0] == "instantiate" {
            let mut c = Command::new("nix-instantiate");
            c.args(&args[1..]).current_dir(&dir.0).env_remove("NIX_PATH");
            for (k, v) in &env {
                c.env(k, v);
            }
            if let Ok(r) = c.output() {
                assert_eq!(stdout(&r), want, "reference {args:?}");
            }
        }
    }
    // A name missing from the search path: the reference's message, exit 1.
    let o = run_in(&dir.0, &["instantiate", "--eval", "<nope>"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("'nope' was not found in the Nix search path"), "{}", stderr(&o));
}

/// A temporary copy of the `fleet` fixture (a path flake, no lock file).
fn fleet_copy() -> Option<TempDir> {
    let src = shared("flakes/fleet")?;
    let t = TempDir::new("fleet");
    let ok = Command::new("cp").arg("-r").arg(&src).arg(t.0.join("fleet")).status().is_ok_and(|s| s.success());
    assert!(ok, "copying {}", src.display());
    Some(t)
}

fn offline_override() -> Option<Vec<String>> {
    let n = shared("nixpkgs/nixos-20.09")?;
    Some(vec![
        "--override-input".into(),
        "nixpkgs".into(),
        format!("path:{}", n.display()),
        "--no-write-lock-file".into(),
    ])
}

#[test]
fn eval_of_a_flake_package_prints_its_out_path() {
    let (Some(t), Some(ovr)) = (fleet_copy(), offline_override()) else { return };
    let dir = t.0.join("fleet");
    let store = test_store();
    let ovr: Vec<&str> = ovr.iter().map(String::as_str).collect();
    let out_path = "/nix/store/qxkp5giqpvffin3vhkrmrm1k444mr7s0-fleet-motd";
    let motd = "Welcome to x, managed by the fleet flake";
    let cases: Vec<(Vec<&str>, String)> = vec![
        (vec!["eval", "--raw", ".#motd"], out_path.into()),
        (vec!["eval", "--json", ".#motd"], format!("\"{out_path}\"")),
        (vec!["eval", ".#lib.motd", "--apply", "f: f \"x\""], format!("\"{motd}\"\n")),
        (vec!["eval", "--raw", ".#lib.motd", "--apply", "f: f \"x\""], motd.into()),
        (vec!["eval", "--expr", "{ a = 1; }", "--apply", "x: x.a * 2"], "2\n".into()),
        // Accepted flags.
        (
            vec![
                "eval",
                "--raw",
                ".#motd",
                "--read-only",
                "--offline",
                "--refresh",
                "--no-eval-cache",
                "--accept-flake-config",
                "--recreate-lock-file",
            ],
            out_path.into(),
        ),
    ];
    for (args, want) in cases {
        let all: Vec<&str> = args.iter().copied().chain(ovr.iter().copied()).collect();
        let mut ours = all.clone();
        ours.extend(["--store", store.as_str()]);
        let o = run_in(&dir, &ours, &[]);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert_eq!(stdout(&o), want, "{args:?}");
        if args.contains(&"--recreate-lock-file") {
            continue;
        }
        if let Some(r) = reference_nix(&dir, &all).filter(|r| r.status.success()) {
            assert_eq!(stdout(&r), want, "reference {args:?}");
        }
    }
}

#[test]
fn flake_show_and_check_report_progress_as_the_reference() {
    let (Some(t), Some(ovr)) = (fleet_copy(), offline_override()) else { return };
    let dir = t.0.join("fleet");
    let store = test_store();
    let st = store.as_str();
    let ovr: Vec<&str> = ovr.iter().map(String::as_str).collect();
    let evaluating =
        |s: &str| s.lines().filter(|l| l.starts_with("evaluating '")).map(String::from).collect::<Vec<_>>();
    let show: Vec<&str> = [&["flake", "show"][..], &ovr].concat();
    let o = run_in(&dir, &[&show[..], &["--store", st]].concat(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let ours = evaluating(&stderr(&o));
    assert!(ours.contains(&"evaluating 'packages.x86_64-linux.motd'...".to_owned()), "{ours:?}");
    if let Some(r) = reference_nix(&dir, &show).filter(|r| r.status.success()) {
        assert_eq!(ours, evaluating(&stderr(&r)));
    }
    let note = "evaluates the checks without building them";
    let check: Vec<&str> = [&["flake", "check"][..], &ovr, &["--store", st]].concat();
    let o = run_in(&dir, &check, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o).matches(note).count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("evaluating flake..."));
    let o = run_in(&dir, &[&check[..], &["--no-build"]].concat(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains(note), "{}", stderr(&o));
}

#[test]
fn metadata_prints_the_inputs_header_and_nix_config_is_ignored_unless_accepted() {
    let t = TempDir::new("noinputs");
    let store = test_store();
    let st = store.as_str();
    std::fs::write(
        t.0.join("flake.nix"),
        r#"{
  description = "with config";
  nixConfig.extra-substituters = [ "https://example.org" ];
  nixConfig.bash-prompt = "demo> ";
  nixConfig.allow-import-from-derivation = false;
  outputs = { self }: { x = 1; };
}
"#,
    )
    .unwrap();
    let o = run_in(&t.0, &["flake", "metadata", "--store", st], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let last = stdout(&o).lines().last().unwrap_or_default().to_owned();
    assert_eq!(last, "\x1b[1mInputs:\x1b[0m");
    if let Some(r) = reference_nix(&t.0, &["flake", "metadata"]).filter(|r| r.status.success()) {
        assert_eq!(stdout(&r).lines().last().unwrap_or_default(), last);
    }
    let warnings = |s: &str| s.lines().filter(|l| l.contains("untrusted flake configuration")).count();
    let o = run_in(&t.0, &["eval", ".#x", "--store", st], &[]);
    assert_eq!(stdout(&o), "1\n", "{}", stderr(&o));
    let want = [
        "warning: ignoring untrusted flake configuration setting 'allow-import-from-derivation'",
        "warning: ignoring untrusted flake configuration setting 'extra-substituters'",
    ];
    let err = stderr(&o);
    let got: Vec<&str> = err.lines().filter(|l| l.contains("untrusted")).collect();
    assert_eq!(got, want);
    if let Some(r) = reference_nix(&t.0, &["eval", ".#x"]).filter(|r| r.status.success()) {
        assert_eq!(warnings(&stderr(&r)), 2);
    }
    let o = run_in(&t.0, &["eval", ".#x", "--accept-flake-config", "--store", st], &[]);
    assert_eq!(stdout(&o), "1\n");
    assert_eq!(warnings(&stderr(&o)), 0, "{}", stderr(&o));
}

/// The README's offline run of the demo flake gives the reference's .drv path.
#[test]
fn readme_offline_demo_run() {
    if shared("nixpkgs/nixos-20.09").is_none() {
        return;
    }
    let root = workspace_root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let cmd = "rnix-eval ./examples/demo#nixosConfigurations.demo \\\n        --override-input nixpkgs path:../shared/nixpkgs/nixos-20.09 --no-write-lock-file";
    assert!(readme.contains(cmd), "README.md no longer shows the offline demo command:\n{cmd}");
    let store = test_store();
    let args = [
        "./examples/demo#nixosConfigurations.demo",
        "--override-input",
        "nixpkgs",
        "path:../shared/nixpkgs/nixos-20.09",
        "--no-write-lock-file",
        "--store",
        store.as_str(),
    ];
    let o = run_in(&root, &args, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Recorded from `nix eval --raw ./examples/demo#nixosConfigurations.demo.config.system.build.toplevel.drvPath`
    // with the same override (CppNix 2.8).
    assert_eq!(stdout(&o), "/nix/store/7bdm7ij9dkpzv4kv9sfwmvcvlack1r88-nixos-system-demo-20.09.19700101.dirty.drv\n");
}

/// A git repository at `dir` with `flake.nix` committed at a fixed date by a fixed author,
/// whose input `dep` is the path flake `dep_dir`; identical setups give identical commits.
fn git_flake_with_input(dir: &Path, dep_dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("flake.nix"),
        format!(
            "{{ inputs.dep.url = \"path:{}\"; outputs = {{ self, dep }}: {{ y = dep.x; }}; }}\n",
            dep_dir.display()
        ),
    )
    .unwrap();
    for args in [&["init", "-q"][..], &["add", "flake.nix"], &["commit", "-qm", "init"]] {
        let ok = git(dir).args(args).status().is_ok_and(|s| s.success());
        assert!(ok, "git {args:?}");
    }
}

/// A fixed identity and date for git: commits are reproducible.
const GIT_ENV: [(&str, &str); 6] = [
    ("GIT_AUTHOR_NAME", "t"),
    ("GIT_AUTHOR_EMAIL", "t@t"),
    ("GIT_COMMITTER_NAME", "t"),
    ("GIT_COMMITTER_EMAIL", "t@t"),
    ("GIT_AUTHOR_DATE", "2024-01-01T00:00:00Z"),
    ("GIT_COMMITTER_DATE", "2024-01-01T00:00:00Z"),
];

/// `git` in `dir` with a fixed identity and date (commits are reproducible).
fn git(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.arg("-C").arg(dir).args(["-c", "init.defaultBranch=master"]);
    for (k, v) in GIT_ENV {
        c.env(k, v);
    }
    c
}

/// `flake lock --commit-lock-file` commits `flake.lock` with 2.8's message (`flake.lock:
/// Add` and the changes) and says `committed new revision '…'`: the same commit, message
/// and stderr as the reference on an identical repository.
#[test]
fn commit_lock_file_commits_as_the_reference() {
    let t = TempDir::new("commit-lock");
    let dep = t.0.join("dep");
    std::fs::create_dir_all(&dep).unwrap();
    std::fs::write(dep.join("flake.nix"), "{ outputs = _: { x = 1; }; }\n").unwrap();
    let lock = |side: &str, prog: &dyn Fn(&Path) -> Option<Output>| -> Option<(String, String, String)> {
        let dir = t.0.join(side);
        git_flake_with_input(&dir, &dep);
        let o = prog(&dir)?;
        assert!(o.status.success(), "{side}: {}", stderr(&o));
        let log = git(&dir).args(["log", "--format=%H%n%B", "-1"]).output().unwrap();
        let status = git(&dir).args(["status", "--porcelain"]).output().unwrap();
        assert_eq!(stdout(&status), "", "{side}: the tree is clean after the commit");
        Some((stdout(&log), stderr(&o).replace(&dir.display().to_string(), "DIR"), stdout(&o)))
    };
    let store = t.0.join("store").display().to_string();
    let git_env = GIT_ENV;
    let ours = lock("ours", &|dir| {
        let mut env = git_env.to_vec();
        let cache = t.0.join("cache").display().to_string();
        env.push(("XDG_CACHE_HOME", cache.as_str()));
        Some(run_in(dir, &["flake", "lock", "--commit-lock-file", "--store", &store], &env))
    })
    .unwrap();
    assert!(ours.0.contains("\nflake.lock: Add\n\nFlake lock file updates:\n\n• Added input 'dep':\n"), "{}", ours.0);
    assert!(ours.1.contains("warning: committed new revision '"), "{}", ours.1);
    let theirs = lock("reference", &|dir| {
        let mut c = Command::new("nix");
        c.args(["--extra-experimental-features", "nix-command flakes", "flake", "lock", "--commit-lock-file"]);
        c.current_dir(dir).env_remove("NIX_PATH").env("HOME", &t.0);
        for (k, v) in git_env {
            c.env(k, v);
        }
        c.output().ok()
    });
    match theirs {
        Some(theirs) => assert_eq!(ours, theirs, "commit (hash, message) and stderr"),
        None => eprintln!("NOTE: the reference nix is not installed: compared with its recorded message only"),
    }
}

/// A command that locks its flake twice (the evaluation cache's fingerprint, then the
/// evaluation) prints the lock warnings once, as the reference does.
#[test]
fn lock_warnings_are_printed_once() {
    let t = TempDir::new("lock-warn-once");
    let dep = t.0.join("dep");
    std::fs::create_dir_all(&dep).unwrap();
    std::fs::write(dep.join("flake.nix"), "{ outputs = _: { x = 1; }; }\n").unwrap();
    let store = t.0.join("store").display().to_string();
    let cache = t.0.join("cache").display().to_string();
    let args = ["eval", "--no-write-lock-file", ".#y"];
    let side = |name: &str| -> PathBuf {
        let dir = t.0.join(name);
        git_flake_with_input(&dir, &dep);
        dir
    };
    let dir = side("ours");
    let ours = run_in(&dir, &[&args[..], &["--store", &store]].concat(), &[("XDG_CACHE_HOME", &cache)]);
    assert_eq!((ours.status.code(), stdout(&ours).as_str()), (Some(0), "1\n"), "{}", stderr(&ours));
    let err = stderr(&ours).replace(&dir.display().to_string(), "DIR");
    assert_eq!(err.matches("warning: not writing modified lock file").count(), 1, "{err}");
    let rdir = side("reference");
    if let Some(r) = reference_nix(&rdir, &args) {
        assert!(r.status.success(), "{}", stderr(&r));
        assert_eq!(err, stderr(&r).replace(&rdir.display().to_string(), "DIR"), "stderr as the reference");
    }
}
