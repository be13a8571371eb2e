//! Store paths: what a valid one looks like, and the fingerprint rules that name them.
//!
//! Every path Nix creates is `/nix/store/<32 nix32 chars>-<name>`, where the
//! hash part is a 20-byte XOR-fold of sha256 over a textual fingerprint
//! (`makeStorePath`). The variants (`text`, `source`, `output:out` with the
//! `fixed:out:` double hash, `output:<o>`) differ only in what goes into that
//! fingerprint; they are spelled out here once, so that `toFile`, `path`,
//! `derivationStrict` and the store backends all agree byte for byte.

use std::collections::BTreeSet;
use std::fmt;

use crate::hash::{compress_hash, Hash, HashAlgo, Hasher};
use crate::nixbase32;

/// The logical store directory. It is part of every fingerprint.
pub const STORE_DIR: &str = "/nix/store";
/// Length of the nix32 hash part of a store path's base name.
pub const HASH_PART_LEN: usize = 32;
/// Longest allowed name (the part after `<hash>-`).
pub const MAX_NAME_LEN: usize = 211;

/// A parsed store path: `<hash part>-<name>` under [`STORE_DIR`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StorePath {
    base_name: String,
}

impl StorePath {
    /// Parses an absolute path that must be directly inside [`STORE_DIR`]
    /// (Nix's `parseStorePath`). It is canonicalised first, so `//` and `.`
    /// are tolerated, as in Nix.
    pub fn parse(path: &str) -> Result<StorePath, StorePathError> {
        let canon = canon_path(path)?;
        match canon.strip_prefix(STORE_DIR).and_then(|r| r.strip_prefix('/')) {
            Some(base) if !base.contains('/') => StorePath::from_base_name(base),
            _ => Err(StorePathError::NotInStore(canon)),
        }
    }

    /// Splits a path inside the store into the store path and the rest
    /// (`""` or starting with `/`), like Nix's `toStorePath`.
    pub fn parse_prefix(path: &str) -> Result<(StorePath, String), StorePathError> {
        let canon = canon_path(path)?;
        let Some(inner) = canon.strip_prefix(STORE_DIR).and_then(|r| r.strip_prefix('/')) else {
            return Err(StorePathError::NotInStore(canon));
        };
        let (base, rest) = match inner.find('/') {
            Some(i) => inner.split_at(i),
            None => (inner, ""),
        };
        Ok((StorePath::from_base_name(base)?, rest.to_owned()))
    }

    /// Validates `<hash>-<name>` (Nix's `StorePath(std::string_view)`).
    ///
    /// Like every CppNix version, this does not check the character after the
    /// hash part: `…gqywpxhello.txt` is accepted, with name `hello.txt`.
    pub fn from_base_name(base_name: &str) -> Result<StorePath, StorePathError> {
        if base_name.len() < HASH_PART_LEN + 1 {
            return Err(StorePathError::TooShort(base_name.to_owned()));
        }
        if let Some(c) = base_name.chars().take(HASH_PART_LEN).find(|&c| !is_nix32_char(c)) {
            return Err(StorePathError::IllegalHashChar { path: base_name.to_owned(), c });
        }
        if !base_name.is_char_boundary(HASH_PART_LEN + 1) {
            let c = base_name[HASH_PART_LEN..].chars().next().unwrap_or('-');
            return Err(StorePathError::IllegalChar { path: base_name.to_owned(), c });
        }
        check_name(base_name, &base_name[HASH_PART_LEN + 1..])?;
        Ok(StorePath { base_name: base_name.to_owned() })
    }

    /// Builds `<nix32(hash20)>-<name>`, checking the name.
    fn from_parts(hash20: &[u8], name: &str) -> Result<StorePath, StorePathError> {
        let base_name = format!("{}-{}", nixbase32::encode(hash20), name);
        check_name(&base_name, name)?;
        Ok(StorePath { base_name })
    }

    /// `<hash>-<name>`.
    pub fn base_name(&self) -> &str {
        &self.base_name
    }

    /// The 32 nix32 characters.
    pub fn hash_part(&self) -> &str {
        &self.base_name[..HASH_PART_LEN]
    }

    /// The part after `<hash>-`.
    pub fn name(&self) -> &str {
        &self.base_name[HASH_PART_LEN + 1..]
    }

    /// `/nix/store/<hash>-<name>`.
    pub fn to_absolute(&self) -> String {
        format!("{STORE_DIR}/{}", self.base_name)
    }

    /// True if the name ends in `.drv`.
    pub fn is_derivation(&self) -> bool {
        self.name().ends_with(".drv")
    }
}

impl fmt::Display for StorePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{STORE_DIR}/{}", self.base_name)
    }
}

fn is_nix32_char(c: char) -> bool {
    c.is_ascii() && nixbase32::ALPHABET.contains(&(c as u8))
}

/// Nix's `checkName` (2.8): 1–211 bytes of `[A-Za-z0-9+\-._?=]`. A leading
/// `.` is allowed in 2.8 (`toFile ".hidden"` works); 2.19+ reject it.
fn check_name(base_name: &str, name: &str) -> Result<(), StorePathError> {
    if name.is_empty() {
        return Err(StorePathError::EmptyName(base_name.to_owned()));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(StorePathError::NameTooLong(base_name.to_owned()));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+-._?=".contains(c);
    match name.chars().find(|&c| !allowed(c)) {
        Some(c) => Err(StorePathError::IllegalChar { path: base_name.to_owned(), c }),
        None => Ok(()),
    }
}

/// Nix's `canonPath` without symlink resolution: absolute, no `.`, `..`, `//` or trailing `/`.
fn canon_path(path: &str) -> Result<String, StorePathError> {
    if !path.starts_with('/') {
        return Err(StorePathError::NotAbsolute(path.to_owned()));
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    Ok(format!("/{}", parts.join("/")))
}

/// How file contents are turned into a content address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileIngestionMethod {
    /// The hash of a regular file's bytes (`outputHashMode = "flat"`, `path { recursive = false; }`).
    Flat,
    /// The hash of the NAR serialisation (`outputHashMode = "recursive"`).
    Recursive,
    /// A text file with references (`toFile`, `.drv` files); sha256 only.
    Text,
}

impl FileIngestionMethod {
    /// The prefix in a `.drv` output's hash-algo field and in `fixed:out:` strings: `""` or `r:`
    /// (`text:` exists only in newer Nix, with dynamic derivations).
    pub fn prefix(self) -> &'static str {
        match self {
            FileIngestionMethod::Flat => "",
            FileIngestionMethod::Recursive => "r:",
            FileIngestionMethod::Text => "text:",
        }
    }
}

/// Nix's `makeStorePath`: `F = "<type>:<algo>:<hex>:/nix/store:<name>"`, path hash =
/// nix32(compress20(sha256(F))). `inner` is normally a sha256.
pub fn make_store_path(path_type: &str, inner: &Hash, name: &str) -> Result<StorePath, StorePathError> {
    let fingerprint = format!("{path_type}:{}:{}:{STORE_DIR}:{name}", inner.algo(), inner.to_base16());
    let h = Hash::digest(HashAlgo::Sha256, fingerprint.as_bytes());
    StorePath::from_parts(&compress_hash(h.as_bytes(), 20), name)
}

/// `<kind>` followed by `:<ref>` for each reference, in byte order.
fn type_with_refs(kind: &str, references: &BTreeSet<String>) -> String {
    let mut t = kind.to_owned();
    for r in references {
        t.push(':');
        t.push_str(r);
    }
    t
}

fn require_sha256(hash: &Hash, name: &str) -> Result<(), StorePathError> {
    match hash.algo() {
        HashAlgo::Sha256 => Ok(()),
        algo => Err(StorePathError::TextNeedsSha256 { name: name.to_owned(), algo }),
    }
}

/// The path of a text file (`toFile`, `.drv`): type `text:<refs…>`, inner hash = sha256 of the contents.
/// `references` are absolute store paths.
pub fn make_text_path(
    name: &str,
    contents_sha256: &Hash,
    references: &BTreeSet<String>,
) -> Result<StorePath, StorePathError> {
    require_sha256(contents_sha256, name)?;
    make_store_path(&type_with_refs("text", references), contents_sha256, name)
}

/// Nix's `makeFixedOutputPath` (plus the text case of `makeFixedOutputPathFromCA`).
///
/// Recursive + sha256 is a `source` path (the same as importing that tree);
/// every other flat/recursive case is `output:out` over sha256 of
/// `fixed:out:<r:?><algo>:<hex>:`, and may have no references.
pub fn make_fixed_output_path(
    method: FileIngestionMethod,
    hash: &Hash,
    name: &str,
    references: &BTreeSet<String>,
) -> Result<StorePath, StorePathError> {
    match method {
        FileIngestionMethod::Text => make_text_path(name, hash, references),
        FileIngestionMethod::Recursive if hash.algo() == HashAlgo::Sha256 => {
            make_store_path(&type_with_refs("source", references), hash, name)
        }
        _ if !references.is_empty() => Err(StorePathError::FixedOutputWithReferences(name.to_owned())),
        _ => {
            let inner = format!("fixed:out:{}{}:{}:", method.prefix(), hash.algo(), hash.to_base16());
            make_store_path("output:out", &Hash::digest(HashAlgo::Sha256, inner.as_bytes()), name)
        }
    }
}

/// The name of output `output` of derivation `drv_name`: `drv_name` for `out`, else `drv_name-output`.
pub fn output_path_name(drv_name: &str, output: &str) -> String {
    if output == "out" {
        drv_name.to_owned()
    } else {
        format!("{drv_name}-{output}")
    }
}

/// Nix's `makeOutputPath`: type `output:<output>` over the derivation's (masked) hash modulo.
pub fn make_output_path(drv_hash_modulo: &Hash, output: &str, drv_name: &str) -> Result<StorePath, StorePathError> {
    make_store_path(&format!("output:{output}"), drv_hash_modulo, &output_path_name(drv_name, output))
}

/// `builtins.placeholder output`: `/` + nix32(sha256("nix-output:" + output)). The name is
/// bytes: the language's strings need not be UTF-8.
pub fn hash_placeholder(output: impl AsRef<[u8]>) -> String {
    let mut h = Hasher::new(HashAlgo::Sha256);
    h.update(b"nix-output:");
    h.update(output.as_ref());
    format!("/{}", h.finish().to_nix32())
}

/// Why a store path (or its name) was rejected. `Display` gives Nix's wording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorePathError {
    /// `'<base>' is too short to be a valid store path`
    TooShort(String),
    /// A hash-part character outside nix32.
    IllegalHashChar {
        /// The base name.
        path: String,
        /// The offending character.
        c: char,
    },
    /// `store path '<base>' has an empty name`
    EmptyName(String),
    /// `store path '<base>' has a name longer than 211 characters`
    NameTooLong(String),
    /// A name character outside `[A-Za-z0-9+\-._?=]`. (Nix prints the raw first byte of a
    /// multi-byte character; this prints the whole character.)
    IllegalChar {
        /// The base name.
        path: String,
        /// The offending character.
        c: char,
    },
    /// The path is not directly inside (or, for `parse_prefix`, below) `/nix/store`.
    NotInStore(String),
    /// `not an absolute path: '<p>'`
    NotAbsolute(String),
    /// A non-`source` fixed-output path was given references.
    FixedOutputWithReferences(String),
    /// Text paths are always sha256 in Nix (it asserts this).
    TextNeedsSha256 {
        /// The path name.
        name: String,
        /// The algorithm given instead.
        algo: HashAlgo,
    },
}

impl fmt::Display for StorePathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorePathError::TooShort(p) => write!(f, "'{p}' is too short to be a valid store path"),
            StorePathError::IllegalHashChar { path, c } => {
                write!(f, "store path '{path}' contains illegal base-32 character '{c}'")
            }
            StorePathError::EmptyName(p) => write!(f, "store path '{p}' has an empty name"),
            StorePathError::NameTooLong(p) => {
                write!(f, "store path '{p}' has a name longer than {MAX_NAME_LEN} characters")
            }
            StorePathError::IllegalChar { path, c } => {
                write!(f, "store path '{path}' contains illegal character '{c}'")
            }
            StorePathError::NotInStore(p) => write!(f, "path '{p}' is not in the Nix store"),
            StorePathError::NotAbsolute(p) => write!(f, "not an absolute path: '{p}'"),
            StorePathError::FixedOutputWithReferences(n) => {
                write!(f, "fixed output derivation '{n}' is not allowed to refer to other store paths.")
            }
            StorePathError::TextNeedsSha256 { name, algo } => {
                write!(f, "text-hashed store path '{name}' needs a sha256 hash, not {algo}")
            }
        }
    }
}

impl std::error::Error for StorePathError {}

#[cfg(test)]
#[path = "store_path_tests.rs"]
mod tests;
