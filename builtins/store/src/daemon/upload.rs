//! The upload thread of a [`DaemonStore`](super::DaemonStore) and the queue feeding it.
//!
//! Uploads are taken in batches. One pipelined round trip registers a temporary
//! GC root for every path of the batch and asks which are valid already
//! (`AddTempRoot` x n + `QueryValidPaths`); the others are added with their
//! requests written ahead of the replies, within a window that keeps the
//! daemon from blocking on a full socket. Outcomes are recorded per upload:
//! each failure is reported once, and a broken connection only by the first
//! upload it lost.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};

use super::connection::{Connection, Fail};
use super::error::DaemonError;
use super::ops::Content;
use crate::nar::FileType;
use crate::store::StoreError;
use crate::store_path::StorePath;

/// What the store and its upload thread share.
pub(super) struct Shared {
    pub(super) conn: Mutex<Connection>,
    pub(super) queue: Mutex<Queue>,
    /// Signalled when uploads are queued for an idle uploader, or the store closes.
    pub(super) work: Condvar,
    /// Signalled when a batch is done.
    pub(super) done: Condvar,
}

/// Uploads not done yet, and what became of the others.
#[derive(Default)]
pub(super) struct Queue {
    pub(super) pending: VecDeque<Upload>,
    /// Tickets handed out so far; upload `n` has ticket `n` (from 1).
    pub(super) issued: u64,
    /// Every upload with a ticket up to this one is finished.
    pub(super) finished: u64,
    /// The ticket of every path queued, by base name.
    pub(super) tickets: HashMap<String, u64>,
    /// Base names known valid in the daemon's store (uploaded or found there), rooted.
    pub(super) valid: HashSet<String>,
    /// Failed uploads not reported to anyone yet, oldest first, with their tickets.
    pub(super) errors: VecDeque<(u64, StoreError)>,
    /// The uploader waits for work.
    pub(super) idle: bool,
    /// No more uploads: the uploader ends when the queue is empty.
    pub(super) closing: bool,
    /// The uploader has ended (closing, or it panicked): nothing more will finish.
    pub(super) stopped: bool,
    /// The connection failed: no upload can succeed any more.
    pub(super) broken: Option<DaemonError>,
}

/// One path to put into the daemon's store.
pub(super) struct Upload {
    pub(super) ticket: u64,
    pub(super) path: StorePath,
    pub(super) name: String,
    pub(super) what: What,
}

pub(super) enum What {
    /// Text bytes with references.
    Text { contents: Vec<u8>, references: BTreeSet<String> },
    /// A regular file's bytes as a reference-free text path.
    TextFile { src: PathBuf },
    /// A tree's NAR without the `rejected` entries.
    Tree { src: PathBuf, rejected: HashSet<PathBuf> },
    /// A regular file's bytes, fixed-output addressed.
    Flat { src: PathBuf },
}

/// Uploads waiting wake an idle uploader once there are this many (or someone waits).
pub(super) const WAKE_AT: usize = 32;
/// Most uploads handled in one batch: their pipelined replies must fit the socket buffers.
const BATCH: usize = 512;

impl Shared {
    pub(super) fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The upload thread: takes batches off the queue until the store closes.
pub(super) fn upload_loop(shared: &Shared) {
    loop {
        let batch: Vec<Upload> = {
            let mut q = shared.queue();
            while q.pending.is_empty() && !q.closing {
                q.idle = true;
                q = shared.work.wait(q).unwrap_or_else(|e| e.into_inner());
            }
            q.idle = false;
            if q.pending.is_empty() {
                q.stopped = true;
                shared.done.notify_all();
                return;
            }
            let n = q.pending.len().min(BATCH);
            q.pending.drain(..n).collect()
        };
        let last = batch.last().map_or(0, |u| u.ticket);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let mut conn = shared.conn.lock().unwrap_or_else(|e| e.into_inner());
            upload_batch(&mut conn, &batch)
        }));
        let mut q = shared.queue();
        match outcome {
            Ok(results) => {
                for (u, r) in batch.iter().zip(results) {
                    match r {
                        Ok(()) => {
                            q.valid.insert(u.path.base_name().to_owned());
                        }
                        Err(Some(e)) => q.errors.push_back((u.ticket, e)),
                        Err(None) => {}
                    }
                }
                q.finished = last;
                if q.broken.is_none() {
                    q.broken = shared.conn.lock().unwrap_or_else(|e| e.into_inner()).broken().cloned();
                }
            }
            Err(_) => {
                let e = DaemonError::Connection("the upload thread of the daemon store failed".into());
                q.broken.get_or_insert_with(|| e.clone());
                q.errors.push_back((batch[0].ticket, e.into()));
                q.finished = last;
                q.stopped = true;
                shared.done.notify_all();
                return;
            }
        }
        shared.done.notify_all();
    }
}

/// Per upload: done, failed with an error to report, or failed because an earlier one
/// broke the connection (`Err(None)`: that error is reported once).
type Outcome = Result<(), Option<StoreError>>;

/// Roots every path of `batch` and asks which are valid in one pipelined round trip,
/// then adds the others in order.
fn upload_batch(conn: &mut Connection, batch: &[Upload]) -> Vec<Outcome> {
    if conn.broken().is_some() {
        return fail_all(conn, batch, false);
    }
    let mut results: Vec<Outcome> = Vec::with_capacity(batch.len());
    let probe = (|| -> Result<BTreeSet<String>, Fail> {
        for u in batch {
            conn.send_add_temp_root(&u.path)?;
        }
        let paths: Vec<String> = batch.iter().map(|u| u.path.to_absolute()).collect();
        conn.send_query_valid_paths(paths.iter().map(String::as_str))?;
        std::io::Write::flush(&mut conn.writer)?;
        for _ in batch {
            results.push(match conn.recv_ack() {
                Ok(()) => Ok(()),
                Err(Fail::Remote(e)) => Err(Some(e.into())),
                Err(io) => return Err(io),
            });
        }
        conn.recv_query_valid_paths()
    })();
    let valid = match conn.finish("registering temporary roots", probe) {
        Ok(v) => v,
        Err(e) if e.is_remote() => BTreeSet::new(),
        Err(_) => return fail_all(conn, batch, true),
    };
    let todo = batch.iter().zip(0..).filter(|(u, i)| results[*i].is_ok() && !valid.contains(&u.path.to_absolute()));
    let todo: Vec<(&Upload, usize)> = todo.collect();
    add_pipelined(conn, todo, &mut results);
    results
}

/// Every upload of `batch` lost with the broken connection; with `report`, the first
/// carries the connection's error.
fn fail_all(conn: &Connection, batch: &[Upload], report: bool) -> Vec<Outcome> {
    let error = || conn.broken().cloned().map(StoreError::from);
    (0..batch.len()).map(|i| Err(if report && i == 0 { error() } else { None })).collect()
}

/// Replies of pipelined adds may take this many bytes (estimated) before the client reads
/// them: the daemon stops reading requests while its socket buffer (~200 KiB) is full.
const REPLY_WINDOW: usize = 64 * 1024;

/// Adds `todo` in order, writing requests ahead of the replies (the daemon serves them one
/// after the other, so a `.drv` still comes after its inputs). Outcomes go to `results`.
fn add_pipelined(conn: &mut Connection, todo: Vec<(&Upload, usize)>, results: &mut [Outcome]) {
    let mut in_flight: VecDeque<(&Upload, usize, usize)> = VecDeque::new();
    let mut window = 0;
    for (u, i) in todo {
        let size = reply_size(u);
        if !in_flight.is_empty() && window + size > REPLY_WINDOW {
            flush_requests(conn);
            while !in_flight.is_empty() && window + size > REPLY_WINDOW {
                let (done, j, s) = in_flight.pop_front().expect("not empty");
                window -= s;
                results[j] = receive_add(conn, done);
            }
        }
        if conn.broken().is_some() {
            // Broken by an earlier upload, whose error says so.
            results[i] = Err(None);
            continue;
        }
        match send_one(conn, u) {
            Ok(()) => {
                in_flight.push_back((u, i, size));
                window += size;
            }
            Err(e) => results[i] = Err(Some(e)),
        }
    }
    flush_requests(conn);
    for (u, j, _) in in_flight {
        results[j] = receive_add(conn, u);
    }
}

/// Sends the buffered requests; a failure breaks the connection (the replies then say so).
fn flush_requests(conn: &mut Connection) {
    if conn.broken().is_none() {
        if let Err(e) = std::io::Write::flush(&mut conn.writer) {
            conn.fail_io("sending requests", &e);
        }
    }
}

/// The reply to adding `u`. Once the connection is broken, only the first loss reports.
fn receive_add(conn: &mut Connection, u: &Upload) -> Outcome {
    if conn.broken().is_some() {
        return Err(None);
    }
    match conn.recv_add(&u.name) {
        Ok(got) => check_path(u, got),
        Err(e) => Err(Some(e.into())),
    }
}

/// A generous estimate of the reply to adding `u`: the path info with its references.
fn reply_size(u: &Upload) -> usize {
    let refs: usize = match &u.what {
        What::Text { references, .. } => references.iter().map(|r| r.len() + 16).sum(),
        _ => 0,
    };
    1024 + refs
}

/// Buffers the request adding one path.
fn send_one(conn: &mut Connection, u: &Upload) -> Result<(), StoreError> {
    let text;
    let mut keep_all = |_: &Path, _: FileType| true;
    let mut keep_unrejected;
    let content = match &u.what {
        What::Text { contents, references } => Content::Text { contents, references },
        What::TextFile { src } => {
            text = fs::read(src).map_err(|e| crate::nar::with_path(e, "reading file", src))?;
            Content::Text { contents: &text, references: EMPTY_REFS }
        }
        What::Tree { src, rejected } if rejected.is_empty() => Content::Tree { src, filter: &mut keep_all },
        What::Tree { src, rejected } => {
            keep_unrejected = |p: &Path, _: FileType| !rejected.contains(p);
            Content::Tree { src, filter: &mut keep_unrejected }
        }
        What::Flat { src } => Content::Flat { src },
    };
    conn.send_add(&u.name, content)
}

/// Checks the daemon put `u` where this store said it would be.
fn check_path(u: &Upload, got: String) -> Outcome {
    let expected = u.path.to_absolute();
    if got == expected {
        return Ok(());
    }
    Err(Some(match &u.what {
        What::Tree { src, .. } | What::Flat { src } | What::TextFile { src } => {
            StoreError::Changed(src.display().to_string())
        }
        What::Text { .. } => {
            DaemonError::Connection(format!("the Nix daemon stored '{}' at '{got}' instead of '{expected}'", u.name))
                .into()
        }
    }))
}

static EMPTY_REFS: &BTreeSet<String> = &BTreeSet::new();
