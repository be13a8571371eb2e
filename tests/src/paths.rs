//! Where things are: the workspace root, the shared corpus, the `rnix-eval`
//! binary and the reference `nix-instantiate`.

use std::env;
use std::path::{Path, PathBuf};

/// Name of the binary under test (built from the `nix-flake` crate).
pub const BIN_NAME: &str = "rnix-eval";

/// The workspace root: the parent of this crate's manifest directory.
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.parent().unwrap_or(manifest);
    root.canonicalize().unwrap_or_else(|_| root.to_path_buf())
}

/// `../shared` next to the workspace root (override: `RNIX_SHARED_DIR`).
pub fn shared_dir() -> PathBuf {
    if let Some(dir) = env::var_os("RNIX_SHARED_DIR") {
        return PathBuf::from(dir);
    }
    workspace_root().join("..").join("shared")
}

/// The directory holding `lang/` (the Nix language test corpus), if present, with upstream's
/// symbolic links (a copy with them restored when `../shared` holds them as plain files; see
/// [`crate::corpus_links`]). Tests are run from this directory, as upstream's `lang.sh` does.
pub fn conformance_dir() -> Option<PathBuf> {
    let dir = shared_dir().join("conformance");
    if !dir.join("lang").is_dir() {
        return None;
    }
    let dir = dir.canonicalize().unwrap_or(dir);
    let work = target_dir().join("conformance-corpus");
    match crate::corpus_links::prepared_conformance_dir(&dir, &work) {
        Ok(prepared) => Some(prepared.canonicalize().unwrap_or(prepared)),
        Err(e) => panic!("preparing the conformance corpus (symlinks restored) under {}: {e}", work.display()),
    }
}

/// The cargo target directory (`CARGO_TARGET_DIR`, else `target/` of the workspace).
pub fn target_dir() -> PathBuf {
    env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"))
}

/// Whether missing `../shared` data must fail the tests instead of skipping them
/// (`RNIX_REQUIRE_SHARED=1`, which `.ci/run` sets).
pub fn shared_required() -> bool {
    env::var_os("RNIX_REQUIRE_SHARED").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Reports missing shared data `what`: a note on stderr and stdout (the test then skips), or a
/// panic when [`shared_required`].
pub fn note_missing_shared(what: &str) {
    if shared_required() {
        panic!("{what} (RNIX_REQUIRE_SHARED is set: missing shared data is a failure)");
    }
    eprintln!("{what}");
    println!("{what}");
}

/// The message printed (and the reason tests pass vacuously) when
/// `../shared` is missing.
pub fn missing_shared_message() -> String {
    format!(
        "NOTE: the shared conformance corpus is missing (looked for {}/conformance/lang; \
         set RNIX_SHARED_DIR to override) -- skipping the shared-corpus checks",
        shared_dir().display()
    )
}

/// The project's own test cases (`name.nix` + `name.exp`).
pub fn nix_test_corpus_dir() -> PathBuf {
    workspace_root().join("nix-test-corpus")
}

/// `tests/expected-message-mismatches.txt`.
pub fn expected_messages_file() -> PathBuf {
    workspace_root().join("tests").join("expected-message-mismatches.txt")
}

/// `tests/expected-failures.txt`.
pub fn expected_failures_file() -> PathBuf {
    workspace_root().join("tests").join("expected-failures.txt")
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// Locate the `rnix-eval` binary.
///
/// Order: `explicit` (e.g. `--bin`), the `RNIX_EVAL` environment variable,
/// then next to the running executable (`target/PROFILE/` for the
/// `conformance` binary, `target/PROFILE/deps/..` for test executables), then
/// the newest of `$CARGO_TARGET_DIR|target/{release,debug}/rnix-eval`.
pub fn find_rnix_eval(explicit: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(p) = explicit {
        return if p.exists() { Ok(p.to_path_buf()) } else { Err(format!("--bin {}: no such file", p.display())) };
    }
    if let Some(p) = env::var_os("RNIX_EVAL") {
        let p = PathBuf::from(p);
        return if p.exists() { Ok(p) } else { Err(format!("RNIX_EVAL={}: no such file", p.display())) };
    }
    let mut tried = Vec::new();
    if let Ok(exe) = env::current_exe() {
        let mut dir = exe.parent().map(Path::to_path_buf);
        // target/PROFILE/conformance, target/PROFILE/deps/test-HASH
        for _ in 0..2 {
            if let Some(d) = dir {
                let cand = d.join(BIN_NAME);
                if is_executable(&cand) {
                    return Ok(cand);
                }
                tried.push(cand);
                dir = d.parent().map(Path::to_path_buf);
            }
        }
    }
    let target = target_dir();
    let mut best: Option<(std::time::SystemTime, PathBuf)> = None;
    for profile in ["release", "debug"] {
        let cand = target.join(profile).join(BIN_NAME);
        if is_executable(&cand) {
            let t = cand.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH);
            if best.as_ref().is_none_or(|(bt, _)| t > *bt) {
                best = Some((t, cand.clone()));
            }
        }
        tried.push(cand);
    }
    if let Some((_, p)) = best {
        return Ok(p);
    }
    Err(format!(
        "could not find the `{BIN_NAME}` binary (tried: {}). Build it first \
         (`cargo build --release -p nix-flake --bin rnix-eval`; `cargo test --workspace` \
         builds it too when nix-flake has integration tests) or set RNIX_EVAL=/path/to/rnix-eval",
        tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    ))
}

/// Like [`find_rnix_eval`] but panics with the explanation; for tests.
/// Also warns (on stderr) when the binary is older than the sources.
pub fn rnix_eval_for_tests() -> PathBuf {
    match find_rnix_eval(None) {
        Ok(p) => {
            eprintln!("using {BIN_NAME} binary: {}", p.display());
            if let Some(w) = staleness_warning(&p) {
                eprintln!("{w}");
            }
            p
        }
        Err(e) => panic!("{e}"),
    }
}

fn newest_source(dir: &Path, newest: &mut std::time::SystemTime) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.filter_map(|e| e.ok()) {
        let p = e.path();
        let Ok(m) = e.metadata() else { continue };
        if m.is_dir() {
            let name = e.file_name();
            if name != "target" && name != ".git" {
                newest_source(&p, newest);
            }
        } else if p.extension().is_some_and(|x| x == "rs") || p.file_name().is_some_and(|n| n == "Cargo.toml") {
            if let Ok(t) = m.modified() {
                if t > *newest {
                    *newest = t;
                }
            }
        }
    }
}

/// A warning when `bin` (inside this workspace's target dir) is older than
/// the evaluator sources: `cargo test` does not rebuild other packages' binaries.
pub fn staleness_warning(bin: &Path) -> Option<String> {
    let root = workspace_root();
    if !bin.starts_with(root.join("target")) {
        return None;
    }
    let built = bin.metadata().ok()?.modified().ok()?;
    let mut newest = std::time::UNIX_EPOCH;
    for d in ["evaluator", "builtins", "flake"] {
        newest_source(&root.join(d), &mut newest);
    }
    if newest > built {
        Some(format!(
            "WARNING: {} is older than the sources under evaluator/, builtins/ or flake/; \
             rebuild it (`cargo build --release` / `cargo build`) or the results are stale",
            bin.display()
        ))
    } else {
        None
    }
}

/// The reference implementation, if installed (`NIX_INSTANTIATE` overrides).
pub fn reference_nix_instantiate() -> Option<PathBuf> {
    if let Some(p) = env::var_os("NIX_INSTANTIATE") {
        return Some(PathBuf::from(p));
    }
    let path = env::var_os("PATH")?;
    env::split_paths(&path).map(|d| d.join("nix-instantiate")).find(|p| is_executable(p))
}
