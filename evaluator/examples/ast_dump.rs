//! Prints `PATH<TAB>HASH` of the lowered AST dump of every file named on stdin (or
//! `PATH<TAB>ERR message`), to compare front ends or lowering refactors across builds.
//! Unbound names are made globals one by one, so that files with free variables still lower.
//! `--as-parsed` skips the interning of all identifiers up front, so that the dumps (whose
//! bindings are sorted by symbol) also show the order in which lowering interns names.

use nix_eval::source::{add_source, normalize_source, Origin};
use nix_eval::testing::{dump, parse_and_lower, LowerCtx};
use nix_eval::Symbol;
use rustc_hash::FxHashMap;
use std::hash::{Hash, Hasher};
use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

fn main() {
    let mut globals: FxHashMap<Symbol, u32> = FxHashMap::default();
    for n in ["true", "false", "null", "builtins", "import", "__findFile", "__nixPath"] {
        let i = globals.len() as u32;
        globals.insert(Symbol::new(n), i);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let full = args.iter().any(|a| a == "--full");
    let as_parsed = args.iter().any(|a| a == "--as-parsed");
    let mut files = Vec::new();
    for line in std::io::stdin().lock().lines() {
        let path = line.unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let text = normalize_source(&bytes);
        let file = add_source(Origin::File(path.clone()), Arc::from(text.as_str()));
        files.push((path, text, file));
    }
    // Bindings are sorted by symbol, i.e. by interning order: intern identifiers in source
    // order first, so that the dumps do not depend on the order a front end interns them in.
    for (_, text, _) in files.iter().filter(|_| !as_parsed) {
        for (kind, t) in rnix::tokenize(text) {
            if kind == rnix::SyntaxKind::TOKEN_IDENT {
                Symbol::new(t);
            }
        }
    }
    // Pass 1: make every free variable a global, so that the dumps below do not depend on
    // the order in which they were discovered.
    for (path, text, file) in &files {
        let dir = Path::new(path).parent().unwrap();
        loop {
            let ctx =
                LowerCtx { globals: &globals, base_dir: dir, home: Some("/home/u"), outer_names: &[], lints: &[] };
            match parse_and_lower(text, *file, &ctx) {
                Err(err) => match err.msg.strip_prefix("undefined variable '").and_then(|s| s.strip_suffix('\'')) {
                    Some(name) => {
                        let i = globals.len() as u32;
                        globals.insert(Symbol::new(name), i);
                    }
                    None => break,
                },
                Ok(_) => break,
            }
        }
    }
    let mut names: Vec<Symbol> = globals.keys().copied().collect();
    names.sort_by_key(|s| s.as_str());
    let globals: FxHashMap<Symbol, u32> = names.into_iter().enumerate().map(|(i, s)| (s, i as u32)).collect();
    for (path, text, file) in &files {
        let dir = Path::new(path).parent().unwrap();
        let ctx = LowerCtx { globals: &globals, base_dir: dir, home: Some("/home/u"), outer_names: &[], lints: &[] };
        match parse_and_lower(text, *file, &ctx) {
            Ok(e) if full => println!("{}\t{}", path, dump(e)),
            Ok(e) => {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                dump(e).hash(&mut h);
                println!("{}\t{:016x}", path, h.finish());
            }
            Err(err) => println!("{}\tERR {:?} {}", path, err.pos.split().map(|p| p.1), err.msg),
        }
    }
}
