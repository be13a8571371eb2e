//! The shared fixture flakes (`fleet`, `seed-container`) through the command line, against
//! the reference's goldens: `golden/flakes.tsv`, `golden/flake-show-fleet.json`, and lock
//! files CppNix 2.8 writes in the test for the same fixture and overrides (the lock files
//! name the shared tree's path, so they cannot be recorded). nixpkgs is overridden to the
//! shared tree as the goldens were made. Skips without `../shared`, the release binary or
//! (for the lock files) the reference; `RNIX_REQUIRE_SHARED` makes any of those a failure.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

fn nixpkgs(shared: &Path) -> String {
    format!("path:{}/nixpkgs/nixos-20.09", shared.display())
}

fn eval_args<'a>(store: &'a str, np: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = extra.to_vec();
    v.extend(["--store", store, "--override-input", "nixpkgs", np, "--no-write-lock-file"]);
    v
}

/// Rewrites a fleet fixture's `flake.nix` to take nixpkgs from `np` (a `path:` URL).
fn point_nixpkgs_at(dir: &Path, np: &str) {
    let f = dir.join("flake.nix");
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(text.contains("github:NixOS/nixpkgs/nixos-20.09"), "the fleet fixture no longer names nixpkgs so");
    std::fs::write(&f, text.replace("github:NixOS/nixpkgs/nixos-20.09", np)).unwrap();
}

/// The lock file the reference (CppNix 2.8's `nix flake lock ARGS`) writes for a fresh copy
/// of the fleet fixture (with nixpkgs rewritten as [`point_nixpkgs_at`] when `tag` is
/// `lock-path`), in a private store and configuration. `None` (the test skips that check)
/// if the reference is not installed; a failure under `RNIX_REQUIRE_SHARED`.
fn reference_lock(shared: &Path, root: &Path, tag: &str, args: &[&str]) -> Option<String> {
    let installed = Command::new("nix").arg("--version").output().is_ok_and(|o| o.status.success());
    require_or_skip(installed, "the reference `nix` (CppNix 2.8), which computes the expected lock files,");
    if !installed {
        eprintln!("skipping the lock-file comparison: the reference `nix` is not installed");
        return None;
    }
    let dir = root.join(format!("{tag}-reference"));
    fixture(shared, "fleet", &dir);
    if tag == "lock-path" {
        point_nixpkgs_at(&dir, &nixpkgs(shared));
    }
    let private = std::env::temp_dir().join("rnix-flake-tests-reference");
    let o = Command::new("nix")
        .args(["--extra-experimental-features", "nix-command flakes"])
        .args(args)
        .arg("--store")
        .arg(private.join("store"))
        .current_dir(&dir)
        .env("XDG_CONFIG_HOME", private.join("config"))
        .env("XDG_CACHE_HOME", private.join("cache"))
        .env("NIX_CONF_DIR", private.join("config"))
        .output()
        .expect("run the reference nix");
    assert!(o.status.success(), "reference nix {args:?} failed:\n{}", stderr(&o));
    Some(std::fs::read_to_string(dir.join("flake.lock")).expect("the reference wrote no flake.lock"))
}

/// The NAR hash the reference computes for the shared nixpkgs tree today, if it is installed.
fn reference_nar_hash(dir: &Path) -> Option<String> {
    let o = Command::new("nix")
        .args(["--extra-experimental-features", "nix-command", "hash", "path", "--type", "sha256", "--sri"])
        .arg(dir)
        .output()
        .ok()?;
    o.status.success().then(|| String::from_utf8_lossy(&o.stdout).trim().to_owned())
}

#[test]
fn golden_values_of_the_fixtures() {
    let Some(shared) = shared() else { return };
    let root = scratch("golden");
    let store = store().display().to_string();
    let np = nixpkgs(&shared);
    for fx in ["seed-container", "fleet"] {
        let dir = root.join(fx);
        fixture(&shared, fx, &dir);
        let meta = ok(&dir, &eval_args(&store, &np, &["flake", "metadata", "--json"]));
        let j: serde_json::Value = serde_json::from_str(&meta).unwrap();
        let field = |f: &str| golden(&shared, fx, f);
        assert_eq!(j["path"], field("self.outPath"));
        assert_eq!(j["locked"]["narHash"], field("self.narHash"));
        assert_eq!(j["revision"], field("self.rev"));
        assert_eq!(j["lastModified"].to_string(), field("self.lastModified"));
        assert_eq!(j["revCount"].to_string(), field("self.revCount"));
        let ours = j["locks"]["nodes"]["nixpkgs"]["locked"]["narHash"].as_str().unwrap().to_owned();
        let tsv = golden(&shared, "both", "inputs.nixpkgs.narHash");
        if ours != tsv {
            // The shared tree changed after the golden was made; the reference decides.
            let Some(reference) = reference_nar_hash(&shared.join("nixpkgs/nixos-20.09")) else {
                panic!("nixpkgs narHash {ours} differs from the golden {tsv} and the reference is not installed to arbitrate");
            };
            eprintln!("note: golden inputs.nixpkgs.narHash {tsv} has drifted; the reference now gives {reference}");
            assert_eq!(ours, reference);
        }
    }
    for (fx, attr) in [
        ("seed-container", "nixosConfigurations.container.config.system.build.toplevel.drvPath"),
        ("fleet", "nixosConfigurations.alpha.config.system.build.toplevel.drvPath"),
        ("fleet", "nixosConfigurations.beta.config.system.build.toplevel.drvPath"),
        ("fleet", "packages.x86_64-linux.default.drvPath"),
        ("fleet", "checks.x86_64-linux.motd.drvPath"),
    ] {
        let inst = format!(".#{attr}");
        let out = ok(&root.join(fx), &eval_args(&store, &np, &["eval", "--raw", &inst]));
        assert_eq!(out, golden(&shared, fx, attr), "{fx} {attr}");
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn show_build_and_lock() {
    let Some(shared) = shared() else { return };
    let root = scratch("show");
    let store = store().display().to_string();
    let np = nixpkgs(&shared);
    let fleet = root.join("fleet");
    fixture(&shared, "fleet", &fleet);
    let show = ok(&fleet, &eval_args(&store, &np, &["flake", "show", "--json"]));
    let want = std::fs::read_to_string(shared.join("golden/flake-show-fleet.json")).unwrap();
    assert_eq!(show, want);

    // Building: the golden drv path is printed and the .drv written under --store.
    let sc = root.join("seed-container");
    fixture(&shared, "seed-container", &sc);
    let out_store = root.join("out-store");
    let out_store_s = out_store.display().to_string();
    let args = eval_args(&out_store_s, &np, &[".#nixosConfigurations.container"]);
    let drv = ok(&sc, &args);
    let want = golden(&shared, "seed-container", "nixosConfigurations.container.config.system.build.toplevel.drvPath");
    assert_eq!(drv.trim_end(), want);
    assert!(out_store.join(want.trim_start_matches('/')).is_file(), "{want} not written");
    // Options may follow the installable; --dry-run writes nothing.
    let dry = root.join("dry-store");
    let dry_s = dry.display().to_string();
    let mut args = vec!["--dry-run", ".#nixosConfigurations.container"];
    args.extend(eval_args(&dry_s, &np, &[]));
    assert_eq!(ok(&sc, &args).trim_end(), want);
    assert!(!dry.join(want.trim_start_matches('/')).exists());

    // `flake lock` writes the reference's bytes, with the override and with a path: url.
    let o1 = root.join("lock-override");
    fixture(&shared, "fleet", &o1);
    let args = ["flake", "lock", "--override-input", "nixpkgs", &np];
    if let Some(want) = reference_lock(&shared, &root, "lock-override", &args) {
        ok(&o1, &[&args[..], &["--store", &store]].concat());
        let got = std::fs::read_to_string(o1.join("flake.lock")).unwrap();
        assert_eq!(got, want, "flake.lock of `flake lock --override-input` differs from the reference's");
    }
    let o2 = root.join("lock-path");
    fixture(&shared, "fleet", &o2);
    point_nixpkgs_at(&o2, &np);
    if let Some(want) = reference_lock(&shared, &root, "lock-path", &["flake", "lock"]) {
        ok(&o2, &["flake", "lock", "--store", &store]);
        let got = std::fs::read_to_string(o2.join("flake.lock")).unwrap();
        assert_eq!(got, want, "flake.lock of a path: input differs from the reference's");
        // Locked now: a second run changes nothing and needs no override.
        let o = run(&o2, &["flake", "lock", "--store", &store]);
        assert!(o.status.success() && !stderr(&o).contains("updating lock file"), "{}", stderr(&o));
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn check_reports_every_failing_output() {
    let Some(shared) = shared() else { return };
    let root = scratch("check");
    let store = store().display().to_string();
    let np = nixpkgs(&shared);
    let fleet = root.join("fleet");
    fixture(&shared, "fleet", &fleet);
    let o = run(&fleet, &eval_args(&store, &np, &["flake", "check"]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning: unknown flake output 'lib'"));

    let f = fleet.join("flake.nix");
    let text = std::fs::read_to_string(&f)
        .unwrap()
        .replace("      overlays.default =", "      overlays.broken = final: { };\n      overlays.default =")
        .replace(
            "        motd = self.packages.${system}.motd;\n        alpha",
            "        motd = self.packages.${system}.motd;\n        number = 42;\n        alpha",
        );
    std::fs::write(&f, text).unwrap();
    let o = run(&fleet, &eval_args(&store, &np, &["flake", "check"]));
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("error: flake attribute 'checks.x86_64-linux.number' is not a derivation"), "{err}");
    assert!(err.contains("error: overlay does not take an argument named 'prev'"), "{err}");
    assert!(err.contains("the overlay 'overlays.broken'"), "{err}");
    assert!(err.contains("error: some errors were encountered during the evaluation"), "{err}");
    let _ = std::fs::remove_dir_all(&root);
}
