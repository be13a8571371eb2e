//! Worker processes of the `rnix-eval` binary, shared by `eval-jobs`, `flake check -j N` and
//! `flake show -j N`: start one (`rnix-eval ARGS…`, answering `{"ready":true}` or
//! `{"fatal":…}` on stdout), send it one JSON request line at a time, read one JSON reply
//! line, and replace it to keep it under its memory limit ([`Slot`], [`super::memory`]) or
//! when it dies (a crash, a signal: an error for the request it was on).
//!
//! With stderr capture (the flake commands), a worker writes [`STDERR_END`] on stderr after
//! the stderr of each request (and after starting): what it printed for one request —
//! progress lines, warnings, errors, traces — comes back with that reply, so the parent
//! can print it in the order of a single-process run. [`map_ordered`] runs a fixed list of
//! requests on N workers and hands the results over in request order.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use serde_json::{json, Value as Json};

use super::memory::{Budget, Guard, JobMemory};

/// The line a capturing worker writes on stderr after each request's stderr output.
pub const STDERR_END: &str = "\u{1e}rnix-eval-worker-stderr-end";

/// A flake command's workers are kept under this many MiB ([`super::memory`]).
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
    /// Jobs it answered, what its last one left, and the largest growth of one of them.
    jobs: u64,
    last: Option<JobMemory>,
    max_growth_kib: u64,
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
            return Ok(Started::Ready(Worker { child, stdin, stdout, stderr, jobs: 0, last: None, max_growth_kib: 0 }));
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

/// The worker side for [`map_ordered`] and `eval-jobs`: says `ready` (or `fatal`), then
/// answers each request line with `handle`'s reply, adding what the job did to the memory
/// ([`JobMemory`]) and `"restart": true` (then exiting) when its peak passed `limit_mib`;
/// a [`Guard`] stops a warm worker that reaches the limit during a job with a `retry`
/// reply. With `capture`, writes [`STDERR_END`] on stderr after starting and after each
/// request. The exit status.
pub fn serve(opened: Result<(), String>, capture: bool, limit_mib: u64, mut handle: impl FnMut(Json) -> Json) -> u8 {
    let end = || {
        if capture {
            eprintln!("{STDERR_END}");
        }
    };
    let write = |line: &Json| {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}").and_then(|_| out.flush()).is_ok()
    };
    end();
    if let Err(msg) = opened {
        write(&json!({ "fatal": msg.trim_end() }));
        return 1;
    }
    if !write(&json!({ "ready": true })) {
        return 1;
    }
    let limit_kib = limit_mib.saturating_mul(1024);
    let mut guard = Guard::start(limit_kib, capture.then_some(STDERR_END));
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let Ok(request) = serde_json::from_str::<Json>(&line) else {
            eprintln!("error: evaluation worker: bad request '{line}'");
            return 1;
        };
        guard.begin();
        let mut reply = handle(request);
        let memory = guard.end();
        // The backstop: a worker that passed the limit anyway does not take another job.
        let restart = memory.peak_kib > limit_kib;
        if let Json::Object(m) = &mut reply {
            memory.insert_into(m);
            m.insert("restart".into(), json!(restart));
        }
        end();
        if !write(&reply) {
            return 1;
        }
        if restart {
            return 0;
        }
    }
    0
}

/// The error of a request whose worker died on it (`fate`: `exited with status …`).
pub fn died_message(fate: &str) -> String {
    format!("error: the evaluation worker {fate} while evaluating this attribute")
}

/// What a [`Slot`] got for a request.
pub enum Asked {
    /// The reply, and what the worker printed on stderr for it.
    Reply(Json, String),
    /// The worker died on it (`exited with status …`), with the stderr it left.
    Died(String, String),
    /// No worker could be started: the message is the whole error.
    StartFailed(String),
}

/// A place for one worker at a time: starts one when needed and keeps it under the
/// memory [`Budget`] — replaced before a job it would likely not finish under the limit,
/// after a job that passed it, and a job it was stopped in is asked again of a fresh one.
pub struct Slot<'a> {
    spec: &'a WorkerSpec,
    budget: &'a Budget,
    worker: Option<Worker>,
    /// Workers this slot started.
    pub started: u64,
    /// The seconds starting them took.
    pub startup_s: f64,
}

impl<'a> Slot<'a> {
    /// A slot that starts workers of `spec` under `budget`, none running yet.
    pub fn new(spec: &'a WorkerSpec, budget: &'a Budget) -> Slot<'a> {
        Slot { spec, budget, worker: None, started: 0, startup_s: 0.0 }
    }

    /// Starts a worker if there is none; the message if none can start.
    pub fn ensure(&mut self) -> Result<(), String> {
        if self.worker.is_some() {
            return Ok(());
        }
        let t = Instant::now();
        let started = Worker::start(self.spec);
        self.startup_s += t.elapsed().as_secs_f64();
        match started {
            Ok(Started::Ready(w)) => {
                self.started += 1;
                self.worker = Some(w);
                Ok(())
            }
            Ok(Started::Fatal(msg)) | Err(msg) => Err(msg),
        }
    }

    /// Sends `request` to a worker that is expected to stay under the limit and returns
    /// the reply.
    pub fn ask(&mut self, request: &str) -> Asked {
        if let Some(w) = &self.worker {
            if let Some(last) = &w.last {
                if self.budget.predicts_overrun(last, w.max_growth_kib) {
                    self.budget.predictive_restarts.fetch_add(1, Ordering::Relaxed);
                    self.stop();
                }
            }
        }
        loop {
            if let Err(msg) = self.ensure() {
                return Asked::StartFailed(msg);
            }
            let mut w = self.worker.take().expect("started");
            match w.ask(request) {
                Ok((reply, err)) => {
                    let memory = JobMemory::from_reply(&reply);
                    if reply.get("retry").and_then(Json::as_bool) == Some(true) {
                        let fresh = w.jobs == 0;
                        w.stop();
                        if fresh {
                            // A fresh worker's guard is never armed: not a retry, a fault.
                            return Asked::Died("stopped on its first job".into(), err);
                        }
                        self.budget.retries.fetch_add(1, Ordering::Relaxed);
                        self.budget.max_peak_kib.fetch_max(memory.peak_kib, Ordering::Relaxed);
                        continue;
                    }
                    self.budget.record(&memory, w.jobs);
                    w.jobs += 1;
                    w.max_growth_kib = w.max_growth_kib.max(memory.growth_kib);
                    w.last = Some(memory);
                    if reply.get("restart").and_then(Json::as_bool) == Some(true) {
                        w.stop();
                    } else {
                        self.worker = Some(w);
                    }
                    return Asked::Reply(reply, err);
                }
                Err((fate, err)) => return Asked::Died(fate, err),
            }
        }
    }

    /// Stops the worker, if any.
    pub fn stop(&mut self) {
        if let Some(w) = self.worker.take() {
            w.stop();
        }
    }
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
/// one at a time, so a slow one does not hold others back. Workers are kept under
/// [`DEFAULT_MAX_MEMORY_MIB`] (the limit their [`serve`] is given) as [`Slot`] does.
pub fn map_ordered(spec: &WorkerSpec, workers: usize, requests: &[String], mut on_answer: impl FnMut(usize, Answer)) {
    let results = Mutex::new(Results { next: 0, done: (0..requests.len()).map(|_| None).collect() });
    let wake = Condvar::new();
    let budget = Budget::new(DEFAULT_MAX_MEMORY_MIB);
    let slot = || {
        let mut slot = Slot::new(spec, &budget);
        loop {
            let i = {
                let mut r = results.lock().unwrap_or_else(|e| e.into_inner());
                if r.next >= requests.len() {
                    break;
                }
                r.next += 1;
                r.next - 1
            };
            let answer = match slot.ask(&requests[i]) {
                Asked::Reply(reply, err) => Answer::Reply(reply, err),
                Asked::Died(fate, err) => Answer::Died(died_message(&fate), err),
                Asked::StartFailed(msg) => Answer::Died(msg, String::new()),
            };
            let mut r = results.lock().unwrap_or_else(|e| e.into_inner());
            r.done[i] = Some(answer);
            wake.notify_all();
        }
        slot.stop();
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
