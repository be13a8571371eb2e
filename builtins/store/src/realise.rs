//! Building for a local store: import from derivation hands the build to Nix.
//!
//! rnix-eval never builds anything itself (no sandbox, no builder of its own).
//! A daemon store asks the daemon (`BuildPaths`); a local store has no daemon,
//! so the installed `nix-store --store ROOT --realise DRV!OUTPUTS` does it, with
//! its substituters, sandbox and build users, and its log on our stderr.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::store::StoreError;

/// The first `nix-store` on `PATH`.
fn find_nix_store() -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths).map(|d| d.join("nix-store")).find(|p| p.is_file())
}

/// Builds `outputs` (all if empty) of `drv` in the local store at `root` with Nix.
pub(crate) fn nix_store_realise(root: &Path, drv: &str, outputs: &[&str]) -> Result<(), StoreError> {
    let Some(nix_store) = find_nix_store() else {
        return Err(StoreError::Build(format!(
            "cannot build '{drv}' during evaluation: building needs Nix ('nix-store' on PATH) \
             for a local store, or a daemon store (--store daemon)"
        )));
    };
    let target = if outputs.is_empty() { drv.to_owned() } else { format!("{drv}!{}", outputs.join(",")) };
    let status = Command::new(&nix_store)
        .arg("--store")
        .arg(root)
        .args(["--realise", "--no-gc-warning", &target])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .map_err(|e| StoreError::Build(format!("cannot build '{drv}': running '{}': {e}", nix_store.display())))?;
    if !status.success() {
        return Err(StoreError::Build(format!("build of '{drv}' failed ('nix-store --realise' {status})")));
    }
    Ok(())
}
