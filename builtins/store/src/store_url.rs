//! Store URLs as Nix spells them, for `--store`, `--option store` and `NIX_REMOTE`.
//!
//! One parser for every command: `auto` (or empty), `local`, `local?root=DIR`, a path
//! with a `/` in it (`DIR`, `./DIR`: the local store rooted there, as Nix's
//! `isNonUriPath`), `dummy://` (compute paths, write nothing), and `daemon`,
//! `unix://`, `unix://PATH` (the daemon's socket). Anything else is an error that
//! names what is supported. [`StoreUrl::resolve`] turns `auto` into a concrete
//! store the way the command line wants it: the daemon if its socket answers,
//! else the system store if `/nix/var/nix` is writable, else a local store in the
//! user's data directory.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::STORE_DIR;

/// A parsed store URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreUrl {
    /// `auto` or `""`: decided by [`StoreUrl::resolve`].
    Auto,
    /// A local store (files and database) below `root`: `/` for `local`.
    Local {
        /// The directory holding `nix/store` and `nix/var/nix`.
        root: PathBuf,
    },
    /// `dummy://`: paths are computed, nothing is written.
    Dummy,
    /// The Nix daemon: `daemon` / `unix://` (the default socket) or `unix://PATH`.
    Daemon {
        /// The socket, if not the default one.
        socket: Option<PathBuf>,
    },
}

/// A store URL with `auto` decided: the store a command really uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResolvedStore {
    /// A local store below `root`.
    Local {
        /// The directory holding `nix/store` and `nix/var/nix`.
        root: PathBuf,
    },
    /// Nothing is written.
    Dummy,
    /// The daemon at `socket` (`None`: the default socket).
    Daemon {
        /// The socket, if not the default one.
        socket: Option<PathBuf>,
    },
}

/// Where the daemon listens unless told otherwise (`NIX_DAEMON_SOCKET_PATH`).
pub const DEFAULT_DAEMON_SOCKET: &str = "/nix/var/nix/daemon-socket/socket";

/// What is supported, for error messages.
const SUPPORTED: &str = "supported are 'auto', 'local', 'local?root=DIR', a directory DIR (with a '/' in it), \
                         'dummy://', 'daemon', 'unix://' and 'unix://PATH'";

/// A store URL that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreUrlError(pub String);

impl fmt::Display for StoreUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreUrlError {}

impl StoreUrl {
    /// Parses `spec`; relative directories are taken relative to `cwd`.
    pub fn parse(spec: &str, cwd: &Path) -> Result<StoreUrl, StoreUrlError> {
        let (base, query) = match spec.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (spec, None),
        };
        let params = parse_params(spec, query)?;
        let allow = |names: &[&str]| -> Result<(), StoreUrlError> {
            match params.iter().find(|(k, _)| !names.contains(&k.as_str())) {
                None => Ok(()),
                Some((k, _)) => Err(StoreUrlError(format!(
                    "store '{spec}' has parameter '{k}', which rnix-eval does not support{}",
                    if names.is_empty() {
                        " (it takes none)".to_owned()
                    } else {
                        format!(" (supported: {})", names.join(", "))
                    }
                ))),
            }
        };
        let local = |root: PathBuf| -> Result<StoreUrl, StoreUrlError> {
            allow(&["root", "store"])?;
            for (k, v) in &params {
                if k == "store" && v != STORE_DIR {
                    return Err(StoreUrlError(format!(
                        "store '{spec}': only the store directory '{STORE_DIR}' is supported, not '{v}'"
                    )));
                }
            }
            let root = match params.iter().rev().find(|(k, _)| k == "root") {
                Some((_, r)) if r.is_empty() => root,
                Some((_, r)) => absolute(Path::new(r), cwd),
                None => root,
            };
            Ok(StoreUrl::Local { root })
        };
        match base {
            "" | "auto" => {
                allow(&[])?;
                Ok(StoreUrl::Auto)
            }
            "local" => local(PathBuf::from("/")),
            "daemon" => {
                allow(&[])?;
                Ok(StoreUrl::Daemon { socket: None })
            }
            "dummy://" => {
                allow(&[])?;
                Ok(StoreUrl::Dummy)
            }
            _ => {
                if let Some(rest) = base.strip_prefix("unix://") {
                    allow(&[])?;
                    let socket = (!rest.is_empty()).then(|| absolute(Path::new(rest), cwd));
                    return Ok(StoreUrl::Daemon { socket });
                }
                if let Some((scheme, _)) = base.split_once("://") {
                    return Err(StoreUrlError(format!(
                        "don't know how to open Nix store '{spec}': rnix-eval does not support the '{scheme}://' \
                         store type; {SUPPORTED}"
                    )));
                }
                if base.contains('/') {
                    return local(absolute(Path::new(base), cwd));
                }
                Err(StoreUrlError(format!("don't know how to open Nix store '{spec}'; {SUPPORTED}")))
            }
        }
    }

    /// The concrete store `auto` stands for (other URLs are returned as they are).
    /// `read_only`: nothing will be written, so the daemon is not asked and no notice
    /// is printed. A notice for the user (the data-directory fallback) comes back with it.
    pub fn resolve(&self, read_only: bool) -> (ResolvedStore, Option<String>) {
        match self {
            StoreUrl::Auto => {}
            StoreUrl::Local { root } => return (ResolvedStore::Local { root: root.clone() }, None),
            StoreUrl::Dummy => return (ResolvedStore::Dummy, None),
            StoreUrl::Daemon { socket } => return (ResolvedStore::Daemon { socket: socket.clone() }, None),
        }
        let socket = daemon_socket();
        if !read_only && std::os::unix::net::UnixStream::connect(&socket).is_ok() {
            return (ResolvedStore::Daemon { socket: None }, None);
        }
        if writable(Path::new("/nix/var/nix")) {
            return (ResolvedStore::Local { root: PathBuf::from("/") }, None);
        }
        let root = user_store_root();
        let notice = (!read_only).then(|| {
            format!("note: '/nix' is not writable, so rnix-eval uses the local store at '{}'", root.display())
        });
        (ResolvedStore::Local { root }, notice)
    }

    /// The socket of a daemon store: the given one or the default.
    pub fn socket_path(socket: Option<&Path>) -> PathBuf {
        socket.map(Path::to_path_buf).unwrap_or_else(daemon_socket)
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Auto => f.write_str("auto"),
            StoreUrl::Local { root } if root == Path::new("/") => f.write_str("local"),
            StoreUrl::Local { root } => write!(f, "local?root={}", root.display()),
            StoreUrl::Dummy => f.write_str("dummy://"),
            StoreUrl::Daemon { socket: None } => f.write_str("daemon"),
            StoreUrl::Daemon { socket: Some(s) } => write!(f, "unix://{}", s.display()),
        }
    }
}

/// `NIX_DAEMON_SOCKET_PATH`, else the default socket.
fn daemon_socket() -> PathBuf {
    std::env::var_os("NIX_DAEMON_SOCKET_PATH")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DAEMON_SOCKET))
}

/// The local store used when `/nix` is not writable: `$XDG_DATA_HOME/rnix-eval`
/// (`~/.local/share/rnix-eval`).
pub fn user_store_root() -> PathBuf {
    let data = std::env::var("XDG_DATA_HOME")
        .ok()
        .filter(|d| d.starts_with('/'))
        .map(PathBuf::from)
        .or_else(|| std::env::var("HOME").ok().map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    data.join("rnix-eval")
}

/// `access(path, R_OK | W_OK) == 0`, as Nix asks of its state directory.
fn writable(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a valid NUL-terminated path.
    unsafe { libc::access(c.as_ptr(), libc::R_OK | libc::W_OK) == 0 }
}

/// `path` made absolute against `cwd`, with `.` and `..` resolved textually.
fn absolute(path: &Path, cwd: &Path) -> PathBuf {
    let joined = if path.is_absolute() { path.to_path_buf() } else { cwd.join(path) };
    let mut out = PathBuf::from("/");
    for c in joined.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::Normal(n) => out.push(n),
            _ => {}
        }
    }
    out
}

/// `k=v&k=v`, percent-decoded.
fn parse_params(spec: &str, query: Option<&str>) -> Result<Vec<(String, String)>, StoreUrlError> {
    let Some(query) = query else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let decode = |s: &str| {
            percent_decode(s).ok_or_else(|| StoreUrlError(format!("invalid percent-encoding in store URL '{spec}'")))
        };
        out.push((decode(k)?, decode(v)?));
    }
    Ok(out)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<StoreUrl, StoreUrlError> {
        StoreUrl::parse(s, Path::new("/cwd"))
    }

    fn local(root: &str) -> StoreUrl {
        StoreUrl::Local { root: PathBuf::from(root) }
    }

    #[test]
    fn spellings_nix_accepts() {
        assert_eq!(parse("auto"), Ok(StoreUrl::Auto));
        assert_eq!(parse(""), Ok(StoreUrl::Auto));
        assert_eq!(parse("local"), Ok(local("/")));
        assert_eq!(parse("local?root=/tmp/s"), Ok(local("/tmp/s")));
        assert_eq!(parse("local?root=rel/s"), Ok(local("/cwd/rel/s")));
        assert_eq!(parse("local?root=/tmp/a%20b&store=/nix/store"), Ok(local("/tmp/a b")));
        assert_eq!(parse("/tmp/s/"), Ok(local("/tmp/s")));
        assert_eq!(parse("./s"), Ok(local("/cwd/s")));
        assert_eq!(parse("../x/s"), Ok(local("/x/s")));
        assert_eq!(parse("dummy://"), Ok(StoreUrl::Dummy));
        assert_eq!(parse("daemon"), Ok(StoreUrl::Daemon { socket: None }));
        assert_eq!(parse("unix://"), Ok(StoreUrl::Daemon { socket: None }));
        assert_eq!(parse("unix:///run/s.sock"), Ok(StoreUrl::Daemon { socket: Some("/run/s.sock".into()) }));
    }

    #[test]
    fn unsupported_spellings_say_what_is_supported() {
        for bad in ["foo", "ssh://host", "https://cache.nixos.org", "file:///tmp/x", "local?foo=1", "dummy://?x=1"] {
            let e = parse(bad).unwrap_err().0;
            assert!(e.contains(bad), "{e}");
            assert!(e.contains("support"), "{e}");
        }
        let e = parse("local?store=/gnu/store").unwrap_err().0;
        assert!(e.contains("/nix/store"), "{e}");
        assert!(parse("local?root=%zz").is_err());
    }

    #[test]
    fn display_round_trips() {
        for s in ["auto", "local", "local?root=/tmp/s", "dummy://", "daemon", "unix:///run/s.sock"] {
            assert_eq!(parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn resolving_keeps_explicit_stores() {
        assert_eq!(local("/tmp/s").resolve(false), (ResolvedStore::Local { root: "/tmp/s".into() }, None));
        assert_eq!(StoreUrl::Dummy.resolve(false), (ResolvedStore::Dummy, None));
    }
}
