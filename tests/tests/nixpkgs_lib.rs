//! nixpkgs' own library test suites, run against rnix-eval.
//!
//! The 2024 nixpkgs subset in `../shared/nixpkgs/aux-core-2024` ships the
//! tests upstream runs for `lib`:
//!
//! * `lib/tests/misc.nix` — a list of failing unit tests, which must evaluate
//!   to `[ ]` with `--eval --strict`;
//! * `lib/tests/modules.sh` — 249 checks of the module system, each calling
//!   `nix-instantiate` and grepping its JSON output or its error message (so
//!   the messages and traces must read like the reference's). It runs here with
//!   a `nix-instantiate` shim first on PATH that execs
//!   `rnix-eval instantiate "$@"`.
//!
//! The shared tree is read-only and used in place (modules.sh only reads).
//! Without `../shared` the tests print a note and pass vacuously.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rnix_tests::paths;
use rnix_tests::process::{run, RunSpec};

/// How many checks modules.sh of the shared tree performs.
const MODULES_SH_TESTS: usize = 249;

fn lib_tests_dir() -> Option<PathBuf> {
    let dir = paths::shared_dir().join("nixpkgs/aux-core-2024/lib/tests");
    if dir.join("misc.nix").is_file() && dir.join("modules.sh").is_file() {
        Some(dir)
    } else {
        paths::note_missing_shared(&format!(
            "NOTE: {} is missing (set RNIX_SHARED_DIR to override) -- skipping nixpkgs' lib tests",
            dir.display()
        ));
        None
    }
}

#[test]
fn lib_tests_misc_nix_is_empty_list() {
    let Some(dir) = lib_tests_dir() else { return };
    let bin = paths::rnix_eval_for_tests();
    let spec = RunSpec::new(&bin, &dir)
        .args(["instantiate", "--eval", "--strict", "misc.nix"])
        .timeout(Duration::from_secs(300));
    let out = run(&spec);
    assert!(
        out.code() == Some(0) && out.stdout_str().trim_end() == "[ ]",
        "lib/tests/misc.nix must evaluate to [ ] ({}):\n$ (cd {} && {})\nstdout:\n{}\nstderr:\n{}",
        out.describe_exit(),
        dir.display(),
        spec.display(),
        out.stdout_str(),
        out.stderr_str()
    );
}

/// A fresh directory holding the `nix-instantiate` shim.
fn shim_dir(bin: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("rnix-nixpkgs-lib-shim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("creating the shim directory");
    let shim = dir.join("nix-instantiate");
    let script =
        format!("#!/bin/sh\nexec {} instantiate \"$@\"\n", rnix_tests::process::shell_quote(&bin.to_string_lossy()));
    std::fs::write(&shim, script).expect("writing the nix-instantiate shim");
    std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).expect("making the shim executable");
    dir
}

/// `N Pass` / `M Fail` from modules.sh's closing summary.
fn tally(stdout: &str) -> Option<(usize, usize)> {
    let count = |word: &str| {
        stdout.lines().rev().find_map(|l| {
            let (n, w) = l.trim().split_once(' ')?;
            (w == word).then(|| n.parse().ok()).flatten()
        })
    };
    Some((count("Pass")?, count("Fail")?))
}

#[test]
fn lib_tests_modules_sh_all_pass() {
    let Some(dir) = lib_tests_dir() else { return };
    let bin = paths::rnix_eval_for_tests();
    let bin = bin.canonicalize().unwrap_or(bin);
    let shims = shim_dir(&bin);
    let path = match std::env::var_os("PATH") {
        Some(p) => format!("{}:{}", shims.display(), p.to_string_lossy()),
        None => shims.display().to_string(),
    };
    let spec =
        RunSpec::new("bash", &dir).arg(dir.join("modules.sh")).env("PATH", &path).timeout(Duration::from_secs(900));
    let out = run(&spec);
    let _ = std::fs::remove_dir_all(&shims);
    let stdout = out.stdout_str();
    let stderr = out.stderr_str();
    let counts = tally(&stdout);
    println!("modules.sh: {counts:?} (pass, fail)");
    if out.code() == Some(0) && counts == Some((MODULES_SH_TESTS, 0)) {
        return;
    }
    // modules.sh reports each failure as "error: Expected …" followed by the
    // command and its output; show those lines first.
    let failures: Vec<&str> = stdout
        .lines()
        .chain(stderr.lines())
        .filter(|l| l.starts_with("error: Expected") || l.starts_with("$ nix-instantiate"))
        .collect();
    panic!(
        "lib/tests/modules.sh: expected {MODULES_SH_TESTS} passing and 0 failing, got {counts:?} \
         ({}); rerun `bash {}` with a `nix-instantiate` shim running `exec {} instantiate \"$@\"` \
         first on PATH\nfailures:\n{}\nfull stdout:\n{stdout}\nfull stderr:\n{stderr}",
        out.describe_exit(),
        dir.join("modules.sh").display(),
        bin.display(),
        failures.join("\n"),
    );
}
