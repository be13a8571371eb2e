//! The argv rewrites clap cannot express, done before clap sees the command line:
//! - every Nix setting is also a flag in nix (`--cores 4`, `--sandbox`, `--no-sandbox`,
//!   `--extra-substituters X`): those not declared as options become `--option NAME VALUE`;
//! - options before the command move after it (global ones apply there too);
//! - a command line without a command that reads as `nix-instantiate`'s (`--eval`, `-A`,
//!   `-E`, a `.nix` file or `-`, …) runs `instantiate`, as it always has.

use clap::CommandFactory;
use nix_flake::cli::settings::{is_known, BOOL_SETTINGS};
use std::collections::BTreeMap;

/// Every declared option (`--long` and `-s`) and how many values it takes; the command
/// names.
fn declared() -> (BTreeMap<String, usize>, Vec<String>) {
    fn walk(cmd: &clap::Command, flags: &mut BTreeMap<String, usize>, names: &mut Vec<String>) {
        for a in cmd.get_arguments() {
            let n = if a.get_action().takes_values() {
                a.get_num_args().map(|r| r.min_values()).unwrap_or(1).max(1)
            } else {
                0
            };
            if let Some(l) = a.get_long() {
                flags.insert(format!("--{l}"), n);
            }
            for l in a.get_all_aliases().unwrap_or_default() {
                flags.insert(format!("--{l}"), n);
            }
            if let Some(s) = a.get_short() {
                flags.insert(format!("-{s}"), n);
            }
        }
        for sub in cmd.get_subcommands() {
            names.push(sub.get_name().to_owned());
            names.extend(sub.get_all_aliases().map(String::from));
            walk(sub, flags, names);
        }
    }
    let mut flags = BTreeMap::new();
    let mut names = vec!["help".to_owned()];
    walk(&crate::cli::Cli::command(), &mut flags, &mut names);
    (flags, names)
}

/// Flags that only `nix-instantiate` has: without a command, they mean `instantiate`.
const INSTANTIATE_FLAGS: &[&str] = &[
    "--eval",
    "--eval-only",
    "--parse",
    "--parse-only",
    "--find-file",
    "-E",
    "--expr",
    "-A",
    "--attr",
    "--strict",
    "--xml",
    "--arg",
    "--argstr",
    "-I",
    "--include",
    "-r",
    "--read-write-mode",
    "--readonly-mode",
    "--add-root",
];

fn is_flake_ref(s: &str) -> bool {
    s.contains('#')
        || ["path:", "git+", "github:", "gitlab:", "sourcehut:", "flake:", "tarball+", "file+"]
            .iter()
            .any(|p| s.starts_with(p))
        || std::path::Path::new(s).join("flake.nix").is_file()
}

/// `argv` with settings-as-flags turned into `--option` and `instantiate` inserted where
/// the command line is a bare nix-instantiate one.
pub fn rewrite(argv: Vec<String>) -> Vec<String> {
    let (flags, commands) = declared();
    let mut out = Vec::with_capacity(argv.len() + 2);
    let mut positionals = Vec::new();
    let mut instantiate_flag = false;
    let mut it = argv.into_iter();
    while let Some(a) = it.next() {
        if a == "--" {
            out.push(a);
            out.extend(it.by_ref());
            break;
        }
        if let Some(&n) = flags.get(a.as_str()) {
            instantiate_flag |= INSTANTIATE_FLAGS.contains(&a.as_str());
            out.push(a);
            for _ in 0..n {
                out.extend(it.next());
            }
            continue;
        }
        if let Some(name) = a.strip_prefix("--").filter(|n| !n.contains('=')) {
            let negated = name.strip_prefix("no-").filter(|n| BOOL_SETTINGS.contains(n));
            if let Some(n) = negated {
                out.extend(["--option".into(), n.to_owned(), "false".into()]);
                continue;
            }
            if BOOL_SETTINGS.contains(&name) {
                out.extend(["--option".into(), name.to_owned(), "true".into()]);
                continue;
            }
            if is_known(name) {
                let v = it.next().unwrap_or_default();
                out.extend(["--option".into(), name.to_owned(), v]);
                continue;
            }
        }
        if !a.starts_with('-') || a == "-" {
            positionals.push(a.clone());
        }
        out.push(a);
    }
    let first = first_positional_index(&out, &flags);
    let first_is_command = first.is_some_and(|i| commands.contains(&out[i]));
    if let (true, Some(i)) = (first_is_command, first) {
        // Options before the command (`rnix-eval --store D eval …`) are moved after it:
        // clap would otherwise read the command as the main command's INSTALLABLE.
        let command = out.remove(i);
        out.insert(0, command);
        return out;
    }
    let legacy =
        !first_is_command && (instantiate_flag || positionals.first().is_some_and(|p| p == "-" || !is_flake_ref(p)));
    if legacy {
        out.insert(0, "instantiate".into());
    }
    out
}

/// Where the first positional argument of `argv` is (skipping options and their values).
fn first_positional_index(argv: &[String], flags: &BTreeMap<String, usize>) -> Option<usize> {
    let mut i = 0;
    while i < argv.len() {
        let a = &argv[i];
        if let Some(&n) = flags.get(a.as_str()) {
            i += 1 + n;
        } else if a.starts_with('-') && a != "-" {
            i += 1;
        } else {
            return Some(i);
        }
    }
    None
}
