//! The parent of `eval-jobs`: a queue of attribute paths shared by one thread per worker
//! process. Each thread sends a path to its worker, prints the job or error line that comes
//! back (whole lines, under the stdout lock, as each finishes), and queues a set's
//! attributes. A worker is replaced to stay under `--max-memory-size` ([`super::memory`])
//! or when it dies (a crash, a signal); a death in the middle of a path is that path's
//! `error` line. With
//! `--shard I/N` only the roots (the attributes of the top-level set) of shard I are queued.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use super::memory::Budget;
use super::options::Options;
use super::pool::{died_message, Asked, Slot, WorkerSpec};
use super::protocol::{output_line, request, Outcome};

#[derive(Default)]
struct State {
    queue: VecDeque<Vec<String>>,
    in_flight: usize,
    /// The root failed: every thread stops, the run fails with this message.
    fatal: Option<String>,
    jobs: u64,
    errors: u64,
    started: u64,
    crashes: u64,
    /// Seconds, summed over the slots: starting workers, waiting for a reply, waiting for
    /// a path (where the time of a run goes, for `NIX_SHOW_STATS`).
    startup_s: f64,
    busy_s: f64,
    idle_s: f64,
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

/// One worker slot: works through the queue, its [`Slot`] replacing the worker as needed.
/// The first worker starts at once, so that every slot's start-up overlaps the listing of
/// the roots.
fn slot(shared: &Shared, o: &Options, spec: &WorkerSpec, budget: &Budget) {
    let mut slot = Slot::new(spec, budget);
    if let Err(msg) = slot.ensure() {
        shared.fail(msg);
    } else {
        work(shared, o, &mut slot);
    }
    slot.stop();
    shared.with(|s| {
        s.started += slot.started;
        s.startup_s += slot.startup_s;
    });
}

fn work(shared: &Shared, o: &Options, slot: &mut Slot) {
    loop {
        let t = Instant::now();
        let next = shared.next();
        shared.with(|s| s.idle_s += t.elapsed().as_secs_f64());
        let Some(path) = next else { break };
        let t = Instant::now();
        let starting = slot.startup_s;
        let asked = slot.ask(&request(&path));
        let busy = t.elapsed().as_secs_f64() - (slot.startup_s - starting);
        shared.with(|s| s.busy_s += busy);
        let (line, children) = match asked {
            Asked::Reply(reply, _) => match Outcome::from_json(&reply) {
                Some(Outcome::Job(job)) => {
                    shared.with(|s| s.jobs += 1);
                    (Some(output_line(&path, Ok(&job))), vec![])
                }
                Some(Outcome::Error(e)) => {
                    shared.with(|s| s.errors += 1);
                    (Some(output_line(&path, Err(&e))), vec![])
                }
                Some(Outcome::Attrs(names)) => {
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
                None => {
                    shared.with(|s| s.errors += 1);
                    let msg = format!("error: the evaluation worker sent an unreadable reply: {reply}");
                    (Some(output_line(&path, Err(&msg))), vec![])
                }
            },
            Asked::Died(fate, _) => {
                shared.with(|s| {
                    s.crashes += 1;
                    s.errors += 1;
                });
                let msg = died_message(&fate);
                (Some(output_line(&path, Err(&msg))), vec![])
            }
            Asked::StartFailed(msg) => {
                shared.fail(msg);
                shared.finish(vec![]);
                return;
            }
        };
        if let Some(line) = line {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
        shared.finish(children);
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Runs `eval-jobs` as the parent: starts the workers, hands out attribute paths, prints their answers; the exit status.
pub fn main(o: &Options, args: &[String]) -> u8 {
    let shared = Shared { state: Mutex::new(State::default()), wake: Condvar::new() };
    shared.with(|s| s.queue.push_back(vec![]));
    let n = o.worker_count();
    let mut worker_args = vec!["eval-jobs".to_owned(), "--worker".to_owned()];
    worker_args.extend(args.iter().cloned());
    let spec = WorkerSpec { args: worker_args, capture_stderr: false };
    let budget = Budget::new(o.max_memory_size);
    std::thread::scope(|scope| {
        for _ in 0..n {
            scope.spawn(|| slot(&shared, o, &spec, &budget));
        }
    });
    let s = shared.state.into_inner().unwrap_or_else(|e| e.into_inner());
    if std::env::var_os("NIX_SHOW_STATS").is_some_and(|v| v != "0") {
        let mut stats = budget.stats();
        let more = serde_json::json!({
            "jobs": s.jobs, "errors": s.errors, "workers": n, "workersStarted": s.started,
            "restarts": budget.restarts(), "crashes": s.crashes,
            "startupS": round2(s.startup_s), "busyS": round2(s.busy_s), "idleS": round2(s.idle_s),
        });
        if let serde_json::Value::Object(m) = more {
            stats.extend(m);
        }
        eprintln!("{}", serde_json::Value::Object(stats));
    }
    match s.fatal {
        Some(msg) => {
            eprintln!("{msg}");
            1
        }
        None => 0,
    }
}
