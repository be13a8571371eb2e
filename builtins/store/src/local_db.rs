//! A local store's state as CppNix 2.8 keeps it: the directory layout under
//! `ROOT/nix/var/nix`, the big lock, the temporary GC roots and the SQLite database
//! (`db/db.sqlite`, schema version 10) that says which store paths are valid.
//!
//! A file in `ROOT/nix/store` is only a store path to Nix once a `ValidPaths` row
//! names it, with its NAR hash and size, references and content address; `.drv`
//! paths also get `DerivationOutputs` rows. Without them `nix-store --realise` does
//! not know the derivation and `nix copy` calls it "not a valid store path". This
//! module creates exactly what `nix-instantiate --store ROOT` creates (same schema
//! text, pragmas, files and modes) and registers paths the way its
//! `registerValidPaths` does, in one transaction per batch. Paths on disk without a
//! row (written by a killed process, or by an rnix-eval that kept no database) are
//! invalid, as they are to Nix: the next add deletes and rewrites them.

use std::collections::{BTreeSet, HashMap};
use std::ffi::CString;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior};

use crate::hash::Hash;
use crate::nar::with_path;
use crate::path_lock::open_lock_file;
use crate::store::StoreError;

/// The database schema version of CppNix 2.8 (`nixSchemaVersion`).
pub const SCHEMA_VERSION: u32 = 10;

/// CppNix 2.8's `schema.sql`, verbatim: SQLite keeps this text, so `.schema` shows it.
const SCHEMA_SQL: &str = r#"create table if not exists ValidPaths (
    id               integer primary key autoincrement not null,
    path             text unique not null,
    hash             text not null,
    registrationTime integer not null,
    deriver          text,
    narSize          integer,
    ultimate         integer, -- null implies "false"
    sigs             text, -- space-separated
    ca               text -- if not null, an assertion that the path is content-addressed; see ValidPathInfo
);

create table if not exists Refs (
    referrer  integer not null,
    reference integer not null,
    primary key (referrer, reference),
    foreign key (referrer) references ValidPaths(id) on delete cascade,
    foreign key (reference) references ValidPaths(id) on delete restrict
);

create index if not exists IndexReferrer on Refs(referrer);
create index if not exists IndexReference on Refs(reference);

-- Paths can refer to themselves, causing a tuple (N, N) in the Refs
-- table.  This causes a deletion of the corresponding row in
-- ValidPaths to cause a foreign key constraint violation (due to `on
-- delete restrict' on the `reference' column).  Therefore, explicitly
-- get rid of self-references.
create trigger if not exists DeleteSelfRefs before delete on ValidPaths
  begin
    delete from Refs where referrer = old.id and reference = old.id;
  end;

create table if not exists DerivationOutputs (
    drv  integer not null,
    id   text not null, -- symbolic output id, usually "out"
    path text not null,
    primary key (drv, id),
    foreign key (drv) references ValidPaths(id) on delete cascade
);

create index if not exists IndexDerivationOutputs on DerivationOutputs(path);
"#;

/// Nix's `gc-reserved-space` default: the size of `db/reserved`.
const RESERVED_SIZE: u64 = 8 * 1024 * 1024;

/// Nix's SQLite busy timeout (one hour): a concurrent writer is waited for, not failed on.
const BUSY_TIMEOUT: Duration = Duration::from_secs(3600);

/// What the database records about a path being registered.
#[derive(Clone, Debug)]
pub(crate) struct PathInfo {
    /// `/nix/store/...`.
    pub path: String,
    /// sha256 of the path's NAR.
    pub nar_hash: Hash,
    /// Size of the path's NAR in bytes.
    pub nar_size: u64,
    /// Absolute store paths it refers to.
    pub references: BTreeSet<String>,
    /// Its content address (`text:sha256:…`, `fixed:r:sha256:…`), if any.
    pub ca: Option<String>,
    /// For a `.drv`: output name → output path (outputs with a known path only).
    pub drv_outputs: Vec<(String, String)>,
}

/// Where a local store rooted at `root` keeps things.
#[derive(Clone, Debug)]
pub struct LocalLayout {
    /// `ROOT/nix/store`.
    pub real_store_dir: PathBuf,
    /// `ROOT/nix/var/nix`.
    pub state_dir: PathBuf,
}

impl LocalLayout {
    /// The layout of the local store with the given root (`/` for the system store).
    pub fn new(root: &Path) -> LocalLayout {
        LocalLayout { real_store_dir: root.join("nix/store"), state_dir: root.join("nix/var/nix") }
    }

    fn db_dir(&self) -> PathBuf {
        self.state_dir.join("db")
    }

    /// `db/db.sqlite`.
    pub fn db_path(&self) -> PathBuf {
        self.db_dir().join("db.sqlite")
    }
}

/// A local store opened for writing: layout made, big lock held (shared), database open.
pub(crate) struct LocalDb {
    conn: Connection,
    layout: LocalLayout,
    /// Held shared while the store is open, as Nix holds it (a schema upgrade takes it exclusively).
    _big_lock: File,
    temp_roots: Option<TempRoots>,
}

impl std::fmt::Debug for LocalDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalDb").field("layout", &self.layout).finish_non_exhaustive()
    }
}

impl LocalDb {
    /// Opens the local store at `layout` as `LocalStore`'s constructor does: creates the
    /// missing directories, `db/reserved`, takes the big lock, and opens the database,
    /// creating it (and `db/schema`) in a new store.
    pub(crate) fn open(layout: &LocalLayout) -> Result<LocalDb, StoreError> {
        create_layout(layout)?;
        let db_dir = layout.db_dir();
        let big_lock_path = db_dir.join("big-lock");
        let big_lock = open_lock_file(&big_lock_path)?;
        match big_lock.try_lock_shared() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                eprintln!("waiting for the big Nix store lock...");
                big_lock.lock_shared().map_err(|e| with_path(e, "acquiring lock on", &big_lock_path))?;
            }
            Err(TryLockError::Error(e)) => return Err(with_path(e, "acquiring lock on", &big_lock_path).into()),
        }
        let schema_path = db_dir.join("schema");
        let schema = read_schema(&schema_path)?;
        if schema > SCHEMA_VERSION {
            return Err(StoreError::Db(format!(
                "current Nix store schema is version {schema}, but I only support {SCHEMA_VERSION}"
            )));
        }
        if schema != 0 && schema < SCHEMA_VERSION {
            return Err(StoreError::Db(format!(
                "the Nix store database '{}' has schema version {schema}, and rnix-eval only writes version \
                 {SCHEMA_VERSION}: let nix upgrade it first (any nix command that opens this store does)",
                layout.db_path().display()
            )));
        }
        let create = schema == 0;
        let conn = open_connection(&layout.db_path(), create)?;
        if create {
            conn.execute_batch(SCHEMA_SQL).map_err(|e| db_error(e, "creating the database schema"))?;
            write_schema(&schema_path)?;
        }
        Ok(LocalDb { conn, layout: layout.clone(), _big_lock: big_lock, temp_roots: None })
    }

    /// True if the database has a row for `path` (`/nix/store/...`).
    pub(crate) fn is_valid(&self, path: &str) -> Result<bool, StoreError> {
        is_valid(&self.conn, path)
    }

    /// Records `paths` as temporary GC roots of this process (`temproots/PID`), so a
    /// concurrent `nix-store --gc` keeps them until this process ends.
    pub(crate) fn add_temp_roots<'a>(&mut self, paths: impl Iterator<Item = &'a str>) -> Result<(), StoreError> {
        if self.temp_roots.is_none() {
            self.temp_roots = Some(TempRoots::create(&self.layout.state_dir)?);
        }
        self.temp_roots.as_mut().expect("created above").add(paths)
    }

    /// Registers `infos` in one transaction, in order, as Nix's `registerValidPaths` does.
    /// A path already valid is left as it is. Returns, per path, why it was not
    /// registered (a reference that is not valid); the transaction itself failing is `Err`.
    pub(crate) fn register(&mut self, infos: &[PathInfo]) -> Result<Vec<Option<StoreError>>, StoreError> {
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        loop {
            match self.try_register(infos, now) {
                Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == ErrorCode::DatabaseBusy => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                r => return r.map_err(|e| db_error(e, "registering store paths")),
            }
        }
    }

    fn try_register(&mut self, infos: &[PathInfo], now: i64) -> rusqlite::Result<Vec<Option<StoreError>>> {
        let txn = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut results = Vec::with_capacity(infos.len());
        let mut ids: HashMap<&str, i64> = HashMap::new();
        {
            let mut find = txn.prepare_cached("select id from ValidPaths where path = ?")?;
            let mut insert = txn.prepare_cached(
                "insert into ValidPaths (path, hash, registrationTime, deriver, narSize, ultimate, sigs, ca) \
                 values (?, ?, ?, ?, ?, ?, ?, ?)",
            )?;
            let mut add_ref = txn.prepare_cached("insert or replace into Refs (referrer, reference) values (?, ?)")?;
            let mut add_output =
                txn.prepare_cached("insert or replace into DerivationOutputs (drv, id, path) values (?, ?, ?)")?;
            'paths: for info in infos {
                if find.query_row([&info.path], |r| r.get::<_, i64>(0)).optional()?.is_some() {
                    results.push(None);
                    continue;
                }
                let mut refs = Vec::with_capacity(info.references.len());
                for r in &info.references {
                    let id = match ids.get(r.as_str()) {
                        Some(&id) => Some(id),
                        None if *r == info.path => None,
                        None => find.query_row([r], |row| row.get::<_, i64>(0)).optional()?,
                    };
                    match id {
                        Some(id) => refs.push(id),
                        None if *r == info.path => {}
                        None => {
                            results.push(Some(StoreError::Db(format!(
                                "cannot register path '{}': its reference '{r}' is not valid",
                                info.path
                            ))));
                            continue 'paths;
                        }
                    }
                }
                insert.execute(params![
                    info.path,
                    format!("sha256:{}", info.nar_hash.to_base16()),
                    now,
                    None::<String>,
                    info.nar_size as i64,
                    None::<i64>,
                    None::<String>,
                    info.ca,
                ])?;
                let id = txn.last_insert_rowid();
                ids.insert(&info.path, id);
                if info.references.contains(&info.path) {
                    refs.push(id);
                }
                for r in refs {
                    add_ref.execute([id, r])?;
                }
                for (name, path) in &info.drv_outputs {
                    add_output.execute(params![id, name, path])?;
                }
                results.push(None);
            }
        }
        txn.commit()?;
        Ok(results)
    }
}

/// Opens the database with Nix's settings: busy timeout, foreign keys, `synchronous =
/// normal`, WAL with a 40000-page auto-checkpoint.
fn open_connection(path: &Path, create: bool) -> Result<Connection, StoreError> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let what = || format!("opening the SQLite database '{}'", path.display());
    let conn = Connection::open_with_flags(path, flags).map_err(|e| db_error(e, &what()))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| db_error(e, &what()))?;
    let setup = || -> rusqlite::Result<()> {
        conn.execute_batch("pragma foreign_keys = 1; pragma synchronous = normal;")?;
        let mode: String = conn.query_row("pragma main.journal_mode", [], |r| r.get(0))?;
        if mode != "wal" {
            conn.query_row("pragma main.journal_mode = wal", [], |r| r.get::<_, String>(0))?;
        }
        conn.query_row("pragma wal_autocheckpoint = 40000", [], |r| r.get::<_, i64>(0))?;
        Ok(())
    };
    // Switching a new database to WAL while another process does the same can be refused
    // at once (SQLite returns BUSY without waiting when waiting could deadlock): retry.
    let mut attempts = 0;
    loop {
        match setup() {
            Ok(()) => return Ok(conn),
            Err(e) if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy) && attempts < 200 => {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(5 + attempts % 20));
            }
            Err(e) => return Err(db_error(e, &what())),
        }
    }
}

/// A read-only connection to an existing store database, or `None` if there is none.
pub(crate) fn open_reader(layout: &LocalLayout) -> Result<Option<Connection>, StoreError> {
    let path = layout.db_path();
    if !path.exists() {
        return Ok(None);
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(&path, flags)
        .map_err(|e| db_error(e, &format!("opening the SQLite database '{}'", path.display())))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| db_error(e, "setting the busy timeout"))?;
    Ok(Some(conn))
}

/// True if `conn`'s database has a row for `path`.
pub(crate) fn is_valid(conn: &Connection, path: &str) -> Result<bool, StoreError> {
    let mut stmt = conn
        .prepare_cached("select 1 from ValidPaths where path = ? limit 1")
        .map_err(|e| db_error(e, "querying path validity"))?;
    stmt.exists([path]).map_err(|e| db_error(e, &format!("querying the validity of '{path}'")))
}

fn db_error(e: rusqlite::Error, doing: &str) -> StoreError {
    StoreError::Db(format!("{doing}: {e}"))
}

/// The version in `db/schema`, 0 if there is none (a new store).
fn read_schema(path: &Path) -> Result<u32, StoreError> {
    match fs::read_to_string(path) {
        Ok(s) => s.trim().parse().map_err(|_| StoreError::Db(format!("'{}' is corrupt", path.display()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(with_path(e, "reading file", path).into()),
    }
}

/// Writes `db/schema` as Nix does: the version, no newline, via a temp file and rename.
fn write_schema(path: &Path) -> Result<(), StoreError> {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp-{}-{n}", std::process::id()));
    fs::write(&tmp, SCHEMA_VERSION.to_string())
        .and_then(|()| fs::rename(&tmp, path))
        .map_err(|e| with_path(e, "writing file", path))?;
    Ok(())
}

/// The directories and files `LocalStore`'s constructor makes (CppNix 2.8).
fn create_layout(layout: &LocalLayout) -> Result<(), StoreError> {
    let mkdir = |p: &Path| fs::create_dir_all(p).map_err(|e| with_path(e, "creating directory", p));
    let state = &layout.state_dir;
    mkdir(&layout.real_store_dir)?;
    mkdir(&layout.real_store_dir.join(".links"))?;
    let profiles = state.join("profiles");
    mkdir(&profiles)?;
    mkdir(&state.join("temproots"))?;
    mkdir(&layout.db_dir())?;
    let gcroots = state.join("gcroots");
    if fs::symlink_metadata(&gcroots).is_err() {
        mkdir(&gcroots)?;
        let link = gcroots.join("profiles");
        // Processes opening a fresh store at once (eval-jobs' workers) race to make it.
        match std::os::unix::fs::symlink(&profiles, &link) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                return Err(with_path(e, "creating symlink", &link).into())
            }
            _ => {}
        }
    }
    let (uid, gid) = (unsafe { libc::getuid() }, unsafe { libc::getgid() });
    for dir in [profiles.join("per-user"), gcroots.join("per-user")] {
        mkdir(&dir)?;
        set_mode(&dir, 0o755)?;
    }
    if let Some(user) = user_name(uid) {
        for dir in [profiles.join("per-user").join(&user), gcroots.join("per-user").join(&user)] {
            mkdir(&dir)?;
            set_mode(&dir, 0o755)?;
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                .map_err(|e| with_path(e, "changing owner of directory", &dir))?;
        }
    }
    if uid == 0 {
        if let Some(group) = group_id("nixbld") {
            share_store_dir(&layout.real_store_dir, group)?;
        }
    }
    reserve_space(&layout.db_dir().join("reserved"));
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<(), StoreError> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| with_path(e, "changing permissions of", path).into())
}

/// Root with the `nixbld` group (2.8's default `build-users-group` for root): the store
/// directory is `root:nixbld`, mode 1775.
fn share_store_dir(dir: &Path, group: u32) -> Result<(), StoreError> {
    let meta = fs::metadata(dir).map_err(|e| with_path(e, "getting attributes of path", dir))?;
    if meta.uid() != 0 || meta.gid() != group || meta.mode() & 0o7777 != 0o1775 {
        std::os::unix::fs::chown(dir, Some(0), Some(group))
            .map_err(|e| with_path(e, "changing ownership of path", dir))?;
        set_mode(dir, 0o1775)?;
    }
    Ok(())
}

/// `db/reserved`: space the garbage collector can free when the disk is full.
fn reserve_space(path: &Path) {
    if fs::metadata(path).is_ok_and(|m| m.len() == RESERVED_SIZE) {
        return;
    }
    let Ok(file) = OpenOptions::new().write(true).create(true).truncate(false).mode(0o600).open(path) else {
        return;
    };
    use std::os::fd::AsRawFd;
    // SAFETY: a valid open descriptor; posix_fallocate only allocates blocks.
    let res = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, RESERVED_SIZE as libc::off_t) };
    if res != 0 {
        let _ = file.set_len(RESERVED_SIZE);
    }
}

/// The login name of `uid` (Nix's `getUserName`).
fn user_name(uid: u32) -> Option<String> {
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: buffers are valid for the given sizes; the result points into them.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result) };
    if rc != 0 || result.is_null() {
        return std::env::var("USER").ok().filter(|u| !u.is_empty());
    }
    // SAFETY: pw_name is a NUL-terminated string inside `buf`.
    let name = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) };
    Some(name.to_string_lossy().into_owned())
}

/// The id of the group `name`, if it exists.
fn group_id(name: &str) -> Option<u32> {
    let cname = CString::new(name).ok()?;
    let mut buf = vec![0 as libc::c_char; 64 * 1024];
    let mut grp: libc::group = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::group = std::ptr::null_mut();
    // SAFETY: as in `user_name`.
    let rc = unsafe { libc::getgrnam_r(cname.as_ptr(), &mut grp, buf.as_mut_ptr(), buf.len(), &mut result) };
    (rc == 0 && !result.is_null()).then_some(grp.gr_gid)
}

/// This process's temporary GC roots file, `temproots/PID`, write-locked while open and
/// removed at the end, as Nix's `createTempRootsFile` / `addTempRoot` keep it.
struct TempRoots {
    file: File,
    path: PathBuf,
    /// `gc.lock`: held shared while appending, so a running collector is waited for.
    gc_lock: File,
}

impl TempRoots {
    fn create(state_dir: &Path) -> Result<TempRoots, StoreError> {
        let path = state_dir.join("temproots").join(std::process::id().to_string());
        let file = loop {
            // A file with our pid is stale: no two live processes share a pid.
            let _ = fs::remove_file(&path);
            let file = open_lock_file(&path)?;
            file.lock().map_err(|e| with_path(e, "acquiring lock on", &path))?;
            let meta = file.metadata().map_err(|e| with_path(e, "statting", &path))?;
            if meta.len() == 0 {
                break file;
            }
        };
        let gc_lock = open_lock_file(&state_dir.join("gc.lock"))?;
        Ok(TempRoots { file, path, gc_lock })
    }

    fn add<'a>(&mut self, paths: impl Iterator<Item = &'a str>) -> Result<(), StoreError> {
        let mut bytes = Vec::new();
        for p in paths {
            bytes.extend_from_slice(p.as_bytes());
            bytes.push(0);
        }
        self.gc_lock.lock_shared().map_err(|e| with_path(e, "acquiring lock on", Path::new("gc.lock")))?;
        let written = self.file.write_all(&bytes).map_err(|e| with_path(e, "writing to file", &self.path));
        let _ = self.gc_lock.unlock();
        Ok(written?)
    }
}

impl Drop for TempRoots {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod concurrent_open_tests {
    use super::*;

    /// Processes that open one fresh store at the same moment (eval-jobs starts its workers
    /// together) all succeed: making the layout and the database races harmlessly.
    #[test]
    fn a_fresh_store_opened_by_many_at_once() {
        for round in 0..10 {
            let root = std::env::temp_dir().join(format!("rnix-local-db-race-{}-{round}", std::process::id()));
            let _ = fs::remove_dir_all(&root);
            let layout = LocalLayout::new(&root);
            let barrier = std::sync::Barrier::new(6);
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..6)
                    .map(|_| {
                        s.spawn(|| {
                            barrier.wait();
                            LocalDb::open(&layout).map(|_| ())
                        })
                    })
                    .collect();
                for h in handles {
                    h.join().expect("no panic").expect("the store opens");
                }
            });
            assert!(fs::symlink_metadata(root.join("nix/var/nix/gcroots/profiles")).is_ok());
            let _ = std::process::Command::new("chmod").arg("-R").arg("u+w").arg(&root).status();
            let _ = fs::remove_dir_all(&root);
        }
    }
}
