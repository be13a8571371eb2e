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

use bumpalo::Bump;
use syntax::Node;

/// Parse a whole file into `bump`; `None` when the text is not something this parser accepts.
pub fn parse<'a>(text: &'a str, bump: &'a Bump) -> Option<Node<'a>> {
    let toks = lexer::lex(text)?;
    parser::Parser::new(text, toks, bump).file()
}
