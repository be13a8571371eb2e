//! The fast front end: a hand-written lexer and recursive-descent parser for valid Nix files.
//!
//! rnix + rowan cost about a tenth of a NixOS evaluation; this parser builds the small
//! [`syntax`] tree directly from the (normalized) source text. It follows rnix's grammar (the
//! lowered ASTs must be identical, which a differential test checks over all of nixpkgs) but
//! gives up — returns `None` — on any syntax error or construct it does not handle, and the
//! caller then parses the file with rnix, which produces the diagnostic.

mod lexer;
mod parser;
pub mod syntax;

pub(crate) use lexer::has_byte;

use bumpalo::Bump;
use std::cell::RefCell;
use syntax::Node;

thread_local! {
    /// The token buffer, reused from file to file (big files would otherwise fault in fresh
    /// pages every time).
    static TOKENS: RefCell<Vec<lexer::Token>> = const { RefCell::new(Vec::new()) };
}

/// Parse a whole file into `bump`; `None` when the text is not something this parser accepts.
pub fn parse<'a>(text: &'a str, bump: &'a Bump) -> Option<Node<'a>> {
    TOKENS.with(|cell| match cell.try_borrow_mut() {
        Ok(mut toks) => parse_with(text, bump, &mut toks),
        Err(_) => parse_with(text, bump, &mut Vec::new()),
    })
}

fn parse_with<'a>(text: &'a str, bump: &'a Bump, toks: &mut Vec<lexer::Token>) -> Option<Node<'a>> {
    lexer::lex(text, toks)?;
    parser::Parser::new(text, toks, bump).file()
}
