//! The one error type of the flake library.
//!
//! CppNix reports flake problems as a single message (plus, for a NAR hash
//! mismatch, exit status 102), and the command line prints `error: <message>`.
//! Callers need the exact wording, not a taxonomy, so [`Error`] is a message
//! and an exit status; constructors exist only where the status differs.

use std::fmt;

/// A flake, fetcher or lock-file error, worded as CppNix 2.8 words it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    message: String,
    status: u8,
}

impl Error {
    /// An error with exit status 1.
    pub fn new(message: impl Into<String>) -> Error {
        Error { message: message.into(), status: 1 }
    }

    /// An error with a specific exit status (102 for hash mismatches).
    pub fn with_status(message: impl Into<String>, status: u8) -> Error {
        Error { message: message.into(), status }
    }

    /// The message, without the `error: ` prefix.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error with `prefix` put before the message.
    pub(crate) fn prefixed(self, prefix: &str) -> Error {
        Error { message: format!("{prefix}{}", self.message), status: self.status }
    }

    /// The process exit status CppNix uses for this error.
    pub fn status(&self) -> u8 {
        self.status
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        let s = e.to_string();
        let s = match s.rfind(" (os error ") {
            Some(i) if s.ends_with(')') => s[..i].to_owned(),
            _ => s,
        };
        Error::new(s)
    }
}

impl From<nix_store_core::StoreError> for Error {
    fn from(e: nix_store_core::StoreError) -> Self {
        Error::new(e.to_string())
    }
}

impl From<nix_store_core::HashError> for Error {
    fn from(e: nix_store_core::HashError) -> Self {
        Error::new(e.to_string())
    }
}

/// Shorthand used throughout the crate.
pub type Result<T> = std::result::Result<T, Error>;

/// `Err(Error::new(format!(...)))`.
macro_rules! bail {
    ($($arg:tt)*) => { return Err($crate::error::Error::new(format!($($arg)*))) };
}
pub(crate) use bail;
