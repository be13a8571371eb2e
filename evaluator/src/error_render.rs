//! The machine-readable and the rich renderings of an [`EvalError`] (`--error-format json|rich`).
//!
//! The default text, the reference's layout, is [`EvalError::render`]; these two go beyond the
//! reference: JSON for editors and CI (one object per error, on one line), and a
//! `codespan-reporting` diagnostic with source snippets from the source table for people.
//! Positions are points in the source; both forms widen them to the token that starts there.

use crate::error::{EvalError, TraceFrame, SHOW_TRACE_HINT};
use crate::json_escape::{push_json_str, JsonEscapes};
use crate::source::{source, FileId, Pos};
use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, termcolor::Buffer};
use std::fmt::Write;
use std::ops::Range;
use std::sync::Arc;

/// A position resolved for output: file name, 1-based line and column, and the byte range of
/// the token starting there.
struct Place {
    file: FileId,
    name: String,
    line: u32,
    column: u32,
    span: Range<usize>,
}

fn place(pos: Pos) -> Option<Place> {
    let (file, offset) = pos.split()?;
    let src = source(file)?;
    let loc = pos.resolve()?;
    Some(Place {
        file,
        name: src.name(),
        line: loc.line,
        column: loc.column,
        span: token_span(&src.text, offset as usize),
    })
}

/// The byte range of the token that starts at `offset` (at least one character, never past the
/// end of its line), so that a caret becomes an underline.
fn token_span(text: &str, offset: usize) -> Range<usize> {
    let offset = offset.min(text.len());
    let rest = &text[offset..];
    let line_len = rest.find(['\n', '\r']).unwrap_or(rest.len());
    let token_len = rnix::tokenize(rest).next().map_or(0, |(_, t)| t.len());
    let first_char = rest.chars().next().map_or(0, char::len_utf8);
    let len = token_len.min(line_len).max(first_char.min(line_len));
    offset..offset + len
}

/// `"…"` with 2.8's JSON escapes.
fn json_string(out: &mut String, s: &str) {
    push_json_str(out, s, JsonEscapes::Libutil);
}

/// `"file":…,"line":…,"column":…,"span":{"start":…,"end":…}` (all `null` without a position).
fn json_position(out: &mut String, pos: Pos) {
    match place(pos) {
        Some(p) => {
            out.push_str("\"file\":");
            json_string(out, &p.name);
            let _ = write!(
                out,
                ",\"line\":{},\"column\":{},\"span\":{{\"start\":{},\"end\":{}}}",
                p.line, p.column, p.span.start, p.span.end
            );
        }
        None => out.push_str("\"file\":null,\"line\":null,\"column\":null,\"span\":null"),
    }
}

/// One JSON object on one line (no trailing newline).
pub(crate) fn json(e: &EvalError) -> String {
    let mut out = String::from("{\"level\":\"error\",\"kind\":");
    json_string(&mut out, e.kind.name());
    out.push_str(",\"message\":");
    json_string(&mut out, &e.msg);
    out.push(',');
    json_position(&mut out, e.pos);
    out.push_str(",\"suggestion\":");
    match &e.suggestion {
        Some(s) => json_string(&mut out, s),
        None => out.push_str("null"),
    }
    out.push_str(",\"trace\":[");
    for (i, f) in e.trace.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"message\":");
        json_string(&mut out, &f.msg);
        out.push(',');
        json_position(&mut out, f.pos);
        out.push('}');
    }
    out.push_str("]}");
    out
}

/// The files a diagnostic shows, added to codespan's table on first use.
struct Files {
    table: SimpleFiles<String, Arc<str>>,
    ids: Vec<(FileId, usize)>,
}

impl Files {
    fn id(&mut self, p: &Place) -> usize {
        if let Some(&(_, id)) = self.ids.iter().find(|(f, _)| *f == p.file) {
            return id;
        }
        let text = source(p.file).map_or_else(|| Arc::from(""), |s| s.text.clone());
        let id = self.table.add(p.name.clone(), text);
        self.ids.push((p.file, id));
        id
    }
}

/// A codespan diagnostic: the message, the error's position as the primary label, with
/// `show_trace` the trace (outermost first) as secondary labels or, for frames without a
/// position, notes; without it, the reference's hint when there is a trace.
pub(crate) fn rich(e: &EvalError, show_trace: bool, colour: bool) -> String {
    let mut files = Files { table: SimpleFiles::new(), ids: Vec::new() };
    let mut labels = Vec::new();
    let mut notes = Vec::new();
    if let Some(p) = place(e.pos) {
        let id = files.id(&p);
        labels.push(Label::primary(id, p.span.clone()).with_message(format!("{}:{}:{}", p.name, p.line, p.column)));
    }
    if show_trace {
        for (i, TraceFrame { pos, msg }) in e.trace.iter().rev().enumerate() {
            match place(*pos) {
                Some(p) => {
                    let id = files.id(&p);
                    labels.push(Label::secondary(id, p.span).with_message(format!("({}) {msg}", i + 1)));
                }
                None => notes.push(format!("({}) {msg}", i + 1)),
            }
        }
    } else if !e.trace.is_empty() {
        notes.push(SHOW_TRACE_HINT.trim_matches(['(', ')']).to_string());
    }
    if let Some(s) = &e.suggestion {
        notes.push(format!("did you mean {s}?"));
    }
    let diagnostic = Diagnostic::error().with_message(&e.msg).with_labels(labels).with_notes(notes);
    let mut buf = if colour { Buffer::ansi() } else { Buffer::no_color() };
    if term::emit(&mut buf, &term::Config::default(), &files.table, &diagnostic).is_err() {
        return e.render(show_trace);
    }
    String::from_utf8_lossy(buf.as_slice()).trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorFormat, ErrorKind};
    use crate::source::{add_source, Origin};

    fn sample() -> Box<EvalError> {
        let text = "let\n  f = x: x + \"a\\tb\";\nin f 1\n";
        let id = add_source(Origin::File("/t/sample.nix".into()), text.into());
        let plus = text.find("\"a").unwrap() as u32;
        let call = text.find("f 1").unwrap() as u32;
        let mut e = EvalError::at(ErrorKind::Type, Pos::new(id, plus), "cannot add a \"string\" to an integer");
        e.trace.push(TraceFrame { pos: Pos::new(id, 6), msg: "while calling anonymous lambda".into() });
        e.trace.push(TraceFrame { pos: Pos::new(id, call), msg: "from call site".into() });
        e.trace.push(TraceFrame { pos: Pos::NONE, msg: "while evaluating the file".into() });
        e
    }

    #[test]
    fn json_is_one_line_with_positions_and_the_trace_outermost_first() {
        let e = sample();
        let out = e.render_as(false, ErrorFormat::Json);
        assert!(!out.contains('\n'), "{out}");
        assert_eq!(
            out,
            concat!(
                r#"{"level":"error","kind":"type","message":"cannot add a \"string\" to an integer","#,
                r#""file":"/t/sample.nix","line":2,"column":14,"span":{"start":17,"end":18},"suggestion":null,"#,
                r#""trace":[{"message":"while evaluating the file","file":null,"line":null,"column":null,"span":null},"#,
                r#"{"message":"from call site","file":"/t/sample.nix","line":3,"column":4,"span":{"start":28,"end":29}},"#,
                r#"{"message":"while calling anonymous lambda","file":"/t/sample.nix","line":2,"column":3,"span":{"start":6,"end":7}}]}"#,
            )
        );
    }

    #[test]
    fn json_escapes_control_characters() {
        let mut e = EvalError::new(ErrorKind::Throw, "a\u{1}b\\c");
        e.suggestion = Some("x".into());
        assert_eq!(
            e.render_as(true, ErrorFormat::Json),
            r#"{"level":"error","kind":"throw","message":"a\u0001b\\c","file":null,"line":null,"column":null,"span":null,"suggestion":"x","trace":[]}"#
        );
    }

    #[test]
    fn token_spans_cover_one_token_on_one_line() {
        assert_eq!(token_span("foo.bar + 1", 0), 0..3);
        assert_eq!(token_span("x + 123", 4), 4..7);
        assert_eq!(token_span("''\n  a\n''", 0), 0..2);
        assert_eq!(token_span("a", 1), 1..1);
        assert_eq!(token_span("é", 0), 0..2);
    }

    #[test]
    fn rich_shows_snippets_and_the_trace_only_with_show_trace() {
        let e = sample();
        let plain = rich(&e, false, false);
        assert!(plain.starts_with("error: cannot add a \"string\" to an integer"), "{plain}");
        assert!(plain.contains("┌─ /t/sample.nix:2:14"), "{plain}");
        assert!(plain.contains("f = x: x + \"a\\tb\";"), "{plain}");
        assert!(plain.contains("use '--show-trace' to show detailed location information"), "{plain}");
        assert!(!plain.contains("from call site"), "{plain}");
        assert!(!plain.contains('\u{1b}'), "no colour: {plain}");

        let traced = rich(&e, true, false);
        assert!(traced.contains("(1) while evaluating the file"), "{traced}");
        assert!(traced.contains("(2) from call site"), "{traced}");
        assert!(traced.contains("(3) while calling anonymous lambda"), "{traced}");
        assert!(!traced.contains("--show-trace"), "{traced}");
        assert!(rich(&e, true, true).contains('\u{1b}'), "colour when asked");
    }

    #[test]
    fn text_is_the_reference_layout_with_the_hint_when_there_is_a_trace() {
        let e = sample();
        let text = e.render_as(false, ErrorFormat::Text);
        assert_eq!(text, format!("{}", e.render(false)));
        assert!(text.ends_with(&format!("\n{SHOW_TRACE_HINT}")), "{text}");
        assert!(!e.render(true).contains(SHOW_TRACE_HINT));
        let bare = EvalError::new(ErrorKind::Throw, "x");
        assert_eq!(bare.render(false), "error: x");
    }
}
