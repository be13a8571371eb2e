//! Evaluation errors.
//!
//! One error type with a typed kind, a message, the position it was raised at and a trace of
//! what was being evaluated, innermost first, accumulated while the error unwinds. Only `throw`
//! and failed assertions are catchable by `tryEval` ([`ErrorKind::is_catchable`]).

use crate::source::Pos;
use std::fmt::Write;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// `throw "..."`.
    Throw,
    /// A failed `assert`.
    Assert,
    /// `abort "..."`.
    Abort,
    /// Wrong type of value.
    Type,
    InfiniteRecursion,
    /// Call depth or native stack exhausted.
    StackOverflow,
    /// An attribute that does not exist.
    MissingAttr,
    UndefinedVar,
    /// Parse or lowering error of a file read during evaluation.
    Parse,
    /// Pure-mode and other restrictions.
    Restricted,
    /// Anything else (I/O, bad arguments, ...).
    Other,
}

impl ErrorKind {
    pub fn is_catchable(self) -> bool {
        matches!(self, ErrorKind::Throw | ErrorKind::Assert)
    }
}

#[derive(Clone, Debug)]
pub struct TraceFrame {
    pub pos: Pos,
    pub msg: String,
}

#[derive(Clone, Debug)]
pub struct EvalError {
    pub kind: ErrorKind,
    pub msg: String,
    pub pos: Pos,
    /// Innermost first.
    pub trace: Vec<TraceFrame>,
}

pub type Result<T> = std::result::Result<T, Box<EvalError>>;

impl EvalError {
    pub fn new(kind: ErrorKind, msg: impl Into<String>) -> Box<EvalError> {
        Box::new(EvalError { kind, msg: msg.into(), pos: Pos::NONE, trace: Vec::new() })
    }
    pub fn at(kind: ErrorKind, pos: Pos, msg: impl Into<String>) -> Box<EvalError> {
        Box::new(EvalError { kind, msg: msg.into(), pos, trace: Vec::new() })
    }
}

/// Shorthands: `Err(error(Type, "..."))`.
pub fn error(kind: ErrorKind, msg: impl Into<String>) -> Box<EvalError> {
    EvalError::new(kind, msg)
}

/// Attach a trace frame to an error on its way out.
pub trait AddTrace<T> {
    fn trace(self, pos: Pos, msg: impl FnOnce() -> String) -> Result<T>;
    /// Give the error a position if it has none yet.
    fn at_pos(self, pos: Pos) -> Result<T>;
}

impl<T> AddTrace<T> for Result<T> {
    #[inline]
    fn trace(self, pos: Pos, msg: impl FnOnce() -> String) -> Result<T> {
        match self {
            Ok(v) => Ok(v),
            Err(mut e) => {
                if e.trace.len() < 10_000 {
                    e.trace.push(TraceFrame { pos, msg: msg() });
                }
                Err(e)
            }
        }
    }
    #[inline]
    fn at_pos(self, pos: Pos) -> Result<T> {
        match self {
            Ok(v) => Ok(v),
            Err(mut e) => {
                if e.pos.is_none() {
                    e.pos = pos;
                }
                Err(e)
            }
        }
    }
}

/// Renders `pos` like the reference: ` at FILE:LINE:COL:` and the source lines around it.
pub fn render_pos(out: &mut String, pos: Pos) {
    render_pos_indented(out, pos, 0)
}

/// [`render_pos`] shifted right by `extra` columns (warnings are indented by two more).
pub fn render_pos_indented(out: &mut String, pos: Pos, extra: usize) {
    let Some(loc) = pos.resolve() else { return };
    let _ = writeln!(out, "{:w$}at {}:{}:{}:", "", loc.file.name(), loc.line, loc.column, w = 7 + extra);
    let width = (loc.line + 1).to_string().len().max(1) + extra;
    let show = |n: u32, out: &mut String| {
        if let Some(text) = loc.file.line_text(n) {
            let _ = writeln!(out, "{:>w$}| {}", n, text, w = width + 12);
        }
    };
    if loc.line > 1 {
        show(loc.line - 1, out);
    }
    show(loc.line, out);
    let _ = writeln!(out, "{:>w$}| {}^", "", " ".repeat(loc.column as usize - 1), w = width + 12);
    if loc.line < loc.file.line_count() {
        show(loc.line + 1, out);
    } else {
        let _ = writeln!(out, "{:>w$}|", loc.line + 1, w = width + 12);
    }
}

impl EvalError {
    /// The reference's layout: `error:`, the trace outermost first (with `--show-trace`, else
    /// only the frames the reference always shows), then the message and its position.
    pub fn render(&self, show_trace: bool) -> String {
        let mut out = String::from("error:");
        let shown: Vec<&TraceFrame> = if show_trace { self.trace.iter().rev().collect() } else { Vec::new() };
        if shown.is_empty() {
            let _ = writeln!(out, " {}", self.msg);
        } else {
            out.push('\n');
            for f in shown {
                let _ = writeln!(out, "       … {}", f.msg);
                render_pos(&mut out, f.pos);
                out.push('\n');
            }
            let _ = writeln!(out, "       error: {}", self.msg);
        }
        render_pos(&mut out, self.pos);
        while out.ends_with('\n') {
            out.pop();
        }
        out
    }
}
