//! `toXML` and the `--xml` output, as the reference's `printValueAsXML` writes them.
//!
//! The document is indented by two spaces per level, every element on its own line, attributes
//! in name order (the reference keeps them in a `std::map`), and attribute values escaped with
//! `&quot; &lt; &gt; &amp; &#xA;` only. A derivation (a set with `type = "derivation"`) shows as
//! `<derivation drvPath=… outPath=…>`, its attributes only the first time its `drvPath` is met
//! in one document (then `<repeated />`, also for a derivation without a string `drvPath`).
//! Functions show their pattern; builtins and unevaluated values show as `<unevaluated />`.

use nix_eval::error::Result;
use nix_eval::print::fmt_float;
use nix_eval::source::{Origin, Pos};
use nix_eval::value::{Attrs, Context, NixString};
use nix_eval::{sym, BuiltinDef, Eval, Value};
use std::collections::HashSet;

pub(crate) const BUILTINS: &[BuiltinDef] = &[BuiltinDef { name: "toXML", arity: 1, global: false, func: to_xml }];

fn to_xml(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let mut w = XmlWriter::new(true, false);
    let mut ctx = Context::new();
    w.open("expr", &[]);
    let mut seen = HashSet::new();
    write_value(ev, &args[0], &mut w, &mut ctx, &mut seen, pos)?;
    w.close_all();
    Ok(Value::String(NixString::with_context(w.finish(), ctx)))
}

/// The document `nix-instantiate --eval --xml` prints (without its final newline, which the
/// caller adds). Values are not forced: whatever is still unevaluated shows as
/// `<unevaluated />` (the CLI deep-forces first under `--strict`). `location` adds the
/// `path`/`line`/`column` attributes of attributes and functions (`--no-location` drops them).
pub fn to_xml_string(ev: &mut Eval, v: &Value, location: bool) -> Result<String> {
    let mut w = XmlWriter::new(false, location);
    let mut ctx = Context::new();
    w.open("expr", &[]);
    let mut seen = HashSet::new();
    write_value(ev, v, &mut w, &mut ctx, &mut seen, Pos::NONE)?;
    w.close_all();
    let mut s = String::from_utf8_lossy(&w.finish()).into_owned();
    if s.ends_with('\n') {
        s.pop();
    }
    Ok(s)
}

/// Writes the document without its indentation, noting where each line starts and how deep
/// it is; [`XmlWriter::finish`] indents. The indentation of a deep document is quadratic in its
/// depth (a 10,000-deep value, the most `max-call-depth` allows, is ~400 MB of spaces): only a
/// document that is complete pays for it, not one abandoned at the depth limit.
struct XmlWriter {
    out: Vec<u8>,
    /// Offset in `out` and depth of every indented line, in order.
    lines: Vec<(usize, u32)>,
    stack: Vec<&'static str>,
    /// Force values as they are printed (`toXML`), else show thunks as `<unevaluated />`.
    strict: bool,
    location: bool,
}

impl XmlWriter {
    fn new(strict: bool, location: bool) -> XmlWriter {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(b"<?xml version='1.0' encoding='utf-8'?>\n");
        XmlWriter { out, lines: Vec::new(), stack: Vec::new(), strict, location }
    }
    fn indent(&mut self) {
        if !self.stack.is_empty() {
            self.lines.push((self.out.len(), self.stack.len() as u32));
        }
    }
    /// The document with two spaces per level before each line.
    fn finish(self) -> Vec<u8> {
        let spaces: usize = self.lines.iter().map(|&(_, d)| 2 * d as usize).sum();
        let mut doc = Vec::with_capacity(self.out.len() + spaces);
        let mut from = 0;
        for &(at, depth) in &self.lines {
            doc.extend_from_slice(&self.out[from..at]);
            doc.resize(doc.len() + 2 * depth as usize, b' ');
            from = at;
        }
        doc.extend_from_slice(&self.out[from..]);
        doc
    }
    fn attrs(&mut self, attrs: &[(&str, &[u8])]) {
        // The reference keeps attributes in a std::map: sorted by name.
        let mut attrs: Vec<&(&str, &[u8])> = attrs.iter().collect();
        attrs.sort_by(|a, b| a.0.cmp(b.0));
        for (name, value) in attrs {
            self.out.push(b' ');
            self.out.extend_from_slice(name.as_bytes());
            self.out.extend_from_slice(b"=\"");
            for &c in value.iter() {
                match c {
                    b'"' => self.out.extend_from_slice(b"&quot;"),
                    b'<' => self.out.extend_from_slice(b"&lt;"),
                    b'>' => self.out.extend_from_slice(b"&gt;"),
                    b'&' => self.out.extend_from_slice(b"&amp;"),
                    b'\n' => self.out.extend_from_slice(b"&#xA;"),
                    c => self.out.push(c),
                }
            }
            self.out.push(b'"');
        }
    }
    fn open(&mut self, name: &'static str, attrs: &[(&str, &[u8])]) {
        self.indent();
        self.out.push(b'<');
        self.out.extend_from_slice(name.as_bytes());
        self.attrs(attrs);
        self.out.extend_from_slice(b">\n");
        self.stack.push(name);
    }
    fn close(&mut self) {
        let name = self.stack.pop().expect("open element");
        self.indent();
        self.out.extend_from_slice(b"</");
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b">\n");
    }
    fn close_all(&mut self) {
        while !self.stack.is_empty() {
            self.close();
        }
    }
    fn empty(&mut self, name: &str, attrs: &[(&str, &[u8])]) {
        self.indent();
        self.out.push(b'<');
        self.out.extend_from_slice(name.as_bytes());
        self.attrs(attrs);
        self.out.extend_from_slice(b" />\n");
    }
}

/// `path`, `line`, `column` of a position (no `path` for a text without a file).
fn pos_attrs(pos: Pos) -> Vec<(&'static str, Vec<u8>)> {
    let mut v = Vec::new();
    if let Some(loc) = pos.resolve() {
        if let Origin::File(p) = &loc.file.origin {
            v.push(("path", p.as_bytes().to_vec()));
        }
        v.push(("line", loc.line.to_string().into_bytes()));
        v.push(("column", loc.column.to_string().into_bytes()));
    }
    v
}

fn as_refs<'a>(v: &'a [(&'static str, Vec<u8>)]) -> Vec<(&'static str, &'a [u8])> {
    v.iter().map(|(n, b)| (*n, b.as_slice())).collect()
}

/// The value to show: forced in strict mode, else as far as it is already evaluated
/// (`None`: still a thunk).
fn resolve(ev: &mut Eval, v: &Value, strict: bool) -> Result<Option<Value>> {
    match v {
        Value::Thunk(t) => {
            if strict {
                Ok(Some(ev.force(v)?))
            } else {
                Ok(t.value())
            }
        }
        v => Ok(Some(v.clone())),
    }
}

/// One value, one level deeper in `max-call-depth` (as the reference's `printValueAsXML`),
/// so that a cyclic or very deep value is an error after a bounded amount of output.
fn write_value(
    ev: &mut Eval,
    v: &Value,
    w: &mut XmlWriter,
    ctx: &mut Context,
    seen: &mut HashSet<Vec<u8>>,
    pos: Pos,
) -> Result<()> {
    ev.nested(pos, |ev| write_value_step(ev, v, w, ctx, seen, pos))
}

fn write_value_step(
    ev: &mut Eval,
    v: &Value,
    w: &mut XmlWriter,
    ctx: &mut Context,
    seen: &mut HashSet<Vec<u8>>,
    pos: Pos,
) -> Result<()> {
    let Some(v) = resolve(ev, v, w.strict)? else {
        w.empty("unevaluated", &[]);
        return Ok(());
    };
    match &v {
        Value::Int(i) => w.empty("int", &[("value", i.to_string().as_bytes())]),
        Value::Bool(b) => w.empty("bool", &[("value", if *b { b"true" } else { b"false" })]),
        Value::String(s) => {
            if let Some(c) = s.context() {
                ctx.extend(c.iter().cloned());
            }
            w.empty("string", &[("value", s.as_bytes())]);
        }
        Value::Path(p) => w.empty("path", &[("value", p.as_bytes())]),
        Value::Null => w.empty("null", &[]),
        Value::Float(f) => w.empty("float", &[("value", fmt_float(*f).as_bytes())]),
        Value::Attrs(a) => {
            if ev.is_derivation(a)? {
                let mut xattrs: Vec<(&'static str, Vec<u8>)> = Vec::new();
                let mut drv_path: Vec<u8> = Vec::new();
                if let Some(attr) = a.get_attr(sym::DRV_PATH) {
                    if let Some(Value::String(s)) = resolve(ev, &attr.value, w.strict)? {
                        drv_path = s.as_bytes().to_vec();
                        xattrs.push(("drvPath", drv_path.clone()));
                    }
                }
                if let Some(attr) = a.get_attr(sym::OUT_PATH) {
                    if let Some(Value::String(s)) = resolve(ev, &attr.value, w.strict)? {
                        xattrs.push(("outPath", s.as_bytes().to_vec()));
                    }
                }
                w.open("derivation", &as_refs(&xattrs));
                if !drv_path.is_empty() && seen.insert(drv_path) {
                    write_attrs(ev, a, w, ctx, seen)?;
                } else {
                    w.empty("repeated", &[]);
                }
                w.close();
            } else {
                w.open("attrs", &[]);
                write_attrs(ev, a, w, ctx, seen)?;
                w.close();
            }
        }
        Value::List(l) => {
            w.open("list", &[]);
            for x in l.iter() {
                write_value(ev, x, w, ctx, seen, pos)?;
            }
            w.close();
        }
        Value::Lambda(c) => {
            let xattrs = if w.location { pos_attrs(c.pos()) } else { Vec::new() };
            w.open("function", &as_refs(&xattrs));
            if let Some(formals) = c.formals() {
                let mut pat: Vec<(&'static str, Vec<u8>)> = Vec::new();
                if let Some(arg) = c.arg_name() {
                    pat.push(("name", arg.as_str().as_bytes().to_vec()));
                }
                if formals.ellipsis {
                    pat.push(("ellipsis", b"1".to_vec()));
                }
                w.open("attrspat", &as_refs(&pat));
                let mut names: Vec<&str> = formals.iter().map(|f| f.name.as_str()).collect();
                names.sort_unstable();
                for n in names {
                    w.empty("attr", &[("name", n.as_bytes())]);
                }
                w.close();
            } else {
                let name = c.arg_name().map(|a| a.as_str()).unwrap_or("");
                w.empty("varpat", &[("name", name.as_bytes())]);
            }
            w.close();
        }
        // Builtins (and their partial applications) are not serialised.
        Value::Builtin(_) | Value::Thunk(_) => w.empty("unevaluated", &[]),
    }
    Ok(())
}

fn write_attrs(
    ev: &mut Eval,
    a: &Attrs,
    w: &mut XmlWriter,
    ctx: &mut Context,
    seen: &mut HashSet<Vec<u8>>,
) -> Result<()> {
    for attr in a.sorted() {
        let mut xattrs: Vec<(&'static str, Vec<u8>)> = vec![("name", attr.name.as_str().as_bytes().to_vec())];
        if w.location && !attr.pos.is_none() {
            xattrs.extend(pos_attrs(attr.pos));
        }
        w.open("attr", &as_refs(&xattrs));
        write_value(ev, &attr.value, w, ctx, seen, attr.pos)?;
        w.close();
    }
    Ok(())
}
