//! The parent of `eval-jobs`: a queue of attribute paths shared by one thread per worker
//! process. Each thread sends a path to its worker, prints the job or error line that comes
//! back (whole lines, under the stdout lock, as each finishes), and queues a set's
//! attributes. A worker that asks to be replaced (`--max-memory-size`) or dies (a crash, a
//! signal) is replaced; a death in the middle of a path is that path's `error` line. With
//! `--shard I/N` only the roots (the attributes of the top-level set) of shard I are queued.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{Condvar, Mutex};

use super::options::Options;
use super::protocol::{output_line, request, Outcome, Reply};

#[derive(Default)]
struct State {
    queue: VecDeque<Vec<String>>,
    in_flight: usize,
    /// The root failed: every thread stops, the run fails with this message.
    fatal: Option<String>,
    jobs: u64,
    errors: u64,
    started: u64,
    restarts: u64,
    crashes: u64,
    max_rss_kib: u64,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

impl Shared {
    /// The next path to evaluate; `None` when all are done or the run failed.
    fn next(&self) -> Option<Vec<String>> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if s.fatal.is_some() {
                return None;
            }
            if let Some(p) = s.queue.pop_front() {
                s.in_flight += 1;
                return Some(p);
            }
            if s.in_flight == 0 {
                return None;
            }
            s = self.wake.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn finish(&self, children: Vec<Vec<String>>) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.queue.extend(children);
        s.in_flight -= 1;
        self.wake.notify_all();
    }

    fn fail(&self, msg: String) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.fatal.get_or_insert(msg);
        self.wake.notify_all();
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// A running worker process.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

enum Started {
    Ready(Worker),
    /// The root could not be evaluated (the worker's message).
    Fatal(String),
}

fn describe(status: Option<ExitStatus>) -> String {
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

impl Worker {
    fn start(args: &[String]) -> Result<Started, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find the rnix-eval binary: {e}"))?;
        let mut child = Command::new(exe)
            .arg("eval-jobs")
            .arg("--worker")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start an evaluation worker: {e}"))?;
        let stdin = child.stdin.take().expect("piped");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
        let mut line = String::new();
        let _ = stdout.read_line(&mut line);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or(serde_json::Value::Null);
        if v.get("ready").is_some() {
            return Ok(Started::Ready(Worker { child, stdin, stdout }));
        }
        if let Some(msg) = v.get("fatal").and_then(|m| m.as_str()) {
            let _ = child.wait();
            return Ok(Started::Fatal(msg.to_owned()));
        }
        let status = child.wait().ok();
        Err(format!("error: an evaluation worker {} while starting", describe(status)))
    }

    /// Sends `path` and reads the reply; `Err` with the worker's fate if it died.
    fn ask(&mut self, path: &[String]) -> Result<Reply, String> {
        let sent = writeln!(self.stdin, "{}", request(path)).and_then(|_| self.stdin.flush());
        let mut line = String::new();
        let read = sent.and_then(|_| self.stdout.read_line(&mut line));
        match read {
            Ok(n) if n > 0 => {
                Reply::parse(&line).ok_or_else(|| format!("sent an unreadable reply: {}", line.trim_end()))
            }
            _ => Err(describe(self.child.wait().ok())),
        }
    }

    fn stop(mut self) {
        drop(self.stdin);
        let _ = self.child.wait();
    }
}

/// One worker slot: starts workers as needed and works through the queue.
fn slot(shared: &Shared, o: &Options, args: &[String]) {
    let mut worker: Option<Worker> = None;
    while let Some(path) = shared.next() {
        let w = match worker.take() {
            Some(w) => w,
            None => match Worker::start(args) {
                Ok(Started::Ready(w)) => {
                    shared.with(|s| s.started += 1);
                    w
                }
                Ok(Started::Fatal(msg)) | Err(msg) => {
                    shared.fail(msg);
                    return;
                }
            },
        };
        let mut w = w;
        let (line, children) = match w.ask(&path) {
            Ok(reply) => {
                shared.with(|s| s.max_rss_kib = s.max_rss_kib.max(reply.rss_kib));
                if reply.restart {
                    shared.with(|s| s.restarts += 1);
                    w.stop();
                } else {
                    worker = Some(w);
                }
                match reply.outcome {
                    Outcome::Job(job) => {
                        shared.with(|s| s.jobs += 1);
                        (Some(output_line(&path, Ok(&job))), vec![])
                    }
                    Outcome::Error(e) => {
                        shared.with(|s| s.errors += 1);
                        (Some(output_line(&path, Err(&e))), vec![])
                    }
                    Outcome::Attrs(names) => {
                        let names = names.into_iter().enumerate().filter(|(i, _)| match o.shard {
                            Some(sh) if path.is_empty() => sh.owns(*i),
                            _ => true,
                        });
                        let children = names
                            .map(|(_, n)| {
                                let mut p = path.clone();
                                p.push(n);
                                p
                            })
                            .collect();
                        (None, children)
                    }
                }
            }
            Err(fate) => {
                shared.with(|s| {
                    s.crashes += 1;
                    s.errors += 1;
                });
                let msg = format!("error: the evaluation worker {fate} while evaluating this attribute");
                (Some(output_line(&path, Err(&msg))), vec![])
            }
        };
        if let Some(line) = line {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
        shared.finish(children);
    }
    if let Some(w) = worker {
        w.stop();
    }
}

pub fn main(o: &Options, args: &[String]) -> u8 {
    let shared = Shared { state: Mutex::new(State::default()), wake: Condvar::new() };
    shared.with(|s| s.queue.push_back(vec![]));
    let n = o.worker_count();
    std::thread::scope(|scope| {
        for _ in 0..n {
            scope.spawn(|| slot(&shared, o, args));
        }
    });
    let s = shared.state.into_inner().unwrap_or_else(|e| e.into_inner());
    if std::env::var_os("NIX_SHOW_STATS").is_some_and(|v| v != "0") {
        eprintln!(
            "{}",
            serde_json::json!({
                "jobs": s.jobs, "errors": s.errors, "workers": n, "workersStarted": s.started,
                "restarts": s.restarts, "crashes": s.crashes, "maxWorkerRssKiB": s.max_rss_kib,
            })
        );
    }
    match s.fatal {
        Some(msg) => {
            eprintln!("{msg}");
            1
        }
        None => 0,
    }
}
