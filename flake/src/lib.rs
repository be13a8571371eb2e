//! Flakes.
