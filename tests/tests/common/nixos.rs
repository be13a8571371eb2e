//! NixOS systems against the reference, one implementation for every NixOS
//! tree of the shared data (`../shared/nixpkgs/nixos-RELEASE`): the test
//! files `nixos.rs` (20.09), `nixos_2411.rs` and `nixos_1803.rs` only say
//! which release and which golden files they check.
//!
//! What a tree is checked for:
//!
//! * [`NixosTree::check_golden_toplevels`]: the toplevel drv paths of the
//!   shared configs (`../shared/golden/nixos-RELEASE.drvpaths.tsv`);
//! * [`NixosTree::check_command_line`]: `instantiate NIXOS -A system -I
//!   nixos-config=…`, the command line users type;
//! * [`NixosTree::check_closure_byte_identical`]: a config instantiated into a
//!   fresh `--store` writes exactly the golden closure (plus, where the
//!   reference also writes them, recorded paths outside it), every path
//!   recomputed from its bytes by [`check_closure`];
//! * [`NixosTree::check_store_matches_reference`]: for a tree without golden
//!   closures, an own config's fresh store equals the one the reference
//!   writes in the same test;
//! * [`NixosTree::check_own_configs`] / [`NixosTree::check_failing_configs`]:
//!   the project's configs of `tests/nixos-configs/RELEASE/` give the
//!   toplevels the reference printed, and those of its `fail/` fail with the
//!   reference's message.
//!
//! Every evaluation is its own process (a NixOS evaluation takes 0.3–1.9 GiB;
//! several in one process would add up), at most two at a time
//! ([`parallel_map`]). Without ../shared the checks print a note and pass
//! vacuously.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::*;
use rnix_tests::paths;

/// One NixOS release of the shared data and this project's files for it.
pub struct NixosTree {
    /// `20.09`, `24.11`, `18.03`: names `nixpkgs/nixos-RELEASE`,
    /// `golden/nixos-RELEASE.drvpaths.tsv` and `tests/nixos-configs/RELEASE/`.
    pub release: &'static str,
    /// Configs whose toplevel is known to differ from the reference's, as
    /// `(file name, why)`; the file name is the config's (`minimal.nix`,
    /// golden or own). The list is exact, like `tests/expected-failures.txt`:
    /// a listed config that matches fails the test (remove it then), so a
    /// fix cannot go unnoticed.
    pub known_mismatches: &'static [(&'static str, &'static str)],
}

impl NixosTree {
    /// `../shared/nixpkgs/nixos-RELEASE/nixos`, or None with a note.
    pub fn nixos_dir(&self) -> Option<PathBuf> {
        shared_or_skip(&format!("nixpkgs/nixos-{}/nixos", self.release))
    }

    /// `../shared/golden/nixos-RELEASE.drvpaths.tsv`, or None with a note.
    pub fn golden_tsv(&self) -> Option<PathBuf> {
        shared_or_skip(&format!("golden/nixos-{}.drvpaths.tsv", self.release))
    }

    /// The project's configs for this release: `tests/nixos-configs/RELEASE`.
    pub fn own_configs_dir(&self) -> PathBuf {
        paths::workspace_root().join("tests/nixos-configs").join(self.release)
    }

    /// `(shared config file, golden toplevel)` for each line of the golden
    /// table (its first column is relative to ../shared).
    fn golden_configs(&self, golden: &Path) -> Vec<(PathBuf, String)> {
        let shared = paths::shared_dir();
        read_tsv(golden).into_iter().map(|(c, p)| (shared.join(c), p)).collect()
    }

    /// The golden line of the config named `name` (`minimal` for
    /// `configs/…/minimal.nix`).
    fn golden_config(&self, golden: &Path, name: &str) -> (PathBuf, String) {
        self.golden_configs(golden)
            .into_iter()
            .find(|(c, _)| c.file_stem().is_some_and(|s| s == name))
            .unwrap_or_else(|| panic!("no {name}.nix in {}", golden.display()))
    }

    /// Why `file` (a config's file name) is listed in [`Self::known_mismatches`].
    fn known_mismatch(&self, file: &str) -> Option<&'static str> {
        self.known_mismatches.iter().find(|(f, _)| *f == file).map(|(_, why)| *why)
    }

    /// Compares the toplevels of `(config file, expected path)` pairs, two
    /// evaluations at a time; the configs of [`Self::known_mismatches`] must
    /// differ (or fail), all others equal.
    fn check_toplevels(&self, nixos: &Path, expected: &[(PathBuf, String)], what: &str) {
        let got = parallel_map(expected, |(c, _)| toplevel(nixos, c));
        let mut problems = Vec::new();
        let (mut equal, mut known) = (0, 0);
        for ((config, want), got) in expected.iter().zip(&got) {
            let file = config.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let why = self.known_mismatch(&file);
            match (got, why) {
                (Ok(got), None) if got == want => equal += 1,
                (Ok(_), Some(_)) if got.as_ref() == Ok(want) => problems.push(format!(
                    "{}: now equals the reference: remove it from the known mismatches of {}",
                    config.display(),
                    self.release
                )),
                (_, Some(why)) => {
                    known += 1;
                    println!("  known mismatch: {file} ({why})");
                }
                (Ok(got), None) => problems.push(format!("{}: got {got}, want {want}", config.display())),
                (Err(e), None) => problems.push(format!("{}: failed: {e}", config.display())),
            }
        }
        println!("{what}: {equal}/{} toplevels equal, {known} known mismatch(es)", expected.len());
        assert_no_problems(&problems, what);
    }

    /// The toplevels of all `count` golden configs equal the golden table.
    pub fn check_golden_toplevels(&self, count: usize) {
        let (Some(nixos), Some(golden)) = (self.nixos_dir(), self.golden_tsv()) else { return };
        let expected = self.golden_configs(&golden);
        assert_eq!(expected.len(), count, "{} changed?", golden.display());
        self.check_toplevels(&nixos, &expected, &format!("golden NixOS {} configs", self.release));
    }

    /// `instantiate --readonly-mode NIXOS -A system -I nixos-config=NAME.nix`
    /// prints the golden path and writes nothing.
    pub fn check_command_line(&self, name: &str) {
        let (Some(nixos), Some(golden)) = (self.nixos_dir(), self.golden_tsv()) else { return };
        let (config, want) = self.golden_config(&golden, name);
        let tmp = TempDir::new("nixos-cmdline");
        let out = run_ok(
            &paths::rnix_eval_for_tests(),
            &[
                "instantiate",
                "--readonly-mode",
                &nixos.to_string_lossy(),
                "-A",
                "system",
                "-I",
                &format!("nixos-config={}", config.display()),
            ],
            tmp.path(),
            tmp.path(),
        );
        if let Some(why) = self.known_mismatch(&format!("{name}.nix")) {
            assert_ne!(out.trim(), want, "{name}.nix now equals the reference: remove it from the known mismatches");
            println!("known mismatch: {name}.nix ({why})");
        } else {
            assert_eq!(out.trim(), want);
        }
        assert!(store_entries(&tmp.store_dir()).is_empty(), "--readonly-mode wrote files");
    }

    /// The golden config `name` instantiated into a fresh `--store` writes
    /// exactly `golden/closures/nixos-RELEASE-NAME.txt` (the closure of the
    /// toplevel) plus the base names listed in `extras` (paths the reference
    /// also writes outside that closure, recorded from it; see
    /// `tests/nixos-configs/README.md`), each recomputed from its bytes.
    pub fn check_closure_byte_identical(&self, name: &str, extras: Option<&Path>) {
        let closure_rel = format!("golden/closures/nixos-{}-{name}.txt", self.release);
        let (Some(nixos), Some(golden), Some(closure)) =
            (self.nixos_dir(), self.golden_tsv(), shared_or_skip(&closure_rel))
        else {
            return;
        };
        let (config, want) = self.golden_config(&golden, name);
        let tmp = TempDir::new("nixos-closure");
        let store = tmp.path().join("store");
        let out = run_ok(
            &paths::rnix_eval_for_tests(),
            &[
                "instantiate",
                &nixos.to_string_lossy(),
                "-A",
                "system",
                "-I",
                &format!("nixos-config={}", config.display()),
                "--store",
                &store.to_string_lossy(),
            ],
            tmp.path(),
            tmp.path(),
        );
        assert_eq!(out.trim(), want, "printed toplevel");
        let golden_list = read_store_path_list(&closure);
        let extra_list = extras.map(read_store_path_list).unwrap_or_default();
        let overlap: Vec<&String> = golden_list.intersection(&extra_list).collect();
        assert!(overlap.is_empty(), "extras already in the closure: {overlap:?}");
        let expected: BTreeSet<String> = golden_list.union(&extra_list).cloned().collect();
        let store_dir = store.join("nix/store");
        let written = store_entries(&store_dir);
        let mut problems: Vec<String> = Vec::new();
        problems.extend(expected.difference(&written).map(|n| format!("not written: {n}")));
        problems.extend(written.difference(&expected).map(|n| format!("not in the golden closure: {n}")));
        problems.extend(check_closure(&store_dir, &expected));
        let drvs = golden_list.iter().filter(|n| n.ends_with(".drv")).count();
        println!(
            "{} {name} closure: {} paths written ({} of the closure, {drvs} .drv; {} outside it), {} problem(s)",
            self.release,
            written.len(),
            golden_list.len(),
            extra_list.len(),
            problems.len()
        );
        assert_no_problems(&problems, &format!("{} {name} closure", self.release));
    }

    /// The own config `tests/nixos-configs/RELEASE/NAME.nix` instantiated
    /// into a fresh `--store` prints its expected toplevel and writes a store
    /// in which every path recomputes from its bytes; with the reference
    /// installed, the store equals the one `nix-instantiate --store` writes in
    /// the same test (same paths, every file byte-identical). For trees
    /// without a golden closure list.
    pub fn check_store_matches_reference(&self, name: &str) {
        let Some(nixos) = self.nixos_dir() else { return };
        let dir = self.own_configs_dir();
        let file = format!("{name}.nix");
        let want = read_tsv(&dir.join("expected-drvpaths.tsv"))
            .into_iter()
            .find(|(c, _)| *c == file)
            .map(|(_, p)| p)
            .unwrap_or_else(|| panic!("{file} not in {}/expected-drvpaths.tsv", dir.display()));
        let args = |store: &Path| {
            let config = format!("nixos-config={}", dir.join(&file).display());
            let nixos = nixos.to_string_lossy().into_owned();
            [nixos, "-A".into(), "system".into(), "-I".into(), config, "--store".into(), store.display().to_string()]
        };
        let ours = TempDir::new("nixos-store-ours");
        let our_args = args(ours.path());
        let mut cmd: Vec<&str> = vec!["instantiate"];
        cmd.extend(our_args.iter().map(String::as_str));
        let out = run_ok(&paths::rnix_eval_for_tests(), &cmd, ours.path(), ours.path());
        assert_eq!(out.trim(), want, "printed toplevel");
        let entries = store_entries(&ours.store_dir());
        assert_no_problems(
            &check_closure(&ours.store_dir(), &entries),
            &format!("{} {file} store (ours)", self.release),
        );
        println!("{} {file}: {} paths written, all consistent", self.release, entries.len());

        let Some(nix) = reference_or_note(&format!("the store of {} {file}", self.release)) else { return };
        let theirs = TempDir::new("nixos-store-ref");
        let home = TempDir::new("nixos-store-home");
        let their_args = args(theirs.path());
        let cmd: Vec<&str> = their_args.iter().map(String::as_str).collect();
        let out = run_ok(&nix, &cmd, home.path(), home.path());
        assert_eq!(out.trim(), want, "the reference printed another toplevel");
        assert_no_problems(
            &compare_stores(&ours.store_dir(), &theirs.store_dir()),
            &format!("{} {file} store vs the reference's", self.release),
        );
        println!("{} {file}: store byte-identical to the reference's ({} paths)", self.release, entries.len());
    }

    /// The configs of `tests/nixos-configs/RELEASE/` give the toplevels of
    /// its `expected-drvpaths.tsv` (printed by the reference); every config
    /// there has a line.
    pub fn check_own_configs(&self) {
        let Some(nixos) = self.nixos_dir() else { return };
        let dir = self.own_configs_dir();
        let expected: Vec<(PathBuf, String)> =
            read_tsv(&dir.join("expected-drvpaths.tsv")).into_iter().map(|(c, p)| (dir.join(c), p)).collect();
        let listed: BTreeSet<PathBuf> = expected.iter().map(|(c, _)| c.clone()).collect();
        let mut configs = 0;
        for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())).flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "nix") {
                configs += 1;
                assert!(listed.contains(&p), "{} has no line in expected-drvpaths.tsv", p.display());
            }
        }
        assert_eq!(configs, expected.len(), "expected-drvpaths.tsv of {} lists configs that are gone", dir.display());
        // Every known mismatch names a config of this tree (golden or own).
        let golden: Vec<PathBuf> = self
            .golden_tsv()
            .map(|g| self.golden_configs(&g).into_iter().map(|(c, _)| c).collect())
            .unwrap_or_default();
        for (file, _) in self.known_mismatches {
            let named = |c: &PathBuf| c.file_name().is_some_and(|n| n == *file);
            assert!(listed.iter().any(named) || golden.iter().any(named), "known mismatch {file}: no such config");
        }
        self.check_toplevels(&nixos, &expected, &format!("own NixOS {} configs", self.release));
    }

    /// The configs of `tests/nixos-configs/RELEASE/fail/` exit 1 with the
    /// reference's message: every non-empty, non-`#` line of `fail/NAME.err`
    /// occurs in stderr after the configs directory is replaced by `/CONFIGS`
    /// and the shared directory by `/SHARED`.
    pub fn check_failing_configs(&self) {
        let Some(nixos) = self.nixos_dir() else { return };
        let dir = self.own_configs_dir();
        let shared = paths::shared_dir();
        let shared = shared.canonicalize().unwrap_or(shared);
        let mut cases: Vec<PathBuf> = std::fs::read_dir(dir.join("fail"))
            .unwrap_or_else(|e| panic!("reading {}/fail: {e}", dir.display()))
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "nix"))
            .collect();
        cases.sort();
        assert!(!cases.is_empty());
        let results = parallel_map(&cases, |c| {
            let tmp = TempDir::new("nixos-fail");
            run_in(
                &paths::rnix_eval_for_tests(),
                &["instantiate", "--eval", "--strict", "--readonly-mode", "-E", &toplevel_expr(&nixos, c)],
                tmp.path(),
                tmp.path(),
            )
        });
        let mut problems = Vec::new();
        for (c, out) in cases.iter().zip(&results) {
            let name = c.file_name().unwrap().to_string_lossy();
            if out.code() != Some(1) {
                problems.push(format!("{name}: {} (want exit 1)", out.describe_exit()));
                continue;
            }
            let stderr = out
                .stderr_str()
                .replace(&dir.to_string_lossy().into_owned(), "/CONFIGS")
                .replace(&shared.to_string_lossy().into_owned(), "/SHARED");
            let err_file = c.with_extension("err");
            let patterns =
                std::fs::read_to_string(&err_file).unwrap_or_else(|e| panic!("reading {}: {e}", err_file.display()));
            let patterns: Vec<&str> =
                patterns.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
            assert!(!patterns.is_empty(), "{} has no message line", err_file.display());
            for want in patterns {
                if !stderr.contains(want) {
                    let first = stderr.lines().next().unwrap_or("");
                    problems.push(format!("{name}: stderr lacks {want:?} (starts {first:?})"));
                }
            }
        }
        println!(
            "failing NixOS {} configs: {}/{} as the reference",
            self.release,
            cases.len() - problems.len(),
            cases.len()
        );
        assert_no_problems(&problems, &format!("failing NixOS {} configs", self.release));
    }
}

/// Base names of a list of store paths (`/nix/store/…` per line; blank lines
/// and `#` comments skipped).
fn read_store_path_list(file: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()))
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.trim_start_matches("/nix/store/").to_string())
        .collect()
}

/// A Nix path expression for an absolute path (safe for any characters).
fn nix_path(p: &Path) -> String {
    format!("(/. + {})", nix_str(&p.to_string_lossy()))
}

/// `(import NIXOS { configuration = CONFIG; }).system.drvPath`.
fn toplevel_expr(nixos: &Path, config: &Path) -> String {
    format!("(import {} {{ configuration = {}; }}).system.drvPath", nix_path(nixos), nix_path(config))
}

/// The toplevel drvPath of `config` from a read-only `--eval --strict` run.
pub fn toplevel(nixos: &Path, config: &Path) -> Result<String, String> {
    let tmp = TempDir::new("nixos-eval");
    let out = run_in(
        &paths::rnix_eval_for_tests(),
        &["instantiate", "--eval", "--strict", "--readonly-mode", "-E", &toplevel_expr(nixos, config)],
        tmp.path(),
        tmp.path(),
    );
    if out.code() != Some(0) {
        let err = out.stderr_str();
        let tail: Vec<&str> = err.lines().rev().take(8).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!("{}:\n      {}", out.describe_exit(), tail.join("\n      ")));
    }
    Ok(out.stdout_str().trim().trim_matches('"').to_string())
}
