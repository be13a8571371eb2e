//! Flake installables (`FLAKEREF#ATTRPATH`): parsing relative to a directory, the
//! attribute paths tried for a fragment (2.8's defaults and prefixes), and selecting
//! the first that exists among a flake's outputs.

use std::path::Path;

use crate::cli::attr_path::split_attr_path;
use crate::eval::{call_flake, LockedFlake};
use crate::flakeref::{FlakeRef, ParseOptions};
use nix_eval::error::{ErrorKind, EvalError, Result};
use nix_eval::source::Pos;
use nix_eval::{CoerceOpts, Eval, Symbol, Value};

/// What a command does with the value it selects, which decides the paths tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// `rnix-eval INSTALLABLE` (as `nix build`): a `nixosConfigurations.NAME` means its
    /// `config.system.build.toplevel`.
    Build,
    /// `rnix-eval eval INSTALLABLE`.
    Eval,
}

/// A parsed installable: the flake, the fragment, and notices to show the user.
pub struct Installable {
    /// The flake, before locking.
    pub flake_ref: FlakeRef,
    /// The attribute path after `#` (empty when there is none).
    pub fragment: String,
    /// Lines for stderr (e.g. how a path was resolved to a flake).
    pub notices: Vec<String>,
}

fn other(msg: String) -> Box<EvalError> {
    EvalError::new(ErrorKind::Other, msg)
}

/// Parses `s` (a flake reference with an optional `#fragment`) relative to `base`.
pub fn parse_installable(s: &str, base: &Path) -> Result<Installable> {
    let p =
        FlakeRef::parse_with_fragment(s, ParseOptions { base_dir: Some(base), allow_missing: false, is_flake: true })
            .map_err(|e| other(e.message().to_owned()))?;
    Ok(Installable { flake_ref: p.flake_ref, fragment: p.fragment, notices: p.notices })
}

/// An input path given on the command line (`a/b`) as its components.
pub fn input_path(s: &str) -> Vec<String> {
    s.split('/').filter(|x| !x.is_empty()).map(String::from).collect()
}

/// The attribute paths tried, in order, for `fragment` on `system` (2.8's
/// `getDefaultFlakeAttrPaths` and `getDefaultFlakeAttrPathPrefixes`).
pub fn flake_attr_paths(purpose: Purpose, fragment: &str, system: &str) -> Vec<String> {
    let parts = split_attr_path(fragment);
    if fragment.is_empty() {
        return vec![format!("packages.{system}.default"), format!("defaultPackage.{system}")];
    }
    if purpose == Purpose::Build && parts.len() == 2 && parts[0] == "nixosConfigurations" {
        return vec![format!("{fragment}.config.system.build.toplevel")];
    }
    vec![format!("packages.{system}.{fragment}"), format!("legacyPackages.{system}.{fragment}"), fragment.to_owned()]
}

/// `'a', 'b' or 'c'`, as the reference lists the paths it tried.
pub fn show_attr_paths(paths: &[String]) -> String {
    let q: Vec<String> = paths.iter().map(|p| format!("'{p}'")).collect();
    match q.len() {
        0 => String::new(),
        1 => q[0].clone(),
        n => format!("{} or {}", q[..n - 1].join(", "), q[n - 1]),
    }
}

/// The `outputs` of a locked flake, forced.
pub fn outputs(ev: &mut Eval, locked: &LockedFlake) -> Result<Value> {
    let v = call_flake(ev, locked)?;
    let v = ev.force(&v)?;
    let Value::Attrs(a) = &v else {
        return Err(other("flake result is not a set".into()));
    };
    let o = a.get(Symbol::new("outputs")).cloned().unwrap_or(Value::Null);
    ev.force(&o)
}

/// Follows an attribute path; a missing attribute is `None`, not an error.
pub fn select(ev: &mut Eval, root: &Value, path: &[String]) -> Result<Option<Value>> {
    let mut v = root.clone();
    for (i, key) in path.iter().enumerate() {
        v = ev.force(&v)?;
        let Value::Attrs(a) = &v else {
            return Err(EvalError::new(
                ErrorKind::Type,
                format!(
                    "the expression selected by the selection path '{}' should be a set but is {}",
                    path[..i].join("."),
                    v.ty().describe()
                ),
            ));
        };
        match a.get(Symbol::new(key)) {
            Some(x) => v = x.clone(),
            None => return Ok(None),
        }
    }
    Ok(Some(ev.force(&v)?))
}

/// The value of the first of [`flake_attr_paths`] present in `outputs`, or the
/// reference's "does not provide attribute" error.
pub fn select_installable(
    ev: &mut Eval,
    outputs: &Value,
    flake_ref: &FlakeRef,
    purpose: Purpose,
    fragment: &str,
) -> Result<Value> {
    let system = ev.settings.system.clone();
    let paths = flake_attr_paths(purpose, fragment, &system);
    for p in &paths {
        if let Some(v) = select(ev, outputs, &split_attr_path(p))? {
            return Ok(v);
        }
    }
    Err(other(format!("flake '{flake_ref}' does not provide attribute {}", show_attr_paths(&paths))))
}

/// The `drvPath` of a derivation value (writing its closure when the store writes).
pub fn drv_path_of(ev: &mut Eval, v: &Value) -> Result<String> {
    let v = ev.force(v)?;
    let Value::Attrs(a) = &v else {
        return Err(other(format!("expected a derivation but got {}", v.ty().describe())));
    };
    if !ev.is_derivation(a)? {
        return Err(other("expected a derivation but got a set".into()));
    }
    let d = a.get(Symbol::new("drvPath")).cloned().unwrap_or(Value::Null);
    let d = ev.force(&d)?;
    Ok(ev.coerce_to_string(&d, Pos::NONE, CoerceOpts::NO_COPY)?.to_str_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_try_packages_then_legacy_then_as_is() {
        assert_eq!(
            flake_attr_paths(Purpose::Eval, "motd", "x86_64-linux"),
            ["packages.x86_64-linux.motd", "legacyPackages.x86_64-linux.motd", "motd"]
        );
        assert_eq!(
            flake_attr_paths(Purpose::Build, "nixosConfigurations.demo", "x86_64-linux"),
            ["nixosConfigurations.demo.config.system.build.toplevel"]
        );
        assert_eq!(show_attr_paths(&["a".into(), "b".into(), "c".into()]), "'a', 'b' or 'c'");
    }
}
