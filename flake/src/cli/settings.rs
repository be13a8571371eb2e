//! Nix settings given on the command line (`--option NAME VALUE`, or `--NAME VALUE` /
//! `--NAME` / `--no-NAME` as 2.8 accepts every setting as a flag): the ones that change
//! evaluation are applied to [`SessionOptions`], the other settings 2.8 knows are
//! accepted and ignored, and unknown names are reported for a warning.

use crate::cli::session::SessionOptions;

/// 2.8's boolean settings (`nix show-config`): as flags they take no value.
pub const BOOL_SETTINGS: &[&str] = &[
    "accept-flake-config",
    "allow-dirty",
    "allow-import-from-derivation",
    "allow-new-privileges",
    "allow-symlinked-store",
    "allow-unsafe-native-code-during-evaluation",
    "auto-optimise-store",
    "builders-use-substitutes",
    "compress-build-log",
    "enforce-determinism",
    "eval-cache",
    "fallback",
    "filter-syscalls",
    "fsync-metadata",
    "http2",
    "impersonate-linux-26",
    "keep-build-log",
    "keep-derivations",
    "keep-env-derivations",
    "keep-failed",
    "keep-going",
    "keep-outputs",
    "preallocate-contents",
    "print-missing",
    "pure-eval",
    "require-sigs",
    "restrict-eval",
    "run-diff-hook",
    "sandbox",
    "sandbox-fallback",
    "show-trace",
    "substitute",
    "sync-before-registering",
    "trace-function-calls",
    "use-case-hack",
    "use-registries",
    "use-sqlite-wal",
    "warn-dirty",
];

/// 2.8's other settings (`nix show-config`): as flags they take one value.
pub const VALUE_SETTINGS: &[&str] = &[
    "access-tokens",
    "allowed-impure-host-deps",
    "allowed-uris",
    "allowed-users",
    "bash-prompt",
    "bash-prompt-suffix",
    "build-hook",
    "build-poll-interval",
    "build-users-group",
    "builders",
    "commit-lockfile-summary",
    "connect-timeout",
    "cores",
    "diff-hook",
    "download-attempts",
    "experimental-features",
    "extra-platforms",
    "flake-registry",
    "gc-reserved-space",
    "hashed-mirrors",
    "http-connections",
    "ignored-acls",
    "log-lines",
    "max-build-log-size",
    "max-free",
    "max-jobs",
    "max-silent-time",
    "min-free",
    "min-free-check-interval",
    "nar-buffer-size",
    "narinfo-cache-negative-ttl",
    "narinfo-cache-positive-ttl",
    "netrc-file",
    "nix-path",
    "plugin-files",
    "post-build-hook",
    "pre-build-hook",
    "repeat",
    "sandbox-build-dir",
    "sandbox-dev-shm-size",
    "sandbox-paths",
    "secret-key-files",
    "stalled-download-timeout",
    "store",
    "substituters",
    "system",
    "system-features",
    "tarball-ttl",
    "timeout",
    "trusted-public-keys",
    "trusted-substituters",
    "trusted-users",
    "user-agent-suffix",
    // Ours: the evaluator's recursion limit.
    "max-call-depth",
];

/// Whether `name` (or the setting `extra-name` appends to) is a setting 2.8 knows.
pub fn is_known(name: &str) -> bool {
    let base = name.strip_prefix("extra-").unwrap_or(name);
    BOOL_SETTINGS.contains(&base) || VALUE_SETTINGS.contains(&base)
}

fn truth(v: &str) -> bool {
    v == "true" || v == "1"
}

/// Applies setting `name` = `value`; false if the name is unknown (the caller warns,
/// as 2.36 does with "unknown setting").
pub fn apply(o: &mut SessionOptions, name: &str, value: &str) -> bool {
    let words = || value.split_whitespace().map(String::from);
    match name {
        "pure-eval" => o.pure = truth(value),
        "restrict-eval" => o.restrict = truth(value),
        "show-trace" => o.show_trace = truth(value),
        "trace-function-calls" => o.trace_function_calls = truth(value),
        "allowed-uris" => o.allowed_uris = words().collect(),
        "extra-allowed-uris" => o.allowed_uris.extend(words()),
        "max-call-depth" => o.max_call_depth = value.parse().ok(),
        "store" => o.store = Some(value.to_owned()),
        "system" => o.system = Some(value.to_owned()),
        "flake-registry" => o.global_registry = Some(value.into()),
        "commit-lockfile-summary" => o.commit_lock_file_summary = Some(value.to_owned()),
        "nix-path" => o.nix_path_setting = Some(value.to_owned()),
        "experimental-features" | "extra-experimental-features" => o.experimental.extend(words()),
        "accept-flake-config" => o.accept_flake_config = truth(value),
        "allow-import-from-derivation" => o.forbid_ifd = !truth(value),
        _ => return is_known(name),
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_settings_apply_and_unknown_ones_are_reported() {
        let mut o = SessionOptions::default();
        assert!(apply(&mut o, "pure-eval", "true"));
        assert!(o.pure);
        assert!(apply(&mut o, "extra-allowed-uris", "https://a"));
        assert_eq!(o.allowed_uris, ["https://a"]);
        assert!(apply(&mut o, "cores", "4"));
        assert!(!apply(&mut o, "no-such-setting", "1"));
    }
}
