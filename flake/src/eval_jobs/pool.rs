//! Worker processes of the `rnix-eval` binary, shared by `eval-jobs`, `flake check -j N` and
//! `flake show -j N`: start one (`rnix-eval ARGS…`, answering `{"ready":true}` or
//! `{"fatal":…}` on stdout), send it one JSON request line at a time, read one JSON reply
//! line, and replace it when it asks to (`"restart": true`, its memory passed the limit)
//! or dies (a crash, a signal: an error for the request it was on).
//!
//! With stderr capture (the flake commands), a worker writes [`STDERR_END`] on stderr after
//! the stderr of each request (and after starting): what it printed for one request —
//! progress lines, warnings, errors, traces — comes back with that reply, so the parent
//! can print it in the order of a single-process run. [`map_ordered`] runs a fixed list of
//! requests on N workers and hands the results over in request order.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Condvar, Mutex};

use serde_json::{json, Value as Json};

/// The line a capturing worker writes on stderr after each request's stderr output.
pub const STDERR_END: &str = "\u{1e}rnix-eval-worker-stderr-end";

/// A flake command's worker is replaced after a unit that left it above this many MiB.
pub const DEFAULT_MAX_MEMORY_MIB: u64 = 4096;

/// The arguments of this process with `--worker` added: a flake command's workers run the
/// same command (same flake, options, store) in worker mode.
pub fn worker_args() -> Vec<String> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    args.push("--worker".into());
    args
}

/// How to start a worker.
#[derive(Clone, Debug)]
pub struct WorkerSpec {
    /// Arguments to the binary (the worker mode among them).
    pub args: Vec<String>,
    /// Pipe the worker's stderr and hand it back per request (else it is inherited).
    pub capture_stderr: bool,
}

/// A running worker process.
pub struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// Chunks of stderr, one per [`STDERR_END`] (the last one at end of file).
    stderr: Option<Receiver<String>>,
}

/// The outcome of starting a worker.
pub enum Started {
    /// The worker evaluated its root and waits for requests.
    Ready(Worker),
    /// The worker could not evaluate its root (its message).
    Fatal(String),
}

/// How a process ended, for messages (`exited with status 1`, `was killed by signal 9`).
pub fn describe(status: Option<ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Some(s) => match (s.code(), s.signal()) {
            (Some(c), _) => format!("exited with status {c}"),
            (_, Some(sig)) => format!("was killed by signal {sig}"),
            _ => "ended".into(),
        },
        None => "ended".into(),
    }
}

/// A thread that splits a worker's stderr at the [`STDERR_END`] lines.
fn stderr_chunks(stderr: std::process::ChildStderr) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let mut r = BufReader::new(stderr);
        let mut chunk = Vec::new();
        let mut line = Vec::new();
        loop {
            line.clear();
            match r.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if line.strip_suffix(b"\n").unwrap_or(&line) == STDERR_END.as_bytes() {
                        let text = String::from_utf8_lossy(&chunk).into_owned();
                        chunk.clear();
                        if tx.send(text).is_err() {
                            return;
                        }
                    } else {
                        chunk.extend_from_slice(&line);
                    }
                }
            }
        }
        let _ = tx.send(String::from_utf8_lossy(&chunk).into_owned());
    });
    rx
}

impl Worker {
    /// Starts a worker and waits for its first line. With capture, what it printed on
    /// stderr while starting is dropped (the parent already printed the same).
    pub fn start(spec: &WorkerSpec) -> Result<Started, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find the rnix-eval binary: {e}"))?;
        let mut child = Command::new(exe)
            .args(&spec.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(if spec.capture_stderr { Stdio::piped() } else { Stdio::inherit() })
            .spawn()
            .map_err(|e| format!("cannot start an evaluation worker: {e}"))?;
        let stdin = child.stdin.take().expect("piped");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
        let stderr = child.stderr.take().map(stderr_chunks);
        let mut line = String::new();
        let _ = stdout.read_line(&mut line);
        let v: Json = serde_json::from_str(&line).unwrap_or(Json::Null);
        let start_err = stderr.as_ref().map(|rx| rx.recv().unwrap_or_default()).unwrap_or_default();
        if v.get("ready").is_some() {
            return Ok(Started::Ready(Worker { child, stdin, stdout, stderr }));
        }
        if let Some(msg) = v.get("fatal").and_then(|m| m.as_str()) {
            let _ = child.wait();
            return Ok(Started::Fatal(msg.to_owned()));
        }
        let status = child.wait().ok();
        Err(format!("error: an evaluation worker {} while starting{}", describe(status), indent_tail(&start_err)))
    }

    /// Sends a request line and reads the reply, with the request's stderr (empty without
    /// capture). `Err` with the worker's fate (and the stderr it left) if it died.
    pub fn ask(&mut self, request: &str) -> Result<(Json, String), (String, String)> {
        let sent = writeln!(self.stdin, "{request}").and_then(|_| self.stdin.flush());
        let mut line = String::new();
        let read = sent.and_then(|_| self.stdout.read_line(&mut line));
        let err_text = self.stderr.as_ref().map(|rx| rx.recv().unwrap_or_default()).unwrap_or_default();
        match read {
            Ok(n) if n > 0 => match serde_json::from_str::<Json>(&line) {
                Ok(v) => Ok((v, err_text)),
                Err(_) => Err((format!("sent an unreadable reply: {}", line.trim_end()), err_text)),
            },
            _ => Err((describe(self.child.wait().ok()), err_text)),
        }
    }

    /// Closes its stdin and waits for it to exit.
    pub fn stop(mut self) {
        drop(self.stdin);
        let _ = self.child.wait();
    }
}

fn indent_tail(s: &str) -> String {
    let s = s.trim_end();
    if s.is_empty() {
        String::new()
    } else {
        format!(":\n{s}")
    }
}

/// Resident memory of this process, KiB (0 if unknown).
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(|l| l.to_owned()))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// The worker side for [`map_ordered`]: says `ready` (or `fatal`), then answers each
/// request line with `handle`'s reply, adding `"restart": true` (and exiting) when the
/// resident memory passed `limit_mib`. With `capture`, writes [`STDERR_END`] on stderr
/// after starting and after each request. The exit status.
pub fn serve(opened: Result<(), String>, capture: bool, limit_mib: u64, mut handle: impl FnMut(Json) -> Json) -> u8 {
    let end = || {
        if capture {
            eprintln!("{STDERR_END}");
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    end();
    if let Err(msg) = opened {
        let _ = writeln!(out, "{}", json!({ "fatal": msg.trim_end() }));
        return 1;
    }
    if writeln!(out, "{}", json!({ "ready": true })).and_then(|_| out.flush()).is_err() {
        return 1;
    }
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let Ok(request) = serde_json::from_str::<Json>(&line) else {
            eprintln!("error: evaluation worker: bad request '{line}'");
            return 1;
        };
        let mut reply = handle(request);
        let restart = rss_kib() > limit_mib.saturating_mul(1024);
        if let Json::Object(m) = &mut reply {
            m.insert("restart".into(), json!(restart));
        }
        end();
        if writeln!(out, "{reply}").and_then(|_| out.flush()).is_err() {
            return 1;
        }
        if restart {
            return 0;
        }
    }
    0
}

/// What came back for one request of [`map_ordered`].
pub enum Answer {
    /// The reply, and what the worker printed on stderr for it.
    Reply(Json, String),
    /// The worker died on it (`exited with status …`) or could not start (then the
    /// message is the whole error), with the stderr it left.
    Died(String, String),
}

struct Results {
    next: usize,
    done: Vec<Option<Answer>>,
}

/// Runs `requests` on `workers` worker processes, calling `on_answer` for each in request
/// order as soon as it and all before it are answered. Requests are handed out in order,
/// one at a time, so a slow one does not hold others back.
pub fn map_ordered(spec: &WorkerSpec, workers: usize, requests: &[String], mut on_answer: impl FnMut(usize, Answer)) {
    let results = Mutex::new(Results { next: 0, done: (0..requests.len()).map(|_| None).collect() });
    let wake = Condvar::new();
    let slot = || {
        let mut worker: Option<Worker> = None;
        loop {
            let i = {
                let mut r = results.lock().unwrap_or_else(|e| e.into_inner());
                if r.next >= requests.len() {
                    break;
                }
                r.next += 1;
                r.next - 1
            };
            let answer = match worker.take().map(|w| Ok(Started::Ready(w))).unwrap_or_else(|| Worker::start(spec)) {
                Ok(Started::Ready(mut w)) => match w.ask(&requests[i]) {
                    Ok((reply, err)) => {
                        if reply.get("restart").and_then(Json::as_bool) == Some(true) {
                            w.stop();
                        } else {
                            worker = Some(w);
                        }
                        Answer::Reply(reply, err)
                    }
                    Err((fate, err)) => Answer::Died(
                        format!("error: the evaluation worker {fate} while evaluating this attribute"),
                        err,
                    ),
                },
                Ok(Started::Fatal(msg)) | Err(msg) => Answer::Died(msg, String::new()),
            };
            let mut r = results.lock().unwrap_or_else(|e| e.into_inner());
            r.done[i] = Some(answer);
            wake.notify_all();
        }
        if let Some(w) = worker {
            w.stop();
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..workers.clamp(1, requests.len().max(1)) {
            scope.spawn(slot);
        }
        for i in 0..requests.len() {
            let answer = {
                let mut r = results.lock().unwrap_or_else(|e| e.into_inner());
                loop {
                    if let Some(a) = r.done[i].take() {
                        break a;
                    }
                    r = wake.wait(r).unwrap_or_else(|e| e.into_inner());
                }
            };
            on_answer(i, answer);
        }
    });
}
