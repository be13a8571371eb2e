//! Hash algorithms, digests, and every textual form of a digest Nix reads or writes.
//!
//! Nix spells one digest four ways (base16, nix32, base64, SRI) and optionally
//! prefixes it with `<algo>:`. Which form a string is in is decided by its
//! length alone, and the algorithm may come from the string or from context.
//! The parsers below follow CppNix 2.8's `Hash::parseAny`, `parseAnyPrefixed`,
//! `parseNonSRIUnprefixed` and `newHashAllowEmpty` case by case, including
//! their error wording, because `outputHash` spellings end up in `.drv` files
//! and error messages end up in test expectations.

use std::fmt;
use std::io::{self, Write};

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use crate::nixbase32;

/// A hash algorithm Nix 2.8 knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HashAlgo {
    /// MD5, 16 bytes.
    Md5,
    /// SHA-1, 20 bytes.
    Sha1,
    /// SHA-256, 32 bytes.
    Sha256,
    /// SHA-512, 64 bytes.
    Sha512,
}

impl HashAlgo {
    /// Parses `md5`, `sha1`, `sha256` or `sha512` (exact, lowercase).
    pub fn parse(name: &str) -> Result<HashAlgo, HashError> {
        match name {
            "md5" => Ok(HashAlgo::Md5),
            "sha1" => Ok(HashAlgo::Sha1),
            "sha256" => Ok(HashAlgo::Sha256),
            "sha512" => Ok(HashAlgo::Sha512),
            _ => Err(HashError::UnknownAlgo(name.to_owned())),
        }
    }

    /// The lowercase name, as printed in prefixes and SRI strings.
    pub fn name(self) -> &'static str {
        match self {
            HashAlgo::Md5 => "md5",
            HashAlgo::Sha1 => "sha1",
            HashAlgo::Sha256 => "sha256",
            HashAlgo::Sha512 => "sha512",
        }
    }

    /// Digest size in bytes.
    pub fn size(self) -> usize {
        match self {
            HashAlgo::Md5 => 16,
            HashAlgo::Sha1 => 20,
            HashAlgo::Sha256 => 32,
            HashAlgo::Sha512 => 64,
        }
    }

    fn base16_len(self) -> usize {
        self.size() * 2
    }

    fn base64_len(self) -> usize {
        self.size().div_ceil(3) * 4
    }
}

impl fmt::Display for HashAlgo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a digest is written out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashFormat {
    /// Lowercase hex.
    Base16,
    /// Nix's base-32 (what 2.8 calls "base32").
    Nix32,
    /// RFC 4648 base64 with padding.
    Base64,
    /// `<algo>-<base64>`; always carries the algorithm.
    Sri,
}

/// A digest together with its algorithm.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash {
    algo: HashAlgo,
    bytes: [u8; 64],
}

impl Hash {
    /// Wraps a digest; fails if its length does not fit `algo`.
    pub fn from_bytes(algo: HashAlgo, digest: &[u8]) -> Result<Hash, HashError> {
        if digest.len() != algo.size() {
            return Err(HashError::WrongLength { hash: base16_encode(digest), algo });
        }
        let mut bytes = [0u8; 64];
        bytes[..digest.len()].copy_from_slice(digest);
        Ok(Hash { algo, bytes })
    }

    /// The all-zero digest, which Nix substitutes for an empty `outputHash`.
    pub fn zero(algo: HashAlgo) -> Hash {
        Hash { algo, bytes: [0u8; 64] }
    }

    /// Hashes `data` in one go.
    pub fn digest(algo: HashAlgo, data: &[u8]) -> Hash {
        let mut h = Hasher::new(algo);
        h.update(data);
        h.finish()
    }

    /// Hashes everything `reader` yields, streaming.
    pub fn digest_reader(algo: HashAlgo, reader: &mut impl io::Read) -> io::Result<Hash> {
        let mut h = Hasher::new(algo);
        io::copy(reader, &mut h)?;
        Ok(h.finish())
    }

    /// The algorithm.
    pub fn algo(&self) -> HashAlgo {
        self.algo
    }

    /// The digest bytes (`algo().size()` of them).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.algo.size()]
    }

    /// Prints the digest like Nix's `Hash::to_string(base, includeType)`:
    /// the prefix is `<algo>:` for the non-SRI forms; SRI always has `<algo>-`.
    pub fn to_string(&self, format: HashFormat, include_algo: bool) -> String {
        let body = match format {
            HashFormat::Base16 => base16_encode(self.as_bytes()),
            HashFormat::Nix32 => nixbase32::encode(self.as_bytes()),
            HashFormat::Base64 | HashFormat::Sri => base64_encode(self.as_bytes()),
        };
        match format {
            HashFormat::Sri => format!("{}-{}", self.algo, body),
            _ if include_algo => format!("{}:{}", self.algo, body),
            _ => body,
        }
    }

    /// Bare lowercase hex.
    pub fn to_base16(&self) -> String {
        self.to_string(HashFormat::Base16, false)
    }

    /// Bare nix32.
    pub fn to_nix32(&self) -> String {
        self.to_string(HashFormat::Nix32, false)
    }

    /// `<algo>-<base64>`.
    pub fn to_sri(&self) -> String {
        self.to_string(HashFormat::Sri, true)
    }

    /// `Hash::parseAny`: the algorithm comes from a `<algo>:` or SRI `<algo>-`
    /// prefix, or else from `algo`; if both are given they must agree.
    pub fn parse_any(s: &str, algo: Option<HashAlgo>) -> Result<Hash, HashError> {
        let (parsed, rest, is_sri) = split_prefix(s)?;
        let algo = match (parsed, algo) {
            (None, None) => return Err(HashError::MissingAlgo(rest.to_owned())),
            (Some(p), Some(ctx)) if p != ctx => return Err(HashError::WrongAlgo { hash: s.to_owned(), expected: ctx }),
            (Some(a), _) | (None, Some(a)) => a,
        };
        Hash::parse_body(rest, algo, is_sri)
    }

    /// `Hash::parseAnyPrefixed`: the string itself must name the algorithm.
    pub fn parse_any_prefixed(s: &str) -> Result<Hash, HashError> {
        match split_prefix(s)? {
            (Some(algo), rest, is_sri) => Hash::parse_body(rest, algo, is_sri),
            (None, rest, _) => Err(HashError::MissingPrefix(rest.to_owned())),
        }
    }

    /// `Hash::parseNonSRIUnprefixed`: a bare base16, nix32 or base64 body.
    pub fn parse_non_sri_unprefixed(s: &str, algo: HashAlgo) -> Result<Hash, HashError> {
        Hash::parse_body(s, algo, false)
    }

    /// `Hash::parseSRI`: exactly `<algo>-<base64>`.
    pub fn parse_sri(s: &str) -> Result<Hash, HashError> {
        let Some((name, rest)) = s.split_once('-') else {
            return Err(HashError::NotSri(s.to_owned()));
        };
        Hash::parse_body(rest, HashAlgo::parse(name)?, true)
    }

    /// `newHashAllowEmpty`, used for `outputHash`: an empty string with a known
    /// algorithm is the all-zero hash. Nix then warns
    /// `found empty hash, assuming '<sri>'`; that is the caller's job (check `s.is_empty()`).
    pub fn parse_allow_empty(s: &str, algo: Option<HashAlgo>) -> Result<Hash, HashError> {
        if !s.is_empty() {
            return Hash::parse_any(s, algo);
        }
        algo.map(Hash::zero).ok_or(HashError::EmptyWithoutAlgo)
    }

    /// The body decoder shared by all parsers (Nix's `Hash(rest, type, isSRI)`):
    /// the encoding is chosen by length; SRI bodies are always base64.
    fn parse_body(rest: &str, algo: HashAlgo, is_sri: bool) -> Result<Hash, HashError> {
        let len = rest.len();
        let bytes = if !is_sri && len == algo.base16_len() {
            base16_decode(rest).ok_or_else(|| HashError::InvalidBase16(rest.to_owned()))?
        } else if !is_sri && len == nixbase32::encoded_len(algo.size()) {
            nixbase32::decode(rest).ok_or_else(|| HashError::InvalidNix32(rest.to_owned()))?
        } else if is_sri || len == algo.base64_len() {
            let decoded = base64_decode(rest)?;
            if decoded.len() != algo.size() {
                return Err(if is_sri {
                    HashError::InvalidSri(rest.to_owned())
                } else {
                    HashError::InvalidBase64(rest.to_owned())
                });
            }
            decoded
        } else {
            return Err(HashError::WrongLength { hash: rest.to_owned(), algo });
        };
        Hash::from_bytes(algo, &bytes)
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string(HashFormat::Base16, true))
    }
}

/// Splits off `<algo>:` (or, failing that, SRI `<algo>-`): (algo, rest, is_sri).
fn split_prefix(s: &str) -> Result<(Option<HashAlgo>, &str, bool), HashError> {
    if let Some((name, rest)) = s.split_once(':') {
        return Ok((Some(HashAlgo::parse(name)?), rest, false));
    }
    if let Some((name, rest)) = s.split_once('-') {
        return Ok((Some(HashAlgo::parse(name)?), rest, true));
    }
    Ok((None, s, false))
}

/// Nix's `compressHash`: XOR-folds `hash` into `size` bytes (`out[i % size] ^= hash[i]`).
pub fn compress_hash(hash: &[u8], size: usize) -> Vec<u8> {
    let mut out = vec![0u8; size];
    if size == 0 {
        return out;
    }
    for (i, b) in hash.iter().enumerate() {
        out[i % size] ^= b;
    }
    out
}

/// A streaming hash of any [`HashAlgo`]; also an [`io::Write`] sink.
#[derive(Clone)]
pub enum Hasher {
    /// MD5.
    Md5(Md5),
    /// SHA-1.
    Sha1(Sha1),
    /// SHA-256.
    Sha256(Sha256),
    /// SHA-512.
    Sha512(Sha512),
}

impl Hasher {
    /// An empty hash state.
    pub fn new(algo: HashAlgo) -> Hasher {
        match algo {
            HashAlgo::Md5 => Hasher::Md5(Md5::new()),
            HashAlgo::Sha1 => Hasher::Sha1(Sha1::new()),
            HashAlgo::Sha256 => Hasher::Sha256(Sha256::new()),
            HashAlgo::Sha512 => Hasher::Sha512(Sha512::new()),
        }
    }

    /// Feeds more bytes.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Md5(h) => h.update(data),
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    /// The digest of everything fed.
    pub fn finish(self) -> Hash {
        let (algo, digest) = match self {
            Hasher::Md5(h) => (HashAlgo::Md5, h.finalize().to_vec()),
            Hasher::Sha1(h) => (HashAlgo::Sha1, h.finalize().to_vec()),
            Hasher::Sha256(h) => (HashAlgo::Sha256, h.finalize().to_vec()),
            Hasher::Sha512(h) => (HashAlgo::Sha512, h.finalize().to_vec()),
        };
        let mut bytes = [0u8; 64];
        bytes[..digest.len()].copy_from_slice(&digest);
        Hash { algo, bytes }
    }
}

impl Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn base16_encode(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// Hex decoding accepting both cases, like Nix; `None` on a bad digit or odd length.
fn base16_decode(s: &str) -> Option<Vec<u8>> {
    let digits = s.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    digits.chunks(2).map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?)).collect()
}

const BASE64_CHARS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(BASE64_CHARS[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// Nix's lenient `base64Decode`: stops at the first `=`, skips newlines,
/// and does not insist on padding. The length check is the caller's.
fn base64_decode(s: &str) -> Result<Vec<u8>, HashError> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        match c {
            b'=' => break,
            b'\n' => continue,
            _ => {}
        }
        let digit = BASE64_CHARS
            .iter()
            .position(|&d| d == c)
            .ok_or_else(|| HashError::InvalidBase64Char { body: s.to_owned(), ch: c })? as u32;
        acc = (acc << 6 | digit) & 0xffff;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(out)
}

/// Why a hash string was rejected. `Display` gives CppNix 2.8's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HashError {
    /// `unknown hash algorithm 'foo'`
    UnknownAlgo(String),
    /// Neither the string nor the context names an algorithm.
    MissingAlgo(String),
    /// `parseAnyPrefixed` on a string without a prefix.
    MissingPrefix(String),
    /// The prefix disagrees with the algorithm from context.
    WrongAlgo {
        /// The whole string.
        hash: String,
        /// The algorithm from context.
        expected: HashAlgo,
    },
    /// No encoding of `algo` has this length.
    WrongLength {
        /// The body (after any prefix).
        hash: String,
        /// The algorithm it was read as.
        algo: HashAlgo,
    },
    /// A base16-length body with a non-hex digit.
    InvalidBase16(String),
    /// A nix32-length body with a bad digit or overflowing bits.
    InvalidNix32(String),
    /// A base64-length body that decodes to the wrong size.
    InvalidBase64(String),
    /// An SRI body that decodes to the wrong size.
    InvalidSri(String),
    /// A non-base64 character. (Nix 2.8 formats the character with `%c` on a
    /// coloured string and so prints it as nothing: the message is reproduced as is;
    /// later versions print `ch`, which the language builtins do.)
    InvalidBase64Char {
        /// The body being decoded.
        body: String,
        /// The offending byte.
        ch: u8,
    },
    /// `parse_sri` without a `-`.
    NotSri(String),
    /// Empty `outputHash` and no `outputHashAlgo`.
    EmptyWithoutAlgo,
}

impl fmt::Display for HashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HashError::UnknownAlgo(a) => write!(f, "unknown hash algorithm '{a}'"),
            HashError::MissingAlgo(h) => {
                write!(f, "hash '{h}' does not include a type, nor is the type otherwise known from context")
            }
            HashError::MissingPrefix(h) => write!(f, "hash '{h}' does not include a type"),
            HashError::WrongAlgo { hash, expected } => {
                write!(f, "hash '{hash}' should have type '{expected}'")
            }
            HashError::WrongLength { hash, algo } => {
                write!(f, "hash '{hash}' has wrong length for hash type '{algo}'")
            }
            HashError::InvalidBase16(h) => write!(f, "invalid base-16 hash '{h}'"),
            HashError::InvalidNix32(h) => write!(f, "invalid base-32 hash '{h}'"),
            HashError::InvalidBase64(h) => write!(f, "invalid base-64 hash '{h}'"),
            HashError::InvalidSri(h) => write!(f, "invalid SRI hash '{h}'"),
            HashError::InvalidBase64Char { .. } => f.write_str("invalid character in Base64 string: ''"),
            HashError::NotSri(h) => write!(f, "hash '{h}' is not SRI"),
            HashError::EmptyWithoutAlgo => f.write_str("empty hash requires explicit hash type"),
        }
    }
}

impl std::error::Error for HashError {}

#[cfg(test)]
#[path = "hash_tests.rs"]
mod tests;
