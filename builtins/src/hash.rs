//! Hashes: hashString, hashFile, convertHash, and the encodings Nix uses for hashes (base16,
//! Nix's own base32 "nix32", base64, SRI).

use crate::strings::{force_string, force_string_no_ctx};
use nix_eval::error::{AddTrace, ErrorKind, EvalError, Result};
use nix_eval::source::Pos;
use nix_eval::{BuiltinDef, Eval, Symbol, Value};
use nix_store_core::{nixbase32, HashAlgo};
use std::path::Path;

pub const BUILTINS: &[BuiltinDef] = &[
    BuiltinDef { name: "hashString", arity: 2, global: false, func: hash_string },
    BuiltinDef { name: "hashFile", arity: 2, global: false, func: hash_file },
    BuiltinDef { name: "convertHash", arity: 1, global: false, func: convert_hash },
];

/// The digest of `data` with `algo`.
fn digest(algo: HashAlgo, data: &[u8]) -> Vec<u8> {
    nix_store_core::Hash::digest(algo, data).as_bytes().to_vec()
}

/// `parseHashAlgo`: the reference's message for an unknown name.
fn parse_algo(ev: &Eval, name: &str, pos: Pos) -> Result<HashAlgo> {
    match name {
        "md5" => Ok(HashAlgo::Md5),
        "sha1" => Ok(HashAlgo::Sha1),
        "sha256" => Ok(HashAlgo::Sha256),
        "sha512" => Ok(HashAlgo::Sha512),
        "blake3" => {
            let msg = if ev.settings.experimental_features.iter().any(|f| f == "blake3-hashes") {
                "BLAKE3 hashes are not supported by this evaluator".to_string()
            } else {
                "experimental Nix feature 'blake3-hashes' is disabled; add '--extra-experimental-features blake3-hashes' to enable it".to_string()
            };
            Err(EvalError::at(ErrorKind::Other, pos, msg))
        }
        _ => Err(EvalError::at(
            ErrorKind::Other,
            pos,
            format!("unknown hash algorithm '{}', expect 'blake3', 'md5', 'sha1', 'sha256', or 'sha512'", name),
        )),
    }
}

pub fn base16_encode(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn base64_len(size: usize) -> usize {
    ((4 * size / 3) + 3) & !3
}

pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(base64_len(bytes.len()));
    let (mut data, mut nbits) = (0u32, 0u32);
    for &b in bytes {
        data = data << 8 | b as u32;
        nbits += 8;
        while nbits >= 6 {
            nbits -= 6;
            out.push(B64[((data >> nbits) & 0x3f) as usize] as char);
        }
    }
    if nbits > 0 {
        out.push(B64[((data << (6 - nbits)) & 0x3f) as usize] as char);
    }
    while !out.len().is_multiple_of(4) {
        out.push('=');
    }
    out
}

/// The reference's lenient decoder: stops at `=`, skips newlines.
pub fn base64_decode(s: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let mut res = Vec::with_capacity(s.len() / 4 * 3 + 3);
    let (mut d, mut bits) = (0u32, 0u32);
    for &c in s {
        if c == b'=' {
            break;
        }
        if c == b'\n' {
            continue;
        }
        let digit = match B64.iter().position(|&x| x == c) {
            Some(v) => v as u32,
            None => return Err(format!("invalid character in Base64 string: '{}'", c as char)),
        };
        bits += 6;
        d = d << 6 | digit;
        if bits >= 8 {
            res.push((d >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    Ok(res)
}

#[derive(Copy, Clone, PartialEq, Eq)]
pub enum HashFormat {
    Base16,
    Nix32,
    Base64,
    Sri,
}

pub fn hash_to_string(algo: HashAlgo, hash: &[u8], format: HashFormat, include_algo: bool) -> String {
    let body = match format {
        HashFormat::Base16 => base16_encode(hash),
        HashFormat::Nix32 => nixbase32::encode(hash),
        HashFormat::Base64 | HashFormat::Sri => base64_encode(hash),
    };
    if include_algo {
        let sep = if format == HashFormat::Sri { '-' } else { ':' };
        format!("{}{}{}", algo.name(), sep, body)
    } else {
        body
    }
}

/// `Hash::parseAny`: `algo:body`, SRI `algo-base64`, or a bare body with `algo` given.
fn parse_any_hash(ev: &Eval, original: &str, algo: Option<HashAlgo>, pos: Pos) -> Result<(HashAlgo, Vec<u8>)> {
    let bad = |msg: String| EvalError::at(ErrorKind::Other, pos, msg);
    let mut rest = original;
    let mut is_sri = false;
    let mut parsed = None;
    if let Some((a, r)) = original.split_once(':') {
        parsed = Some(parse_algo(ev, a, pos)?);
        rest = r;
    } else if let Some((a, r)) = original.split_once('-') {
        parsed = Some(parse_algo(ev, a, pos)?);
        rest = r;
        is_sri = true;
    }
    let algo = match (parsed, algo) {
        (None, None) => {
            return Err(bad(format!(
                "hash '{}' does not include a type, nor is the type otherwise known from context",
                rest
            )))
        }
        (Some(p), Some(a)) if p != a => {
            return Err(bad(format!("hash '{}' should have type '{}'", original, a.name())))
        }
        (Some(p), _) => p,
        (None, Some(a)) => a,
    };
    let size = algo.size();
    let r = rest.as_bytes();
    let hash = if !is_sri && r.len() == size * 2 {
        let hex = |c: u8| -> Option<u8> {
            match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'a'..=b'f' => Some(c - b'a' + 10),
                b'A'..=b'F' => Some(c - b'A' + 10),
                _ => None,
            }
        };
        let mut h = Vec::with_capacity(size);
        for i in 0..size {
            match (hex(r[2 * i]), hex(r[2 * i + 1])) {
                (Some(a), Some(b)) => h.push(a << 4 | b),
                _ => return Err(bad(format!("invalid base-16 hash '{}'", rest))),
            }
        }
        h
    } else if !is_sri && r.len() == nixbase32::encoded_len(size) {
        match std::str::from_utf8(r).ok().and_then(nixbase32::decode) {
            Some(h) => h,
            None => return Err(bad(format!("invalid base-32 hash '{}'", rest))),
        }
    } else if is_sri || r.len() == base64_len(size) {
        let d = base64_decode(r).map_err(|m| bad(m).trace_frame(format!("While decoding hash '{}'", rest)))?;
        if d.len() != size {
            return Err(bad(format!("invalid {} hash '{}'", if is_sri { "SRI" } else { "base-64" }, rest)));
        }
        d
    } else {
        return Err(bad(format!("hash '{}' has wrong length for hash algorithm '{}'", rest, algo.name())));
    };
    Ok((algo, hash))
}

trait TraceFrame {
    fn trace_frame(self, msg: String) -> Self;
}
impl TraceFrame for Box<EvalError> {
    fn trace_frame(mut self, msg: String) -> Self {
        self.trace.push(nix_eval::error::TraceFrame { pos: Pos::NONE, msg });
        self
    }
}

fn hash_string(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let algo = force_string_no_ctx(ev, &args[0], pos, || crate::arg_ctx("hashString", 0))?;
    let algo = parse_algo(ev, &algo.to_str_lossy(), pos)?;
    let s = force_string(ev, &args[1], pos, || crate::arg_ctx("hashString", 1))?;
    Ok(Value::string(base16_encode(&digest(algo, s.as_bytes()))))
}

fn hash_file(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let algo = force_string_no_ctx(ev, &args[0], pos, || crate::arg_ctx("hashFile", 0))?;
    let algo = parse_algo(ev, &algo.to_str_lossy(), pos)?;
    let p = ev.coerce_to_path(&args[1], pos).trace(pos, || "while realising the context of a path".into())?;
    if let Err(msg) = ev.io.check_access(Path::new(&p)) {
        return Err(EvalError::at(ErrorKind::Restricted, pos, msg));
    }
    let bytes = ev.io.read_file(Path::new(&p)).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            EvalError::at(ErrorKind::Other, pos, format!("path '{}' does not exist", p))
        } else {
            EvalError::at(ErrorKind::Other, pos, format!("reading '{}': {}", p, e))
        }
    })?;
    Ok(Value::string(base16_encode(&digest(algo, &bytes))))
}

fn convert_hash(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let attrs = ev.expect_attrs(&args[0], pos).trace(pos, || crate::arg_ctx("convertHash", 0))?;
    let missing = |name: &str, ctx: &str| {
        EvalError::at(ErrorKind::MissingAttr, pos, format!("attribute '{}' missing", name)).trace_frame(ctx.to_string())
    };
    let hash_v = attrs
        .get(Symbol::new("hash"))
        .cloned()
        .ok_or_else(|| missing("hash", "while locating the attribute 'hash'"))?;
    let hash = force_string_no_ctx(ev, &hash_v, pos, || "while evaluating the attribute 'hash'".into())?;
    let algo = match attrs.get(Symbol::new("hashAlgo")).cloned() {
        Some(v) => {
            let a = force_string_no_ctx(ev, &v, pos, || "while evaluating the attribute 'hashAlgo'".into())?;
            Some(parse_algo(ev, &a.to_str_lossy(), pos)?)
        }
        None => None,
    };
    let fmt_v = attrs
        .get(Symbol::new("toHashFormat"))
        .cloned()
        .ok_or_else(|| missing("toHashFormat", "while locating the attribute 'toHashFormat'"))?;
    let fmt = force_string_no_ctx(ev, &fmt_v, pos, || "while evaluating the attribute 'toHashFormat'".into())?;
    let format = match &*fmt.to_str_lossy() {
        "base16" => HashFormat::Base16,
        "nix32" => HashFormat::Nix32,
        "base32" => {
            eprintln!("warning: \"base32\" is a deprecated alias for hash format \"nix32\".");
            HashFormat::Nix32
        }
        "base64" => HashFormat::Base64,
        "sri" => HashFormat::Sri,
        other => {
            return Err(EvalError::at(
                ErrorKind::Other,
                pos,
                format!("unknown hash format '{}', expect 'base16', 'base32', 'base64', or 'sri'", other),
            ))
        }
    };
    let (algo, bytes) = parse_any_hash(ev, &hash.to_str_lossy(), algo, pos)?;
    Ok(Value::string(hash_to_string(algo, &bytes, format, format == HashFormat::Sri)))
}
