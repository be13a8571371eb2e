//! Keeping workers under `--max-memory-size`.
//!
//! nix-eval-jobs checks a worker's resident memory after each job and replaces the worker
//! when it passed the limit, so a worker overshoots by up to one job. Here three rules keep
//! it under, and the output lines stay nix-eval-jobs' (a job is printed once, whichever
//! worker finished it):
//!
//! 1. **Prediction** (the parent, [`Budget::predicts_overrun`]): before a worker that has
//!    done jobs takes another, its RSS after its last job plus the largest growth one job
//!    has caused so far — in this worker or any other — is compared with the limit (less
//!    the guard's headroom, [`guard_threshold_kib`]); a worker
//!    that would likely pass it is replaced by a fresh one first. The growth of a job is its
//!    peak RSS (`VmHWM`, reset through `/proc/self/clear_refs` when the job starts) minus the
//!    RSS before it, measured in the worker ([`JobMemory`]).
//! 2. **Guard** (the worker, [`Guard`]): a thread polls the worker's RSS while a job runs.
//!    A worker that has done jobs before and reaches the limit stops at once and replies
//!    `retry`; the parent gives the job to a fresh worker (the evaluation is deterministic
//!    and store writes are idempotent, so the retried job's line is the same). A fresh
//!    worker is never stopped: a job that alone needs more than the limit cannot be kept
//!    under it by any worker; it finishes and is counted (`overLimitJobs`).
//! 3. **Backstop** (the worker): after a job whose peak passed the limit the worker exits
//!    (nix-eval-jobs' rule), so no worker starts a job above the limit.
//!
//! Why not abort a job that passes the limit with an error line instead: nix-eval-jobs
//! prints that job's `drvPath`, so an error would change the output; and a job that alone
//! needs more than the limit would fail on every worker. Retrying on a fresh worker keeps
//! both the limit (where it can be kept) and the output.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Map, Value as Json};

/// What one job did to a worker's memory, KiB, measured in the worker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JobMemory {
    /// Resident memory after the job.
    pub rss_kib: u64,
    /// The highest resident memory during the job.
    pub peak_kib: u64,
    /// `peak_kib` minus the resident memory before the job.
    pub growth_kib: u64,
}

impl JobMemory {
    /// Adds the fields to a worker's reply.
    pub fn insert_into(&self, reply: &mut Map<String, Json>) {
        reply.insert("rssKiB".into(), json!(self.rss_kib));
        reply.insert("peakKiB".into(), json!(self.peak_kib));
        reply.insert("growthKiB".into(), json!(self.growth_kib));
    }

    /// The fields of a worker's reply (zeros if absent).
    pub fn from_reply(reply: &Json) -> JobMemory {
        let field = |k: &str| reply.get(k).and_then(Json::as_u64).unwrap_or(0);
        JobMemory { rss_kib: field("rssKiB"), peak_kib: field("peakKiB"), growth_kib: field("growthKiB") }
    }
}

fn page_kib() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as u64 / 1024
    } else {
        4
    }
}

/// Resident memory of this process, KiB (0 if unknown). Reads `/proc/self/statm`: a few
/// microseconds, cheap enough for [`Guard`]'s polling.
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|n| n.parse::<u64>().ok()))
        .map(|pages| pages * page_kib())
        .unwrap_or(0)
}

/// The highest resident memory of this process since [`reset_peak`] (or its start), KiB.
pub fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.to_owned()))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// Resets the peak ([`peak_kib`]) to the current resident memory (Linux ≥ 4.0). Where that
/// fails the peak stays the process's lifetime peak, which only overstates a job's growth.
pub fn reset_peak() {
    let _ = std::fs::OpenOptions::new().write(true).open("/proc/self/clear_refs").and_then(|mut f| f.write_all(b"5"));
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    /// A job runs on a worker that has done jobs before: the guard may stop it.
    Warm,
    /// A job runs on a fresh worker (or the guard is off): it runs to its end.
    Fresh,
}

/// The worker side: measures each job ([`Guard::begin`], [`Guard::end`]) and, while a job
/// of a warm worker runs, stops the process with a `retry` reply when its RSS reaches the
/// limit (rule 2 of the module documentation).
pub struct Guard {
    phase: Arc<Mutex<Phase>>,
    before_kib: u64,
    jobs: u64,
}

/// How often the guard reads the RSS: often enough that an evaluation allocating at full
/// speed (about 1 GiB/s) moves only a few MiB between two reads, which
/// [`guard_threshold_kib`] leaves room for; each read costs a few microseconds.
const GUARD_POLL: Duration = Duration::from_millis(5);

/// The guard stops a warm worker this far below the limit (`limit / 64`, at least 16 MiB,
/// at most half the limit), so that what it allocates between two polls stays under the
/// limit: measured, a job allocating as fast as the evaluator can moved the RSS by 5 MiB
/// between two polls.
pub fn guard_threshold_kib(limit_kib: u64) -> u64 {
    let headroom = (limit_kib / 64).max(16 * 1024).min(limit_kib / 2);
    limit_kib - headroom
}

impl Guard {
    /// Starts the guard thread. `reply_end` is written (with the `retry` line) before the
    /// process exits: the stderr marker of a capturing worker.
    pub fn start(limit_kib: u64, stderr_marker: Option<&'static str>) -> Guard {
        let phase = Arc::new(Mutex::new(Phase::Idle));
        let watched = phase.clone();
        let threshold = guard_threshold_kib(limit_kib);
        std::thread::spawn(move || loop {
            std::thread::sleep(GUARD_POLL);
            let p = watched.lock().unwrap_or_else(|e| e.into_inner());
            if *p != Phase::Warm {
                continue;
            }
            let rss = rss_kib();
            if rss < threshold {
                continue;
            }
            // Holding the lock: the job's own reply can no longer be written.
            if let Some(marker) = stderr_marker {
                eprintln!("{marker}");
            }
            let mut reply = Map::new();
            reply.insert("retry".into(), json!(true));
            JobMemory { rss_kib: rss, peak_kib: peak_kib(), growth_kib: 0 }.insert_into(&mut reply);
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", Json::Object(reply));
            let _ = out.flush();
            // SAFETY: ends the process at once, without running destructors or atexit
            // handlers under the evaluating thread.
            unsafe { libc::_exit(0) };
        });
        Guard { phase, before_kib: 0, jobs: 0 }
    }

    /// A job starts: resets the peak and, on a warm worker, arms the guard.
    pub fn begin(&mut self) {
        reset_peak();
        self.before_kib = rss_kib();
        let mut p = self.phase.lock().unwrap_or_else(|e| e.into_inner());
        *p = if self.jobs > 0 { Phase::Warm } else { Phase::Fresh };
    }

    /// The job ended: disarms the guard (waiting if it is stopping the process) and
    /// returns what the job did.
    pub fn end(&mut self) -> JobMemory {
        *self.phase.lock().unwrap_or_else(|e| e.into_inner()) = Phase::Idle;
        self.jobs += 1;
        let rss = rss_kib();
        let peak = peak_kib().max(rss);
        JobMemory { rss_kib: rss, peak_kib: peak, growth_kib: peak.saturating_sub(self.before_kib) }
    }
}

/// The parent side: the limit, the largest growth seen, and what the rules did (for
/// `NIX_SHOW_STATS`). Shared by the threads that drive the workers.
#[derive(Debug, Default)]
pub struct Budget {
    /// `--max-memory-size`, KiB.
    pub limit_kib: u64,
    /// The largest growth one job caused in any worker.
    pub max_growth_kib: AtomicU64,
    /// Workers replaced before a job because the next job would likely pass the limit.
    pub predictive_restarts: AtomicU64,
    /// Workers replaced after a job whose peak passed the limit.
    pub limit_restarts: AtomicU64,
    /// Jobs a warm worker was stopped in at the limit and that a fresh one evaluated again.
    pub retries: AtomicU64,
    /// Jobs that passed the limit on a fresh worker (the job alone needs more).
    pub over_limit_jobs: AtomicU64,
    /// The highest peak any worker reported.
    pub max_peak_kib: AtomicU64,
    /// The highest RSS after a job any worker reported.
    pub max_rss_kib: AtomicU64,
}

impl Budget {
    /// The budget of a `--max-memory-size` of `limit_mib` MiB, nothing seen yet.
    pub fn new(limit_mib: u64) -> Budget {
        Budget { limit_kib: limit_mib.saturating_mul(1024), ..Budget::default() }
    }

    /// Takes in what a job did on a worker that had done `jobs_before` jobs.
    pub fn record(&self, m: &JobMemory, jobs_before: u64) {
        self.max_growth_kib.fetch_max(m.growth_kib, Ordering::Relaxed);
        self.max_peak_kib.fetch_max(m.peak_kib, Ordering::Relaxed);
        self.max_rss_kib.fetch_max(m.rss_kib, Ordering::Relaxed);
        if m.peak_kib > self.limit_kib {
            if jobs_before == 0 {
                self.over_limit_jobs.fetch_add(1, Ordering::Relaxed);
            }
            self.limit_restarts.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Whether a worker whose last job left it at `last` (and whose own largest growth is
    /// `own_growth_kib`) would likely pass the limit in its next job.
    pub fn predicts_overrun(&self, last: &JobMemory, own_growth_kib: u64) -> bool {
        let growth = self.max_growth_kib.load(Ordering::Relaxed).max(own_growth_kib);
        // Against the guard's threshold: a job predicted to end between it and the limit
        // would be stopped and evaluated again.
        last.rss_kib.saturating_add(growth) > guard_threshold_kib(self.limit_kib)
    }

    /// Workers replaced for their memory: before a job, after one, or within one.
    pub fn restarts(&self) -> u64 {
        [&self.predictive_restarts, &self.limit_restarts, &self.retries].iter().map(|a| a.load(Ordering::Relaxed)).sum()
    }

    /// The counters as `NIX_SHOW_STATS` fields.
    pub fn stats(&self) -> Map<String, Json> {
        let get = |a: &AtomicU64| json!(a.load(Ordering::Relaxed));
        let mut m = Map::new();
        m.insert("maxMemoryKiB".into(), json!(self.limit_kib));
        m.insert("predictiveRestarts".into(), get(&self.predictive_restarts));
        m.insert("limitRestarts".into(), get(&self.limit_restarts));
        m.insert("retries".into(), get(&self.retries));
        m.insert("overLimitJobs".into(), get(&self.over_limit_jobs));
        m.insert("maxJobGrowthKiB".into(), get(&self.max_growth_kib));
        m.insert("maxWorkerPeakKiB".into(), get(&self.max_peak_kib));
        m.insert("maxWorkerRssKiB".into(), get(&self.max_rss_kib));
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prediction_uses_the_largest_growth_of_any_worker() {
        let b = Budget::new(116); // the guard stops at 100 MiB
        let at = |rss_mib: u64| JobMemory { rss_kib: rss_mib * 1024, peak_kib: rss_mib * 1024, growth_kib: 0 };
        b.record(&JobMemory { rss_kib: 40 * 1024, peak_kib: 45 * 1024, growth_kib: 30 * 1024 }, 0);
        assert!(!b.predicts_overrun(&at(70), 0));
        assert!(b.predicts_overrun(&at(71), 0));
        // A worker's own larger growth counts too.
        assert!(b.predicts_overrun(&at(50), 60 * 1024));
        assert_eq!(b.over_limit_jobs.load(Ordering::Relaxed), 0);
        b.record(&JobMemory { rss_kib: 120 * 1024, peak_kib: 130 * 1024, growth_kib: 100 * 1024 }, 0);
        b.record(&JobMemory { rss_kib: 120 * 1024, peak_kib: 130 * 1024, growth_kib: 10 * 1024 }, 2);
        assert_eq!(b.over_limit_jobs.load(Ordering::Relaxed), 1);
        assert_eq!(b.limit_restarts.load(Ordering::Relaxed), 2);
        assert_eq!(b.stats()["maxWorkerPeakKiB"], 130 * 1024);
    }

    #[test]
    fn guard_stops_below_the_limit() {
        assert_eq!(guard_threshold_kib(1024 * 1024), 1008 * 1024);
        assert_eq!(guard_threshold_kib(200 * 1024), 184 * 1024);
        assert_eq!(guard_threshold_kib(4 * 1024), 2 * 1024);
        assert_eq!(guard_threshold_kib(1), 1);
    }

    #[test]
    fn this_process_is_measured() {
        assert!(rss_kib() > 0);
        reset_peak();
        let before = peak_kib();
        assert!(before > 0);
        let v = vec![1u8; 64 << 20];
        std::hint::black_box(&v);
        assert!(peak_kib() >= before + 60 * 1024, "{} {}", peak_kib(), before);
        assert!(JobMemory::from_reply(&json!({"rssKiB": 3, "peakKiB": 4, "growthKiB": 1})).peak_kib == 4);
    }
}
