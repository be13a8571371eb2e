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

use nix_eval::lower::{dump, parse_and_lower_with, FrontEnd, LowerCtx};
use nix_eval::source::{add_source, normalize_source, FileId, Origin};
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
            let ctx = LowerCtx { globals: &self.globals, base_dir: dir, home: Some("/home/u"), outer_names: &[], lints: &[] };
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
                    (Ok(a), Ok(b)) => failures.push(format!("{}: ASTs differ\n{}", path.display(), first_difference(&a, &b))),
                    (Ok(_), Err(e)) => {
                        declined += 1;
                        if must_accept {
                            failures.push(format!("{}: declined by the fast parser ({})", path.display(), e));
                        }
                    }
                    (Err(e), Ok(_)) => failures.push(format!("{}: rnix fails ({}) but the fast parser accepts", path.display(), e)),
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
