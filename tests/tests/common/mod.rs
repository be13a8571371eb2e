//! Shared helpers of the store-level integration tests (`aux_core.rs`,
//! `nixos.rs`): locating the shared nixpkgs trees (skipping clearly when they
//! are absent), running `rnix-eval` and the reference, temp store dirs, and
//! checking what a `--store DIR` run wrote.
//!
//! The key check is [`check_closure`]: every `.drv` under `DIR/nix/store` is
//! re-hashed from its bytes (text path over sha256 of the file with the
//! references its ATerm lists) and must equal its own file name; every source
//! path is re-hashed from its NAR. Since the expected paths come from the
//! reference (golden closure lists, golden drv paths), a file whose path
//! recomputes to its golden name is byte-identical to the reference's.
#![allow(dead_code)] // each test file uses a subset

pub mod nixos;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use nix_store_core::store_path::{make_fixed_output_path, make_text_path};
use nix_store_core::{Derivation, FileIngestionMethod, Hash, HashAlgo};
use rnix_tests::paths;
use rnix_tests::process::{run, RunOutput, RunSpec};

/// Generous per-process limit: a NixOS evaluation takes seconds, but CI
/// machines are slow and shared.
pub const TIMEOUT: Duration = Duration::from_secs(900);

/// `../shared/REL` if it exists; otherwise prints why the test is skipped.
pub fn shared_or_skip(rel: &str) -> Option<PathBuf> {
    let p = paths::shared_dir().join(rel);
    if p.exists() {
        Some(p.canonicalize().unwrap_or(p))
    } else {
        paths::note_missing_shared(&format!(
            "NOTE: {} is missing (set RNIX_SHARED_DIR to override) -- skipping this test",
            p.display()
        ));
        None
    }
}

/// The reference `nix-instantiate`, or None with a note.
pub fn reference_or_note(what: &str) -> Option<PathBuf> {
    let r = paths::reference_nix_instantiate();
    if r.is_none() {
        let msg = format!("NOTE: nix-instantiate not found: {what} is not compared with the reference");
        eprintln!("{msg}");
        println!("{msg}");
    }
    r
}

/// At most this many evaluations run at once across the tests of one binary
/// (cargo runs tests in parallel; each NixOS evaluation takes ~0.7 GiB).
fn max_concurrent_runs() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 4)
}

/// A counting semaphore around [`run_in`].
struct Slots {
    busy: Mutex<usize>,
    freed: Condvar,
}

static SLOTS: Slots = Slots { busy: Mutex::new(0), freed: Condvar::new() };

struct Slot;

impl Slot {
    fn take() -> Slot {
        let mut busy = SLOTS.busy.lock().unwrap_or_else(|e| e.into_inner());
        while *busy >= max_concurrent_runs() {
            busy = SLOTS.freed.wait(busy).unwrap_or_else(|e| e.into_inner());
        }
        *busy += 1;
        Slot
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut busy = SLOTS.busy.lock().unwrap_or_else(|e| e.into_inner());
        *busy -= 1;
        SLOTS.freed.notify_one();
    }
}

/// Runs `f` over `items` on up to [`max_concurrent_runs`] threads; results in order.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicU64::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..max_concurrent_runs().min(items.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
            });
        }
    });
    results.into_inner().unwrap_or_else(|e| e.into_inner()).into_iter().map(|r| r.expect("every item mapped")).collect()
}

/// Run `prog ARGS` in `cwd` (HOME pointing at an empty temp dir, no NIX_*).
pub fn run_in(prog: &Path, args: &[&str], cwd: &Path, home: &Path) -> RunOutput {
    let _slot = Slot::take();
    let spec = RunSpec::new(prog, cwd).args(args.iter().copied()).env("HOME", &home.to_string_lossy()).timeout(TIMEOUT);
    let t0 = Instant::now();
    let out = run(&spec);
    eprintln!("[{:.1} s] {}", t0.elapsed().as_secs_f64(), rnix_tests::process::truncate(&spec.display(), 400));
    out
}

/// Like [`run_in`] but panics with the command and stderr unless it exits 0.
pub fn run_ok(prog: &Path, args: &[&str], cwd: &Path, home: &Path) -> String {
    let out = run_in(prog, args, cwd, home);
    if out.code() != Some(0) {
        let err = out.stderr_str();
        let tail: Vec<&str> = err.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        panic!(
            "{} failed ({}):\n{}",
            rnix_tests::process::truncate(&format!("{} {}", prog.display(), args.join(" ")), 400),
            out.describe_exit(),
            tail.join("\n")
        );
    }
    out.stdout_str()
}

/// A fresh directory under the temp dir, removed on drop (store files are
/// read-only, so permissions are restored first).
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("rnix-tests-{tag}-{}-{n}", std::process::id()));
        remove_tree(&dir);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        TempDir(dir)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn store_dir(&self) -> PathBuf {
        self.0.join("nix/store")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        remove_tree(&self.0);
    }
}

fn make_writable(p: &Path) {
    let Ok(m) = fs::symlink_metadata(p) else { return };
    if m.is_dir() {
        let _ = fs::set_permissions(p, fs::Permissions::from_mode(0o755));
        if let Ok(rd) = fs::read_dir(p) {
            for e in rd.flatten() {
                make_writable(&e.path());
            }
        }
    }
}

pub fn remove_tree(p: &Path) {
    make_writable(p);
    let _ = fs::remove_dir_all(p);
}

/// `NAME<TAB>VALUE` lines, `#` comments and blank lines skipped.
pub fn read_tsv(path: &Path) -> Vec<(String, String)> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l.split_once('\t').unwrap_or_else(|| panic!("{}: no tab in {l:?}", path.display()));
            (k.trim().to_string(), v.trim().to_string())
        })
        .collect()
}

/// A Nix string literal for `s` (paths and attribute names in generated `-E`).
pub fn nix_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' | '\\' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Parses the `--json` list of strings printed by `--eval --strict --json`
/// (only what these tests produce: a flat list of plain strings).
pub fn parse_json_string_list(s: &str) -> Result<Vec<String>, String> {
    let s = s.trim();
    let inner = s
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .ok_or_else(|| format!("not a JSON list: {}", rnix_tests::process::truncate(s, 200)))?;
    let mut out = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        match chars.next() {
            None => return Ok(out),
            Some('"') => {}
            Some(c) => return Err(format!("unexpected {c:?} in JSON list")),
        }
        let mut item = String::new();
        loop {
            match chars.next() {
                None => return Err("unterminated JSON string".into()),
                Some('"') => break,
                Some('\\') => match chars.next() {
                    Some('n') => item.push('\n'),
                    Some('t') => item.push('\t'),
                    Some(c @ ('"' | '\\' | '/')) => item.push(c),
                    other => return Err(format!("unsupported JSON escape {other:?}")),
                },
                Some(c) => item.push(c),
            }
        }
        out.push(item);
    }
}

/// The base names in `DIR/nix/store` (temp files excluded).
pub fn store_entries(store_dir: &Path) -> BTreeSet<String> {
    let Ok(rd) = fs::read_dir(store_dir) else {
        return BTreeSet::new();
    };
    rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| !n.starts_with('.')).collect()
}

/// Recomputes the store path of each of `names` (base names in `store_dir`)
/// from what is on disk and returns one line per problem (empty: all fine).
///
/// * `.drv`: text path of `NAME.drv` over sha256(bytes) with the ATerm's
///   input sources and input derivations as references;
/// * other paths: a source path over the NAR hash (`builtins.path`, `./file`
///   interpolation), or else a text path (`toFile`) whose references are the
///   `names` whose hash part occurs in the file.
pub fn check_closure(store_dir: &Path, names: &BTreeSet<String>) -> Vec<String> {
    let mut problems = Vec::new();
    let by_hash: BTreeMap<&str, &str> = names.iter().filter_map(|n| n.get(..32).map(|h| (h, n.as_str()))).collect();
    for name in names {
        let p = store_dir.join(name);
        match recompute(&p, name, &by_hash) {
            Ok(got) if got == *name => {}
            Ok(got) => problems.push(format!("{name}: contents hash to {got}")),
            Err(e) => problems.push(format!("{name}: {e}")),
        }
    }
    problems
}

fn recompute(p: &Path, name: &str, by_hash: &BTreeMap<&str, &str>) -> Result<String, String> {
    let meta = fs::symlink_metadata(p).map_err(|_| "missing".to_string())?;
    let pname = name.get(33..).ok_or("not a store path name")?;
    if name.ends_with(".drv") {
        let bytes = fs::read(p).map_err(|e| e.to_string())?;
        let drv = Derivation::parse_aterm(&bytes).map_err(|e| format!("bad ATerm: {e}"))?;
        let h = Hash::digest(HashAlgo::Sha256, &bytes);
        let sp = make_text_path(pname, &h, &drv.references()).map_err(|e| e.to_string())?;
        return Ok(sp.base_name().to_string());
    }
    let nar = nix_store_core::nar::nar_hash_path(p, &mut |_, _| true).map_err(|e| e.to_string())?;
    let source = make_fixed_output_path(FileIngestionMethod::Recursive, &nar, pname, &BTreeSet::new())
        .map_err(|e| e.to_string())?;
    if source.base_name() == name || !meta.is_file() {
        return Ok(source.base_name().to_string());
    }
    let bytes = fs::read(p).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&bytes);
    let refs: BTreeSet<String> = by_hash
        .iter()
        .filter(|(h, n)| **n != name && text.contains(*h))
        .map(|(_, n)| format!("/nix/store/{n}"))
        .collect();
    let h = Hash::digest(HashAlgo::Sha256, &bytes);
    let sp = make_text_path(pname, &h, &refs).map_err(|e| e.to_string())?;
    Ok(sp.base_name().to_string())
}

/// Compares two stores entry by entry: the same base names, and every entry
/// byte-identical (files by content, directories and symlinks by NAR).
pub fn compare_stores(ours: &Path, reference: &Path) -> Vec<String> {
    let a = store_entries(ours);
    let b = store_entries(reference);
    let mut problems = Vec::new();
    for n in a.difference(&b) {
        problems.push(format!("only in ours: {n}"));
    }
    for n in b.difference(&a) {
        problems.push(format!("only in the reference's: {n}"));
    }
    for n in a.intersection(&b) {
        let (x, y) = (nar_bytes(&ours.join(n)), nar_bytes(&reference.join(n)));
        if x != y {
            problems.push(format!("{n}: contents differ"));
        }
    }
    problems
}

fn nar_bytes(p: &Path) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    nix_store_core::nar::dump_path(p, &mut |_, _| true, &mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// Panics listing (the first 20 of) `problems` unless it is empty.
pub fn assert_no_problems(problems: &[String], what: &str) {
    if problems.is_empty() {
        return;
    }
    let mut msg = format!("{what}: {} problem(s):\n", problems.len());
    for p in problems.iter().take(20) {
        msg.push_str(&format!("  {p}\n"));
    }
    panic!("{msg}");
}
