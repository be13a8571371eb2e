//! The fallback front end: rnix's rowan tree converted to the shared [`syntax`] tree.
//!
//! Used for files the hand-written parser of [`crate::parse`] does not accept (syntax errors,
//! rare constructs): rnix's parse errors are turned into the reference's messages here, and a
//! tree without errors is converted node for node, so lowering is the same code for both front
//! ends.

use super::{LResult, ParseError};
use crate::ast::BinOp;
use crate::parse::syntax::*;
use crate::source::{FileId, Pos};
use bumpalo::Bump;
use rnix::ast::{self as rast, AstToken, HasEntry, InterpolPart};
use rnix::SyntaxKind;
use rowan::ast::AstNode;

/// Parse `text` with rnix and convert the tree; the first rnix error becomes the result.
pub(super) fn parse<'a>(text: &str, file: FileId, bump: &'a Bump) -> LResult<Node<'a>> {
    let parse = rnix::Root::parse(text);
    if let Some(err) = parse.errors().first() {
        return Err(convert_parse_error(err, file, text));
    }
    let root = parse.tree();
    let Some(expr) = root.expr() else {
        return Err(ParseError {
            pos: Pos::new(file, text.len() as u32),
            msg: "syntax error, unexpected end of file".into(),
        });
    };
    Conv { bump, file }.expr(expr)
}

fn convert_parse_error(err: &rnix::ParseError, file: FileId, text: &str) -> ParseError {
    use rnix::ParseError as E;
    let at = |r: rowan::TextRange| Pos::new(file, u32::from(r.start()));
    let eof = Pos::new(file, text.len() as u32);
    let tokens = Tokens::new(text);
    let unexpected = |r: rowan::TextRange, kind: Option<SyntaxKind>| -> String {
        let token = tokens.at(usize::from(r.start()));
        match kind.or(token.map(|(k, _)| k)) {
            Some(kind) => describe_token(kind, token.map_or("", |(_, t)| t)),
            None => "end of file".into(),
        }
    };
    // A path ending in `/` is one error token to rnix; the reference's lexer stops after the
    // slash.
    if let E::Unexpected(r) | E::UnexpectedExtra(r) | E::UnexpectedWanted(_, r, _) = err {
        let start = usize::from(r.start());
        if let Some((SyntaxKind::TOKEN_ERROR, t)) = tokens.at(start) {
            let is_path_char = |c: char| c.is_ascii_alphanumeric() || "._-+~/".contains(c);
            if t.len() > 1 && t.ends_with('/') && t.chars().all(is_path_char) {
                return ParseError {
                    pos: Pos::new(file, (start + t.len()) as u32),
                    msg: "path has a trailing slash".into(),
                };
            }
        }
    }
    match err {
        E::Unexpected(r) => {
            ParseError { pos: at(*r), msg: format!("syntax error, unexpected {}", unexpected(*r, None)) }
        }
        E::UnexpectedExtra(r) => ParseError {
            pos: at(*r),
            msg: format!("syntax error, unexpected {}, expecting end of file", unexpected(*r, None)),
        },
        E::UnexpectedWanted(got, r, wanted) => {
            let start = usize::from(r.start());
            // An unterminated string: rnix stops at an error token at the very end.
            if wanted.contains(&SyntaxKind::TOKEN_STRING_END) && usize::from(r.end()) >= text.trim_end().len() {
                let (open, indented) = tokens.open_string(start).unwrap_or((start, false));
                // An indented string where an attribute name goes is the first error.
                if indented && expecting(&ATTR_NAME, tokens.previous(open)).is_some() {
                    return ParseError {
                        pos: Pos::new(file, open as u32),
                        msg: indented_string_attr(tokens.previous(open)),
                    };
                }
                let quote = if indented { "end of an indented string" } else { "'\"'" };
                return ParseError {
                    pos: eof,
                    msg: format!("syntax error, unexpected end of file, expecting {quote}"),
                };
            }
            let what = unexpected(*r, Some(*got));
            ParseError { pos: at(*r), msg: syntax_error(&what, expecting(wanted, tokens.previous(start))) }
        }
        E::UnexpectedDoubleBind(r) => ParseError { pos: at(*r), msg: "syntax error, unexpected '@'".into() },
        E::UnexpectedEOFWanted(wanted) => {
            ParseError { pos: eof, msg: syntax_error("end of file", expecting(wanted, tokens.previous(text.len()))) }
        }
        E::UnexpectedEOF => ParseError { pos: eof, msg: "syntax error, unexpected end of file".into() },
        E::DuplicatedArgs(r, name) => {
            ParseError { pos: at(*r), msg: format!("duplicate formal function argument '{}'", name) }
        }
        E::RecursionLimitExceeded => ParseError { pos: eof, msg: "syntax error, expression nested too deeply".into() },
        other => ParseError { pos: eof, msg: format!("syntax error, {}", other) },
    }
}

/// What rnix wants where an attribute name goes.
const ATTR_NAME: [SyntaxKind; 3] = [SyntaxKind::TOKEN_IDENT, SyntaxKind::TOKEN_OR, SyntaxKind::TOKEN_CUR_POS];

/// `syntax error, unexpected WHAT[, expecting …]`.
fn syntax_error(what: &str, expecting: Option<&str>) -> String {
    match expecting {
        Some(e) => format!("syntax error, unexpected {what}, expecting {e}"),
        None => format!("syntax error, unexpected {what}"),
    }
}

/// The message for an indented string where an attribute name goes (after `previous`).
fn indented_string_attr(previous: Option<SyntaxKind>) -> String {
    syntax_error("start of an indented string", expecting(&ATTR_NAME, previous))
}

/// The file's tokens with their offsets, for describing where rnix stopped (tokenized once
/// per error).
struct Tokens<'t>(Vec<(usize, SyntaxKind, &'t str)>);

impl<'t> Tokens<'t> {
    fn new(text: &'t str) -> Self {
        let mut pos = 0;
        Tokens(
            rnix::tokenize(text)
                .map(|(kind, t)| {
                    pos += t.len();
                    (pos - t.len(), kind, t)
                })
                .collect(),
        )
    }

    /// The non-trivia token that starts at byte `offset`, if any.
    fn at(&self, offset: usize) -> Option<(SyntaxKind, &'t str)> {
        let i = self.0.partition_point(|&(start, _, _)| start < offset);
        self.0.get(i).filter(|&&(start, kind, _)| start == offset && !kind.is_trivia()).map(|&(_, k, t)| (k, t))
    }

    /// The last non-trivia token ending at or before byte `offset`.
    fn previous(&self, offset: usize) -> Option<SyntaxKind> {
        self.0
            .iter()
            .take_while(|&&(start, _, t)| start + t.len() <= offset)
            .filter(|(_, k, _)| !k.is_trivia())
            .last()
            .map(|&(_, k, _)| k)
    }

    /// The start of the string that is open at `offset` and whether it is an indented (`''`) one.
    fn open_string(&self, offset: usize) -> Option<(usize, bool)> {
        let mut open = None;
        for &(start, kind, t) in self.0.iter().take_while(|&&(start, _, _)| start < offset) {
            match kind {
                SyntaxKind::TOKEN_STRING_START => open = Some((start, t == "''")),
                SyntaxKind::TOKEN_STRING_END => open = None,
                _ => {}
            }
        }
        open
    }
}

/// How the reference's parser (Nix 2.36, bison) names a token in "unexpected …".
fn describe_token(kind: SyntaxKind, text: &str) -> String {
    use SyntaxKind as K;
    match kind {
        K::TOKEN_IDENT => "identifier".into(),
        K::TOKEN_INTEGER => "integer".into(),
        K::TOKEN_FLOAT => "floating-point literal".into(),
        K::TOKEN_PATH_ABS | K::TOKEN_PATH_REL => "path".into(),
        K::TOKEN_PATH_HOME => "'~/…' path".into(),
        K::TOKEN_PATH_SEARCH => "'<…>' path".into(),
        K::TOKEN_URI => "URI".into(),
        K::TOKEN_ERROR => "invalid token".into(),
        K::TOKEN_STRING_START if text == "''" => "start of an indented string".into(),
        K::TOKEN_STRING_END if text == "''" => "end of an indented string".into(),
        K::TOKEN_STRING_CONTENT => "string".into(),
        _ => format!("'{}'", text),
    }
}

/// The reference's "expecting …" list for the tokens rnix wanted, where the parser state
/// (read off the previous token) makes it certain; `None` where the reference lists
/// nothing or we cannot tell.
fn expecting(wanted: &[SyntaxKind], previous: Option<SyntaxKind>) -> Option<&'static str> {
    use SyntaxKind as K;
    match (wanted, previous) {
        // An attribute name after `.` or `?`.
        ([K::TOKEN_IDENT, K::TOKEN_OR, K::TOKEN_CUR_POS], Some(K::TOKEN_DOT | K::TOKEN_QUESTION)) => {
            Some("identifier or 'or' or '${' or '\"'")
        }
        // The start of a binding in `{ … }` or `let … in`.
        (
            [K::TOKEN_IDENT, K::TOKEN_OR, K::TOKEN_CUR_POS],
            Some(K::TOKEN_L_BRACE | K::TOKEN_SEMICOLON | K::TOKEN_LET),
        ) => Some("'inherit'"),
        // After an attribute name in a binding.
        ([K::TOKEN_ASSIGN], Some(K::TOKEN_IDENT | K::TOKEN_OR | K::TOKEN_STRING_END | K::TOKEN_INTERPOL_END)) => {
            Some("'.' or '='")
        }
        ([K::TOKEN_THEN], _) => Some("'then'"),
        ([K::TOKEN_ELSE], _) => Some("'else'"),
        // After a binding's value, `assert COND` or `with NS`: the reference's parser reduces
        // the expression and is left wanting only the `;`.
        ([K::TOKEN_SEMICOLON], _) => Some("';'"),
        // The end of `( … )` (also `inherit ( … )`).
        ([K::TOKEN_R_PAREN], _) => Some("')'"),
        // rnix wants only `}` inside a function's formals: after `...` so does the reference
        // (2.36); after a formal it also takes another `,`.
        ([K::TOKEN_R_BRACE], Some(K::TOKEN_ELLIPSIS)) => Some("'}'"),
        ([K::TOKEN_R_BRACE], _) => Some("'}' or ','"),
        _ => None,
    }
}

struct Conv<'a> {
    bump: &'a Bump,
    file: FileId,
}

fn off(node: &impl AstNode) -> u32 {
    u32::from(node.syntax().text_range().start())
}

impl<'a> Conv<'a> {
    fn child<T>(&self, c: Option<T>, pos: u32) -> LResult<T> {
        c.ok_or_else(|| ParseError {
            pos: Pos::new(self.file, pos),
            msg: "syntax error, unexpected end of file".into(),
        })
    }
    fn node(&self, s: Syn<'a>) -> Node<'a> {
        self.bump.alloc(s)
    }
    fn slice<T>(&self, v: Vec<T>) -> &'a [T] {
        self.bump.alloc_slice_fill_iter(v)
    }
    fn text(&self, s: &str) -> &'a str {
        self.bump.alloc_str(s)
    }
    fn ident(&self, id: &rast::Ident) -> &'a str {
        self.text(&id.syntax().text().to_string())
    }
    fn sub(&self, c: Option<rast::Expr>, pos: u32) -> LResult<Node<'a>> {
        self.expr(self.child(c, pos)?)
    }

    fn expr(&self, e: rast::Expr) -> LResult<Node<'a>> {
        let pos = off(&e);
        Ok(self.node(match e {
            rast::Expr::Paren(p) => Syn::Paren(pos, self.sub(p.expr(), pos)?),
            rast::Expr::Root(r) => return self.sub(r.expr(), pos),
            rast::Expr::Literal(lit) => match lit.kind() {
                rast::LiteralKind::Integer(i) => Syn::Int(pos, self.text(i.syntax().text())),
                rast::LiteralKind::Float(f) => Syn::Float(pos, self.text(f.syntax().text())),
                rast::LiteralKind::Uri(u) => Syn::Uri(pos, self.text(u.syntax().text())),
            },
            rast::Expr::Str(s) => Syn::Str(pos, self.string(&s)?),
            rast::Expr::PathAbs(_) | rast::Expr::PathRel(_) | rast::Expr::PathHome(_) | rast::Expr::PathSearch(_) => {
                let p = rast::Path::cast(e.syntax().clone()).expect("path node");
                self.path(p, pos)?
            }
            rast::Expr::Ident(id) => Syn::Ident(pos, self.ident(&id)),
            rast::Expr::CurPos(_) => Syn::CurPos(pos),
            rast::Expr::Select(s) => Syn::Select {
                pos,
                expr: self.sub(s.expr(), pos)?,
                path: self.attrpath(self.child(s.attrpath(), pos)?)?,
                default: match s.default_expr() {
                    Some(d) => Some(self.expr(d)?),
                    None => None,
                },
            },
            rast::Expr::HasAttr(h) => Syn::HasAttr {
                pos,
                expr: self.sub(h.expr(), pos)?,
                path: self.attrpath(self.child(h.attrpath(), pos)?)?,
            },
            rast::Expr::Apply(a) => {
                Syn::Apply { pos, func: self.sub(a.lambda(), pos)?, arg: self.sub(a.argument(), pos)? }
            }
            rast::Expr::Lambda(l) => {
                let param = match self.child(l.param(), pos)? {
                    rast::Param::IdentParam(ip) => Param::Ident(self.ident(&self.child(ip.ident(), pos)?)),
                    rast::Param::Pattern(p) => {
                        let bind = match p.pat_bind() {
                            Some(b) => Some(self.ident(&self.child(b.ident(), pos)?)),
                            None => None,
                        };
                        let mut entries = Vec::new();
                        for entry in p.pat_entries() {
                            let epos = off(&entry);
                            let name = self.ident(&self.child(entry.ident(), epos)?);
                            let default = match entry.default() {
                                Some(d) => Some(self.expr(d)?),
                                None => None,
                            };
                            entries.push(PatEntry { pos: epos, name, default });
                        }
                        let ellipsis = p.ellipsis_token().is_some();
                        Param::Pattern(self.bump.alloc(Pattern { bind, entries: self.slice(entries), ellipsis }))
                    }
                };
                Syn::Lambda { pos, param, body: self.sub(l.body(), pos)? }
            }
            rast::Expr::LetIn(l) => {
                let entries = self.entries(&l)?;
                Syn::LetIn { pos, entries, body: self.sub(l.body(), pos)? }
            }
            rast::Expr::LegacyLet(l) => Syn::LegacyLet { pos, entries: self.entries(&l)? },
            rast::Expr::AttrSet(s) => Syn::AttrSet { pos, rec: s.rec_token().is_some(), entries: self.entries(&s)? },
            rast::Expr::List(l) => {
                let mut items = Vec::new();
                for it in l.items() {
                    items.push(self.expr(it)?);
                }
                Syn::List(pos, self.slice(items))
            }
            rast::Expr::IfElse(i) => Syn::If {
                pos,
                cond: self.sub(i.condition(), pos)?,
                then: self.sub(i.body(), pos)?,
                else_: self.sub(i.else_body(), pos)?,
            },
            rast::Expr::Assert(a) => {
                Syn::Assert { pos, cond: self.sub(a.condition(), pos)?, body: self.sub(a.body(), pos)? }
            }
            rast::Expr::With(w) => {
                Syn::With { pos, namespace: self.sub(w.namespace(), pos)?, body: self.sub(w.body(), pos)? }
            }
            rast::Expr::UnaryOp(u) => {
                let inner = self.sub(u.expr(), pos)?;
                match u.operator() {
                    Some(rast::UnaryOpKind::Invert) => Syn::Not(pos, inner),
                    _ => Syn::Neg(pos, inner),
                }
            }
            rast::Expr::BinOp(b) => {
                let lhs = self.sub(b.lhs(), pos)?;
                let rhs = self.sub(b.rhs(), pos)?;
                use rast::BinOpKind as K;
                let op = match b.operator() {
                    Some(K::Add) => Op::Bin(BinOp::Add),
                    Some(K::Sub) => Op::Bin(BinOp::Sub),
                    Some(K::Mul) => Op::Bin(BinOp::Mul),
                    Some(K::Div) => Op::Bin(BinOp::Div),
                    Some(K::Concat) => Op::Bin(BinOp::Concat),
                    Some(K::Update) => Op::Bin(BinOp::Update),
                    Some(K::Equal) => Op::Bin(BinOp::Eq),
                    Some(K::NotEqual) => Op::Bin(BinOp::NEq),
                    Some(K::Less) => Op::Bin(BinOp::Lt),
                    Some(K::LessOrEq) => Op::Bin(BinOp::Le),
                    Some(K::More) => Op::Bin(BinOp::Gt),
                    Some(K::MoreOrEq) => Op::Bin(BinOp::Ge),
                    Some(K::And) => Op::Bin(BinOp::And),
                    Some(K::Or) => Op::Bin(BinOp::Or),
                    Some(K::Implication) => Op::Bin(BinOp::Impl),
                    Some(K::PipeRight) | None => Op::PipeRight,
                    Some(K::PipeLeft) => Op::PipeLeft,
                };
                Syn::BinOp { pos, op, lhs, rhs }
            }
            rast::Expr::Error(_) => {
                return Err(ParseError { pos: Pos::new(self.file, pos), msg: "syntax error".into() })
            }
        }))
    }

    fn string(&self, s: &rast::Str) -> LResult<&'a Str<'a>> {
        let mut parts = Vec::new();
        let mut indented = false;
        for child in s.syntax().children_with_tokens() {
            match child {
                rowan::NodeOrToken::Token(t) => match t.kind() {
                    SyntaxKind::TOKEN_STRING_START => indented = t.text() == "''",
                    SyntaxKind::TOKEN_STRING_CONTENT => parts.push(Part::Text(self.text(t.text()))),
                    _ => {}
                },
                rowan::NodeOrToken::Node(n) => {
                    if let Some(i) = rast::Interpol::cast(n) {
                        parts.push(Part::Interp(self.sub(i.expr(), off(s))?));
                    }
                }
            }
        }
        Ok(self.bump.alloc(Str { indented, parts: self.slice(parts) }))
    }

    fn path(&self, p: rast::Path, pos: u32) -> LResult<Syn<'a>> {
        let kind = match &p {
            rast::Path::PathSearch(s) => {
                let text = s.syntax().text().to_string();
                let inner = text.trim_start_matches('<').trim_end_matches('>');
                return Ok(Syn::SearchPath(pos, self.text(inner)));
            }
            rast::Path::PathAbs(_) => PathKind::Abs,
            rast::Path::PathHome(_) => PathKind::Home,
            rast::Path::PathRel(_) => PathKind::Rel,
        };
        let mut parts = Vec::new();
        for part in p.parts() {
            match part {
                InterpolPart::Literal(t) => parts.push(Part::Text(self.text(t.text()))),
                InterpolPart::Interpolation(i) => parts.push(Part::Interp(self.sub(i.expr(), pos)?)),
            }
        }
        Ok(Syn::Path { pos, kind, parts: self.slice(parts) })
    }

    fn attrpath(&self, p: rast::Attrpath) -> LResult<&'a [Attr<'a>]> {
        let mut keys = Vec::new();
        for a in p.attrs() {
            keys.push(self.attr(a)?);
        }
        Ok(self.slice(keys))
    }

    fn attr(&self, a: rast::Attr) -> LResult<Attr<'a>> {
        let pos = off(&a);
        Ok(match a {
            rast::Attr::Ident(id) => Attr::Ident(pos, self.ident(&id)),
            rast::Attr::Str(s) => {
                if s.syntax().first_token().is_some_and(|t| t.text() == "''") {
                    return Err(self.indented_string_attr(&s, pos));
                }
                Attr::Str(pos, self.string(&s)?)
            }
            rast::Attr::Dynamic(d) => Attr::Dynamic(pos, self.sub(d.expr(), pos)?),
        })
    }

    /// rnix takes an indented string as an attribute name; the reference's grammar does not.
    fn indented_string_attr(&self, s: &rast::Str, pos: u32) -> ParseError {
        let mut prev = s.syntax().first_token().and_then(|t| t.prev_token());
        while let Some(t) = prev.as_ref().filter(|t| t.kind().is_trivia()) {
            prev = t.prev_token();
        }
        ParseError { pos: Pos::new(self.file, pos), msg: indented_string_attr(prev.map(|t| t.kind())) }
    }

    fn entries(&self, node: &impl HasEntry) -> LResult<&'a [Entry<'a>]> {
        let mut out = Vec::new();
        for entry in node.entries() {
            match entry {
                rast::Entry::Inherit(inh) => {
                    let from = match inh.from() {
                        Some(f) => Some(self.sub(f.expr(), off(&f))?),
                        None => None,
                    };
                    let mut attrs = Vec::new();
                    for a in inh.attrs() {
                        attrs.push(self.attr(a)?);
                    }
                    out.push(Entry::Inherit { from, attrs: self.slice(attrs) });
                }
                rast::Entry::AttrpathValue(av) => {
                    let pos = off(&av);
                    let path = self.attrpath(self.child(av.attrpath(), pos)?)?;
                    let value = self.sub(av.value(), pos)?;
                    out.push(Entry::Value { pos, path, value });
                }
            }
        }
        Ok(self.slice(out))
    }
}
