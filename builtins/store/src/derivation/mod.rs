//! Store derivations: the data in a `.drv` file and the steps that name its outputs.
//!
//! The struct mirrors the ATerm fields one to one (outputs keep the raw
//! `path`/`hashAlgo`/`hash` strings), so a parsed `.drv` writes back byte for
//! byte. The submodules hold the two delicate algorithms: `aterm` (exact
//! serialisation and its parser) and `modulo` (`hashDerivationModulo`, which
//! input-addressed output paths are made from). This module adds the
//! derivationStrict steps on top: fill output paths, and name the `.drv`.

mod aterm;
mod modulo;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::hash::{Hash, HashAlgo};
use crate::store_path::{
    make_fixed_output_path, make_output_path, make_text_path, FileIngestionMethod, StorePath, StorePathError,
};

pub use modulo::hash_derivation_modulo;

/// One output, exactly as the ATerm tuple `("<name>","<path>","<hashAlgo>","<hash>")` holds it.
///
/// - input-addressed: `path` set, `hash_algo` and `hash` empty;
/// - fixed-output: `path` set, `hash_algo` = `""`/`r:` + algo, `hash` = base16;
/// - deferred (while hashing the masked derivation): all three empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DerivationOutput {
    /// The output path (`""` while masked or deferred).
    pub path: String,
    /// `""`, or the method prefix (`r:`) plus the algorithm name.
    pub hash_algo: String,
    /// `""`, or the base16 content hash.
    pub hash: String,
}

impl DerivationOutput {
    /// An input-addressed output at `path`.
    pub fn input_addressed(path: String) -> DerivationOutput {
        DerivationOutput { path, ..DerivationOutput::default() }
    }

    /// A fixed output at `path`: hash algo field `<method prefix><algo>`, hash in base16.
    pub fn fixed(path: String, method: FileIngestionMethod, hash: &Hash) -> DerivationOutput {
        DerivationOutput { path, hash_algo: format!("{}{}", method.prefix(), hash.algo()), hash: hash.to_base16() }
    }

    /// True if the output carries a content hash.
    pub fn is_fixed(&self) -> bool {
        !self.hash_algo.is_empty() && !self.hash.is_empty()
    }
}

/// A store derivation (the contents of a `.drv` file).
///
/// All maps and sets are ordered by raw bytes, which is the order Nix writes.
/// Strings are UTF-8 here; Nix's are byte strings, but every byte is kept as given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Derivation {
    /// Output name → its ATerm tuple.
    pub outputs: BTreeMap<String, DerivationOutput>,
    /// `.drv` path → the outputs of it that are used.
    pub input_drvs: BTreeMap<String, BTreeSet<String>>,
    /// Store paths used as sources.
    pub input_srcs: BTreeSet<String>,
    /// The `system` attribute.
    pub platform: String,
    /// The builder executable (escaped when written).
    pub builder: String,
    /// Builder arguments, in order (escaped when written).
    pub args: Vec<String>,
    /// The builder's environment (keys and values escaped when written).
    pub env: BTreeMap<String, String>,
}

impl Derivation {
    /// True for a fixed-output derivation: a single output `out` with a hash.
    pub fn is_fixed_output(&self) -> bool {
        self.outputs.len() == 1 && self.outputs.get("out").is_some_and(DerivationOutput::is_fixed)
    }

    /// The `.drv` file's references: input sources plus input derivations (never outputs).
    pub fn references(&self) -> BTreeSet<String> {
        self.input_srcs.iter().chain(self.input_drvs.keys()).cloned().collect()
    }

    /// The store path of this derivation's `.drv` file: the text rule over
    /// [`to_aterm`](Self::to_aterm) with name `<drv_name>.drv`.
    pub fn drv_path(&self, drv_name: &str) -> Result<StorePath, StorePathError> {
        let contents = Hash::digest(HashAlgo::Sha256, self.to_aterm().as_bytes());
        make_text_path(&format!("{drv_name}.drv"), &contents, &self.references())
    }

    /// Names the outputs of a new input-addressed derivation, as derivationStrict does.
    ///
    /// Every key already in `outputs` is an output; its value is ignored. Each gets an
    /// empty env var and an empty tuple, the masked derivation is hashed with
    /// [`hash_derivation_modulo`] (`lookup` gives the hash modulo of each input `.drv`),
    /// and `make_output_path` names each output; the path goes into `outputs` and `env`.
    /// Nothing changes if a name is invalid.
    pub fn fill_input_addressed_outputs(
        &mut self,
        drv_name: &str,
        lookup: impl FnMut(&str) -> Hash,
    ) -> Result<(), StorePathError> {
        // Masked in place rather than on a copy: a NixOS system's derivations carry
        // environments of many kilobytes (scripts, unit files), and cloning each one only
        // to hash it was ~1% of a small configuration's evaluation. What was replaced is
        // kept to put back on an invalid name.
        let names: Vec<String> = self.outputs.keys().cloned().collect();
        let mut replaced = Vec::with_capacity(names.len());
        for name in &names {
            let env = self.env.insert(name.clone(), String::new());
            let out = self.outputs.insert(name.clone(), DerivationOutput::default());
            replaced.push((env, out));
        }
        let h = hash_derivation_modulo(self, true, lookup);
        let paths = names
            .iter()
            .map(|o| Ok(make_output_path(&h, o, drv_name)?.to_absolute()))
            .collect::<Result<Vec<String>, StorePathError>>();
        let paths = match paths {
            Ok(paths) => paths,
            Err(e) => {
                for (name, (env, out)) in names.into_iter().zip(replaced) {
                    match env {
                        Some(v) => self.env.insert(name.clone(), v),
                        None => self.env.remove(&name),
                    };
                    if let Some(o) = out {
                        self.outputs.insert(name, o);
                    }
                }
                return Err(e);
            }
        };
        for (name, path) in names.into_iter().zip(paths) {
            self.env.insert(name.clone(), path.clone());
            self.outputs.insert(name, DerivationOutput::input_addressed(path));
        }
        Ok(())
    }

    /// Makes this a fixed-output derivation with the single output `out`, whose
    /// path is [`make_fixed_output_path`] of `drv_name`. Sets `outputs` and `env["out"]`;
    /// returns the path.
    pub fn set_fixed_output(
        &mut self,
        drv_name: &str,
        method: FileIngestionMethod,
        hash: &Hash,
    ) -> Result<String, StorePathError> {
        let path = make_fixed_output_path(method, hash, drv_name, &BTreeSet::new())?.to_absolute();
        self.outputs.clear();
        self.outputs.insert("out".to_owned(), DerivationOutput::fixed(path.clone(), method, hash));
        self.env.insert("out".to_owned(), path.clone());
        Ok(path)
    }
}

/// Why a `.drv` could not be read. `Display` follows Nix's wording; Nix prefixes it
/// with `error parsing derivation '<path>': `, which is the caller's to add.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DerivationError {
    /// `expected string '<token>'`
    Expected(&'static str),
    /// `bad path '<p>' in derivation` (a path field not starting with `/`).
    BadPath(String),
    /// A string that is not UTF-8 (this crate keeps strings as `String`).
    InvalidUtf8,
    /// Bytes after the closing `)`.
    TrailingData,
}

impl fmt::Display for DerivationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DerivationError::Expected(t) => write!(f, "expected string '{t}'"),
            DerivationError::BadPath(p) => write!(f, "bad path '{p}' in derivation"),
            DerivationError::InvalidUtf8 => f.write_str("derivation contains a string that is not valid UTF-8"),
            DerivationError::TrailingData => f.write_str("unexpected data after the end of the derivation"),
        }
    }
}

impl std::error::Error for DerivationError {}

#[cfg(test)]
mod tests;
