//! A client of the Nix daemon's worker protocol, and [`DaemonStore`], a [`Store`]
//! that writes into the daemon's store.
//!
//! The evaluator needs store paths at once but their files only later (or
//! never, if nobody builds). So, like [`DirStore`](crate::DirStore), this
//! store computes each path itself (the naming rules are the same in any
//! store) and leaves the upload to a background thread, which talks to the
//! daemon over one Unix-socket connection. The thread takes queued uploads in
//! batches: one pipelined round trip registers a temporary GC root for every
//! path of the batch (so a concurrent `nix-collect-garbage` cannot delete what
//! this evaluation made or found) and asks which are already valid; only the
//! others are sent, in order (a `.drv` after the paths it refers to). Queries
//! (`exists`, [`DaemonStore::query_path_info`], …) wait for the upload of the
//! path they ask about first.
//!
//! Reading a path ([`Store::real_path`]) looks where the daemon keeps it
//! (`ConnectOptions::real_root`), else at the source this store uploaded it
//! from (kept unchanged and unfiltered), else fetches its NAR from the daemon
//! (`NarFromPath`) into a private directory removed with the store: a daemon
//! whose store is not this machine's `/nix/store` (`nix-daemon --store DIR`, a
//! remote one) still serves flake inputs and import-from-derivation outputs.
//!
//! Protocol minors 1.21 (CppNix 2.0) to 1.35 are spoken; the forms differ in
//! `connection.rs` (handshake, errors) and `ops.rs` (adding content). The
//! connection stays open as long as the store: its temporary roots last that long.

mod connection;
mod error;
mod lazy;
mod log;
mod ops;
mod upload;
pub mod wire;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

pub use error::DaemonError;
pub use lazy::LazyDaemonStore;
pub use log::{Field, LogEvent, LogMode, RESULT_BUILD_LOG_LINE};
pub use ops::{BuildMode, DerivedPath, PathInfo};

use connection::Connection;
use upload::{upload_loop, Queue, Shared, Upload, What, WAKE_AT};

use crate::hash::{Hash, HashAlgo, Hasher};
use crate::nar::{nar_hash_path, FileType, PathFilter};
use crate::store::{copy_flat, Store, StoreError};
use crate::store_path::{make_fixed_output_path, make_text_path, FileIngestionMethod, StorePath};

/// How to connect, and what the daemon is told about this client.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// The newest protocol minor to use (clamped to 21..=35); the daemon may offer less.
    pub max_minor: u8,
    /// How long to wait for the daemon on any read or write, except while it builds.
    /// `None` waits for ever.
    pub timeout: Option<Duration>,
    /// What to do with the daemon's log messages.
    pub log: LogMode,
    /// The verbosity sent to the daemon (0 error, 1 warn, 2 notice, 3 info, … 7 vomit).
    pub verbosity: u64,
    /// `max-jobs` for builds.
    pub max_build_jobs: u64,
    /// Whether the daemon may substitute paths instead of building them.
    pub use_substitutes: bool,
    /// Settings passed to the daemon (`--option NAME VALUE`); most need a trusted client.
    pub overrides: Vec<(String, String)>,
    /// Where the daemon's `/nix/store` is on this machine, for [`Store::real_path`]:
    /// `/` normally, `ROOT` for a daemon started with `--store ROOT`.
    pub real_root: PathBuf,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            max_minor: wire::MAX_MINOR,
            timeout: Some(Duration::from_secs(300)),
            log: LogMode::Stderr,
            verbosity: 3,
            max_build_jobs: 1,
            use_substitutes: true,
            overrides: Vec::new(),
            real_root: PathBuf::from("/"),
        }
    }
}

/// A store behind a Nix daemon socket.
pub struct DaemonStore {
    shared: Arc<Shared>,
    uploader: Option<JoinHandle<()>>,
    log: log::LogSink,
    real_root: PathBuf,
    minor: u8,
    daemon_nix_version: Option<String>,
    trusted: Option<bool>,
    /// Base name -> the unfiltered source it was uploaded from, read while it is unchanged.
    sources: Mutex<HashMap<String, PathBuf>>,
    /// Paths fetched as NARs for reading (see [`Store::real_path`]).
    nar_cache: Mutex<NarCache>,
}

/// A private directory of paths unpacked from the daemon's NARs.
#[derive(Default)]
struct NarCache {
    dir: Option<PathBuf>,
    fetched: HashSet<String>,
}

impl DaemonStore {
    /// Connects to the daemon listening on `socket` with default options.
    pub fn connect(socket: impl AsRef<Path>) -> Result<DaemonStore, DaemonError> {
        DaemonStore::connect_with(socket, ConnectOptions::default())
    }

    /// Connects to the daemon listening on `socket`.
    pub fn connect_with(socket: impl AsRef<Path>, opts: ConnectOptions) -> Result<DaemonStore, DaemonError> {
        let log = log::LogSink::new(opts.log, opts.verbosity);
        let conn = Connection::open(socket.as_ref(), &opts, log.clone())?;
        let (minor, daemon_nix_version, trusted) =
            (conn.minor(), conn.daemon_nix_version().map(str::to_owned), conn.trusted());
        let shared = Arc::new(Shared {
            conn: Mutex::new(conn),
            queue: Mutex::new(Queue::default()),
            work: Condvar::new(),
            done: Condvar::new(),
        });
        let for_thread = shared.clone();
        let uploader = std::thread::Builder::new()
            .name("daemon-upload".into())
            .spawn(move || upload_loop(&for_thread))
            .map_err(|e| DaemonError::Connection(format!("cannot start the upload thread: {e}")))?;
        Ok(DaemonStore {
            shared,
            uploader: Some(uploader),
            log,
            real_root: opts.real_root,
            minor,
            daemon_nix_version,
            trusted,
            sources: Mutex::new(HashMap::new()),
            nar_cache: Mutex::new(NarCache::default()),
        })
    }

    /// The protocol version in use, `(1, minor)`.
    pub fn protocol_version(&self) -> (u8, u8) {
        (1, self.minor)
    }

    /// The daemon's Nix version, if it says (protocol 1.33 and later).
    pub fn daemon_nix_version(&self) -> Option<&str> {
        self.daemon_nix_version.as_deref()
    }

    /// Whether the daemon trusts this client, if it says (protocol 1.35 and later).
    pub fn trusted(&self) -> Option<bool> {
        self.trusted
    }

    /// The log events collected so far ([`LogMode::Collect`]), oldest first.
    pub fn take_logs(&self) -> Vec<LogEvent> {
        self.log.take()
    }

    /// Whether `path` is valid in the daemon's store (after its upload, if queued).
    pub fn is_valid_path(&self, path: &StorePath) -> Result<bool, DaemonError> {
        if self.settle(path.base_name()) {
            return Ok(true);
        }
        self.conn().is_valid_path(path)
    }

    /// What the daemon knows about `path`; `None` if it is not valid.
    pub fn query_path_info(&self, path: &StorePath) -> Result<Option<PathInfo>, DaemonError> {
        self.settle(path.base_name());
        self.conn().query_path_info(path)
    }

    /// Which of `paths` are valid, in one round trip.
    pub fn query_valid_paths(&self, paths: &[StorePath]) -> Result<BTreeSet<String>, DaemonError> {
        for p in paths {
            self.settle(p.base_name());
        }
        self.conn().query_valid_paths(paths)
    }

    /// Keeps `path` from the garbage collector while this store is open.
    pub fn add_temp_root(&self, path: &StorePath) -> Result<(), DaemonError> {
        self.conn().add_temp_root(path)
    }

    /// Makes `link` (a symlink into the store) an indirect GC root of the daemon's store.
    pub fn add_indirect_root(&self, link: &Path) -> Result<(), DaemonError> {
        self.conn().add_indirect_root(link)
    }

    /// Builds (or substitutes) `paths`, after every queued upload; the daemon's log goes
    /// where [`ConnectOptions::log`] says. A failed build is a [`DaemonError::Remote`].
    pub fn build_paths(&self, paths: &[DerivedPath], mode: BuildMode) -> Result<(), DaemonError> {
        self.wait_all();
        self.conn().build_paths(paths, mode)
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.shared.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.shared.queue()
    }

    /// Queues an upload of `path` unless it is queued or known already; returns its
    /// absolute path, or the oldest upload error nobody has been told about.
    fn submit(&self, path: StorePath, name: &str, what: impl FnOnce() -> What) -> Result<(String, u64), StoreError> {
        let mut q = self.queue();
        if let Some((_, e)) = q.errors.pop_front() {
            return Err(e);
        }
        if let Some(e) = &q.broken {
            return Err(e.clone().into());
        }
        if q.stopped {
            return Err(DaemonError::Connection("the upload thread of the daemon store has stopped".into()).into());
        }
        let abs = path.to_absolute();
        if let Some(&ticket) = q.tickets.get(path.base_name()) {
            if ticket > q.finished || q.valid.contains(path.base_name()) {
                return Ok((abs, ticket));
            }
        }
        q.issued += 1;
        let ticket = q.issued;
        q.tickets.insert(path.base_name().to_owned(), ticket);
        q.pending.push_back(Upload { ticket, path, name: name.to_owned(), what: what() });
        if q.idle && q.pending.len() >= WAKE_AT {
            self.shared.work.notify_one();
        }
        Ok((abs, ticket))
    }

    /// Waits until upload `ticket` is finished.
    fn wait(&self, ticket: u64) {
        let mut q = self.queue();
        while q.finished < ticket && !q.stopped {
            if q.idle {
                self.shared.work.notify_one();
            }
            q = self.shared.done.wait(q).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Waits for the upload of `base_name` if there is one; true if the path is known valid.
    fn settle(&self, base_name: &str) -> bool {
        let ticket = self.queue().tickets.get(base_name).copied();
        if let Some(t) = ticket {
            self.wait(t);
        }
        self.queue().valid.contains(base_name)
    }

    fn wait_all(&self) {
        let issued = self.queue().issued;
        self.wait(issued);
    }

    /// The error of upload `ticket` if it failed, else the oldest one not reported.
    fn take_error(&self, ticket: Option<u64>) -> Result<(), StoreError> {
        let mut q = self.queue();
        let own = ticket.and_then(|t| q.errors.iter().position(|(et, _)| *et == t));
        match own.or(if q.errors.is_empty() { None } else { Some(0) }) {
            Some(i) => Err(q.errors.remove(i).map(|(_, e)| e).expect("index in range")),
            None => Ok(()),
        }
    }

    /// Computes the path of a source and queues its upload.
    fn add_source(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
        filter: &mut PathFilter<'_>,
    ) -> Result<(String, Hash, u64), StoreError> {
        let mut rejected = HashSet::new();
        let hash = match method {
            FileIngestionMethod::Recursive => nar_hash_path(src, &mut |p: &Path, t: FileType| {
                let keep = filter(p, t);
                if !keep {
                    rejected.insert(p.to_owned());
                }
                keep
            })?,
            _ => {
                let mut hasher = Hasher::new(HashAlgo::Sha256);
                copy_flat(src, &mut hasher)?;
                hasher.finish()
            }
        };
        let path = make_fixed_output_path(method, &hash, name, &BTreeSet::new())?;
        let src = src.to_owned();
        if rejected.is_empty() {
            self.sources.lock().unwrap_or_else(|e| e.into_inner()).insert(path.base_name().to_owned(), src.clone());
        }
        let (abs, ticket) = self.submit(path, name, || match method {
            FileIngestionMethod::Recursive => What::Tree { src, rejected },
            FileIngestionMethod::Flat => What::Flat { src },
            FileIngestionMethod::Text => What::TextFile { src },
        })?;
        Ok((abs, hash, ticket))
    }
}

impl DaemonStore {
    /// `ROOT/<path>` below the NAR cache once the store path holding `path` is unpacked
    /// there (fetched now if needed); `None` if it is not valid or cannot be fetched.
    fn cached_copy(&self, sp: &StorePath, path: &str) -> Option<PathBuf> {
        let mut cache = self.nar_cache.lock().unwrap_or_else(|e| e.into_inner());
        let dir = match &cache.dir {
            Some(d) => d.clone(),
            None => {
                static CACHES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
                let n = CACHES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let d = std::env::temp_dir().join(format!("rnix-daemon-nars-{}-{n}", std::process::id()));
                let _ = fs::remove_dir_all(&d);
                fs::create_dir_all(d.join("nix/store")).ok()?;
                cache.dir = Some(d.clone());
                d
            }
        };
        let base = sp.base_name();
        if !cache.fetched.contains(base) {
            if !self.is_valid_path(sp).unwrap_or(false) {
                return None;
            }
            let dest = dir.join("nix/store").join(base);
            let _ = fs::remove_dir_all(&dest).or_else(|_| fs::remove_file(&dest));
            if let Err(e) = self.conn().nar_from_path(sp, &dest) {
                eprintln!("warning: {e}");
                return None;
            }
            cache.fetched.insert(base.to_owned());
        }
        Some(dir.join(path.trim_start_matches('/')))
    }
}

impl Store for DaemonStore {
    fn add_text(&self, name: &str, contents: &[u8], references: &BTreeSet<String>) -> Result<String, StoreError> {
        let path = make_text_path(name, &Hash::digest(HashAlgo::Sha256, contents), references)?;
        for r in references {
            StorePath::parse(r)?;
        }
        let what = || What::Text { contents: contents.to_vec(), references: references.clone() };
        Ok(self.submit(path, name, what)?.0)
    }

    fn add_path(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
        filter: &mut PathFilter<'_>,
    ) -> Result<(String, Hash), StoreError> {
        let (abs, hash, ticket) = self.add_source(name, src, method, filter)?;
        self.wait(ticket);
        self.take_error(Some(ticket))?;
        let q = self.queue();
        match &q.broken {
            // Lost with the connection, whose error was reported before.
            Some(e) if !q.valid.contains(&abs[crate::STORE_DIR.len() + 1..]) => Err(e.clone().into()),
            _ => Ok((abs, hash)),
        }
    }

    fn add_path_deferred(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
        filter: &mut PathFilter<'_>,
    ) -> Result<(String, Hash), StoreError> {
        let (abs, hash, _) = self.add_source(name, src, method, filter)?;
        Ok((abs, hash))
    }

    fn exists(&self, path: &str) -> bool {
        let Ok((sp, rest)) = StorePath::parse_prefix(path) else {
            return false;
        };
        if !self.is_valid_path(&sp).unwrap_or(false) {
            return false;
        }
        rest.is_empty() || self.real_path(path).is_some_and(|p| fs::symlink_metadata(p).is_ok())
    }

    /// Where the daemon keeps it if that is readable here, else the unchanged source it
    /// was uploaded from, else a copy fetched from the daemon.
    fn real_path(&self, path: &str) -> Option<PathBuf> {
        let (sp, rest) = StorePath::parse_prefix(path).ok()?;
        self.settle(sp.base_name());
        let direct = self.real_root.join(path.trim_start_matches('/'));
        let top = self.real_root.join(sp.to_absolute().trim_start_matches('/'));
        if fs::symlink_metadata(&top).is_ok() {
            return Some(direct);
        }
        let source = self.sources.lock().unwrap_or_else(|e| e.into_inner()).get(sp.base_name()).cloned();
        if let Some(src) = source {
            if fs::symlink_metadata(&src).is_ok() {
                let mut p = src.into_os_string();
                p.push(rest);
                return Some(PathBuf::from(p));
            }
        }
        Some(self.cached_copy(&sp, path).unwrap_or(direct))
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.wait_all();
        self.take_error(None)
    }

    /// The symlink here, the indirect root in the daemon's state directory (2.8's
    /// `LocalFSStore::addPermRoot` through `AddIndirectRoot`).
    fn add_perm_root(&self, store_path: &str, gc_root: &Path) -> Result<Option<PathBuf>, StoreError> {
        crate::gc_roots::make_root_link(store_path, gc_root)?;
        self.add_indirect_root(gc_root).map_err(|e| StoreError::Db(e.to_string()))?;
        Ok(Some(gc_root.to_path_buf()))
    }

    /// `BuildPaths` for the outputs not valid yet; the daemon's log goes to stderr.
    fn build(&self, drv: &str, outputs: &[(String, String)]) -> Result<(), StoreError> {
        let drv_path = StorePath::parse(drv)?;
        let out_paths = outputs.iter().map(|(_, p)| StorePath::parse(p)).collect::<Result<Vec<_>, _>>()?;
        if !out_paths.is_empty() && self.query_valid_paths(&out_paths)?.len() == out_paths.len() {
            return Ok(());
        }
        let wanted = DerivedPath::Built { drv: drv_path, outputs: outputs.iter().map(|(n, _)| n.clone()).collect() };
        Ok(self.build_paths(&[wanted], BuildMode::Normal)?)
    }
}

impl Drop for DaemonStore {
    /// Finishes every queued upload; an error nobody was told about goes to stderr.
    fn drop(&mut self) {
        {
            let mut q = self.queue();
            q.closing = true;
            self.shared.work.notify_one();
        }
        if let Some(t) = self.uploader.take() {
            let _ = t.join();
        }
        if let Some((_, e)) = self.queue().errors.pop_front() {
            eprintln!("error: {e}");
        }
        if let Some(dir) = self.nar_cache.lock().unwrap_or_else(|e| e.into_inner()).dir.take() {
            let _ = fs::remove_dir_all(dir);
        }
    }
}
