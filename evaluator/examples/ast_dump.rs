//! Prints `PATH<TAB>HASH` of the lowered AST dump of every file named on stdin (or
//! `PATH<TAB>ERR message`), to compare front ends or lowering refactors across builds.
//! Unbound names are made globals one by one, so that files with free variables still lower.

use nix_eval::lower::{dump, parse_and_lower, LowerCtx};
use nix_eval::source::{add_source, normalize_source, Origin};
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
    for line in std::io::stdin().lock().lines() {
        let path = line.unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let text = normalize_source(&bytes);
        let file = add_source(Origin::File(path.clone()), Arc::from(text.as_str()));
        let dir = Path::new(&path).parent().unwrap();
        loop {
            let ctx = LowerCtx { globals: &globals, base_dir: dir, home: Some("/home/u"), outer_names: &[], lints: &[] };
            match parse_and_lower(&text, file, &ctx) {
                Ok(e) => {
                    let mut h = std::collections::hash_map::DefaultHasher::new();
                    dump(e).hash(&mut h);
                    println!("{}\t{:016x}", path, h.finish());
                }
                Err(err) => {
                    if let Some(name) = err.msg.strip_prefix("undefined variable '").and_then(|s| s.strip_suffix('\'')) {
                        let i = globals.len() as u32;
                        globals.insert(Symbol::new(name), i);
                        continue;
                    }
                    println!("{}\tERR {:?} {}", path, err.pos.split().map(|p| p.1), err.msg);
                }
            }
            break;
        }
    }
}
