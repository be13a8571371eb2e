//! The evaluation cache through the binary, on a small git flake whose derivation traces
//! when it is evaluated (so a run that prints no trace answered from the cache): a second
//! `rnix-eval .#pkg`, `eval --raw .#pkg.drvPath` and `flake show` hit; a committed edit of
//! any file, an overridden input (another lock), a dirty tree, `--no-eval-cache` and a
//! `.drv` gone from the store evaluate again; a corrupted cache file is rebuilt with the
//! right answer; two processes at once both succeed. Skips without the release binary.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const FLAKE: &str = r#"{
  inputs.dep.url = "DEP";
  outputs = { self, dep }: {
    packages.x86_64-linux.pkg = builtins.trace "evaluating pkg" (derivation {
      name = "pkg";
      system = "x86_64-linux";
      builder = "/bin/sh";
      args = [ "-c" (builtins.readFile ./script.sh) dep.value ];
    });
  };
}
"#;

struct Fixture {
    dir: PathBuf,
    store: String,
    cache: PathBuf,
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.org")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.org")
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "git {args:?}");
}

fn dep(root: &Path, name: &str, value: &str) -> String {
    let d = root.join(name);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("flake.nix"), format!("{{ outputs = {{ self }}: {{ value = \"{value}\"; }}; }}\n")).unwrap();
    format!("path:{}", d.display())
}

impl Fixture {
    fn new(tag: &str) -> Fixture {
        let root = scratch(&format!("eval-cache-{tag}"));
        let dir = root.join("flake");
        std::fs::create_dir_all(&dir).unwrap();
        let dep_url = dep(&root, "dep", "one");
        dep(&root, "dep2", "two");
        std::fs::write(dir.join("flake.nix"), FLAKE.replace("DEP", &dep_url)).unwrap();
        std::fs::write(dir.join("script.sh"), "echo hello > $out").unwrap();
        let f = Fixture { store: root.join("store").display().to_string(), cache: root.join("cache"), dir };
        git(&f.dir, &["init", "-q", "-b", "main"]);
        git(&f.dir, &["add", "-A"]);
        let o = f.run(&["flake", "lock"]);
        assert!(o.status.success(), "{}", stderr(&o));
        git(&f.dir, &["add", "-A"]);
        git(&f.dir, &["commit", "-q", "-m", "init"]);
        f
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run rnix-eval")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        isolate(&mut c)
            .args(args)
            .args(["--store", &self.store])
            .current_dir(&self.dir)
            .env("XDG_CACHE_HOME", &self.cache);
        c
    }

    /// Runs successfully; (stdout, whether it evaluated).
    fn answer(&self, args: &[&str]) -> (String, bool) {
        let o = self.run(args);
        assert!(o.status.success(), "rnix-eval {args:?}:\n{}", stderr(&o));
        (stdout(&o), stderr(&o).contains("evaluating pkg"))
    }

    fn cache_files(&self) -> Vec<PathBuf> {
        let d = self.cache.join("rnix-eval/eval-cache-v1");
        let mut v: Vec<PathBuf> =
            std::fs::read_dir(&d).map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
        v.retain(|p| p.extension().is_some_and(|e| e == "sqlite"));
        v
    }

    fn remove(self) {
        let root = self.dir.parent().unwrap().to_owned();
        remove_with_store(&root);
    }
}

const BUILD: &[&str] = &[".#pkg"];
const EVAL: &[&str] = &["eval", "--raw", ".#pkg.drvPath"];
const SHOW: &[&str] = &["flake", "show"];

#[test]
fn second_runs_hit_and_edits_invalidate() {
    if !bin_built() {
        return;
    }
    let f = Fixture::new("hit");
    for cmd in [BUILD, EVAL, SHOW] {
        let (first, evaluated) = f.answer(cmd);
        assert!(evaluated, "{cmd:?}: the first run evaluates");
        let (second, evaluated) = f.answer(cmd);
        assert!(!evaluated, "{cmd:?}: the second run answers from the cache");
        assert_eq!(first, second, "{cmd:?}");
        let (third, evaluated) = f.answer(&[cmd, &["--no-eval-cache"]].concat());
        assert!(evaluated && third == first, "{cmd:?} --no-eval-cache evaluates");
    }
    let (drv, _) = f.answer(BUILD);
    assert!(drv.trim().ends_with("-pkg.drv"), "{drv}");
    assert_eq!(f.answer(EVAL).0, drv.trim());
    assert_eq!(f.cache_files().len(), 1);

    // A committed edit of any file of the flake: evaluated again, a new answer.
    std::fs::write(f.dir.join("script.sh"), "echo changed > $out").unwrap();
    let (dirty, evaluated) = f.answer(BUILD);
    assert!(evaluated && dirty != drv, "a dirty tree is evaluated");
    assert!(f.answer(BUILD).1, "a dirty tree is not cached");
    git(&f.dir, &["commit", "-q", "-am", "edit"]);
    let (edited, evaluated) = f.answer(BUILD);
    assert!(evaluated && edited == dirty);
    assert!(!f.answer(BUILD).1);
    // An unrelated file too (the flake's source is another).
    std::fs::write(f.dir.join("README"), "notes").unwrap();
    git(&f.dir, &["add", "README"]);
    git(&f.dir, &["commit", "-q", "-m", "readme"]);
    assert!(f.answer(BUILD).1, "any committed file invalidates");

    // An overridden input not written to the lock: `self` is dirty, not cached.
    let dep2 = format!("path:{}", f.dir.parent().unwrap().join("dep2").display());
    let over = [".#pkg", "--override-input", "dep", &dep2, "--no-write-lock-file"];
    let (other, evaluated) = f.answer(&over);
    assert!(evaluated && other != edited, "{other}");
    assert!(f.answer(&over).1);
    assert_eq!(f.answer(BUILD), (edited.clone(), false));
    // The lock changed and committed: evaluated again, with the new input.
    let o = f.run(&["flake", "lock", "--override-input", "dep", &dep2]);
    assert!(o.status.success(), "{}", stderr(&o));
    git(&f.dir, &["commit", "-q", "-am", "lock"]);
    assert_eq!(f.answer(BUILD), (other.clone(), true));
    assert_eq!(f.answer(BUILD), (other.clone(), false));
    let edited = other;

    // The cached .drv gone from the store: evaluated again.
    let real = Path::new(&f.store).join(edited.trim().trim_start_matches('/'));
    let _ = Command::new("chmod").args(["-R", "u+w"]).arg(Path::new(&f.store).join("nix/store")).status();
    std::fs::remove_file(&real).unwrap();
    assert_eq!(f.answer(BUILD), (edited.clone(), true));
    f.remove();
}

#[test]
fn a_corrupted_cache_is_rebuilt_and_two_processes_share_one() {
    if !bin_built() {
        return;
    }
    let f = Fixture::new("corrupt");
    // Two processes at once on an empty cache, then on a full one.
    for round in 0..2 {
        let kids: Vec<_> = (0..2)
            .map(|_| {
                let mut c = f.command(BUILD);
                c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
                c.spawn().unwrap()
            })
            .collect();
        let outs: Vec<Output> = kids.into_iter().map(|k| k.wait_with_output().unwrap()).collect();
        for o in &outs {
            assert!(o.status.success(), "round {round}: {}", stderr(o));
        }
        assert_eq!(stdout(&outs[0]), stdout(&outs[1]));
    }
    let (want, evaluated) = f.answer(BUILD);
    assert!(!evaluated);
    let file = f.cache_files().pop().expect("a cache file");
    let good = std::fs::read(&file).unwrap();
    let damages: Vec<Vec<u8>> = vec![
        b"garbage, not SQLite".to_vec(),
        good[..good.len() / 2].to_vec(),
        good.iter().enumerate().map(|(i, b)| if i > 100 && i % 5 == 0 { b ^ 0xff } else { *b }).collect(),
        Vec::new(),
    ];
    for (n, bytes) in damages.into_iter().enumerate() {
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
        std::fs::write(&file, bytes).unwrap();
        let (got, _) = f.answer(BUILD);
        assert_eq!(got, want, "damage {n}: never a wrong answer");
        assert_eq!(f.answer(BUILD), (want.clone(), false), "damage {n}: rebuilt, then a hit");
    }
    f.remove();
}
