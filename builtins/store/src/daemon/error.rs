//! What can go wrong talking to a Nix daemon, worded for the user.
//!
//! Two kinds of failure matter to callers: the daemon refused an operation
//! ([`DaemonError::Remote`], the connection stays usable), or the connection
//! itself failed (I/O, EOF, timeout, a protocol violation), after which the
//! stream is out of step and every later operation fails at once with the
//! same cause.

use std::fmt;
use std::io;
use std::path::Path;

use crate::store::StoreError;

/// Why a daemon operation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DaemonError {
    /// The daemon reported an error (`STDERR_ERROR`); the connection is still usable.
    Remote {
        /// The message, with the daemon's terminal colour codes removed.
        message: String,
        /// Trace lines of a structured error (protocol 1.26 and later), outermost last.
        traces: Vec<String>,
        /// The exit status the daemon suggests (1 unless it says otherwise).
        status: u64,
    },
    /// The connection failed; `message` says where and why.
    Connection(String),
}

impl DaemonError {
    /// True if the daemon refused the operation but the connection is fine.
    pub fn is_remote(&self) -> bool {
        matches!(self, DaemonError::Remote { .. })
    }

    /// A connection failure while `doing` something with the daemon at `socket`.
    pub(crate) fn io(e: &io::Error, socket: &Path, doing: &str) -> DaemonError {
        let socket = socket.display();
        DaemonError::Connection(match e.kind() {
            io::ErrorKind::UnexpectedEof | io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => {
                format!("the Nix daemon at '{socket}' closed the connection while {doing}")
            }
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                format!("the Nix daemon at '{socket}' did not answer in time while {doing}")
            }
            io::ErrorKind::InvalidData => {
                format!("protocol error while {doing} with the Nix daemon at '{socket}': {e}")
            }
            _ => format!("cannot talk to the Nix daemon at '{socket}' while {doing}: {}", crate::nar::os_reason(e)),
        })
    }
}

impl fmt::Display for DaemonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DaemonError::Remote { message, traces, .. } => {
                // As CppNix prints an error: the traces (innermost first on the wire) above the message.
                for t in traces.iter().rev() {
                    writeln!(f, "{t}")?;
                }
                f.write_str(message)
            }
            DaemonError::Connection(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for DaemonError {}

impl From<DaemonError> for StoreError {
    fn from(e: DaemonError) -> StoreError {
        StoreError::Io(io::Error::other(e))
    }
}

/// Removes ANSI escape sequences (`ESC [ ... letter`), which the daemon's messages carry
/// for highlighting, so messages read the same on any output.
pub(crate) fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.peek() == Some(&'[') {
                chars.next();
                // Parameters and intermediates, then one final byte in '@'..='~'.
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_codes_are_removed() {
        assert_eq!(strip_ansi("path '\x1b[35;1m/nix/store/x\x1b[0m' is not valid"), "path '/nix/store/x' is not valid");
        assert_eq!(strip_ansi("plain\x1b"), "plain");
    }

    #[test]
    fn connection_errors_say_what_happened() {
        let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "eof");
        let e = DaemonError::io(&eof, Path::new("/s"), "adding 'x'");
        assert_eq!(e.to_string(), "the Nix daemon at '/s' closed the connection while adding 'x'");
        assert!(!e.is_remote());
        let store: StoreError = e.into();
        assert_eq!(store.to_string(), "the Nix daemon at '/s' closed the connection while adding 'x'");
    }
}
