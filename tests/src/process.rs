//! Running a child process with a timeout, capturing its output, and
//! classifying how it ended (exit code, signal, timeout, panic).

use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// At most this many bytes of stdout/stderr are kept (the rest is drained).
pub const OUTPUT_CAP: usize = 32 << 20;

extern "C" {
    // libc is linked by std anyway; declaring it avoids a dependency.
    fn kill(pid: i32, sig: i32) -> i32;
}
const SIGKILL: i32 = 9;

/// What to feed on stdin.
#[derive(Clone, Debug)]
pub enum Input {
    Null,
    File(PathBuf),
    Bytes(Vec<u8>),
}

/// A command to run.
#[derive(Clone, Debug)]
pub struct RunSpec {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub cwd: PathBuf,
    /// Variables set on top of the (sanitised) inherited environment.
    pub env: Vec<(String, String)>,
    pub stdin: Input,
    pub timeout: Duration,
}

impl RunSpec {
    pub fn new(program: impl Into<PathBuf>, cwd: impl Into<PathBuf>) -> Self {
        RunSpec {
            program: program.into(),
            args: Vec::new(),
            cwd: cwd.into(),
            env: Vec::new(),
            stdin: Input::Null,
            timeout: Duration::from_secs(10),
        }
    }
    pub fn arg(mut self, a: impl Into<OsString>) -> Self {
        self.args.push(a.into());
        self
    }
    pub fn args<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, it: I) -> Self {
        self.args.extend(it.into_iter().map(Into::into));
        self
    }
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.to_string(), v.to_string()));
        self
    }
    pub fn stdin(mut self, i: Input) -> Self {
        self.stdin = i;
        self
    }
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }
    /// A shell-like rendering, for messages.
    pub fn display(&self) -> String {
        let mut s = String::new();
        for (k, v) in &self.env {
            s.push_str(&format!("{k}={} ", shell_quote(v)));
        }
        s.push_str(&shell_quote(&self.program.to_string_lossy()));
        for a in &self.args {
            s.push(' ');
            s.push_str(&shell_quote(&a.to_string_lossy()));
        }
        match &self.stdin {
            Input::File(p) => s.push_str(&format!(" < {}", shell_quote(&p.to_string_lossy()))),
            Input::Bytes(_) => s.push_str(" < (bytes)"),
            Input::Null => {}
        }
        s
    }
}

pub fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
    Timeout,
    SpawnError(String),
}

#[derive(Clone, Debug)]
pub struct RunOutput {
    pub exit: Exit,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub duration: Duration,
}

impl RunOutput {
    pub fn code(&self) -> Option<i32> {
        match self.exit {
            Exit::Code(c) => Some(c),
            _ => None,
        }
    }
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
    /// Rust panic: exit status 101 or "panicked" on stderr.
    pub fn panicked(&self) -> bool {
        self.code() == Some(101) || contains(&self.stderr, b"panicked")
    }
    /// Panic, signal (stack overflow = SIGSEGV/SIGABRT), timeout or spawn error.
    /// Returns a one-line description, or None for an orderly exit.
    pub fn crash(&self) -> Option<String> {
        match &self.exit {
            Exit::Signal(s) => {
                Some(format!("killed by signal {s} ({}){}", signal_name(*s), first_line_suffix(&self.stderr)))
            }
            Exit::Timeout => Some(format!("timed out after {:.1}s", self.duration.as_secs_f64())),
            Exit::SpawnError(e) => Some(format!("could not run: {e}")),
            Exit::Code(_) if self.panicked() => {
                Some(format!("panicked (exit {}){}", self.code().unwrap_or(-1), panic_line_suffix(&self.stderr)))
            }
            Exit::Code(_) => None,
        }
    }
    /// One-line description of the exit for reasons.
    pub fn describe_exit(&self) -> String {
        match &self.exit {
            Exit::Code(c) => format!("exit status {c}"),
            Exit::Signal(s) => format!("killed by signal {s} ({})", signal_name(*s)),
            Exit::Timeout => format!("timed out after {:.1}s", self.duration.as_secs_f64()),
            Exit::SpawnError(e) => format!("could not run: {e}"),
        }
    }
}

pub fn signal_name(s: i32) -> &'static str {
    match s {
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        _ => "signal",
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn first_line_suffix(stderr: &[u8]) -> String {
    let s = String::from_utf8_lossy(stderr);
    match s.lines().find(|l| !l.trim().is_empty()) {
        Some(l) => format!(": {}", truncate(l.trim(), 160)),
        None => String::new(),
    }
}

fn panic_line_suffix(stderr: &[u8]) -> String {
    let s = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = s.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        if l.contains("panicked") {
            // Since Rust 1.73 the message is on the next line.
            let msg = lines.get(i + 1).map(|m| m.trim()).unwrap_or("");
            return format!(": {} {}", truncate(l.trim(), 120), truncate(msg, 120));
        }
    }
    first_line_suffix(stderr)
}

/// Make text printable on one line: newlines become `⏎`, other control
/// characters `\u{..}` escapes.
pub fn one_line(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => o.push('⏎'),
            '\t' => o.push(' '),
            c if c.is_control() => o.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => o.push(c),
        }
    }
    o
}

/// Truncate to at most `n` characters, appending `…`.
pub fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n).collect();
        t.push('…');
        t
    }
}

/// Reads `r` to its end on a thread, keeping at most the first `cap` bytes (the rest is read
/// and dropped, so the child never blocks on a full pipe).
pub(crate) fn capped_reader<R: Read + Send + 'static>(mut r: R, cap: usize) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut out = Vec::new();
        let mut buf = [0u8; 65536];
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let take = n.min(cap.saturating_sub(out.len()));
                    out.extend_from_slice(&buf[..take]);
                }
            }
        }
        out
    })
}

/// Environment variables removed from the inherited environment, so the
/// user's Nix configuration cannot leak into the runs.
fn scrub(name: &str) -> bool {
    name.starts_with("NIX_") || name.starts_with("XDG_") || name == "RUST_BACKTRACE" || name == "RUST_LIB_BACKTRACE"
}

/// Run `spec`, killing the child's whole process group on timeout.
pub fn run(spec: &RunSpec) -> RunOutput {
    let start = Instant::now();
    let mut cmd = Command::new(&spec.program);
    cmd.args(&spec.args).current_dir(&spec.cwd);
    for (k, _) in std::env::vars_os() {
        if let Some(k) = k.to_str() {
            if scrub(k) {
                cmd.env_remove(k);
            }
        }
    }
    for (k, v) in &spec.env {
        cmd.env(k, v);
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut feed: Option<Vec<u8>> = None;
    match &spec.stdin {
        Input::Null => {
            cmd.stdin(Stdio::null());
        }
        Input::File(p) => match File::open(p) {
            Ok(f) => {
                cmd.stdin(Stdio::from(f));
            }
            Err(e) => {
                return RunOutput {
                    exit: Exit::SpawnError(format!("opening {}: {e}", p.display())),
                    stdout: vec![],
                    stderr: vec![],
                    duration: start.elapsed(),
                }
            }
        },
        Input::Bytes(b) => {
            cmd.stdin(Stdio::piped());
            feed = Some(b.clone());
        }
    }
    // Own process group, so a timeout also kills grandchildren (wrapper scripts).
    cmd.process_group(0);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return RunOutput {
                exit: Exit::SpawnError(format!("{}: {e}", spec.program.display())),
                stdout: vec![],
                stderr: vec![],
                duration: start.elapsed(),
            }
        }
    };
    let pid = child.id() as i32;
    let out_h = capped_reader(child.stdout.take().unwrap(), OUTPUT_CAP);
    let err_h = capped_reader(child.stderr.take().unwrap(), OUTPUT_CAP);
    let in_h = match (feed, child.stdin.take()) {
        (Some(bytes), Some(mut stdin)) => Some(thread::spawn(move || {
            let _ = stdin.write_all(&bytes);
        })),
        _ => None,
    };
    let (tx, rx) = mpsc::channel();
    let wait_h = thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let status = match rx.recv_timeout(spec.timeout) {
        Ok(s) => Some(s),
        Err(_) => {
            // SAFETY: plain syscall on the process group we created.
            unsafe {
                kill(-pid, SIGKILL);
            }
            let _ = rx.recv();
            None
        }
    };
    let duration = start.elapsed();
    let _ = wait_h.join();
    let stdout = out_h.join().unwrap_or_default();
    let stderr = err_h.join().unwrap_or_default();
    if let Some(h) = in_h {
        let _ = h.join();
    }
    let exit = match status {
        None => Exit::Timeout,
        Some(Err(e)) => Exit::SpawnError(format!("wait: {e}")),
        Some(Ok(st)) => match (st.code(), st.signal()) {
            (Some(c), _) => Exit::Code(c),
            (None, Some(s)) => Exit::Signal(s),
            _ => Exit::SpawnError("unknown exit status".into()),
        },
    };
    RunOutput { exit, stdout, stderr, duration }
}
