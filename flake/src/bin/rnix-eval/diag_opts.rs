//! The options that decide how errors and progress look (`--error-format`, `-v`, `--quiet`),
//! read once from the whole command line before the commands parse it.
//!
//! A stop-gap until the command line is on clap: then these become ordinary global options
//! and this pre-scan goes away. `--error-format FMT` is removed from the arguments (the
//! command parsers do not know it); `-v`/`--verbose`/`-vv…`/`--quiet` stay (they ignore them).

use nix_eval::{ErrorFormat, EvalError};
use std::sync::OnceLock;

static ERROR_FORMAT: OnceLock<ErrorFormat> = OnceLock::new();

/// Take `--error-format FMT` out of `argv` and apply the verbosity flags; an unknown format is
/// a usage error.
pub fn take(argv: &mut Vec<String>) -> Result<(), String> {
    let mut format = ErrorFormat::Text;
    let mut verbosity = 0;
    let mut i = 0;
    while i < argv.len() {
        match argv[i].as_str() {
            "--error-format" => {
                let Some(name) = argv.get(i + 1) else {
                    return Err("flag '--error-format' requires an argument".into());
                };
                format = ErrorFormat::from_name(name).ok_or_else(|| {
                    format!("invalid value '{name}' for '--error-format' (one of: {})", ErrorFormat::NAMES.join(", "))
                })?;
                argv.drain(i..i + 2);
                continue;
            }
            "--verbose" => verbosity += 1,
            "--quiet" => verbosity -= 1,
            s if s.len() > 1 && s.starts_with('-') && s[1..].bytes().all(|b| b == b'v') => {
                verbosity += s.len() as i32 - 1
            }
            "--" => break,
            _ => {}
        }
        i += 1;
    }
    let _ = ERROR_FORMAT.set(format);
    nix_flake::progress::set_verbosity(verbosity);
    Ok(())
}

/// `e` as `--error-format` asks.
pub fn render(e: &EvalError, show_trace: bool) -> String {
    e.render_as(show_trace, ERROR_FORMAT.get().copied().unwrap_or_default())
}

/// `e` with the outermost context `… msg` (no position): after the message in text, as
/// `nix flake check` prints it (before the `--show-trace` hint), an outermost trace frame in
/// the other formats.
pub fn render_with_context(e: &EvalError, show_trace: bool, msg: &str) -> String {
    match ERROR_FORMAT.get().copied().unwrap_or_default() {
        ErrorFormat::Text => {
            let mut text = e.render(show_trace);
            let at = text.strip_suffix(nix_eval::error::SHOW_TRACE_HINT).map_or(text.len(), |t| t.len() - 1);
            text.insert_str(at, &format!("\n       … {msg}"));
            text
        }
        format => {
            let mut e = e.clone();
            e.trace.push(nix_eval::error::TraceFrame { pos: nix_eval::source::Pos::NONE, msg: msg.to_string() });
            e.render_as(show_trace, format)
        }
    }
}
