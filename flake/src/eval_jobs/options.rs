//! The command line of `eval-jobs`: nix-eval-jobs' flags (`--flake`, `--expr`, a file,
//! `--workers`, `--max-memory-size`, `--gc-roots-dir`, `--force-recurse`, `--meta`,
//! `--impure`, `--override-input`, `-I`, `--arg`, `--argstr`, `--show-trace`), plus
//! `--shard I/N` and `--store`. Workers get the same arguments with `--worker`.

use clap::Parser;
use std::path::PathBuf;

/// `--shard I/N`: this run evaluates the roots whose sorted index is `I-1` modulo `N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: usize,
    /// The number of shards.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("invalid shard '{s}': expected I/N with 1 <= I <= N");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// Whether the root at `position` (in sorted order) belongs to this shard.
    pub fn owns(&self, position: usize) -> bool {
        position % self.count == self.index - 1
    }
}

#[derive(Parser, Debug, Clone)]
#[command(
    name = "rnix-eval eval-jobs",
    about = "Evaluate the jobs of an attribute set in parallel worker processes; one JSON line per job"
)]
/// The command line of `eval-jobs` (nix-eval-jobs' flags and `--shard`).
pub struct Options {
    /// The flake and attribute to evaluate, `REF#ATTR` (e.g. `.#hydraJobs`).
    #[arg(long, value_name = "REF#ATTR")]
    pub flake: Option<String>,
    /// An expression to evaluate instead of a file.
    #[arg(long, short = 'E', value_name = "EXPR")]
    pub expr: Option<String>,
    /// Worker processes (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// A worker whose resident memory passes this many MiB after a job is replaced.
    #[arg(long, value_name = "MiB", default_value_t = 4096)]
    pub max_memory_size: u64,
    /// Make a GC root `DIR/NAME.drv` for every derivation (local stores).
    #[arg(long, value_name = "DIR")]
    pub gc_roots_dir: Option<PathBuf>,
    /// Recurse into every attribute set, not only those with `recurseForDerivations = true`.
    #[arg(long)]
    pub force_recurse: bool,
    /// Include each derivation's `meta` as JSON.
    #[arg(long)]
    pub meta: bool,
    /// Allow impure evaluation (default for files and expressions; flakes are pure).
    #[arg(long)]
    pub impure: bool,
    /// Override a flake input: `--override-input INPUT REF`.
    #[arg(long, num_args = 2, value_names = ["INPUT", "REF"], action = clap::ArgAction::Append, allow_hyphen_values = true)]
    pub override_input: Vec<String>,
    /// Add to the search path (`-I prefix=path`).
    #[arg(short = 'I', long = "include", value_name = "PATH")]
    pub include: Vec<String>,
    /// Pass `NAME = EXPR` to the top-level function.
    #[arg(long, num_args = 2, value_names = ["NAME", "EXPR"], action = clap::ArgAction::Append, allow_hyphen_values = true)]
    pub arg: Vec<String>,
    /// Pass `NAME = "STRING"` to the top-level function.
    #[arg(long, num_args = 2, value_names = ["NAME", "STRING"], action = clap::ArgAction::Append, allow_hyphen_values = true)]
    pub argstr: Vec<String>,
    /// Errors with their full stack.
    #[arg(long)]
    pub show_trace: bool,
    /// Evaluate only shard I of N of the roots (the attributes of the selected set).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// The store `.drv` files are written to (as `--store` of the other commands).
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// Accepted for compatibility with nix-eval-jobs; the same with or without.
    #[arg(long, hide = true)]
    pub check_cache_status: bool,
    /// Internal: run as a worker of another `eval-jobs` process.
    #[arg(long, hide = true)]
    pub worker: bool,
    /// A Nix file to evaluate (default `./default.nix` without `--flake`/`--expr`).
    #[arg(value_name = "FILE")]
    pub file: Option<String>,
}

impl Options {
    /// Rejects contradictory options.
    pub fn check(&self) -> Result<(), String> {
        let sources = [self.flake.is_some(), self.expr.is_some(), self.file.is_some()];
        if sources.iter().filter(|b| **b).count() > 1 {
            return Err("give only one of --flake, --expr and a file".into());
        }
        if self.workers == Some(0) {
            return Err("--workers must be at least 1".into());
        }
        Ok(())
    }

    /// The number of worker processes.
    pub fn worker_count(&self) -> usize {
        self.workers.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
    }

    /// `--override-input` as pairs.
    pub fn overrides(&self) -> Vec<(String, String)> {
        pairs(&self.override_input)
    }

    /// `--arg` and `--argstr` as (name, value, is-string), in command-line order per kind.
    pub fn auto_args(&self) -> Vec<(String, String, bool)> {
        let mut v: Vec<(String, String, bool)> = pairs(&self.arg).into_iter().map(|(n, e)| (n, e, false)).collect();
        v.extend(pairs(&self.argstr).into_iter().map(|(n, s)| (n, s, true)));
        v
    }
}

fn pairs(v: &[String]) -> Vec<(String, String)> {
    v.chunks(2).filter(|c| c.len() == 2).map(|c| (c[0].clone(), c[1].clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_parses_and_splits_all_positions_once() {
        assert!("0/3".parse::<Shard>().is_err());
        assert!("4/3".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
        let shards: Vec<Shard> = (1..=3).map(|i| format!("{i}/3").parse().unwrap()).collect();
        for pos in 0..10 {
            assert_eq!(shards.iter().filter(|s| s.owns(pos)).count(), 1);
        }
    }

    #[test]
    fn pairs_of_repeated_two_value_flags() {
        let o = Options::try_parse_from([
            "x",
            "--arg",
            "a",
            "1",
            "--argstr",
            "b",
            "two",
            "--override-input",
            "nixpkgs",
            "path:/x",
            "--arg",
            "c",
            "3",
        ])
        .unwrap();
        assert_eq!(
            o.auto_args(),
            vec![("a".into(), "1".into(), false), ("c".into(), "3".into(), false), ("b".into(), "two".into(), true)]
        );
        assert_eq!(o.overrides(), vec![("nixpkgs".into(), "path:/x".into())]);
    }
}
