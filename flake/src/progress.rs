//! What long work shows on stderr: progress bars on a terminal, and the reference's log lines
//! with `-v`.
//!
//! A cold run copies large trees (nixpkgs) into the store and may download tarballs; without
//! feedback it looks hung. On a terminal (and unless `--quiet`) an [`Activity`] shows a spinner
//! or bar with the name and the bytes done (and the total when known). When stderr is not a
//! terminal nothing is shown: tests and scripts capture stderr and compare it. With `-v`
//! (verbosity ≥ 1) the lines CppNix 2.8 prints at that level are printed whatever stderr is:
//! `copying 'PATH'...`, `downloading 'URL'...`, `fetching Git repository 'URL'...`, and the evaluator's `evaluating file 'PATH'`
//! (see [`nix_eval::error::talk`]); `-vv` adds `copied source 'PATH' -> 'STORE PATH'`.
//!
//! The store crate knows nothing of this: copies report through the per-entry filter callback
//! of `Store::add_path` ([`Activity::visit`]), downloads through a wrapped reader.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Read};
use std::path::Path;
use std::time::Duration;

/// Set the verbosity of the whole process: 0 is the default, negative is `--quiet` (no
/// progress bars), positive is `-v` repeated (log lines as the reference prints them).
pub fn set_verbosity(level: i32) {
    nix_eval::error::set_verbosity(level);
}

/// The level set by [`set_verbosity`].
pub fn verbosity() -> i32 {
    nix_eval::error::verbosity()
}

/// Print `msg()` on stderr when the verbosity is at least `level` (1: `-v`, 2: `-vv`).
pub fn log(level: i32, msg: impl FnOnce() -> String) {
    nix_eval::error::talk(level, msg)
}

/// Whether bars are shown: stderr is a terminal and the run is not `--quiet`.
fn bars_enabled() -> bool {
    verbosity() >= 0 && std::io::stderr().is_terminal()
}

/// One piece of long work shown while it runs; the bar disappears when it is dropped.
pub struct Activity {
    bar: Option<ProgressBar>,
}

impl Activity {
    fn new(line: String, label: String, total: Option<u64>) -> Activity {
        log(1, || line);
        if !bars_enabled() {
            return Activity { bar: None };
        }
        let (bar, template) = match total {
            Some(n) if n > 0 => (ProgressBar::new(n), "{spinner} {msg} {bytes}/{total_bytes} {bar:30}"),
            _ => (ProgressBar::new_spinner(), "{spinner} {msg} {bytes}"),
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.set_message(label);
        bar.enable_steady_tick(Duration::from_millis(120));
        Activity { bar: Some(bar) }
    }

    /// Copying the tree or file at `path` into the store (`copying 'PATH'...` at `-v`, as
    /// the reference's path fetcher logs it).
    pub fn copying(path: &Path) -> Activity {
        let shown = path.display().to_string();
        Activity::new(format!("copying '{shown}'..."), format!("copying '{shown}' to the store"), None)
    }

    /// Downloading `url`, `total` bytes if the server said (`downloading 'URL'...` at `-v`).
    pub fn downloading(url: &str, total: Option<u64>) -> Activity {
        Activity::new(format!("downloading '{url}'..."), format!("downloading '{url}'"), total)
    }

    /// Fetching the Git repository at `url` (`fetching Git repository 'URL'...` at `-v`, as
    /// 2.8's Git fetcher logs it); a spinner, as `git fetch` reports no sizes to us.
    pub fn fetching_git(url: &str) -> Activity {
        Activity::new(format!("fetching Git repository '{url}'..."), format!("fetching Git repository '{url}'"), None)
    }

    /// Whether a bar is on screen (false when stderr is not a terminal or with `--quiet`).
    pub fn is_shown(&self) -> bool {
        self.bar.is_some()
    }

    /// Count `n` more bytes done.
    pub fn add_bytes(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    /// Count an entry a store copy visits (the filter callback of `Store::add_path`): the size
    /// of a regular file, looked up only when a bar is shown.
    pub fn visit(&self, entry: &Path) {
        if let Some(bar) = &self.bar {
            if let Ok(meta) = std::fs::symlink_metadata(entry) {
                if meta.is_file() {
                    bar.inc(meta.len());
                }
            }
        }
    }

    /// `reader`, counting the bytes read from it.
    pub fn wrap_read<'r>(&self, reader: Box<dyn Read + 'r>) -> Box<dyn Read + 'r> {
        match &self.bar {
            Some(bar) => Box::new(bar.wrap_read(reader)),
            None => reader,
        }
    }
}

impl Drop for Activity {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Under `cargo test` stderr is captured (not a terminal): no bar, and counting is a no-op.
    #[test]
    fn no_bar_without_a_terminal() {
        if std::io::stderr().is_terminal() {
            return;
        }
        let a = Activity::copying(Path::new("/nonexistent"));
        assert!(!a.is_shown());
        a.add_bytes(10);
        a.visit(Path::new("/nonexistent/x"));
        let mut r = a.wrap_read(Box::new(&b"abc"[..]));
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!(s, "abc");
    }
}
