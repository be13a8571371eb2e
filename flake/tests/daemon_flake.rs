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
//!   reference refuses them;
//! - read-only evaluation reaching import from derivation when the `.drv` is valid: built
//!   through a daemon (one on this machine's own store, so the reference reads it back
//!   too), refused by a local store, as 2.8 does;
//! - `builtins.path`, `filterSource`, `hashFile`, `readFile` of a derivation output build it
//!   first, as `import` does;
//! - `--add-root` / `--indirect` and the "you did not specify '--add-root'" warning, into a
//!   local store, through a daemon, read-only and `--dry-run`, against `nix-instantiate`.
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

/// A private daemon (its own socket in `dir`) on this machine's own store, `/nix`: what it
/// builds is where the reference reads it back.
fn start_daemon_on_host(dir: &Path) -> TestDaemon {
    TestDaemon::start_on_host(&dir.join("socket"), NIX_CONFIG)
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
        .env("XDG_CACHE_HOME", dir.join(".cache"))
        .env("XDG_DATA_HOME", dir.join(".local/share"))
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

/// The first line of a run's stderr.
fn first_line(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).lines().next().unwrap_or("").to_owned()
}

/// Both runs fail with exit 1, ours saying first what the reference says first (ours may add
/// a hint after it); the reference's first line.
fn both_refuse(what: &str, ours: &Output, theirs: &Output) -> String {
    assert_eq!(theirs.status.code(), Some(1), "{what}: the reference: {}", String::from_utf8_lossy(&theirs.stderr));
    assert_eq!(ours.status.code(), Some(1), "{what}: rnix-eval: {}", String::from_utf8_lossy(&ours.stderr));
    let (o, t) = (first_line(ours), first_line(theirs));
    assert!(o.starts_with(&t), "{what}:\nours:   {o}\ntheirs: {t}");
    t
}

/// A number no earlier run used, so a derivation made with it needs a build.
fn nonce() -> u64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    (nanos % 1_000_000_000) as u64 * 1000 + u64::from(std::process::id() % 1000)
}

/// Paths of this machine's store that a test made, deleted when it ends (also when it fails).
struct HostPaths(Vec<String>);

impl Drop for HostPaths {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            let _ = Command::new("nix-store")
                .arg("--delete")
                .args(&self.0)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Read-only evaluation (`--readonly-mode`) reaching import from derivation, as 2.8 does it:
/// the `.drv` must already be valid in the store (else both say it is not valid); then a
/// daemon builds it (read-only mode only keeps the client from writing) and the value is
/// read, while a local store refuses to build ("cannot substitute … no write access") and
/// reads outputs that are already there. The daemon runs on this machine's own store, so
/// the reference can read what it built; the derivation is new in every run (a nonce) and
/// is deleted at the end.
#[test]
fn read_only_import_from_derivation_builds_a_valid_drv_as_the_reference_does() {
    if !bin_built() || !reference_installed() {
        return;
    }
    let work = scratch("ro-ifd");
    let daemon = start_daemon_on_host(&work);
    let url = daemon.url();
    let local = work.join("local-store").display().to_string();
    let n = nonce();
    std::fs::write(
        work.join("drv.nix"),
        format!(
            r#"derivation {{ name = "ro-ifd"; system = "x86_64-linux"; builder = "/bin/sh";
                 args = [ "-c" "echo '{{ x = {n}; }}' > $out" ]; }}"#
        ),
    )
    .unwrap();
    std::fs::write(work.join("ifd.nix"), "(import (import ./drv.nix)).x\n").unwrap();
    let want = format!("{n}\n");
    let read_only = |prog: &Path, store: &str| {
        let mut args = vec!["--store", store, "--readonly-mode", "--eval", "ifd.nix"];
        if prog == bin() {
            args.insert(0, "instantiate");
        }
        exec(&work, prog, &args)
    };

    // The `.drv` is not in the store: both refuse, naming it.
    for store in [url.as_str(), local.as_str()] {
        let said = both_refuse(store, &read_only(&bin(), store), &read_only(&nix("nix-instantiate"), store));
        assert!(said.contains(".drv' is not valid"), "{store}: {said}");
    }

    // Instantiated (the `.drv` valid, its output not built) in both stores.
    let mut drv = String::new();
    for store in [url.as_str(), local.as_str()] {
        drv = exec_ok(&work, &nix("nix-instantiate"), &["--store", store, "drv.nix"]).trim().to_owned();
    }
    let out = exec_ok(&work, &nix("nix-store"), &["--store", &url, "-q", "--outputs", &drv]).trim().to_owned();
    let _cleanup = HostPaths(vec![out.clone(), drv.clone()]);
    let valid = |store: &str, p: &str| exec(&work, &nix("nix-store"), &["--store", store, "--check-validity", p]);
    assert!(!valid(&url, &out).status.success(), "{out} is built already");

    // Through the daemon the reference builds and reads it; built again for us (the output
    // deleted), we do the same.
    let theirs = read_only(&nix("nix-instantiate"), &url);
    assert_eq!(String::from_utf8_lossy(&theirs.stdout), want, "{}", String::from_utf8_lossy(&theirs.stderr));
    exec_ok(&work, &nix("nix-store"), &["--store", &url, "--delete", &out]);
    assert!(!valid(&url, &out).status.success(), "{out} was not deleted");
    let ours = read_only(&bin(), &url);
    assert_eq!(String::from_utf8_lossy(&ours.stdout), want, "{}", String::from_utf8_lossy(&ours.stderr));
    assert!(valid(&url, &out).status.success(), "rnix-eval did not have {out} built by the daemon");

    // A local store cannot build in read-only mode: both refuse, naming the output.
    let said = both_refuse("local", &read_only(&bin(), &local), &read_only(&nix("nix-instantiate"), &local));
    assert!(said.contains(&format!("cannot substitute path '{out}'")), "{said}");
    // Built (read-write), it is read in read-only mode by both.
    let built = exec_ok(&work, &bin(), &["instantiate", "--store", &local, "--read-write-mode", "--eval", "ifd.nix"]);
    assert_eq!(built, want);
    for prog in [bin(), nix("nix-instantiate")] {
        let o = read_only(&prog, &local);
        assert_eq!(String::from_utf8_lossy(&o.stdout), want, "{}: {}", prog.display(), first_line(&o));
    }

    drop(daemon);
    remove_with_store(&work);
}

/// A derivation whose output is a directory with a file `f` (`/bin/mkdir` through the
/// sandbox paths).
const DIRECTORY_OUTPUT: &str = r#"derivation { name = "dir-output"; system = "x86_64-linux"; builder = "/bin/sh";
    args = [ "-c" "/bin/mkdir $out; echo hello > $out/f; echo skipped > $out/g" ]; }"#;

/// `builtins.path`, `filterSource`, `hashFile` and `readFile` of a path below a derivation
/// output build the output first (2.8's `realiseContext` in `addPath` and `realisePath`), as
/// `import` does: into a local store directory (the reference, into another, gives the
/// values) and through a daemon with its own store. `allow-import-from-derivation = false`
/// refuses them with the reference's message.
#[test]
fn path_builtins_build_the_outputs_they_read() {
    if !bin_built() || !reference_installed() {
        return;
    }
    let work = scratch("path-ifd");
    let daemon = start_daemon(&work);
    std::fs::write(
        work.join("reads.nix"),
        format!(
            r#"let d = {DIRECTORY_OUTPUT}; in {{
  path = builtins.path {{ path = "${{d}}"; name = "copied"; }};
  filtered = builtins.filterSource (p: t: baseNameOf p != "g") "${{d}}";
  hash = builtins.hashFile "sha256" "${{d}}/f";
  read = builtins.readFile "${{d}}/f";
}}"#
        ),
    )
    .unwrap();
    let eval = ["--read-write-mode", "--eval", "--strict", "reads.nix"];
    let reference_store = work.join("reference-store").display().to_string();
    let mut args = vec!["--store", reference_store.as_str()];
    args.extend(eval);
    let want = exec_ok(&work, &nix("nix-instantiate"), &args);
    assert!(want.contains("-copied\"") && want.contains("read = \"hello\\n\""), "{want}");
    let local = work.join("local-store").display().to_string();
    for store in [local.as_str(), daemon.url().as_str()] {
        let mut args = vec!["instantiate", "--store", store];
        args.extend(eval);
        assert_eq!(exec_ok(&work, &bin(), &args), want, "through {store}");
    }

    // Refused without a build, each builtin, as the reference refuses it.
    for which in ["path", "filtered", "hash", "read"] {
        let fresh = work.join(format!("no-ifd-{which}")).display().to_string();
        let expr = format!("(import ./reads.nix).{which}");
        let args = ["--store", &fresh, "--read-write-mode", "--eval", "--option", "allow-import-from-derivation"];
        let mut theirs_args = args.to_vec();
        theirs_args.extend(["false", "-E", &expr]);
        let mut ours_args = vec!["instantiate"];
        ours_args.extend(&theirs_args);
        let said =
            both_refuse(which, &exec(&work, &bin(), &ours_args), &exec(&work, &nix("nix-instantiate"), &theirs_args));
        assert!(said.contains("allow-import-from-derivation"), "{which}: {said}");
    }
    drop(daemon);
    remove_with_store(&work);
}

/// Two derivations that need no build.
const TWO_DERIVATIONS: &str = r#"[ (derivation { name = "root-a"; system = "x"; builder = "/b"; })
  (derivation { name = "root-b"; system = "x"; builder = "/b"; }) ]"#;

/// `STATE/gcroots/auto` of a store: each indirect root's name and where it points.
fn auto_roots(state: &Path) -> Vec<(String, PathBuf)> {
    let mut roots: Vec<(String, PathBuf)> = std::fs::read_dir(state.join("gcroots/auto"))
        .map(|d| {
            d.map(|e| {
                let e = e.unwrap();
                (e.file_name().to_string_lossy().into_owned(), std::fs::read_link(e.path()).unwrap())
            })
            .collect()
        })
        .unwrap_or_default();
    roots.sort();
    roots
}

/// GC roots as `nix-instantiate` 2.8 makes them: `--add-root PATH --indirect` into a local
/// store, through a daemon, and read-only (2.8's `addPermRoot` ignores read-only mode) gives
/// the same stdout (the roots `PATH`, `PATH-2`), the same links and the same indirect roots
/// in the store's `gcroots/auto`; without `--add-root` the same stderr: the warning once for
/// two derivations, also read-only and `--dry-run`, and none for `--eval`.
#[test]
fn gc_roots_and_the_add_root_warning_as_the_reference() {
    if !bin_built() || !reference_installed() {
        return;
    }
    let work = scratch("gc-roots");
    std::fs::write(work.join("two.nix"), TWO_DERIVATIONS).unwrap();
    let daemons = [start_daemon(&work.join("d-ours")), start_daemon(&work.join("d-theirs"))];
    let root = work.join("result");
    let root_s = root.display().to_string();
    // (what, the store each side uses, extra flags, where that store keeps its state)
    type Case = (&'static str, [String; 2], Vec<&'static str>, [PathBuf; 2]);
    let local = |tag: &str| -> ([String; 2], [PathBuf; 2]) {
        let dirs = ["ours", "theirs"].map(|side| work.join(format!("{tag}-{side}")));
        (dirs.clone().map(|d| d.display().to_string()), dirs.map(|d| d.join("nix/var/nix")))
    };
    let (l, l_state) = local("local");
    let (ro, ro_state) = local("read-only");
    let (dry, dry_state) = local("dry-run");
    let cases: Vec<Case> = vec![
        ("local store", l, vec![], l_state),
        (
            "daemon",
            daemons.each_ref().map(TestDaemon::url),
            vec![],
            [0, 1].map(|i| work.join(["d-ours", "d-theirs"][i]).join("store/nix/var/nix")),
        ),
        ("read-only local store", ro, vec!["--readonly-mode"], ro_state),
        (
            "read-only daemon",
            daemons.each_ref().map(TestDaemon::url),
            vec!["--readonly-mode"],
            [0, 1].map(|i| work.join(["d-ours", "d-theirs"][i]).join("store/nix/var/nix")),
        ),
        ("--dry-run", dry, vec!["--dry-run"], dry_state),
    ];
    for (what, stores, flags, states) in &cases {
        let mut outputs = Vec::new();
        for (i, prog) in [bin(), nix("nix-instantiate")].iter().enumerate() {
            let mut args: Vec<&str> = if i == 0 { vec!["instantiate"] } else { vec![] };
            args.extend(["--store", stores[i].as_str(), "two.nix"]);
            args.extend(flags.iter().copied());
            // Without a root: the warning.
            let plain = exec(&work, prog, &args);
            // With a root (the same path for both sides, so the indirect roots' names agree).
            let _ = std::fs::remove_file(&root);
            let _ = std::fs::remove_file(work.join("result-2"));
            let mut with_root = args.clone();
            with_root.extend(["--add-root", root_s.as_str(), "--indirect"]);
            let rooted = exec(&work, prog, &with_root);
            let links = ["result", "result-2"].map(|r| std::fs::read_link(work.join(r)).ok());
            outputs.push((plain, rooted, links, auto_roots(&states[i])));
        }
        let (ours, theirs) = (&outputs[0], &outputs[1]);
        let text = |o: &Output| {
            (
                o.status.code(),
                String::from_utf8_lossy(&o.stdout).into_owned(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        };
        assert_eq!(text(&ours.0), text(&theirs.0), "{what}, without --add-root");
        assert!(String::from_utf8_lossy(&theirs.0.stderr).contains("you did not specify '--add-root'"), "{what}");
        assert_eq!(text(&ours.1), text(&theirs.1), "{what}, --add-root");
        assert_eq!(String::from_utf8_lossy(&theirs.1.stdout), format!("{root_s}\n{root_s}-2\n"), "{what}");
        assert_eq!(ours.2, theirs.2, "{what}: the root links");
        assert!(theirs.2.iter().all(Option::is_some), "{what}");
        assert_eq!(ours.3, theirs.3, "{what}: gcroots/auto");
        assert_eq!(theirs.3.len(), 2, "{what}");
    }
    // `--eval` prints no warning.
    let ours = exec(&work, &bin(), &["instantiate", "--eval", "two.nix"]);
    let theirs = exec(&work, &nix("nix-instantiate"), &["--eval", "two.nix"]);
    assert_eq!((ours.stderr, ours.status.code()), (theirs.stderr, theirs.status.code()));
    drop(daemons);
    remove_with_store(&work);
}
