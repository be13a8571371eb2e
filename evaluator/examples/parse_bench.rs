//! Times parsing + lowering of the files named on stdin with each front end (e.g. the 2197
//! files a NixOS desktop evaluation reads): `parse_bench [fast|rnix|both] < files.txt`;
//! `bench/parse.py` makes those lists. Prints the best thread CPU time of `ROUNDS` rounds
//! (default 5) and the throughput in MB of source per CPU second.

use nix_eval::source::{add_source, normalize_source, Origin};
use nix_eval::testing::{parse_and_lower_with, FrontEnd, LowerCtx};
use nix_eval::Symbol;
use rustc_hash::FxHashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

// The evaluator binary's allocator, so that allocation costs are representative.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// CPU time of this thread in nanoseconds (the machine is shared: wall time is noisy).
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// Resident memory in MB.
fn rss_mb() -> f64 {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    s.split_whitespace().nth(1).and_then(|n| n.parse::<f64>().ok()).unwrap_or(0.0) * 4096.0 / 1e6
}

fn main() {
    let which = std::env::args().nth(1).unwrap_or_else(|| "both".into());
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    let t = Instant::now();
    for line in std::io::stdin().lock().lines() {
        let path = PathBuf::from(line.unwrap());
        // As the evaluator reads a file: UTF-8 as is, unless it has CRs or invalid bytes.
        let bytes = std::fs::read(&path).unwrap();
        let text = match String::from_utf8(bytes) {
            Ok(s) if !s.contains('\r') => s,
            Ok(s) => normalize_source(s.as_bytes()),
            Err(e) => normalize_source(e.as_bytes()),
        };
        files.push((path, text));
    }
    let bytes: usize = files.iter().map(|f| f.1.len()).sum();
    eprintln!("read {} files, {:.1} MB in {:.1?}", files.len(), bytes as f64 / 1e6, t.elapsed());
    // Free variables resolve to globals; a name never seen is an error either way.
    let mut globals: FxHashMap<Symbol, u32> = FxHashMap::default();
    for (i, n) in [
        "true",
        "false",
        "null",
        "builtins",
        "import",
        "__findFile",
        "__nixPath",
        "map",
        "toString",
        "derivation",
        "abort",
        "throw",
        "baseNameOf",
        "dirOf",
        "isNull",
        "removeAttrs",
        "fetchTarball",
        "placeholder",
        "scopedImport",
    ]
    .iter()
    .enumerate()
    {
        globals.insert(Symbol::new(n), i as u32);
    }
    let fronts: &[FrontEnd] = match which.as_str() {
        "fast" => &[FrontEnd::Fast],
        "rnix" => &[FrontEnd::Rnix],
        _ => &[FrontEnd::Rnix, FrontEnd::Fast],
    };
    let rounds: usize = std::env::var("ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    for &front in fronts {
        let mut best = std::time::Duration::MAX;
        for _ in 0..rounds {
            let ids: Vec<_> = files
                .iter()
                .map(|(p, t)| add_source(Origin::File(p.display().to_string()), Arc::from(t.as_str())))
                .collect();
            let t = Instant::now();
            let c = cpu_ns();
            let mut errors = 0;
            for ((path, text), id) in files.iter().zip(ids) {
                let ctx = LowerCtx {
                    globals: &globals,
                    base_dir: path.parent().unwrap_or(Path::new("/")),
                    home: None,
                    outer_names: &[],
                    lints: &[],
                };
                if parse_and_lower_with(text, id, &ctx, front).is_err() {
                    errors += 1;
                }
            }
            let _ = t;
            best = best.min(std::time::Duration::from_nanos(cpu_ns() - c));
            if errors > 0 {
                eprintln!("{} errors", errors);
            }
        }
        eprintln!(
            "{:?}: best of {} rounds {:.1?} CPU, {:.1} MB/s; RSS now {:.0} MB",
            front,
            rounds,
            best,
            bytes as f64 / 1e6 / best.as_secs_f64(),
            rss_mb()
        );
    }
}
