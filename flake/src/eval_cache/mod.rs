//! The evaluation cache: what an installable of a locked flake resolved to (the text a
//! command printed and the `.drv` paths in it), kept in one SQLite file per flake
//! fingerprint under `$XDG_CACHE_HOME/rnix-eval/eval-cache-v1/`, so that running
//! `rnix-eval .#nixosConfigurations.host`, `eval .#…` or `flake show` again on an unchanged
//! flake answers without evaluating.
//!
//! Why it is safe:
//! - only a locked flake is cached (a clean git tree with its `rev`, or an input locked by
//!   `narHash`; a dirty tree or a lock that changed without being written is not, as in
//!   Nix), and the fingerprint covers the flake's source (its content-addressed store
//!   path), the lock file (so `--override-input` and lock edits), the subdirectory, the
//!   system, pure or impure mode and this binary's version — any committed edit of any file
//!   of the flake, or of its lock, selects another file;
//! - an answer naming `.drv` files is used only if the store still has them (the caller
//!   checks), else the installable is evaluated again and the answer replaced;
//! - every row carries a checksum of its key and contents, and the file is checked
//!   (`PRAGMA quick_check`) when opened: a corrupt or truncated file is deleted and
//!   rebuilt, a corrupt row ignored — never a wrong answer;
//! - WAL journal and a busy timeout: several processes read and write one file at once,
//!   each answer written in one transaction.

use std::path::{Path, PathBuf};
use std::time::Duration;

use nix_store_core::{HashAlgo, Hasher};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use crate::eval::LockedFlake;

/// The subdirectory of the cache home; a new layout gets a new name.
pub const CACHE_DIR: &str = "rnix-eval/eval-cache-v1";

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY NOT NULL,
    output BLOB NOT NULL,
    paths TEXT NOT NULL,
    checksum TEXT NOT NULL
)";

/// An open cache file of one flake fingerprint.
pub struct EvalCache {
    conn: Connection,
    file: PathBuf,
}

/// A cached answer: the bytes printed and the store paths that must still be valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// What the command printed.
    pub output: Vec<u8>,
    /// Store paths the answer names (valid, or it is not used).
    pub paths: Vec<String>,
}

fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut h = Hasher::new(HashAlgo::Sha256);
    for p in parts {
        // Length-prefixed, so that no two part lists hash alike.
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finish().to_base16()
}

/// `$XDG_CACHE_HOME` (else `$HOME/.cache`) / [`CACHE_DIR`].
pub fn default_dir() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".cache"),
    };
    Some(base.join(CACHE_DIR))
}

/// The fingerprint of a locked flake in a context (`system`, purity), or `None` when the
/// flake must not be cached (not locked, or dirty).
pub fn fingerprint(locked: &LockedFlake, context: &str) -> Option<String> {
    let flake = &locked.flake;
    let input = &flake.locked_ref.input;
    if locked.force_dirty || !input.is_locked() {
        return None;
    }
    if input.input_type() == "git" && !matches!(input.get_rev(), Ok(Some(_))) {
        return None;
    }
    let lock = crate::json::to_compact(&locked.lock_file.to_json());
    Some(sha256_hex(&[
        env!("CARGO_PKG_VERSION").as_bytes(),
        flake.locked_ref.to_string().as_bytes(),
        flake.source.store_path.as_bytes(),
        flake.locked_ref.subdir.as_bytes(),
        lock.as_bytes(),
        context.as_bytes(),
    ]))
}

fn row_checksum(key: &str, output: &[u8], paths: &str) -> String {
    sha256_hex(&[key.as_bytes(), output, paths.as_bytes()])
}

fn remove_db(file: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = file.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

fn connect(file: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(file, flags)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let ok: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if ok != "ok" {
        return Err(rusqlite::Error::InvalidQuery);
    }
    conn.execute(SCHEMA, [])?;
    Ok(conn)
}

/// The file is damaged (not merely busy): it is deleted and made anew.
fn is_corrupt(e: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
    match e {
        rusqlite::Error::SqliteFailure(f, _) => matches!(f.code, DatabaseCorrupt | NotADatabase),
        // `PRAGMA quick_check` found damage.
        rusqlite::Error::InvalidQuery => true,
        _ => false,
    }
}

impl EvalCache {
    /// Opens (creating) the cache file of `fingerprint` in `dir`; a file that is not a
    /// sound database is deleted and made anew. `None` if no cache can be had (the caller
    /// evaluates without one).
    pub fn open_in(dir: &Path, fingerprint: &str) -> Option<EvalCache> {
        std::fs::create_dir_all(dir).ok()?;
        let file = dir.join(format!("{fingerprint}.sqlite"));
        let conn = match connect(&file) {
            Ok(c) => c,
            Err(e) if is_corrupt(&e) => {
                remove_db(&file);
                connect(&file).ok()?
            }
            // Busy beyond the timeout, or another transient failure: no cache this time.
            Err(_) => return None,
        };
        Some(EvalCache { conn, file })
    }

    /// [`EvalCache::open_in`] the [`default_dir`], for `locked` in `context`.
    pub fn for_flake(locked: &LockedFlake, context: &str) -> Option<EvalCache> {
        let fp = fingerprint(locked, context)?;
        EvalCache::open_in(&default_dir()?, &fp)
    }

    /// The file this cache lives in.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The answer recorded for `key`, if its checksum holds.
    pub fn get(&self, key: &str) -> Option<Answer> {
        let row: Option<(Vec<u8>, String, String)> = self
            .conn
            .query_row("SELECT output, paths, checksum FROM answers WHERE key = ?1", params![key], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()
            .ok()
            .flatten();
        let (output, paths, checksum) = row?;
        if row_checksum(key, &output, &paths) != checksum {
            return None;
        }
        let paths = paths.split('\n').filter(|p| !p.is_empty()).map(String::from).collect();
        Some(Answer { output, paths })
    }

    /// Records the answer for `key` (replacing any), in one transaction; failures are
    /// ignored (the cache is an optimisation).
    pub fn put(&self, key: &str, answer: &Answer) {
        let paths = answer.paths.join("\n");
        let sum = row_checksum(key, &answer.output, &paths);
        let _ = self.conn.execute(
            "INSERT OR REPLACE INTO answers (key, output, paths, checksum) VALUES (?1, ?2, ?3, ?4)",
            params![key, answer.output, paths, sum],
        );
    }
}

/// The `.drv` store paths named in `text` (what a cached answer needs to stay valid).
pub fn drv_paths_in(text: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(text);
    let mut out = Vec::new();
    let mut rest: &str = &text;
    while let Some(i) = rest.find("/nix/store/") {
        let tail = &rest[i..];
        let end = tail.find(|c: char| !(c.is_ascii_alphanumeric() || "/+-._?=".contains(c))).unwrap_or(tail.len());
        let candidate = &tail[..end];
        if candidate.ends_with(".drv") && candidate.matches('/').count() == 3 {
            out.push(candidate.to_owned());
        }
        rest = &tail[end.max(1)..];
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests;
