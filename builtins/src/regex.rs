//! POSIX extended regular expressions (placeholder).
