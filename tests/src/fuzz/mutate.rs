//! Byte mutation of real Nix files: the corpus cases and nixpkgs.
//!
//! Real files carry the shapes generated programs miss (long attribute sets,
//! odd formatting, comments, every string form nixpkgs uses). Mutations are
//! chosen to hit the lexer's and parser's boundaries: bytes the lexer cares
//! about, Nix keywords and token fragments, deleted and duplicated ranges,
//! truncation (unterminated strings and comments) and splices of a second
//! file or of a generated expression.

use super::rng::Rng;

/// Bytes that matter to the lexer.
const SPECIAL: &[u8] = b"{}[]();:=.,?@\"'$\\/#*<>!&|+-~ \n\t0123456789aeinr_";

/// Token fragments worth inserting.
const TOKENS: &[&str] = &[
    "${", "''", "'''", "''$", "\"", "}", "{", "rec ", "let ", " in ", "inherit ", "with ", "if ", " then ", " else ",
    "assert ", "or ", "...", "@", "//", "->", "?", "++", "<x>", "./", "~/", "/*", "*/", "#", "\\", "$$", "''\\", "\r",
    "\0", "\u{feff}", "é", "__curPos", "1e", "0x", ".5", "-", ": ", "; ", "= ",
];

/// Apply 1-4 random mutations to `src`; `other` is a second file for splices.
pub fn mutate(src: &[u8], other: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut v = src.to_vec();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        mutate_once(&mut v, other, rng);
    }
    v
}

fn mutate_once(v: &mut Vec<u8>, other: &[u8], rng: &mut Rng) {
    let len = v.len();
    let at = rng.below(len + 1);
    match rng.weighted(&[4, 3, 3, 3, 4, 2, 1, 2]) {
        // Flip a bit or replace a byte with a special one.
        0 if len > 0 => {
            let i = rng.below(len);
            v[i] = if rng.one_in(2) { *rng.pick(SPECIAL) } else { v[i] ^ (1 << rng.below(8)) };
        }
        // Delete a range.
        1 if len > 0 => {
            let start = at.min(len - 1);
            let max = if rng.one_in(4) { 64 } else { 4 };
            let n = 1 + rng.below(max).min(len - start - 1);
            v.drain(start..(start + n).min(len));
        }
        // Duplicate a range (sometimes many times, for depth).
        2 if len > 0 => {
            let start = at.min(len - 1);
            let n = 1 + rng.below(16).min(len - start - 1);
            let chunk = v[start..start + n].to_vec();
            let times = if rng.one_in(8) { rng.range(10, 2000) } else { 1 };
            for _ in 0..times {
                v.splice(start..start, chunk.iter().copied());
            }
        }
        // Insert a special byte.
        3 => v.insert(at, *rng.pick(SPECIAL)),
        // Insert a token fragment.
        4 => {
            let t = rng.pick(TOKENS).as_bytes();
            v.splice(at..at, t.iter().copied());
        }
        // Truncate.
        5 => v.truncate(at),
        // Swap two ranges' contents by copying one over the other.
        6 if len > 8 => {
            let a = rng.below(len - 4);
            let b = rng.below(len - 4);
            let n = 1 + rng.below(4);
            let chunk = v[a..a + n].to_vec();
            v[b..b + n].copy_from_slice(&chunk);
        }
        // Splice a piece of another file.
        _ => {
            if !other.is_empty() {
                let s = rng.below(other.len());
                let n = 1 + rng.below(256).min(other.len() - s - 1);
                v.splice(at..at, other[s..s + n].iter().copied());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutation_is_deterministic_and_total() {
        let src = b"{ a = 1; b = \"x${y}\"; }";
        for i in 0..2000 {
            let a = mutate(src, b"let x = 1; in x", &mut Rng::for_case(1, i));
            let b = mutate(src, b"let x = 1; in x", &mut Rng::for_case(1, i));
            assert_eq!(a, b);
            // Empty inputs must not panic either.
            mutate(b"", b"", &mut Rng::for_case(2, i));
            mutate(b"x", b"", &mut Rng::for_case(3, i));
        }
    }
}
