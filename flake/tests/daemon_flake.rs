//! Flakes and import from derivation into stores that are not this machine's `/nix/store`,
//! against the reference (CppNix 2.8) in the same test:
//! - `seed-container` through a private `nix-daemon --store DIR` (its files under
//!   `DIR/nix/store`, which the evaluator cannot read as `/nix/store`) and into a local
//!   `--store DIR`: the golden toplevel, a complete closure, `--realise --dry-run`;
//! - an input that is already a path of the host's `/nix/store`, into `--store DIR`;
//! - import from derivation through the daemon (its `BuildPaths`, never a builder of ours):
//!   a flake whose NixOS module imports a `.nix` file a derivation writes, evaluated to the
//!   toplevel the reference gives (with a local store directory: 2.8 cannot read a built
//!   output through a daemon whose store is elsewhere); a plain `import (derivation …)`
//!   (also into a local store directory, built by the installed `nix-store --realise`);
//!   `allow-import-from-derivation = false` and read-only evaluation refused as the
//!   reference refuses them.
//!
//! Needs `../shared`, the release binary and the reference (`nix-daemon`, `nix-store`,
//! `nix-instantiate`, `nix`); skips without them (fails under `RNIX_REQUIRE_SHARED` / `CI`).

mod common;

use common::*;
use rnix_test_support::{find_program, TestDaemon};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Builds in a chroot store are sandboxed; `/bin/sh` and its libraries are made visible.
const NIX_CONFIG: &str = "substituters =\nextra-sandbox-paths = /bin? /usr? /lib? /lib64?\n";

/// True if the reference's programs are installed; else says the test skips.
fn reference_installed() -> bool {
    let found = ["nix-daemon", "nix-store", "nix-instantiate", "nix"].iter().all(|p| find_program(p).is_some());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "the reference Nix is not installed, and CI is set");
        require_or_skip(false, "the reference Nix (nix-daemon, nix-store, nix-instantiate, nix)");
        eprintln!("skipping: the reference Nix is not installed");
    }
    found
}

/// A `nix-daemon --store DIR/store` listening on `DIR/socket` (the shared test helper).
fn start_daemon(dir: &Path) -> TestDaemon {
    TestDaemon::start(&dir.join("store"), &dir.join("socket"), NIX_CONFIG)
}

/// Runs a program with the test's Nix configuration; its output.
fn exec(dir: &Path, prog: &Path, args: &[&str]) -> Output {
    let conf = dir.join(".noconf");
    let _ = std::fs::create_dir_all(&conf);
    Command::new(prog)
        .args(args)
        .current_dir(dir)
        .env("XDG_CONFIG_HOME", &conf)
        .env("NIX_CONF_DIR", &conf)
        .env("NIX_CONFIG", NIX_CONFIG)
        .env("HOME", dir)
        .env_remove("NIX_REMOTE")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", prog.display()))
}

/// [`exec`], asserting success; stdout.
fn exec_ok(dir: &Path, prog: &Path, args: &[&str]) -> String {
    let o = exec(dir, prog, args);
    assert!(
        o.status.success(),
        "{} {args:?} failed ({}):\n{}",
        prog.display(),
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn nix(name: &str) -> PathBuf {
    find_program(name).expect("reference program")
}

const FLAKES: [&str; 2] = ["--extra-experimental-features", "nix-command flakes"];

/// The golden toplevel of `seed-container` with `store`: printed, with a complete closure
/// in that store (every path valid, the closure as large as the golden desktop's would be
/// for this configuration: what the reference's instantiation registers), and
/// `--realise --dry-run` listing what would be built.
fn seed_container_into(store: &str, work: &Path, shared: &Path) {
    let sc = work.join("seed-container");
    fixture(shared, "seed-container", &sc);
    let np = format!("path:{}/nixpkgs/nixos-20.09", shared.display());
    let out = exec_ok(
        &sc,
        &bin(),
        &[
            "--store",
            store,
            ".#nixosConfigurations.container",
            "--override-input",
            "nixpkgs",
            &np,
            "--no-write-lock-file",
        ],
    );
    let want = golden(shared, "seed-container", "nixosConfigurations.container.config.system.build.toplevel.drvPath");
    assert_eq!(out.trim_end(), want, "the toplevel through {store}");
    let closure = exec_ok(work, &nix("nix-store"), &["--store", store, "-qR", &want]);
    let paths: Vec<&str> = closure.lines().collect();
    assert!(
        paths.len() > 1000 && paths.contains(&want.as_str()),
        "closure of {want} in {store}: {} paths",
        paths.len()
    );
    // What the reference instantiates into a fresh store of its own: the same closure.
    let reference_store = work.join("reference-store");
    let reference_store_s = reference_store.display().to_string();
    let mut args: Vec<&str> = FLAKES.to_vec();
    args.extend([
        "eval",
        "--store",
        &reference_store_s,
        "--raw",
        ".#nixosConfigurations.container.config.system.build.toplevel.drvPath",
        "--override-input",
        "nixpkgs",
        &np,
        "--no-write-lock-file",
    ]);
    assert_eq!(exec_ok(&sc, &nix("nix"), &args), want);
    let reference = exec_ok(work, &nix("nix-store"), &["--store", &reference_store_s, "-qR", &want]);
    let mut ours = paths.clone();
    let mut theirs: Vec<&str> = reference.lines().collect();
    ours.sort_unstable();
    theirs.sort_unstable();
    assert_eq!(ours, theirs, "closure of {want} in {store} against the reference's");
    let dry = exec(
        work,
        &nix("nix-store"),
        &["--store", store, "--realise", "--dry-run", &want, "--option", "substituters", ""],
    );
    let text = String::from_utf8_lossy(&dry.stderr);
    assert!(dry.status.success(), "--realise --dry-run failed: {text}");
    assert!(text.contains("will be built:") && text.contains(&want), "--realise --dry-run: {text}");
    remove_with_store(&reference_store);
}

#[test]
fn seed_container_through_a_daemon_with_its_own_store() {
    let Some(shared) = shared() else { return };
    if !reference_installed() {
        return;
    }
    let work = scratch("daemon-seed");
    let daemon = start_daemon(&work);
    seed_container_into(&daemon.url(), &work, &shared);
    drop(daemon);
    remove_with_store(&work);
}

#[test]
fn seed_container_into_a_local_store_directory() {
    let Some(shared) = shared() else { return };
    if !reference_installed() {
        return;
    }
    let work = scratch("local-seed");
    let store = work.join("store").display().to_string();
    seed_container_into(&store, &work, &shared);
    let verify = exec_ok(&work, &nix("nix-store"), &["--store", &store, "--verify", "--check-contents"]);
    assert_eq!(verify, "");
    remove_with_store(&work);
}

/// A flake whose input is a `source` path of the host's `/nix/store`: with `--store DIR`
/// the reference copies it into `DIR`; so does rnix-eval, to the same path and value.
#[test]
fn a_host_store_input_is_copied_into_the_store_directory() {
    if !bin_built() || !reference_installed() {
        return;
    }
    let work = scratch("host-input");
    // A `source` path in the host store (content-addressed: harmless to leave there).
    let src = work.join("gen").join("source");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("data.txt"), "from the host store\n").unwrap();
    let host = exec_ok(&work, &nix("nix-store"), &["--add", &src.display().to_string()]).trim().to_owned();
    assert!(host.starts_with("/nix/store/") && host.ends_with("-source"), "{host}");
    let flake = work.join("flake");
    std::fs::create_dir_all(&flake).unwrap();
    std::fs::write(
        flake.join("flake.nix"),
        format!(
            r#"{{ inputs.src = {{ url = "path:{host}"; flake = false; }};
                outputs = {{ self, src }}: {{ data = builtins.readFile "${{src}}/data.txt"; path = src.outPath; }}; }}"#
        ),
    )
    .unwrap();
    for (who, prog) in [("rnix-eval", bin()), ("reference", nix("nix"))] {
        let store = work.join(format!("store-{who}")).display().to_string();
        let mut args: Vec<&str> = if who == "reference" { FLAKES.to_vec() } else { vec![] };
        args.extend(["eval", "--store", &store, "--json", "path:./flake#data", "--no-write-lock-file"]);
        assert_eq!(exec_ok(&work, &prog, &args).trim(), r#""from the host store\n""#, "{who}");
        let mut args: Vec<&str> = if who == "reference" { FLAKES.to_vec() } else { vec![] };
        args.extend(["eval", "--store", &store, "--raw", "path:./flake#path", "--no-write-lock-file"]);
        assert_eq!(exec_ok(&work, &prog, &args), host, "{who}");
        // Valid in the store directory, with its files.
        exec_ok(&work, &nix("nix-store"), &["--store", &store, "--check-validity", &host]);
        assert!(Path::new(&store).join(host.trim_start_matches('/')).join("data.txt").is_file(), "{who}");
    }
    remove_with_store(&work);
}

/// A derivation that writes a NixOS module; `sh` is found through the sandbox paths.
const GENERATED_MODULE: &str = r#"derivation {
      name = "generated-module.nix";
      system = "x86_64-linux";
      builder = "/bin/sh";
      args = [ "-c" "echo '{ ... }: { networking.hostName = \"from-ifd\"; environment.etc.ifd.text = \"built\"; }' > $out" ];
    }"#;

/// Import from derivation through the daemon: a flake's NixOS module, a plain
/// `import (derivation …)`, and the refusals.
#[test]
fn import_from_derivation_through_the_daemon() {
    let Some(shared) = shared() else { return };
    if !reference_installed() {
        return;
    }
    let work = scratch("daemon-ifd");
    let daemon = start_daemon(&work);
    let url = daemon.url();
    let np = format!("path:{}/nixpkgs/nixos-20.09", shared.display());

    // Plain import from derivation, as nix-instantiate --eval (read-write) gives it.
    let plain = work.join("plain.nix");
    std::fs::write(
        &plain,
        r#"let d = derivation { name = "gen"; system = "x86_64-linux"; builder = "/bin/sh";
                args = [ "-c" "echo '{ x = 42; }' > $out" ]; };
           in (import d).x + (import "${d}").x"#,
    )
    .unwrap();
    let plain_s = plain.display().to_string();
    // 2.8 itself cannot read a built output through a daemon whose store is elsewhere (it
    // looks in /nix/store): the expected values come from it with a local store directory.
    let reference_store = work.join("reference-store").display().to_string();
    let want = exec_ok(
        &work,
        &nix("nix-instantiate"),
        &["--store", &reference_store, "--read-write-mode", "--eval", &plain_s],
    );
    assert_eq!(want, "84\n");
    let got = exec_ok(&work, &bin(), &["instantiate", "--store", &url, "--read-write-mode", "--eval", &plain_s]);
    assert_eq!(got, want);
    // A local store directory builds through the installed `nix-store --realise`.
    let local = work.join("local-store").display().to_string();
    let got = exec_ok(&work, &bin(), &["instantiate", "--store", &local, "--read-write-mode", "--eval", &plain_s]);
    assert_eq!(got, want);

    // Refused: the reference's messages (first line), exit 1.
    let plain2 = work.join("plain2.nix");
    std::fs::write(
        &plain2,
        r#"let d = derivation { name = "gen2"; system = "x86_64-linux"; builder = "/bin/sh";
                args = [ "-c" "echo '{ x = 1; }' > $out" ]; };
           in (import d).x"#,
    )
    .unwrap();
    let plain2_s = plain2.display().to_string();
    // Read-only first: the refused read-write run writes the `.drv`, which the reference
    // (through a daemon) would then build even in read-only mode.
    for extra in
        [vec!["--readonly-mode"], vec!["--read-write-mode", "--option", "allow-import-from-derivation", "false"]]
    {
        let mut args = vec!["--store", url.as_str(), "--eval", plain2_s.as_str()];
        args.extend(extra.iter().copied());
        let theirs = exec(&work, &nix("nix-instantiate"), &args);
        let mut ours_args = vec!["instantiate"];
        ours_args.extend(args.iter().copied());
        let ours = exec(&work, &bin(), &ours_args);
        assert_eq!(ours.status.code(), Some(1), "{extra:?}: {}", String::from_utf8_lossy(&ours.stderr));
        assert_eq!(theirs.status.code(), Some(1), "reference {extra:?}");
        let first = |o: &Output| String::from_utf8_lossy(&o.stderr).lines().next().unwrap_or("").to_owned();
        assert!(
            first(&ours).starts_with(&first(&theirs)),
            "{extra:?}:\nours:   {}\ntheirs: {}",
            first(&ours),
            first(&theirs)
        );
    }

    // A flake whose NixOS module comes from a derivation.
    let flake = work.join("flake");
    std::fs::create_dir_all(&flake).unwrap();
    std::fs::write(
        flake.join("flake.nix"),
        format!(
            r#"{{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-20.09";
  outputs = {{ self, nixpkgs }}: {{
    nixosConfigurations.ifd = nixpkgs.lib.nixosSystem {{
      system = "x86_64-linux";
      modules = [ {{ boot.isContainer = true; }} (import ({GENERATED_MODULE})) ];
    }};
  }};
}}"#
        ),
    )
    .unwrap();
    let attr = ".#nixosConfigurations.ifd.config.system.build.toplevel.drvPath";
    let mut args: Vec<&str> = FLAKES.to_vec();
    args.extend(["eval", "--store", &reference_store, "--raw", attr]);
    args.extend(["--override-input", "nixpkgs", &np, "--no-write-lock-file"]);
    let want = exec_ok(&flake, &nix("nix"), &args);
    assert!(want.contains("-nixos-system-from-ifd-"), "{want}");
    let ours = exec_ok(
        &flake,
        &bin(),
        &["--store", &url, ".#nixosConfigurations.ifd", "--override-input", "nixpkgs", &np, "--no-write-lock-file"],
    );
    assert_eq!(ours.trim_end(), want);
    drop(daemon);
    remove_with_store(&work);
}
