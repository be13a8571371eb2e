//! Running one fuzz case as a child process under a time and a memory limit,
//! and deciding whether the way it ended is a finding.
//!
//! [`crate::process::run`] has the timeout but no memory limit; here the
//! child's resident set is watched (`/proc/PID/status`, every few
//! milliseconds) and the process group is killed past the limit. An address
//! space limit would be simpler but trips over allocators that reserve large
//! virtual ranges up front, so it is only a generous backstop. Core dumps are
//! disabled so a crashing child does not litter the temporary directory.

use crate::process::capped_reader;
use std::ffi::OsString;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::process::{signal_name, truncate};

extern "C" {
    // libc is linked by std anyway; declaring these avoids a dependency.
    fn kill(pid: i32, sig: i32) -> i32;
    fn setrlimit(resource: i32, rlim: *const [u64; 2]) -> i32;
    fn sysconf(name: i32) -> i64;
}
const SC_CLK_TCK: i32 = 2;
/// A child that uses little CPU (blocked, or starved on a loaded machine)
/// is still stopped after this many times its CPU time limit.
const WALL_CLOCK_FACTOR: u32 = 4;
const SIGKILL: i32 = 9;
const RLIMIT_CORE: i32 = 4;
const RLIMIT_AS: i32 = 9;

/// Default resident memory limit of a child run. Above 1 GiB on purpose:
/// `rnix-eval` evaluates on a thread with a 1 GiB stack, and a recursion
/// that ends at its stack guard ("stack overflow (possible infinite
/// recursion)", an orderly error) has touched nearly all of it.
pub const DEFAULT_MEMORY_MIB: u64 = 1536;

/// Output kept per stream; the rest is drained.
const OUTPUT_CAP: usize = 1 << 20;

/// Limits of one child run.
#[derive(Clone, Debug)]
pub struct Limits {
    /// CPU time (user + system), so that a loaded machine does not turn
    /// slow runs into findings; wall-clock time is capped at
    /// `WALL_CLOCK_FACTOR` times this.
    pub timeout: Duration,
    /// Resident set size limit in bytes.
    pub memory: u64,
}

/// How a child ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Exit status (0 and 1 are orderly; anything else is reported).
    Exit(i32),
    Signal(i32),
    Timeout,
    MemoryLimit,
    SpawnError(String),
}

#[derive(Clone, Debug)]
pub struct ChildRun {
    pub outcome: Outcome,
    pub stderr: Vec<u8>,
    pub duration: Duration,
    pub peak_rss: u64,
}

impl ChildRun {
    /// A short, stable description of the crash if this run is a finding:
    /// the kind plus, for panics, the `file:line` of the panic, so that
    /// findings can be grouped and a minimised input must reproduce the same
    /// one. None for an orderly exit (status 0 or 1 without a panic).
    pub fn signature(&self) -> Option<String> {
        let stderr = String::from_utf8_lossy(&self.stderr);
        let panic_at = panic_location(&stderr);
        match &self.outcome {
            Outcome::Exit(c) if panic_at.is_some() || *c == 101 => {
                Some(format!("panic at {}", panic_at.unwrap_or_else(|| "?".into())))
            }
            Outcome::Exit(0 | 1) => None,
            Outcome::Exit(c) => Some(format!("exit status {c}")),
            Outcome::Signal(s) => {
                let overflow = stderr.contains("overflowed its stack") || stderr.contains("stack overflow");
                Some(format!("signal {} ({}){}", s, signal_name(*s), if overflow { ", stack overflow" } else { "" }))
            }
            Outcome::Timeout => Some("timeout".into()),
            Outcome::MemoryLimit => Some("memory limit".into()),
            Outcome::SpawnError(e) => Some(format!("could not run: {e}")),
        }
    }

    /// One line for reports: the exit and the most telling stderr line.
    pub fn describe(&self) -> String {
        let stderr = String::from_utf8_lossy(&self.stderr);
        let line = stderr
            .lines()
            .skip_while(|l| !l.contains("panicked") && !l.contains("error"))
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        let line = if line.is_empty() { stderr.lines().next().unwrap_or("").to_string() } else { line };
        format!(
            "{:?} after {:.1}s, peak RSS {} MiB: {}",
            self.outcome,
            self.duration.as_secs_f64(),
            self.peak_rss >> 20,
            truncate(line.trim(), 200)
        )
    }
}

/// `src/x.rs:12:5` from "thread 'main' panicked at src/x.rs:12:5:".
fn panic_location(stderr: &str) -> Option<String> {
    let line = stderr.lines().find(|l| l.contains("panicked at"))?;
    let rest = &line[line.find("panicked at")? + "panicked at".len()..];
    let loc = rest.trim().trim_end_matches(':').trim_matches('\'');
    // Older formats: "panicked at 'msg', src/x.rs:1:2".
    let loc = loc.rsplit(", ").next().unwrap_or(loc);
    Some(loc.to_string())
}

/// User + system CPU time of a process, from `/proc/PID/stat`.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) in parentheses.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { sysconf(SC_CLK_TCK) }.max(1) as u64;
    Some(Duration::from_millis(ticks * 1000 / hz))
}

fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Run `program args` in `cwd` with `env` (on top of a minimal environment)
/// under `limits`; stdout is discarded (drained), stderr kept.
pub fn run_child(program: &Path, args: &[OsString], cwd: &Path, env: &[(String, String)], limits: &Limits) -> ChildRun {
    let start = Instant::now();
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(cwd).env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.process_group(0);
    let address_space = limits.memory.saturating_mul(8).max(16 << 30);
    // SAFETY: only async-signal-safe calls (setrlimit) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            setrlimit(RLIMIT_CORE, &[0, 0]);
            setrlimit(RLIMIT_AS, &[address_space, address_space]);
            Ok(())
        });
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return ChildRun {
                outcome: Outcome::SpawnError(format!("{}: {e}", program.display())),
                stderr: vec![],
                duration: start.elapsed(),
                peak_rss: 0,
            }
        }
    };
    let pid = child.id();
    let out_h = capped_reader(child.stdout.take().expect("piped stdout"), OUTPUT_CAP);
    let err_h = capped_reader(child.stderr.take().expect("piped stderr"), OUTPUT_CAP);
    let (tx, rx) = mpsc::channel();
    let wait_h = thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let mut peak = 0u64;
    let mut killed: Option<Outcome> = None;
    let mut poll = Duration::from_millis(2);
    let status = loop {
        match rx.recv_timeout(poll) {
            Ok(s) => break Some(s),
            Err(mpsc::RecvTimeoutError::Disconnected) => break None,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        poll = (poll * 2).min(Duration::from_millis(25));
        let rss = rss_bytes(pid).unwrap_or(0);
        peak = peak.max(rss);
        let over = if rss > limits.memory {
            Some(Outcome::MemoryLimit)
        } else if start.elapsed() > limits.timeout * WALL_CLOCK_FACTOR
            || (start.elapsed() > limits.timeout && cpu_time(pid).is_some_and(|t| t > limits.timeout))
        {
            Some(Outcome::Timeout)
        } else {
            None
        };
        if let Some(o) = over {
            // SAFETY: plain syscall on the process group we created.
            unsafe {
                kill(-(pid as i32), SIGKILL);
            }
            killed = Some(o);
            break rx.recv().ok();
        }
    };
    let duration = start.elapsed();
    let _ = wait_h.join();
    let _ = out_h.join();
    let stderr = err_h.join().unwrap_or_default();
    let outcome = match (killed, status) {
        (Some(o), _) => o,
        (None, None) => Outcome::SpawnError("lost the child".into()),
        (None, Some(Err(e))) => Outcome::SpawnError(format!("wait: {e}")),
        (None, Some(Ok(st))) => match (st.code(), st.signal()) {
            (Some(c), _) => Outcome::Exit(c),
            (None, Some(s)) => Outcome::Signal(s),
            _ => Outcome::SpawnError("unknown exit status".into()),
        },
    };
    // An allocation refused by the address-space backstop aborts the
    // process; that is the memory limit too.
    let outcome = match outcome {
        Outcome::Signal(6) if String::from_utf8_lossy(&stderr).contains("memory allocation of") => Outcome::MemoryLimit,
        o => o,
    };
    ChildRun { outcome, stderr, duration, peak_rss: peak }
}

/// A fresh, empty directory under the system temp dir.
pub fn temp_dir(tag: &str) -> std::io::Result<PathBuf> {
    let base = std::env::temp_dir();
    for i in 0..1000u32 {
        let d = base.join(format!("rnix-fuzz-{tag}-{}-{i}", std::process::id()));
        match std::fs::create_dir(&d) {
            Ok(()) => return Ok(d),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("no free temporary directory name"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stderr: &str, outcome: Outcome) -> ChildRun {
        ChildRun { outcome, stderr: stderr.as_bytes().to_vec(), duration: Duration::ZERO, peak_rss: 0 }
    }

    #[test]
    fn signatures() {
        assert_eq!(run("error: x", Outcome::Exit(1)).signature(), None);
        assert_eq!(run("", Outcome::Exit(0)).signature(), None);
        assert_eq!(
            run("thread 'main' panicked at evaluator/src/a.rs:3:9:\nboom", Outcome::Exit(101)).signature().as_deref(),
            Some("panic at evaluator/src/a.rs:3:9")
        );
        assert_eq!(run("", Outcome::Signal(11)).signature().as_deref(), Some("signal 11 (SIGSEGV)"));
        assert_eq!(run("", Outcome::Timeout).signature().as_deref(), Some("timeout"));
    }

    #[test]
    fn limits_are_enforced() {
        let dir = std::env::temp_dir();
        let sh = Path::new("/bin/sh");
        let quick = Limits { timeout: Duration::from_millis(300), memory: 1 << 30 };
        let r = run_child(sh, &["-c".into(), "sleep 5".into()], &dir, &[], &quick);
        assert_eq!(r.outcome, Outcome::Timeout);
        let busy = std::time::Instant::now();
        let r = run_child(sh, &["-c".into(), "while :; do :; done".into()], &dir, &[], &quick);
        assert_eq!(r.outcome, Outcome::Timeout);
        assert!(busy.elapsed() < Duration::from_secs(30));
        let r = run_child(sh, &["-c".into(), "exit 1".into()], &dir, &[], &quick);
        assert_eq!(r.outcome, Outcome::Exit(1));
        let r = run_child(sh, &["-c".into(), "kill -SEGV $$".into()], &dir, &[], &quick);
        assert_eq!(r.outcome, Outcome::Signal(11));
    }
}
