//! Hashes: hashString, hashFile, convertHash. Digests, their encodings (base16, nix32,
//! base64, SRI) and hash-string parsing are store-core's (`nix_store_core::Hash`); this
//! module only puts the language's (2.36) error messages on them.

use crate::strings::{force_string, force_string_no_ctx};
use nix_eval::error::{AddTrace, ErrorKind, EvalError, Result};
use nix_eval::source::Pos;
use nix_eval::{BuiltinDef, Eval, Symbol, Value};
use nix_store_core::{Hash, HashAlgo, HashError, HashFormat};
use std::path::Path;

pub const BUILTINS: &[BuiltinDef] = &[
    BuiltinDef { name: "hashString", arity: 2, global: false, func: hash_string },
    BuiltinDef { name: "hashFile", arity: 2, global: false, func: hash_file },
    BuiltinDef { name: "convertHash", arity: 1, global: false, func: convert_hash },
];

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

/// A hash-string error of store-core in the words of the language builtins (Nix 2.36): the
/// store follows 2.8's wording, which differs for unknown algorithms, wrong lengths and bad
/// base-64 characters.
fn hash_error(ev: &Eval, e: HashError, pos: Pos) -> Box<EvalError> {
    let bad = |msg: String| EvalError::at(ErrorKind::Other, pos, msg);
    match e {
        HashError::UnknownAlgo(name) => match parse_algo(ev, &name, pos) {
            Err(e) => e,
            Ok(_) => bad(format!("unknown hash algorithm '{}'", name)),
        },
        HashError::WrongLength { hash, algo } => {
            bad(format!("hash '{}' has wrong length for hash algorithm '{}'", hash, algo.name()))
        }
        HashError::InvalidBase64Char { body, ch } => {
            bad(format!("invalid character in Base64 string: '{}'", ch as char))
                .trace_frame(format!("While decoding hash '{}'", body))
        }
        other => bad(other.to_string()),
    }
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
    Ok(Value::string(Hash::digest(algo, s.as_bytes()).to_base16()))
}

fn hash_file(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let algo = force_string_no_ctx(ev, &args[0], pos, || crate::arg_ctx("hashFile", 0))?;
    let algo = parse_algo(ev, &algo.to_str_lossy(), pos)?;
    // 2.8's realisePath: derivation outputs in the path's context are built first.
    let v = ev.force(&args[1])?;
    crate::store::realise_value_context(ev, &v, pos)?;
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
    Ok(Value::string(Hash::digest(algo, &bytes).to_base16()))
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
    let hash = Hash::parse_any(&hash.to_str_lossy(), algo).map_err(|e| hash_error(ev, e, pos))?;
    Ok(Value::string(hash.to_string(format, format == HashFormat::Sri)))
}
