//! The worker operations this client uses, in the form each protocol minor expects.
//!
//! Queries (`IsValidPath`, `QueryPathInfo`, `QueryValidPaths`), GC protection
//! (`AddTempRoot`, `AddIndirectRoot`), adding content (`AddToStore` with a content-address method
//! and a framed body from 1.25; before that `AddTextToStore` for texts and
//! the old `AddToStore` with a bare NAR) and `BuildPaths`. Requests that are
//! pipelined have a `send_*` half (buffered, not flushed) and a `recv_*` half.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use super::connection::{Connection, Fail};
use super::error::DaemonError;
use super::wire::{self, FramedWriter, Op};
use crate::hash::{Hash, HashAlgo};
use crate::nar::{dump_path, with_path, PathFilter};
use crate::store::{copy_flat, StoreError};
use crate::store_path::StorePath;

/// What the daemon knows about a valid path (`ValidPathInfo`), as `nix path-info --json` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathInfo {
    /// The derivation that built it, if known.
    pub deriver: Option<String>,
    /// sha256 of its NAR serialisation.
    pub nar_hash: Hash,
    /// Store paths it refers to (possibly itself).
    pub references: BTreeSet<String>,
    /// When it became valid, in seconds since the epoch.
    pub registration_time: u64,
    /// Size of its NAR serialisation.
    pub nar_size: u64,
    /// True if it was built locally rather than copied or substituted.
    pub ultimate: bool,
    /// Its signatures.
    pub signatures: BTreeSet<String>,
    /// Its content address (`text:sha256:…`, `fixed:r:sha256:…`), if it has one.
    pub ca: Option<String>,
}

/// Something to build or fetch (`DerivedPath`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DerivedPath {
    /// A store path to make valid (substitute if missing).
    Opaque(StorePath),
    /// Outputs of a derivation to build; no outputs means all of them.
    Built {
        /// The `.drv` path.
        drv: StorePath,
        /// Output names; empty for all.
        outputs: Vec<String>,
    },
}

impl DerivedPath {
    /// The wire form: `/nix/store/…drv!out,dev`, all outputs being `!*` from protocol 1.30
    /// and the bare `.drv` path before.
    pub(crate) fn render(&self, minor: u8) -> String {
        match self {
            DerivedPath::Opaque(p) => p.to_absolute(),
            DerivedPath::Built { drv, outputs } if outputs.is_empty() => {
                if minor >= 30 {
                    format!("{}!*", drv.to_absolute())
                } else {
                    drv.to_absolute()
                }
            }
            DerivedPath::Built { drv, outputs } => format!("{}!{}", drv.to_absolute(), outputs.join(",")),
        }
    }
}

/// How `BuildPaths` builds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BuildMode {
    /// Build what is missing.
    #[default]
    Normal = 0,
    /// Rebuild and replace corrupted paths (trusted clients only).
    Repair = 1,
    /// Rebuild and compare with the existing outputs.
    Check = 2,
}

/// The content of an add, and how it is addressed.
pub(crate) enum Content<'a> {
    /// A text file with references (`toFile`, `.drv`).
    Text { contents: &'a [u8], references: &'a BTreeSet<String> },
    /// The NAR of a tree, entries chosen by `filter`, addressed by its sha256 (`source` paths).
    Tree { src: &'a Path, filter: &'a mut PathFilter<'a> },
    /// A regular file's bytes, addressed by their sha256 (`fixed:out:` paths).
    Flat { src: &'a Path },
}

/// A writer that remembers whether the socket side failed, to tell a local read error
/// (a source file) from a connection failure when streaming a body.
struct Tracked<'w, W: Write> {
    inner: &'w mut W,
    failed: bool,
}

impl<W: Write> Write for Tracked<'_, W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let r = self.inner.write(data);
        self.failed |= r.is_err();
        r
    }

    fn flush(&mut self) -> io::Result<()> {
        let r = self.inner.flush();
        self.failed |= r.is_err();
        r
    }
}

impl Connection {
    fn send_path(&mut self, op: Op, path: &StorePath) -> io::Result<()> {
        wire::write_u64(&mut self.writer, op as u64)?;
        wire::write_bytes(&mut self.writer, path.to_absolute().as_bytes())
    }

    /// One request, flushed, and its reply.
    fn call<T>(
        &mut self,
        doing: &str,
        send: impl FnOnce(&mut Connection) -> io::Result<()>,
        recv: impl FnOnce(&mut Connection) -> Result<T, Fail>,
    ) -> Result<T, DaemonError> {
        self.check()?;
        let result = (|| {
            send(self)?;
            self.writer.flush()?;
            self.process_stderr()?;
            recv(self)
        })();
        self.finish(doing, result)
    }

    /// `IsValidPath`.
    pub(crate) fn is_valid_path(&mut self, path: &StorePath) -> Result<bool, DaemonError> {
        let doing = format!("checking whether '{}' is valid", path.to_absolute());
        self.call(&doing, |c| c.send_path(Op::IsValidPath, path), |c| Ok(wire::read_bool(&mut c.reader)?))
    }

    /// `QueryPathInfo`: `None` for a path that is not valid.
    pub(crate) fn query_path_info(&mut self, path: &StorePath) -> Result<Option<PathInfo>, DaemonError> {
        let doing = format!("querying information about '{}'", path.to_absolute());
        self.call(
            &doing,
            |c| c.send_path(Op::QueryPathInfo, path),
            |c| match wire::read_bool(&mut c.reader)? {
                true => Ok(Some(c.read_path_info()?)),
                false => Ok(None),
            },
        )
    }

    /// `ValidPathInfo` without its path.
    fn read_path_info(&mut self) -> io::Result<PathInfo> {
        let r = &mut self.reader;
        let deriver = wire::read_string(r)?;
        let hash_text = wire::read_string(r)?;
        let nar_hash = Hash::parse_any(&hash_text, Some(HashAlgo::Sha256))
            .map_err(|e| wire::invalid(format!("the daemon sent the NAR hash '{hash_text}': {e}")))?;
        let references = wire::read_strings(r)?.into_iter().collect();
        let registration_time = wire::read_u64(r)?;
        let nar_size = wire::read_u64(r)?;
        // Protocol 1.16 and later, always true here.
        let ultimate = wire::read_bool(r)?;
        let signatures = wire::read_strings(r)?.into_iter().collect();
        let ca = wire::read_string(r)?;
        Ok(PathInfo {
            deriver: (!deriver.is_empty()).then_some(deriver),
            nar_hash,
            references,
            registration_time,
            nar_size,
            ultimate,
            signatures,
            ca: (!ca.is_empty()).then_some(ca),
        })
    }

    /// Buffers a `QueryValidPaths` request (without substitution).
    pub(crate) fn send_query_valid_paths<'a>(
        &mut self,
        paths: impl ExactSizeIterator<Item = &'a str>,
    ) -> io::Result<()> {
        wire::write_u64(&mut self.writer, Op::QueryValidPaths as u64)?;
        wire::write_strings(&mut self.writer, paths)?;
        if self.minor >= 27 {
            wire::write_bool(&mut self.writer, false)?;
        }
        Ok(())
    }

    /// The reply to [`Connection::send_query_valid_paths`].
    pub(crate) fn recv_query_valid_paths(&mut self) -> Result<BTreeSet<String>, Fail> {
        self.process_stderr()?;
        Ok(wire::read_strings(&mut self.reader)?.into_iter().collect())
    }

    /// `QueryValidPaths`: which of `paths` are valid.
    pub(crate) fn query_valid_paths(&mut self, paths: &[StorePath]) -> Result<BTreeSet<String>, DaemonError> {
        let abs: Vec<String> = paths.iter().map(StorePath::to_absolute).collect();
        self.call(
            "querying valid paths",
            |c| c.send_query_valid_paths(abs.iter().map(String::as_str)),
            |c| Ok(wire::read_strings(&mut c.reader)?.into_iter().collect()),
        )
    }

    /// Buffers an `AddTempRoot` request.
    pub(crate) fn send_add_temp_root(&mut self, path: &StorePath) -> io::Result<()> {
        self.send_path(Op::AddTempRoot, path)
    }

    /// The reply to [`Connection::send_add_temp_root`] (or to any request answered by a bare 1).
    pub(crate) fn recv_ack(&mut self) -> Result<(), Fail> {
        self.process_stderr()?;
        wire::read_u64(&mut self.reader)?;
        Ok(())
    }

    /// `AddTempRoot`: keeps `path` from the garbage collector while this connection lasts.
    pub(crate) fn add_temp_root(&mut self, path: &StorePath) -> Result<(), DaemonError> {
        let doing = format!("adding a temporary root for '{}'", path.to_absolute());
        self.call(&doing, |c| c.send_add_temp_root(path), |c| Ok(wire::read_u64(&mut c.reader).map(drop)?))
    }

    /// `AddIndirectRoot`: the daemon links `STATE/gcroots/auto/<hash>` to `link` (a symlink
    /// into the store, outside it), so the collector treats what `link` points at as a root.
    pub(crate) fn add_indirect_root(&mut self, link: &Path) -> Result<(), DaemonError> {
        let doing = format!("adding the indirect root '{}'", link.display());
        let text = link.to_string_lossy().into_owned();
        self.call(
            &doing,
            |c| {
                wire::write_u64(&mut c.writer, Op::AddIndirectRoot as u64)?;
                wire::write_bytes(&mut c.writer, text.as_bytes())
            },
            |c| Ok(wire::read_u64(&mut c.reader).map(drop)?),
        )
    }

    /// `BuildPaths`, waiting as long as the builds take.
    pub(crate) fn build_paths(&mut self, paths: &[DerivedPath], mode: BuildMode) -> Result<(), DaemonError> {
        let rendered: Vec<String> = paths.iter().map(|p| p.render(self.minor)).collect();
        self.without_timeout(|c| {
            c.call(
                "building",
                |c| {
                    wire::write_u64(&mut c.writer, Op::BuildPaths as u64)?;
                    wire::write_strings(&mut c.writer, rendered.iter().map(String::as_str))?;
                    wire::write_u64(&mut c.writer, mode as u64)
                },
                |c| Ok(wire::read_u64(&mut c.reader).map(drop)?),
            )
        })
    }

    /// `NarFromPath`: unpacks the NAR of the valid `path` at `dest` (which must not exist).
    /// The daemon sends the NAR raw after the preamble; it is read to its end, so the
    /// connection stays usable unless the stream itself broke.
    pub(crate) fn nar_from_path(&mut self, path: &StorePath, dest: &Path) -> Result<(), DaemonError> {
        let doing = format!("reading '{}' from the daemon", path.to_absolute());
        self.without_timeout(|c| {
            c.call(
                &doing,
                |c| c.send_path(Op::NarFromPath, path),
                |c| Ok(crate::nar_restore::restore_nar(&mut c.reader, dest)?),
            )
        })
    }

    /// Buffers a request adding `content` named `name` (not flushed: adds are pipelined).
    /// A source that cannot be read completely breaks the connection (the request cannot
    /// be finished without sending wrong content) and is reported as the local error it is.
    pub(crate) fn send_add(&mut self, name: &str, content: Content<'_>) -> Result<(), StoreError> {
        self.check()?;
        let minor = self.minor;
        let mut out = Tracked { inner: &mut self.writer, failed: false };
        let result = write_add(&mut out, minor, name, content);
        let failed_on_socket = out.failed;
        match result {
            Ok(()) => Ok(()),
            Err(e) if failed_on_socket => Err(self.fail_io(&adding(name), &e).into()),
            Err(e) => {
                self.poison(DaemonError::Connection(format!(
                    "the connection to the Nix daemon was abandoned while {}: {}",
                    adding(name),
                    crate::nar::os_reason(&e)
                )));
                Err(e.into())
            }
        }
    }

    /// The reply to [`Connection::send_add`] (flushed before): the path the daemon gave it.
    pub(crate) fn recv_add(&mut self, name: &str) -> Result<String, DaemonError> {
        let result = (|| {
            self.process_stderr()?;
            let path = wire::read_string(&mut self.reader)?;
            if self.minor >= 25 {
                self.read_path_info()?;
            }
            Ok(path)
        })();
        self.finish(&adding(name), result)
    }
}

fn adding(name: &str) -> String {
    format!("adding '{name}' to the store")
}

/// The request adding `content`: before 1.25, `AddTextToStore` for a text; else the
/// `AddToStore` request: from 1.25 name, content-address method, references, repair
/// flag and a framed body (the text, the NAR, or the file's bytes); before, name, the
/// obsolete "fixed" flag, recursive flag, hash algorithm and a bare NAR (a one-file NAR for
/// a flat import).
fn write_add(w: &mut impl Write, minor: u8, name: &str, content: Content<'_>) -> io::Result<()> {
    if let (Content::Text { contents, references }, true) = (&content, minor < 25) {
        wire::write_u64(w, Op::AddTextToStore as u64)?;
        wire::write_bytes(w, name.as_bytes())?;
        wire::write_bytes(w, contents)?;
        return wire::write_strings(w, references.iter().map(String::as_str));
    }
    wire::write_u64(w, Op::AddToStore as u64)?;
    wire::write_bytes(w, name.as_bytes())?;
    if minor >= 25 {
        let (method, references) = match &content {
            Content::Text { references, .. } => ("text:sha256", references.iter().map(String::as_str).collect()),
            Content::Tree { .. } => ("fixed:r:sha256", Vec::new()),
            Content::Flat { .. } => ("fixed:sha256", Vec::new()),
        };
        wire::write_bytes(w, method.as_bytes())?;
        wire::write_strings(w, references)?;
        wire::write_bool(w, false)?; // repair
        let mut framed = FramedWriter::new(w);
        match content {
            Content::Text { contents, .. } => framed.write_all(contents)?,
            Content::Tree { src, filter } => dump_path(src, filter, &mut framed)?,
            Content::Flat { src } => copy_flat(src, &mut framed)?,
        }
        return framed.finish();
    }
    let recursive = matches!(content, Content::Tree { .. });
    // CppNix's compatibility hack: "fixed" is false exactly for recursive sha256.
    wire::write_bool(w, !recursive)?;
    wire::write_bool(w, recursive)?;
    wire::write_bytes(w, b"sha256")?;
    match content {
        Content::Tree { src, filter } => dump_path(src, filter, w),
        Content::Flat { src } => {
            let mut file = File::open(src).map_err(|e| with_path(e, "opening file", src))?;
            let len = file.metadata().map_err(|e| with_path(e, "getting status of", src))?.len();
            wire::write_flat_nar(w, &mut file, len)
        }
        Content::Text { .. } => Ok(()), // sent as AddTextToStore above
    }
}
