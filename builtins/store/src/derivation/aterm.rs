//! The ATerm text of a `.drv` file: writer and parser.
//!
//! The writer must be byte-exact, since both the `.drv` path and every
//! input-addressed output path hash it. Nix escapes only `"` `\` LF CR TAB,
//! and only in the builder, args and env; paths, output names, hash fields and
//! the platform are written raw. The same writer produces the "masked" and
//! "modulo" variants used by `hashDerivationModulo`, so they cannot drift apart.

use std::collections::{BTreeMap, BTreeSet};

use super::{Derivation, DerivationError, DerivationOutput};

impl Derivation {
    /// The exact `.drv` file contents (no trailing newline).
    pub fn to_aterm(&self) -> String {
        unparse(self, false, &self.input_drvs)
    }

    /// Reads a `.drv` file. Escapes `\n \r \t` are decoded and any other escaped
    /// byte stands for itself, as in Nix's parser.
    pub fn parse_aterm(bytes: &[u8]) -> Result<Derivation, DerivationError> {
        let mut p = Parser { s: bytes, pos: 0 };
        let drv = p.derivation()?;
        if p.pos != bytes.len() {
            return Err(DerivationError::TrailingData);
        }
        Ok(drv)
    }
}

/// Nix's `Derivation::unparse(store, maskOutputs, actualInputs)`: with `mask_outputs`,
/// output paths and the env vars named after outputs are written as `""`;
/// `input_drvs` replaces the derivation's own (hash modulo substitutes hashes for paths).
pub(super) fn unparse(drv: &Derivation, mask_outputs: bool, input_drvs: &BTreeMap<String, BTreeSet<String>>) -> String {
    let mut s = String::with_capacity(1024);
    s.push_str("Derive([");
    list(&mut s, &drv.outputs, |s, (name, out)| {
        let path = if mask_outputs { "" } else { out.path.as_str() };
        s.push('(');
        raw(s, name);
        for field in [path, &out.hash_algo, &out.hash] {
            s.push(',');
            raw(s, field);
        }
        s.push(')');
    });
    s.push_str("],[");
    list(&mut s, input_drvs, |s, (path, outputs)| {
        s.push('(');
        raw(s, path);
        s.push_str(",[");
        list(s, outputs, |s, o| raw(s, o));
        s.push_str("])");
    });
    s.push_str("],[");
    list(&mut s, &drv.input_srcs, |s, p| raw(s, p));
    s.push_str("],");
    raw(&mut s, &drv.platform);
    s.push(',');
    escaped(&mut s, &drv.builder);
    s.push_str(",[");
    list(&mut s, &drv.args, |s, a| escaped(s, a));
    s.push_str("],[");
    list(&mut s, &drv.env, |s, (key, value)| {
        let masked = mask_outputs && drv.outputs.contains_key(key);
        s.push('(');
        escaped(s, key);
        s.push(',');
        escaped(s, if masked { "" } else { value });
        s.push(')');
    });
    s.push_str("])");
    s
}

/// Comma-separated items.
fn list<I: IntoIterator>(s: &mut String, items: I, mut item: impl FnMut(&mut String, I::Item)) {
    for (i, x) in items.into_iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        item(s, x);
    }
}

/// A quoted string with no escaping at all (Nix's `printUnquotedString`).
fn raw(s: &mut String, text: &str) {
    s.push('"');
    s.push_str(text);
    s.push('"');
}

/// Whether any of the 8 bytes of `w` may need an ATerm escape: `"` or `\\`, or below 0x0e
/// (which covers TAB, LF and CR). Exact for `"` and `\\`; a byte in 0x80..=0x8d or a
/// false "below" can only make a word look special, never hide one, since the byte loop
/// decides.
#[inline(always)]
fn may_need_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_in = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let below_0e = w.wrapping_sub(ONES * 0x0e) & !w & HIGHS;
    (below_0e | zero_in(w ^ (ONES * u64::from(b'"'))) | zero_in(w ^ (ONES * u64::from(b'\\')))) != 0
}

/// A quoted string with the five ATerm escapes (Nix's `printString`).
///
/// The environments of a NixOS system hold megabytes of scripts and unit files, written three
/// times per derivation (masked, final, modulo): the text is scanned eight bytes at a time,
/// and only words that may hold a special byte are looked at byte by byte.
fn escaped(s: &mut String, text: &str) {
    s.reserve(text.len() + 2);
    s.push('"');
    // Copy the runs between escapes whole: most strings (paths, hashes) have none.
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut at = |s: &mut String, i: usize| {
        if let Some(esc) = escape_of(bytes[i]) {
            s.push_str(&text[start..i]);
            s.push_str(esc);
            start = i + 1;
        }
    };
    let mut i = 0;
    while let Some(word) = bytes.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        if may_need_escape(u64::from_le_bytes(w)) {
            for j in i..i + 8 {
                at(s, j);
            }
        }
        i += 8;
    }
    for j in i..bytes.len() {
        at(s, j);
    }
    s.push_str(&text[start..]);
    s.push('"');
}

/// The ATerm escape of a byte, if it needs one.
#[inline(always)]
fn escape_of(b: u8) -> Option<&'static str> {
    match b {
        b'"' => Some("\\\""),
        b'\\' => Some("\\\\"),
        b'\n' => Some("\\n"),
        b'\r' => Some("\\r"),
        b'\t' => Some("\\t"),
        _ => None,
    }
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn derivation(&mut self) -> Result<Derivation, DerivationError> {
        let mut drv = Derivation::default();
        self.expect("Derive([")?;
        self.list_rest(|p| {
            p.expect("(")?;
            let name = p.string()?;
            p.expect(",")?;
            let path = p.string()?;
            p.expect(",")?;
            let hash_algo = p.string()?;
            p.expect(",")?;
            let hash = p.string()?;
            p.expect(")")?;
            drv.outputs.insert(name, DerivationOutput { path, hash_algo, hash });
            Ok(())
        })?;
        self.expect(",[")?;
        self.list_rest(|p| {
            p.expect("(")?;
            let path = p.path()?;
            p.expect(",[")?;
            let mut outputs = BTreeSet::new();
            p.list_rest(|p| {
                outputs.insert(p.string()?);
                Ok(())
            })?;
            p.expect(")")?;
            drv.input_drvs.insert(path, outputs);
            Ok(())
        })?;
        self.expect(",[")?;
        self.list_rest(|p| {
            drv.input_srcs.insert(p.path()?);
            Ok(())
        })?;
        self.expect(",")?;
        drv.platform = self.string()?;
        self.expect(",")?;
        drv.builder = self.string()?;
        self.expect(",[")?;
        self.list_rest(|p| {
            drv.args.push(p.string()?);
            Ok(())
        })?;
        self.expect(",[")?;
        self.list_rest(|p| {
            p.expect("(")?;
            let key = p.string()?;
            p.expect(",")?;
            let value = p.string()?;
            p.expect(")")?;
            drv.env.insert(key, value);
            Ok(())
        })?;
        self.expect(")")?;
        Ok(drv)
    }

    fn expect(&mut self, token: &'static str) -> Result<(), DerivationError> {
        if self.s[self.pos..].starts_with(token.as_bytes()) {
            self.pos += token.len();
            Ok(())
        } else {
            Err(DerivationError::Expected(token))
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.s.get(self.pos) == Some(&c);
        self.pos += hit as usize;
        hit
    }

    /// The items of a list whose `[` was already read, through its `]`.
    fn list_rest(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<(), DerivationError>,
    ) -> Result<(), DerivationError> {
        if self.eat(b']') {
            return Ok(());
        }
        loop {
            item(self)?;
            if self.eat(b']') {
                return Ok(());
            }
            self.expect(",")?;
        }
    }

    fn string(&mut self) -> Result<String, DerivationError> {
        self.expect("\"")?;
        let mut out = Vec::new();
        loop {
            let &c = self.s.get(self.pos).ok_or(DerivationError::Expected("\""))?;
            self.pos += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let &e = self.s.get(self.pos).ok_or(DerivationError::Expected("\""))?;
                    self.pos += 1;
                    out.push(match e {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        other => other,
                    });
                }
                c => out.push(c),
            }
        }
        String::from_utf8(out).map_err(|_| DerivationError::InvalidUtf8)
    }

    fn path(&mut self) -> Result<String, DerivationError> {
        let s = self.string()?;
        if s.starts_with('/') {
            Ok(s)
        } else {
            Err(DerivationError::BadPath(s))
        }
    }
}

#[cfg(test)]
mod escape_tests {
    use super::escaped;

    /// Nix's `printString`, byte by byte: the model the word-at-a-time scan must match.
    fn model(text: &str) -> String {
        let mut s = String::from("\"");
        for c in text.chars() {
            match c {
                '"' => s.push_str("\\\""),
                '\\' => s.push_str("\\\\"),
                '\n' => s.push_str("\\n"),
                '\r' => s.push_str("\\r"),
                '\t' => s.push_str("\\t"),
                c => s.push(c),
            }
        }
        s.push('"');
        s
    }

    /// Every special byte (and its neighbours in value: 0x08, 0x0b, 0x0c, 0x0e, `!`, `#`,
    /// `[`, `]`) at every offset of strings up to three words long, in ASCII and after
    /// multi-byte characters.
    #[test]
    fn word_scan_matches_the_byte_model() {
        let specials = ['"', '\\', '\n', '\r', '\t', '\u{8}', '\u{b}', '\u{c}', '\u{e}', '!', '#', '[', ']', '\u{0}'];
        for prefix in ["", "é", "→→", "\u{8d}"] {
            for len in 0..24 {
                for &c in &specials {
                    for at in 0..len.max(1) {
                        let mut text: String = prefix.to_owned();
                        text.extend((0..len).map(|k| if k == at { c } else { (b'a' + (k % 26) as u8) as char }));
                        let mut got = String::new();
                        escaped(&mut got, &text);
                        assert_eq!(got, model(&text), "{text:?}");
                    }
                }
            }
        }
        let mut got = String::new();
        escaped(&mut got, "\"\\\n\r\t\"\\\n\r\tabc");
        assert_eq!(got, model("\"\\\n\r\t\"\\\n\r\tabc"));
    }
}
