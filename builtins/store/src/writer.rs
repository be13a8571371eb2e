//! The background writer of a [`DirStore`](crate::DirStore).
//!
//! A store path is known as soon as its contents are hashed; the evaluation needs
//! only the path, not the file on disk. So the evaluation thread hashes (it must: a
//! `builtins.path` filter runs evaluator code) and hands the write to this thread:
//! text bytes, a flat file copy, or a tree copy without the entries the filter
//! rejected. Each write goes to a temp file in the store directory, gets Nix's
//! canonical metadata (modes 0444/0555, mtime 1), is checked against the hash the
//! path was made from, and is renamed into place, exactly as the synchronous store
//! did it. Then it is registered in the store database (see `local_db.rs`).
//!
//! The writer takes whatever is queued as one batch: per path it skips a path the
//! database already has, else takes Nix's path lock, asks again, deletes an invalid
//! leftover, writes and renames; then it registers the whole batch in one transaction and releases
//! the locks. A killed process thus leaves at worst files without rows, which are
//! invalid to Nix and rewritten by the next add. It never waits for a path lock
//! while holding others (it registers what it has first), so two writers cannot
//! deadlock. Writes finish in submission order; a [`Ticket`] says when one is
//! written and registered. A failed write is kept until someone reports it (an add,
//! or [`Writer::flush`]); one never reported is printed when the writer is dropped.

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, UNIX_EPOCH};

use crate::derivation::Derivation;
use crate::hash::{Hash, HashAlgo, Hasher};
use crate::local_db::{LocalDb, PathInfo};
use crate::nar::{dump_bytes, dump_path, sorted_entries, with_path, FileType, NarSummary};
use crate::path_lock::PathLock;
use crate::store::{copy_flat, StoreError};
use crate::STORE_DIR;

/// What to put at a store path.
pub(crate) enum Job {
    /// A read-only file with these bytes (`toFile`, `.drv`).
    Text(Vec<u8>),
    /// A read-only copy of the regular file `src`, whose sha256 must be `hash`.
    Flat { src: PathBuf, hash: Hash },
    /// A copy of the tree `src` without the `rejected` entries (and what is below them),
    /// whose NAR sha256 must be `hash`.
    Tree { src: PathBuf, rejected: HashSet<PathBuf>, hash: Hash },
}

/// The position of a job in the queue: it is on disk once [`Writer::wait`] returns.
pub(crate) type Ticket = u64;

/// What the database is told about a path besides what the writer computes (its NAR).
#[derive(Debug, Default)]
pub(crate) struct Registration {
    /// The absolute store paths it refers to.
    pub references: BTreeSet<String>,
    /// Its content address (`text:sha256:…`, `fixed:r:sha256:…`).
    pub ca: Option<String>,
}

struct Task {
    base_name: String,
    job: Job,
    registration: Registration,
}

/// Queued jobs wake the writer once this many are waiting.
const BATCH: usize = 32;

/// At most this many paths are registered in one transaction.
const MAX_BATCH: usize = 1024;

/// The jobs not yet taken by the writer thread.
#[derive(Default)]
struct Queue {
    tasks: VecDeque<Task>,
    /// No more jobs will come: the writer ends once the queue is empty.
    closed: bool,
    /// The writer is asleep, waiting for `work`.
    idle: bool,
}

/// The queue and the progress shared between the submitting side and the writer thread.
#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    /// Signalled when jobs are queued for a sleeping writer, or the queue is closed.
    work: Condvar,
    state: Mutex<Progress>,
    /// Signalled when a job is done and somebody waits for it.
    changed: Condvar,
    /// Set with `Progress::error`, so submitting needs no lock while all is well.
    failed: AtomicBool,
    /// Set by the first failed write, never cleared.
    ever_failed: AtomicBool,
}

#[derive(Default)]
struct Progress {
    done: Ticket,
    /// Somebody waits in [`Writer::wait`].
    waiting: bool,
    /// The first write error not yet reported to a caller.
    error: Option<StoreError>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Progress> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes the writer if it sleeps and has work (or must see that the queue closed).
    fn wake(&self, q: &Queue) {
        if q.idle && (!q.tasks.is_empty() || q.closed) {
            self.work.notify_one();
        }
    }

    fn take_error(&self) -> Result<(), StoreError> {
        if !self.failed.load(Ordering::Acquire) {
            return Ok(());
        }
        let mut p = self.lock();
        self.failed.store(false, Ordering::Release);
        p.error.take().map_or(Ok(()), Err)
    }
}

/// A thread writing into one store directory, and the queue feeding it.
pub(crate) struct Writer {
    thread: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
    submitted: Ticket,
}

impl Writer {
    /// Starts a writer for the (existing) physical store directory `dir`, registering in `db`.
    pub(crate) fn spawn(dir: PathBuf, db: LocalDb) -> io::Result<Writer> {
        let shared = Arc::new(Shared::default());
        let theirs = shared.clone();
        let thread = std::thread::Builder::new().name("store-writer".into()).spawn(move || run(&dir, db, &theirs))?;
        Ok(Writer { thread: Some(thread), shared, submitted: 0 })
    }

    /// Queues `job` for the store path `base_name`. Fails, without queuing, with an
    /// earlier write's error that was not reported yet.
    pub(crate) fn submit(
        &mut self,
        base_name: &str,
        job: Job,
        registration: Registration,
    ) -> Result<Ticket, StoreError> {
        self.shared.take_error()?;
        let task = Task { base_name: base_name.to_owned(), job, registration };
        if self.thread.as_ref().is_none_or(|t| t.is_finished()) {
            return Err(StoreError::Io(io::Error::other("the store writer has stopped")));
        }
        let mut q = self.shared.queue();
        q.tasks.push_back(task);
        if q.tasks.len() >= BATCH {
            self.shared.wake(&q);
        }
        drop(q);
        self.submitted += 1;
        Ok(self.submitted)
    }

    /// Blocks until the job of `ticket` (and every earlier one) is finished.
    pub(crate) fn wait(&self, ticket: Ticket) {
        let mut p = self.shared.lock();
        if p.done >= ticket {
            return;
        }
        p.waiting = true;
        self.shared.wake(&self.shared.queue());
        while p.done < ticket {
            p = self.shared.changed.wait(p).unwrap_or_else(|e| e.into_inner());
        }
        p.waiting = false;
    }

    /// The first write error not reported yet.
    pub(crate) fn take_error(&self) -> Result<(), StoreError> {
        self.shared.take_error()
    }

    /// True once any write has failed (reported or not).
    pub(crate) fn ever_failed(&self) -> bool {
        self.shared.ever_failed.load(Ordering::Acquire)
    }

    /// Waits for every queued job; returns the first write error not reported yet.
    pub(crate) fn flush(&self) -> Result<(), StoreError> {
        self.wait(self.submitted);
        self.shared.take_error()
    }
}

impl Drop for Writer {
    /// Finishes every queued write; an error nobody was told about goes to stderr.
    fn drop(&mut self) {
        let mut q = self.shared.queue();
        q.closed = true;
        self.shared.wake(&q);
        drop(q);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Err(e) = self.shared.take_error() {
            eprintln!("error: {e}");
        }
    }
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").field("submitted", &self.submitted).finish_non_exhaustive()
    }
}

/// The queued jobs (at most [`MAX_BATCH`]), sleeping while there are none; `None` once
/// the queue is closed and empty.
fn next_batch(shared: &Shared) -> Option<Vec<Task>> {
    let mut q = shared.queue();
    loop {
        if !q.tasks.is_empty() {
            let n = q.tasks.len().min(MAX_BATCH);
            return Some(q.tasks.drain(..n).collect());
        }
        if q.closed {
            return None;
        }
        q.idle = true;
        q = shared.work.wait(q).unwrap_or_else(|e| e.into_inner());
        q.idle = false;
    }
}

/// The writer thread: one batch after the other until the queue is closed.
fn run(dir: &Path, mut db: LocalDb, shared: &Shared) {
    let mut batch = Batch { dir, db: &mut db, pending: Vec::new(), errors: Vec::new() };
    while let Some(tasks) = next_batch(shared) {
        let n = tasks.len() as Ticket;
        let result = catch_unwind(AssertUnwindSafe(|| batch.run(tasks)));
        if result.is_err() {
            batch.pending.clear();
            batch.errors.push(io::Error::other("the store writer panicked").into());
        }
        let mut p = shared.lock();
        p.done += n;
        for e in batch.errors.drain(..) {
            shared.ever_failed.store(true, Ordering::Release);
            if p.error.is_none() {
                p.error = Some(e);
                shared.failed.store(true, Ordering::Release);
            }
        }
        let waiting = p.waiting;
        drop(p);
        if waiting {
            shared.changed.notify_all();
        }
    }
}

/// One batch: paths written and locked, waiting to be registered together.
struct Batch<'a> {
    dir: &'a Path,
    db: &'a mut LocalDb,
    pending: Vec<(PathInfo, PathLock)>,
    errors: Vec<StoreError>,
}

impl Batch<'_> {
    fn run(&mut self, tasks: Vec<Task>) {
        let paths: Vec<String> = tasks.iter().map(|t| format!("{STORE_DIR}/{}", t.base_name)).collect();
        if let Err(e) = self.db.add_temp_roots(paths.iter().map(String::as_str)) {
            self.errors.push(e);
        }
        for task in tasks {
            if let Err(e) = self.add(&task) {
                self.errors.push(annotate(e, &task.base_name));
            }
        }
        self.register();
    }

    /// Writes one path unless it is valid, leaving it locked in `pending`.
    fn add(&mut self, task: &Task) -> Result<(), StoreError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dest = self.dir.join(&task.base_name);
        let path = format!("{STORE_DIR}/{}", task.base_name);
        if self.pending.iter().any(|(info, _)| info.path == path) {
            self.register();
        }
        // A valid path needs no lock (Nix asks first too): a store that has most paths
        // already (a rerun, the system store) is not charged a lock file per path.
        if self.db.is_valid(&path)? {
            return Ok(());
        }
        let lock = match PathLock::try_acquire(&dest)? {
            Some(lock) => lock,
            None => {
                // Never wait while holding locks: another writer may wait for one of ours.
                self.register();
                PathLock::acquire(&dest)?
            }
        };
        if self.db.is_valid(&path)? {
            return Ok(());
        }
        if fs::symlink_metadata(&dest).is_ok() {
            // Invalid (a killed writer's, or from before the database): Nix deletes it too.
            remove_tree(&dest);
        }
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = self.dir.join(format!(".tmp-rnix-{}-{n}", std::process::id()));
        let result = write(&task.job, &tmp, &dest);
        let (nar_hash, nar_size) = result.inspect_err(|_| remove_tree(&tmp))?;
        let drv_outputs = match &task.job {
            Job::Text(bytes) if task.base_name.ends_with(".drv") => derivation_outputs(bytes),
            _ => Vec::new(),
        };
        let info = PathInfo {
            path,
            nar_hash,
            nar_size,
            references: task.registration.references.clone(),
            ca: task.registration.ca.clone(),
            drv_outputs,
        };
        self.pending.push((info, lock));
        Ok(())
    }

    /// Registers the pending paths in one transaction, then unlocks them.
    fn register(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let infos: Vec<PathInfo> = self.pending.iter().map(|(info, _)| info.clone()).collect();
        match self.db.register(&infos) {
            Ok(results) => {
                for (info, error) in infos.iter().zip(results) {
                    if let Some(e) = error {
                        let dest = self.dir.join(info.path.trim_start_matches(STORE_DIR).trim_start_matches('/'));
                        remove_tree(&dest);
                        self.errors.push(e);
                    }
                }
            }
            Err(e) => self.errors.push(e),
        }
        self.pending.clear();
    }
}

/// `writing '/nix/store/NAME': REASON` for an I/O error.
fn annotate(e: StoreError, base_name: &str) -> StoreError {
    match e {
        StoreError::Io(e) => StoreError::Io(io::Error::new(
            e.kind(),
            format!("writing '{STORE_DIR}/{base_name}': {}", crate::nar::os_reason(&e)),
        )),
        e => e,
    }
}

/// The output paths a `.drv` declares, for `DerivationOutputs` (deferred outputs have none).
fn derivation_outputs(aterm: &[u8]) -> Vec<(String, String)> {
    match Derivation::parse_aterm(aterm) {
        Ok(drv) => drv.outputs.into_iter().filter(|(_, o)| !o.path.is_empty()).map(|(n, o)| (n, o.path)).collect(),
        Err(_) => Vec::new(),
    }
}

/// Builds `job` at `tmp` and moves it to `dest`; returns the sha256 and size of its NAR.
fn write(job: &Job, tmp: &Path, dest: &Path) -> Result<(Hash, u64), StoreError> {
    let mut nar = NarSummary::new();
    match job {
        Job::Text(contents) => {
            let mut f = File::create(tmp).map_err(|e| with_path(e, "creating file", tmp))?;
            f.write_all(contents).map_err(|e| with_path(e, "writing to file", tmp))?;
            finish_file(&f, tmp, false)?;
            dump_bytes(contents, false, &mut nar)?;
        }
        Job::Flat { src, hash } => {
            let mut file = File::create(tmp).map_err(|e| with_path(e, "creating file", tmp))?;
            let mut tee = Tee { file: &mut file, hasher: Hasher::new(HashAlgo::Sha256) };
            copy_flat(src, &mut tee)?;
            if tee.hasher.finish() != *hash {
                return Err(StoreError::Changed(src.display().to_string()));
            }
            finish_file(&file, tmp, false)?;
            dump_path(tmp, &mut |_, _| true, &mut nar)?;
        }
        Job::Tree { src, rejected, .. } => {
            copy_tree(src, tmp, &mut |p: &Path| !rejected.contains(p))?;
            dump_path(tmp, &mut |_, _| true, &mut nar)?;
        }
    }
    let (nar_hash, nar_size) = nar.finish();
    if let Job::Tree { src, hash, .. } = job {
        if nar_hash != *hash {
            return Err(StoreError::Changed(src.display().to_string()));
        }
    }
    commit(tmp, dest)?;
    Ok((nar_hash, nar_size))
}

/// Moves a finished temp file or tree to `dest`, or discards it if `dest` appeared meanwhile.
fn commit(tmp: &Path, dest: &Path) -> Result<(), StoreError> {
    if let Err(e) = fs::rename(tmp, dest) {
        remove_tree(tmp);
        if fs::symlink_metadata(dest).is_err() {
            return Err(with_path(e, "renaming to", dest).into());
        }
    }
    Ok(())
}

/// Writes to a file and a hash at once.
struct Tee<'a> {
    file: &'a mut File,
    hasher: Hasher,
}

impl Write for Tee<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Nix's canonical metadata for stored files: mode 0444 (0555 if executable), mtime 1.
fn finish_file(f: &File, path: &Path, executable: bool) -> io::Result<()> {
    let mode = if executable { 0o555 } else { 0o444 };
    f.set_modified(UNIX_EPOCH + Duration::from_secs(1))
        .and_then(|()| f.set_permissions(fs::Permissions::from_mode(mode)))
        .map_err(|e| with_path(e, "canonicalising", path))
}

/// Copies the entries `keep` accepts, giving everything Nix's canonical metadata.
fn copy_tree(src: &Path, dst: &Path, keep: &mut dyn FnMut(&Path) -> bool) -> io::Result<()> {
    let meta = fs::symlink_metadata(src).map_err(|e| with_path(e, "getting status of", src))?;
    match FileType::of(&meta) {
        FileType::Regular => {
            let mut out = File::create(dst).map_err(|e| with_path(e, "creating file", dst))?;
            let mut input = File::open(src).map_err(|e| with_path(e, "opening file", src))?;
            io::copy(&mut input, &mut out).map_err(|e| with_path(e, "copying", src))?;
            finish_file(&out, dst, meta.permissions().mode() & 0o100 != 0)
        }
        FileType::Symlink => {
            let target = fs::read_link(src).map_err(|e| with_path(e, "reading symbolic link", src))?;
            symlink(target, dst).map_err(|e| with_path(e, "creating symlink", dst))
        }
        FileType::Directory => {
            fs::create_dir(dst).map_err(|e| with_path(e, "creating directory", dst))?;
            for name in sorted_entries(src)? {
                let child = src.join(&name);
                if keep(&child) {
                    copy_tree(&child, &dst.join(&name), keep)?;
                }
            }
            fs::set_permissions(dst, fs::Permissions::from_mode(0o555))
                .and_then(|()| File::open(dst)?.set_modified(UNIX_EPOCH + Duration::from_secs(1)))
                .map_err(|e| with_path(e, "canonicalising", dst))
        }
        FileType::Unknown => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("file '{}' has an unsupported type", src.display()),
        )),
    }
}

/// Best-effort removal of a temp file or a (read-only) temp tree.
fn remove_tree(path: &Path) {
    fn unlock(path: &Path) {
        if fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
            let _ = fs::set_permissions(path, fs::Permissions::from_mode(0o755));
            if let Ok(entries) = fs::read_dir(path) {
                entries.flatten().for_each(|e| unlock(&e.path()));
            }
        }
    }
    unlock(path);
    let _ = fs::remove_dir_all(path).or_else(|_| fs::remove_file(path));
}
