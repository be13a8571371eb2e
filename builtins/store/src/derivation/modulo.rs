//! `hashDerivationModulo`, as CppNix 2.8 computes it.
//!
//! An input-addressed output path must not change when only *how* a fixed
//! output is fetched changes, so a derivation is hashed with each input `.drv`
//! path replaced by that input's own hash modulo (recursively), and a
//! fixed-output derivation hashes to just its output's content address.

use std::collections::{BTreeMap, BTreeSet};

use super::aterm::unparse;
use super::Derivation;
use crate::hash::{Hash, HashAlgo};

/// The hash modulo of `drv` (the same for each of its outputs in Nix 2.8).
///
/// - Fixed-output: sha256(`fixed:out:<hashAlgo>:<hash>:<out path>`), ignoring everything else.
/// - Otherwise: sha256 of the ATerm in which each input `.drv` path becomes the bare base16
///   of `lookup(path)` (its hash modulo, computed over that input's *final* form with
///   `mask_outputs = false`). Inputs that collide on the same hash merge their output sets.
///   With `mask_outputs`, output paths and output-named env vars are written as `""`.
///
/// `lookup` is called once per input derivation; memoising it is the caller's job.
pub fn hash_derivation_modulo(drv: &Derivation, mask_outputs: bool, mut lookup: impl FnMut(&str) -> Hash) -> Hash {
    if drv.is_fixed_output() {
        let out = &drv.outputs["out"];
        let s = format!("fixed:out:{}:{}:{}", out.hash_algo, out.hash, out.path);
        return Hash::digest(HashAlgo::Sha256, s.as_bytes());
    }
    let mut inputs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, outputs) in &drv.input_drvs {
        inputs.entry(lookup(path).to_base16()).or_default().extend(outputs.iter().cloned());
    }
    Hash::digest(HashAlgo::Sha256, unparse(drv, mask_outputs, &inputs).as_bytes())
}
