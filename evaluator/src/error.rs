//! Evaluation errors.
//!
//! One error type with a typed kind, a message, the position it was raised at and a trace of
//! what was being evaluated, innermost first, accumulated while the error unwinds. As in the
//! reference, where `tryEval` catches `AssertionError` and its subclass `ThrownError`, only
//! `throw`, failed assertions and failed search-path lookups are catchable
//! ([`ErrorKind::is_catchable`]); everything else, restrictions included, ends the evaluation.

use crate::source::Pos;
use std::fmt::Write;

/// What went wrong, as far as `tryEval` and the error formats care.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// `throw "..."`, and `<x>` / `findFile` finding nothing (also in pure mode).
    Throw,
    /// A failed `assert`.
    Assert,
    /// `abort "..."`.
    Abort,
    /// Wrong type of value.
    Type,
    /// A thunk forced while it was being evaluated.
    InfiniteRecursion,
    /// Call depth or native stack exhausted.
    StackOverflow,
    /// An attribute that does not exist.
    MissingAttr,
    /// A variable that is not bound (found at run time under `with`).
    UndefinedVar,
    /// Parse or lowering error of a file read during evaluation.
    Parse,
    /// Pure-mode and other restrictions.
    Restricted,
    /// Anything else (I/O, bad arguments, ...).
    Other,
}

impl ErrorKind {
    /// Whether `builtins.tryEval` catches it (`throw` and `assert` only, as in the reference).
    pub fn is_catchable(self) -> bool {
        matches!(self, ErrorKind::Throw | ErrorKind::Assert)
    }
}

/// One "while evaluating …" line of an error's trace.
#[derive(Clone, Debug)]
pub struct TraceFrame {
    /// Where.
    pub pos: Pos,
    /// What was being done.
    pub msg: String,
}

/// An evaluation error: kind, message, position and trace.
#[derive(Clone, Debug)]
pub struct EvalError {
    /// The kind.
    pub kind: ErrorKind,
    /// The message, without `error: `.
    pub msg: String,
    /// Where it happened ([`Pos::NONE`] if nowhere in particular).
    pub pos: Pos,
    /// Innermost first.
    pub trace: Vec<TraceFrame>,
    /// Close names, shown as `Did you mean …?` after the position (see [`suggestions`]).
    pub suggestion: Option<String>,
}

/// The result of evaluation; the error is boxed to keep `Result<Value>` 16 bytes.
pub type Result<T> = std::result::Result<T, Box<EvalError>>;

impl EvalError {
    /// An error without a position.
    pub fn new(kind: ErrorKind, msg: impl Into<String>) -> Box<EvalError> {
        Box::new(EvalError { kind, msg: msg.into(), pos: Pos::NONE, trace: Vec::new(), suggestion: None })
    }
    /// An error at `pos`.
    pub fn at(kind: ErrorKind, pos: Pos, msg: impl Into<String>) -> Box<EvalError> {
        Box::new(EvalError { kind, msg: msg.into(), pos, trace: Vec::new(), suggestion: None })
    }
    /// Attach the names among `candidates` closest to `query` (the reference's suggestions).
    pub fn suggest<'a>(mut self: Box<Self>, query: &str, candidates: impl IntoIterator<Item = &'a str>) -> Box<Self> {
        self.suggestion = suggestions(query, candidates);
        self
    }
}

/// Shorthands: `Err(error(Type, "..."))`.
pub fn error(kind: ErrorKind, msg: impl Into<String>) -> Box<EvalError> {
    EvalError::new(kind, msg)
}

/// Attach a trace frame to an error on its way out.
pub trait AddTrace<T> {
    /// Adds the frame `msg()` at `pos` to an error (`msg` runs only on error).
    fn trace(self, pos: Pos, msg: impl FnOnce() -> String) -> Result<T>;
    /// Give the error a position if it has none yet.
    fn at_pos(self, pos: Pos) -> Result<T>;
}

/// A trace costs nothing until an error happens: on the `Ok` path [`AddTrace::trace`] is one
/// test of the result's tag, inlined at every use; building the message and pushing the frame
/// are out of line and marked cold, so that neither the closure's call nor the frame's
/// `String` and `Vec` handling take room or registers in the hot callers (the evaluator's
/// call path attaches two frames to every call).
impl<T> AddTrace<T> for Result<T> {
    #[inline(always)]
    fn trace(self, pos: Pos, msg: impl FnOnce() -> String) -> Result<T> {
        match self {
            Ok(v) => Ok(v),
            Err(e) => Err(push_frame(e, pos, msg)),
        }
    }
    #[inline(always)]
    fn at_pos(self, pos: Pos) -> Result<T> {
        match self {
            Ok(v) => Ok(v),
            Err(e) => Err(give_pos(e, pos)),
        }
    }
}

/// The error path of [`AddTrace::trace`]: the frame `msg()` at `pos` (at most 10,000 of them,
/// so that a runaway recursion's trace stays bounded).
#[cold]
#[inline(never)]
pub(crate) fn push_frame(mut e: Box<EvalError>, pos: Pos, msg: impl FnOnce() -> String) -> Box<EvalError> {
    if e.trace.len() < 10_000 {
        e.trace.push(TraceFrame { pos, msg: msg() });
    }
    e
}

/// The error path of [`AddTrace::at_pos`]: `e` at `pos` if it has no position yet.
#[cold]
#[inline(never)]
pub(crate) fn give_pos(mut e: Box<EvalError>, pos: Pos) -> Box<EvalError> {
    if e.pos.is_none() {
        e.pos = pos;
    }
    e
}

/// The reference's suggestions: the (at most 5) names within Levenshtein distance 2 of `query`,
/// closest first then alphabetically, as `x`, `one of x or y` or `one of x, y or z`.
pub fn suggestions<'a>(query: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut best: Vec<(usize, &str)> =
        candidates.into_iter().map(|c| (levenshtein(query, c), c)).filter(|(d, _)| *d <= 2).collect();
    best.sort();
    best.dedup();
    best.truncate(5);
    match best.as_slice() {
        [] => None,
        [(_, one)] => Some(one.to_string()),
        [init @ .., (_, last)] => {
            let init: Vec<&str> = init.iter().map(|(_, n)| *n).collect();
            Some(format!("one of {} or {}", init.join(", "), last))
        }
    }
}

/// Edit distance between two byte strings.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Renders `pos` like the reference: `at FILE:LINE:COL:` (indented by 7 + `extra` columns) and
/// the source lines around it, one per line, without trailing spaces.
pub fn render_pos(out: &mut String, pos: Pos) {
    render_pos_indented(out, pos, 0)
}

/// [`render_pos`] shifted right by `extra` columns (warnings and trace frames are indented by two
/// more).
pub fn render_pos_indented(out: &mut String, pos: Pos, extra: usize) {
    let mut block = String::new();
    pos_block(&mut block, pos);
    let pad = " ".repeat(7 + extra);
    push_indented(out, &pad, &pad, &block);
}

/// The reference's position block, unindented: `at FILE:LINE:COL:` then the previous, current and
/// next source lines as ` NNNNN| text`, with `      |   ^` under the column.
fn pos_block(out: &mut String, pos: Pos) {
    let Some(loc) = pos.resolve() else { return };
    let _ = write!(out, "at {}:{}", loc.file.name(), loc.line);
    if loc.column > 0 {
        let _ = write!(out, ":{}", loc.column);
    }
    out.push(':');
    let show = |n: u32, out: &mut String| {
        if let Some(text) = loc.file.line_text(n) {
            let _ = write!(out, "\n {:>5}| {}", n, text);
        }
    };
    if loc.line > 1 {
        show(loc.line - 1, out);
    }
    show(loc.line, out);
    if loc.column > 0 {
        let _ = write!(out, "\n      |{}^", " ".repeat(loc.column as usize));
    }
    if loc.line < loc.file.line_count() {
        show(loc.line + 1, out);
    }
    out.push('\n');
}

/// Appends `text` with `first` before its first line and `rest` before the others, dropping
/// trailing whitespace of every line (the reference's `indent`).
fn push_indented(out: &mut String, first: &str, rest: &str, text: &str) {
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let start = out.len();
        out.push_str(if i == 0 { first } else { rest });
        out.push_str(line);
        let trimmed = out[start..].trim_end().len();
        out.truncate(start + trimmed);
    }
}

impl EvalError {
    /// The reference's layout (Nix 2.36): `error:`, then with `--show-trace` the trace outermost
    /// first (`… message` and, for frames that have one, their position), a blank line and
    /// `error: message`; then the error's own position. Lines after the first are indented by 7.
    pub fn render(&self, show_trace: bool) -> String {
        let mut body = String::new();
        // The position of the previous frame. The reference attaches no position to most errors
        // raised inside builtins and to their "while evaluating the first argument …" frames,
        // where we record the call site again; a position equal to the previous one is therefore
        // not repeated (this matches the reference's output for all but a handful of corpus cases).
        let mut prev = Pos::NONE;
        if show_trace && !self.trace.is_empty() {
            for f in self.trace.iter().rev() {
                let _ = write!(body, "\n… {}\n", f.msg);
                if f.pos != prev && f.pos.resolve().is_some() {
                    body.push_str("  ");
                    pos_block(&mut body, f.pos);
                }
                if !f.pos.is_none() {
                    prev = f.pos;
                }
            }
            body.push_str("\nerror: ");
        }
        body.push_str(&self.msg);
        body.push('\n');
        let mut ends_with_message = true;
        if self.pos != prev && self.pos.resolve().is_some() {
            pos_block(&mut body, self.pos);
            ends_with_message = false;
        }
        if let Some(s) = &self.suggestion {
            let _ = writeln!(body, "Did you mean {}?", s);
            ends_with_message = false;
        }
        let body = body.trim_end();
        let mut out = String::new();
        push_indented(&mut out, "error: ", "       ", body);
        // A message that ends in a newline (fromTOML's excerpts) leaves the indentation of the
        // next line behind, as in the reference.
        if ends_with_message && self.msg.ends_with('\n') {
            out.push_str("\n       ");
        }
        if !show_trace && !self.trace.is_empty() {
            out.push('\n');
            out.push_str(SHOW_TRACE_HINT);
        }
        out
    }

    /// The error in `format`: [`ErrorFormat::Text`] is [`EvalError::render`]; see
    /// [`ErrorFormat`] for the others. Rich output is coloured when stderr is a terminal (and
    /// `NO_COLOR` is unset).
    pub fn render_as(&self, show_trace: bool, format: ErrorFormat) -> String {
        match format {
            ErrorFormat::Text => self.render(show_trace),
            ErrorFormat::Json => crate::error_render::json(self),
            ErrorFormat::Rich => {
                use std::io::IsTerminal;
                let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
                crate::error_render::rich(self, show_trace, colour)
            }
        }
    }
}

static VERBOSITY: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// The process' verbosity: 0 by default, negative with `--quiet`, 1 per `-v` (set by the
/// command line through `nix_flake::progress::set_verbosity`).
pub fn set_verbosity(level: i32) {
    VERBOSITY.store(level, std::sync::atomic::Ordering::Relaxed);
}

/// The verbosity set by [`set_verbosity`].
pub fn verbosity() -> i32 {
    VERBOSITY.load(std::sync::atomic::Ordering::Relaxed)
}

/// Print `msg()` on stderr when the verbosity is at least `level`, as the reference's
/// `printTalkative` (level 1, `-v`) and `printMsg(lvlChatty)` (level 2, `-vv`) do.
pub fn talk(level: i32, msg: impl FnOnce() -> String) {
    if verbosity() >= level {
        eprintln!("{}", msg());
    }
}

/// What the reference (CppNix 2.8) prints on its own line after an error that has a trace,
/// unless `--show-trace` was given.
pub const SHOW_TRACE_HINT: &str = "(use '--show-trace' to show detailed location information)";

/// How an error is shown on stderr (`--error-format`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum ErrorFormat {
    /// The reference's text (the default).
    #[default]
    Text,
    /// One JSON object on one line per error, for editors and CI: `level`, `kind`, `message`,
    /// `file`, `line`, `column`, `span` (byte offsets `start`/`end` of the token at the
    /// position), `suggestion`, and `trace` (outermost first, each with `message` and the same
    /// position fields). Positions are `null` where the error has none. The trace is always
    /// complete, whatever `--show-trace`.
    Json,
    /// A human-readable form with source snippets (`codespan-reporting`).
    Rich,
}

impl ErrorFormat {
    /// The names the command line accepts.
    pub const NAMES: [&'static str; 3] = ["text", "json", "rich"];

    /// The format named `name` (one of [`ErrorFormat::NAMES`]).
    pub fn from_name(name: &str) -> Option<ErrorFormat> {
        match name {
            "text" => Some(ErrorFormat::Text),
            "json" => Some(ErrorFormat::Json),
            "rich" => Some(ErrorFormat::Rich),
            _ => None,
        }
    }
}

impl ErrorKind {
    /// A stable name for machine-readable output.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Throw => "throw",
            ErrorKind::Assert => "assert",
            ErrorKind::Abort => "abort",
            ErrorKind::Type => "type",
            ErrorKind::InfiniteRecursion => "infinite-recursion",
            ErrorKind::StackOverflow => "stack-overflow",
            ErrorKind::MissingAttr => "missing-attribute",
            ErrorKind::UndefinedVar => "undefined-variable",
            ErrorKind::Parse => "parse",
            ErrorKind::Restricted => "restricted",
            ErrorKind::Other => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{add_source, Origin};

    fn error_at(file: &str, text: &str, offset: u32, msg: &str) -> (Box<EvalError>, Pos) {
        let id = add_source(Origin::File(file.into()), text.into());
        let pos = Pos::new(id, offset);
        (EvalError::at(ErrorKind::Type, pos, msg), pos)
    }

    /// The expected text is `eval-fail-all-1.err.exp` of the Nix 2.36 language corpus.
    #[test]
    fn renders_trace_like_the_reference() {
        let (mut e, pos) = error_at(
            "/pwd/lang/eval-fail-all-1.nix",
            "builtins.all 1 \"foo\"\n",
            0,
            "expected a function but found an integer: 1",
        );
        e.trace.push(TraceFrame { pos, msg: "while evaluating the first argument passed to builtins.all".into() });
        e.trace.push(TraceFrame { pos, msg: "while calling the 'all' builtin".into() });
        let expected = "error:
       … while calling the 'all' builtin
         at /pwd/lang/eval-fail-all-1.nix:1:1:
            1| builtins.all 1 \"foo\"
             | ^
            2|

       … while evaluating the first argument passed to builtins.all

       error: expected a function but found an integer: 1";
        assert_eq!(e.render(true), expected);
    }

    /// As `eval-fail-listToAttrs-4.err.exp` (a frame elsewhere than the call) and without a
    /// trailing newline in the file: no line after the last one.
    #[test]
    fn renders_positions_and_last_line() {
        let text = "builtins.listToAttrs [ { name = 1; } ]";
        let (mut e, pos) = error_at("/pwd/lang/x.nix", text, 25, "expected a string but found an integer: 1");
        let call = Pos::new(pos.split().expect("a real position").0, 0);
        e.trace.push(TraceFrame { pos, msg: "while evaluating the `name` attribute".into() });
        e.trace.push(TraceFrame { pos: call, msg: "while calling the 'listToAttrs' builtin".into() });
        let expected = "error:
       … while calling the 'listToAttrs' builtin
         at /pwd/lang/x.nix:1:1:
            1| builtins.listToAttrs [ { name = 1; } ]
             | ^

       … while evaluating the `name` attribute
         at /pwd/lang/x.nix:1:26:
            1| builtins.listToAttrs [ { name = 1; } ]
             |                          ^

       error: expected a string but found an integer: 1";
        assert_eq!(e.render(true), expected);
        assert_eq!(
            e.render(false),
            "error: expected a string but found an integer: 1
       at /pwd/lang/x.nix:1:26:
            1| builtins.listToAttrs [ { name = 1; } ]
             |                          ^
(use '--show-trace' to show detailed location information)"
        );
    }
}
