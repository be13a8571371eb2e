//! Differential test of the two front ends: every `.nix` file of the shared nixpkgs trees, the
//! conformance suite and nix-test-corpus/ is lowered through rnix and through the fast parser,
//! and the full AST dumps (every node, position, name, resolution, constant) must be identical.
//! A file the fast parser declines is fine (rnix handles it), but in nixpkgs that must not
//! happen, and the fast parser must never accept a file rnix rejects.
//!
//! Also robustness: the fast parser must not panic or overflow the stack on mutated files and
//! on pathologically deep input.
//!
//! The shared trees come from ../shared (skipped with a message when absent). Run in release:
//! `cargo test --release -p nix-eval --test parse_diff`.

use nix_eval::source::{add_source, normalize_source, FileId, Origin};
use nix_eval::testing::{dump, parse_and_lower_with, FrontEnd, LowerCtx};
use nix_eval::Symbol;
use rustc_hash::FxHashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn nix_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_symlink() {
            continue;
        }
        if p.is_dir() {
            nix_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "nix") {
            out.push(p);
        }
    }
}

/// Run `f` on a thread with a big stack (the evaluator runs on one; test threads have 2 MiB).
fn big_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(512 << 20).spawn(f).unwrap().join().unwrap()
}

struct Lowering {
    globals: FxHashMap<Symbol, u32>,
}

impl Lowering {
    fn new() -> Self {
        let mut globals = FxHashMap::default();
        for n in ["true", "false", "null", "builtins", "import", "__findFile", "__nixPath"] {
            let i = globals.len() as u32;
            globals.insert(Symbol::new(n), i);
        }
        Lowering { globals }
    }

    /// Lower with `front`; free variables become globals (so that files with free variables
    /// still lower), which is only done on the rnix pass.
    fn lower(&mut self, text: &str, file: FileId, dir: &Path, front: FrontEnd) -> Result<String, String> {
        loop {
            let ctx =
                LowerCtx { globals: &self.globals, base_dir: dir, home: Some("/home/u"), outer_names: &[], lints: &[] };
            match parse_and_lower_with(text, file, &ctx, front) {
                Ok(e) => return Ok(dump(e)),
                Err(err) => {
                    let undefined = err.msg.strip_prefix("undefined variable '").and_then(|s| s.strip_suffix('\''));
                    match undefined {
                        Some(name) if front == FrontEnd::Rnix => {
                            let i = self.globals.len() as u32;
                            self.globals.insert(Symbol::new(name), i);
                        }
                        _ => return Err(format!("{:?}: {}", err.pos.split().map(|p| p.1), err.msg)),
                    }
                }
            }
        }
    }
}

fn first_difference(a: &str, b: &str) -> String {
    let i = a.bytes().zip(b.bytes()).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
    let lo = i.saturating_sub(200);
    let cut = |s: &str| s.get(lo..(i + 120).min(s.len())).unwrap_or("").to_string();
    format!("rnix: …{}…\nfast: …{}…", cut(a), cut(b))
}

#[test]
fn fast_parser_matches_rnix() {
    let root = repo_root();
    let shared = root.join("../shared");
    let mut dirs: Vec<(PathBuf, bool)> = vec![(root.join("nix-test-corpus"), false)];
    if shared.is_dir() {
        dirs.push((shared.join("conformance/lang"), false));
        dirs.push((shared.join("nixpkgs/nixos-20.09"), true));
        dirs.push((shared.join("nixpkgs/aux-core-2024"), true));
    } else if std::env::var_os("RNIX_REQUIRE_SHARED").is_some_and(|v| !v.is_empty() && v != "0") {
        panic!("{} is absent and RNIX_REQUIRE_SHARED is set: missing shared data is a failure", shared.display());
    } else {
        eprintln!("skipping the shared corpora: {} is absent", shared.display());
    }
    let failures = big_stack(move || {
        let start = std::time::Instant::now();
        let mut failures: Vec<String> = Vec::new();
        let (mut same, mut declined, mut both_fail, mut bytes) = (0usize, 0usize, 0usize, 0usize);
        let mut l = Lowering::new();
        for (dir, must_accept) in dirs {
            let mut files = Vec::new();
            nix_files(&dir, &mut files);
            for path in files {
                let Ok(raw) = std::fs::read(&path) else { continue };
                bytes += raw.len();
                let text = normalize_source(&raw);
                let file = add_source(Origin::File(path.display().to_string()), Arc::from(text.as_str()));
                let dir = path.parent().unwrap();
                let slow = l.lower(&text, file, dir, FrontEnd::Rnix);
                let fast = l.lower(&text, file, dir, FrontEnd::Fast);
                match (slow, fast) {
                    (Ok(a), Ok(b)) if a == b => same += 1,
                    (Ok(a), Ok(b)) => {
                        failures.push(format!("{}: ASTs differ\n{}", path.display(), first_difference(&a, &b)))
                    }
                    (Ok(_), Err(e)) => {
                        declined += 1;
                        if must_accept {
                            failures.push(format!("{}: declined by the fast parser ({})", path.display(), e));
                        }
                    }
                    (Err(e), Ok(_)) => {
                        failures.push(format!("{}: rnix fails ({}) but the fast parser accepts", path.display(), e))
                    }
                    (Err(_), Err(_)) => both_fail += 1,
                }
            }
        }
        eprintln!(
            "{} identical, {} declined by the fast parser, {} rejected by both; {:.1} MB in {:.2?}",
            same,
            declined,
            both_fail,
            bytes as f64 / 1e6,
            start.elapsed()
        );
        failures
    });
    for f in failures.iter().take(20) {
        eprintln!("{}\n", f);
    }
    assert!(failures.is_empty(), "{} files differ between the front ends", failures.len());
}

/// Pathological inputs for the fast front end alone: each must give an AST or an error (the
/// rnix fallback then decides), never a panic or a stack overflow, on a thread with the
/// stack of a main thread.
fn pathological() -> Vec<(String, String)> {
    let n = 100_000;
    let r = |s: &str, k: usize| s.repeat(k);
    vec![
        ("parens".into(), format!("{}1{}", r("(", n), r(")", n))),
        ("lists".into(), format!("{}{}", r("[", n), r("]", n))),
        ("sets".into(), format!("{}1{}", r("{ a = ", n), r("; }", n))),
        ("negations".into(), format!("{}1", r("-", n))),
        ("nots".into(), format!("{}true", r("!", n))),
        ("lambdas".into(), format!("{}1", r("x: ", n))),
        ("lets".into(), format!("{}a", r("let a = 1; in ", n))),
        ("ifs".into(), format!("{}1{}", r("if true then ", n), r(" else 2", n))),
        ("withs".into(), format!("{}1", r("with {}; ", n))),
        ("sum".into(), format!("1{}", r(" + 1", n))),
        ("concat".into(), format!("[]{}", r(" ++ []", n))),
        ("update".into(), format!("{{}}{}", r(" // {}", n))),
        ("implications".into(), format!("true{}", r(" -> true", n))),
        ("has-attr".into(), format!("{{}}{}", r(" ? a", n))),
        ("select-or".into(), format!("{}1", r("{}.a or ", n))),
        ("apply".into(), format!("f{}", r(" 1", n))),
        ("attrpath".into(), format!("{{ a{} = 1; }}", r(".a", n))),
        ("select-path".into(), format!("{{}}.a{}", r(".a", n))),
        ("string-interp".into(), format!("{}1{}", r("\"${", n), r("}\"", n))),
        ("path-interp".into(), format!("{}1{}", r("./a${", n), r("}", n))),
        ("dynamic-attrs".into(), format!("{}1{}", r("{ ${", n), r("} = 1; }", n))),
        ("indented".into(), format!("''{}''", r("  ${x}\n", n))),
        ("unterminated".into(), r("{ a = \"", n)),
    ]
}

/// Deterministic byte mutations (truncation, flips, deletions, duplications) of `text`.
fn mutants(text: &[u8], seed: u64, count: usize) -> Vec<Vec<u8>> {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    const INTERESTING: &[u8] = b"{}[]()\"'$;:.=?@,/\\<>|&!-+*#~ \n0aeiorn_";
    let mut out = Vec::new();
    for _ in 0..count {
        let mut t = text.to_vec();
        if t.is_empty() {
            break;
        }
        match next() % 4 {
            0 => t.truncate((next() as usize) % t.len()),
            1 => {
                for _ in 0..1 + next() % 4 {
                    let i = (next() as usize) % t.len();
                    t[i] = INTERESTING[(next() as usize) % INTERESTING.len()];
                }
            }
            2 => {
                let i = (next() as usize) % t.len();
                let k = ((next() as usize) % 8).min(t.len() - i);
                t.drain(i..i + k);
            }
            _ => {
                let i = (next() as usize) % t.len();
                let k = ((next() as usize) % 16).min(t.len() - i);
                let piece = t[i..i + k].to_vec();
                t.splice(i..i, piece);
            }
        }
        out.push(t);
    }
    out
}

#[test]
fn fast_parser_is_robust() {
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            let globals: FxHashMap<Symbol, u32> = FxHashMap::default();
            for (name, text) in pathological() {
                let file = add_source(Origin::File(name.to_string()), Arc::from(text.as_str()));
                let ctx =
                    LowerCtx { globals: &globals, base_dir: Path::new("/"), home: None, outer_names: &[], lints: &[] };
                let t = std::time::Instant::now();
                let _ = parse_and_lower_with(&text, file, &ctx, FrontEnd::Fast);
                assert!(t.elapsed().as_secs() < 2, "{}: {:?}", name, t.elapsed());
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

/// Mutated corpus files: whatever the fast parser accepts, rnix must accept with the same AST.
#[test]
fn fast_parser_matches_rnix_on_mutants() {
    let root = repo_root();
    let mut corpus = Vec::new();
    nix_files(&root.join("nix-test-corpus"), &mut corpus);
    nix_files(&root.join("../shared/conformance/lang"), &mut corpus);
    nix_files(&root.join("../shared/nixpkgs/nixos-20.09/lib"), &mut corpus);
    let failures = big_stack(move || {
        let mut l = Lowering::new();
        let mut failures = Vec::new();
        let (mut n, mut accepted) = (0, 0);
        for (k, path) in corpus.iter().enumerate() {
            let Ok(raw) = std::fs::read(path) else { continue };
            for (j, m) in mutants(&raw, k as u64 * 7919 + 1, mutants_per_file()).into_iter().enumerate() {
                let text = normalize_source(&m);
                let name = format!("{} (mutant {})", path.display(), j);
                let file = add_source(Origin::File(name.clone()), Arc::from(text.as_str()));
                let slow = l.lower(&text, file, Path::new("/m"), FrontEnd::Rnix);
                let fast = l.lower(&text, file, Path::new("/m"), FrontEnd::Fast);
                n += 1;
                match (slow, fast) {
                    (Ok(a), Ok(b)) if a == b => accepted += 1,
                    (Ok(a), Ok(b)) => failures.push(format!("{}: ASTs differ\n{}", name, first_difference(&a, &b))),
                    (Err(e), Ok(_)) => {
                        failures.push(format!("{}: rnix fails ({}) but the fast parser accepts", name, e))
                    }
                    _ => {}
                }
            }
        }
        eprintln!("{} mutants, {} accepted by both with identical ASTs", n, accepted);
        failures
    });
    for f in failures.iter().take(20) {
        eprintln!("{}\n", f);
    }
    assert!(failures.is_empty(), "{} mutants differ between the front ends", failures.len());
}

/// `PARSE_DIFF_MUTANTS` (default 8) mutants per file.
fn mutants_per_file() -> usize {
    std::env::var("PARSE_DIFF_MUTANTS").ok().and_then(|s| s.parse().ok()).unwrap_or(8)
}
