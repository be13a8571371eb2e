//! Flakes written the way people write them, against `nix` 2.8 (issue 12's done-when):
//! a flake-utils stand-in (`eachDefaultSystem`, same code shape as numtide's), package sets
//! from `import nixpkgs { inherit system; }` (nixpkgs' `impure.nix` then probes
//! `<nixpkgs-overlays>` under `tryEval`, in pure mode), overlays, `"${./.}"` sources,
//! `nixpkgs.lib.nixosSystem` with `specialArgs` and `self.nixosModules`, a `?dir=` subflake
//! of the same repository, and follows two levels deep. The flakes are generated here and
//! committed as git repositories with a fixed author and date (as
//! `../shared/flakes/make-fixture.sh` does); inputs are local `git+file:` and `path:`
//! references, nixpkgs is `path:../shared/nixpkgs/nixos-20.09`.
//!
//! Compared with 2.8 when `nix` is installed: the lock file `flake lock` writes (byte for
//! byte), `eval --raw` of drv paths, `flake show --json`, `flake check --no-build` (exit code
//! and warnings; 2.8 orders its warnings by symbol address, so as a set; and the error of a
//! host with an undefined option). Without it, the
//! values recorded from 2.8 that do not depend on where the test runs are checked.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const UTILS: &str = r#"{
  # A stand-in for numtide/flake-utils with the same code shape.
  outputs = { self }:
    let
      defaultSystems = [ "x86_64-linux" "i686-linux" ];
      eachSystem = systems: f:
        let
          op = attrs: system:
            let
              ret = f system;
              op = attrs: key:
                attrs // {
                  ${key} = (attrs.${key} or { }) // { ${system} = ret.${key}; };
                };
            in
            builtins.foldl' op attrs (builtins.attrNames ret);
        in
        builtins.foldl' op { } systems;
    in
    {
      lib = {
        inherit defaultSystems eachSystem;
        eachDefaultSystem = eachSystem defaultSystems;
      };
    };
}
"#;

const INNER: &str = r#"{
  inputs.nixpkgs.url = "@NIXPKGS@";
  outputs = { self, nixpkgs }: { lib.version = nixpkgs.lib.version; };
}
"#;

const LIB2: &str = r#"{
  inputs.nixpkgs.url = "@NIXPKGS@";
  inputs.utils.url = "git+file://@DIR@/utils";
  inputs.inner.url = "git+file://@DIR@/inner";
  inputs.inner.inputs.nixpkgs.follows = "nixpkgs";
  outputs = { self, nixpkgs, utils, inner }: {
    lib.describe = name: "${name} on nixpkgs ${inner.lib.version}";
    lib.systems = utils.lib.defaultSystems;
  };
}
"#;

const SUB: &str = r#"{
  inputs.nixpkgs.url = "@NIXPKGS@";
  outputs = { self, nixpkgs }: {
    overlays.default = final: prev: {
      greeting = final.writeText "greeting" "hello from the subflake";
    };
  };
}
"#;

const MODULE: &str = r#"{ pkgs, greeting, inputs, ... }: {
  boot.isContainer = true;
  users.motd = greeting;
  environment.etc.greeting.source = pkgs.greeting;
  system.configurationRevision = inputs.self.rev or "dirty";
}
"#;

const APP: &str = r#"{
  description = "Common flake patterns";

  inputs = {
    nixpkgs.url = "@NIXPKGS@";
    utils.url = "git+file://@DIR@/utils";
    sub.url = "git+file://@DIR@/app?dir=sub";
    sub.inputs.nixpkgs.follows = "nixpkgs";
    lib2.url = "git+file://@DIR@/lib2";
    lib2.inputs.utils.follows = "utils";
    lib2.inputs.nixpkgs.follows = "nixpkgs";
  };

  outputs = { self, nixpkgs, utils, sub, lib2 } @ inputs:
    utils.lib.eachDefaultSystem (system:
      let
        pkgs = import nixpkgs { inherit system; };
        withOverlay = import nixpkgs { inherit system; overlays = [ sub.overlays.default self.overlays.default ]; };
      in
      {
        packages = {
          hello = pkgs.hello;
          greeting = withOverlay.greeting;
          shout = withOverlay.shout;
          src = pkgs.runCommand "src" { } "cp -r ${./.} $out";
          data = pkgs.writeText "data" (builtins.readFile ./data.txt);
        };
        defaultPackage = self.packages.${system}.hello;
        checks.shout = self.packages.${system}.shout;
        devShell = pkgs.mkShell { buildInputs = [ pkgs.hello ]; };
      })
    // {
      overlays.default = final: prev: {
        shout = final.runCommand "shout" { } "echo ${lib2.lib.describe "shout"} > $out";
      };
      nixosModules.base = import ./modules/base.nix;
      nixosConfigurations.host = nixpkgs.lib.nixosSystem {
        system = "x86_64-linux";
        specialArgs = { inherit inputs; greeting = "hi"; };
        modules = [
          self.nixosModules.base
          { nixpkgs.overlays = [ sub.overlays.default ]; }
        ];
      };
    };
}
"#;

/// Attributes compared with `eval --raw`, and the values recorded from 2.8 that do not depend
/// on the test's directory (`None`: they do, through the flake's own source).
const EVALS: &[(&str, Option<&str>)] = &[
    ("packages.x86_64-linux.hello.drvPath", Some("/nix/store/iylhv1jiapks1396jz2fv8wq85q68y6y-hello-2.10.drv")),
    ("packages.i686-linux.greeting.drvPath", Some("/nix/store/x77ak6ysf87xb2y5azsdid36jzah9iz8-greeting.drv")),
    ("packages.x86_64-linux.shout.drvPath", None),
    ("packages.x86_64-linux.src.drvPath", None),
    ("packages.x86_64-linux.data.drvPath", Some("/nix/store/2l87b9k4695lfp5hx1kdxspqmnp76i3y-data.drv")),
    (
        "nixosConfigurations.host.config.system.build.toplevel.drvPath",
        Some("/nix/store/n8q00nzv9wygkd7n0nf81s269fc3kiqj-nixos-system-nixos-20.09.19700101.dirty.drv"),
    ),
];

fn git_commit(dir: &Path) {
    for args in [&["init", "-q", "-b", "main", "."][..], &["add", "-A"], &["commit", "-q", "-m", "fixture"]] {
        let ok = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "fixture")
            .env("GIT_AUTHOR_EMAIL", "fixture@example.org")
            .env("GIT_COMMITTER_NAME", "fixture")
            .env("GIT_COMMITTER_EMAIL", "fixture@example.org")
            .env("GIT_AUTHOR_DATE", "2024-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2024-01-01T00:00:00Z")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "git {args:?} in {} failed", dir.display());
    }
}

/// Writes the flakes below `root` and commits each repository.
fn make_flakes(root: &Path, nixpkgs: &str) {
    let dir = root.display().to_string();
    let write = |rel: &str, text: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text.replace("@NIXPKGS@", nixpkgs).replace("@DIR@", &dir)).unwrap();
    };
    write("utils/flake.nix", UTILS);
    write("inner/flake.nix", INNER);
    write("lib2/flake.nix", LIB2);
    write("app/flake.nix", APP);
    write("app/sub/flake.nix", SUB);
    write("app/modules/base.nix", MODULE);
    write("app/data.txt", "source file\n");
    for repo in ["utils", "inner", "lib2", "app"] {
        git_commit(&root.join(repo));
    }
    std::fs::write(root.join("registry.json"), "{\"version\":2,\"flakes\":[]}").unwrap();
}

struct Runner {
    root: PathBuf,
    store: String,
    reference: Option<(PathBuf, String)>,
}

impl Runner {
    fn ours(&self, cwd: &Path, args: &[&str]) -> Output {
        let registry = self.root.join("registry.json").display().to_string();
        isolate(&mut Command::new(bin()))
            .args(args)
            .args(["--store", &self.store, "--flake-registry", &registry])
            .current_dir(cwd)
            .env("XDG_CONFIG_HOME", self.root.join("home/.config"))
            .env("NIX_CONF_DIR", self.root.join("home"))
            .env_remove("NIX_PATH")
            .output()
            .expect("run rnix-eval")
    }

    fn theirs(&self, cwd: &Path, args: &[&str]) -> Option<Output> {
        let (nix, store) = self.reference.as_ref()?;
        let home = self.root.join("home");
        let registry = self.root.join("registry.json").display().to_string();
        let o = Command::new(nix)
            .args(["--extra-experimental-features", "nix-command flakes", "--store", store])
            .args(["--flake-registry", &registry])
            .args(args)
            .current_dir(cwd)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("NIX_CONF_DIR", &home)
            .env_remove("NIX_PATH")
            .output()
            .expect("run nix");
        Some(o)
    }
}

fn reference_nix() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("nix")).find(|p| p.is_file())
}

/// The `warning:` lines, as a set, without the dirty-tree one.
fn warnings(o: &Output) -> BTreeSet<String> {
    stderr(o).lines().filter(|l| l.starts_with("warning:") && !l.contains("is dirty")).map(String::from).collect()
}

fn must(o: &Output, what: &str) -> String {
    assert!(o.status.success(), "{what} failed:\n{}", stderr(o));
    stdout(o)
}

#[test]
fn common_flake_patterns_as_the_reference() {
    let Some(shared) = shared_data() else {
        eprintln!("skipping: ../shared (nixpkgs trees) is absent");
        return;
    };
    if !bin_built() {
        return;
    }
    let root = scratch("patterns");
    let nixpkgs = format!("path:{}", shared.join("nixpkgs/nixos-20.09").canonicalize().unwrap().display());
    make_flakes(&root, &nixpkgs);
    let reference = reference_nix().map(|n| (n, root.join("ref-store").display().to_string()));
    if reference.is_none() {
        eprintln!("NOTE: nix not found: only the values recorded from 2.8 are checked");
    }
    let r = Runner { root: root.clone(), store: store().display().to_string(), reference };

    // `flake lock` writes the reference's lock file (follows two levels deep, `?dir=`).
    // Each side locks its own copy: `app` itself stays clean, since `sub` is `app?dir=sub`
    // (a lock file in it would make that repository dirty and its input unlocked).
    let app = root.join("app-ours");
    let ref_app = root.join("app-ref");
    for copy in [&app, &ref_app] {
        let cp = Command::new("cp").arg("-r").arg(root.join("app")).arg(copy).status().unwrap();
        assert!(cp.success());
    }
    let o = r.ours(&app, &["flake", "lock"]);
    must(&o, "rnix-eval flake lock");
    let lock = std::fs::read_to_string(app.join("flake.lock")).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&lock).unwrap();
    let nodes: Vec<&String> = parsed["nodes"].as_object().unwrap().keys().collect();
    assert_eq!(nodes, ["inner", "lib2", "nixpkgs", "root", "sub", "utils"], "{lock}");
    assert_eq!(parsed["nodes"]["inner"]["inputs"]["nixpkgs"], serde_json::json!(["lib2", "nixpkgs"]), "{lock}");
    if let Some(o) = r.theirs(&ref_app, &["flake", "lock"]) {
        must(&o, "nix flake lock");
        assert_eq!(lock, std::fs::read_to_string(ref_app.join("flake.lock")).unwrap(), "lock files differ");
    }

    // Evaluation, pure: `import nixpkgs { inherit system; }` must get past impure.nix.
    let mut failures = vec![];
    for (attr, recorded) in EVALS {
        let inst = format!(".#{attr}");
        let ours = r.ours(&app, &["eval", "--raw", &inst]);
        let ours_out = must(&ours, attr);
        if let Some(recorded) = recorded {
            if ours_out != *recorded {
                failures.push(format!("{attr}: {ours_out} (2.8 recorded: {recorded})"));
            }
        }
        if let Some(theirs) = r.theirs(&app, &["eval", "--raw", &inst]) {
            if stdout(&theirs) != ours_out {
                failures.push(format!("{attr}: {ours_out} (nix: {} {})", stdout(&theirs), stderr(&theirs)));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // `flake show --json`: every system's packages, checks, shells, the modules and hosts.
    let show = must(&r.ours(&app, &["flake", "show", "--json"]), "flake show");
    let show: serde_json::Value = serde_json::from_str(&show).unwrap();
    assert_eq!(show["packages"]["i686-linux"]["hello"]["name"], "hello-2.10", "{show}");
    assert_eq!(show["nixosConfigurations"]["host"]["type"], "nixos-configuration", "{show}");
    if let Some(theirs) = r.theirs(&app, &["flake", "show", "--json"]) {
        let theirs: serde_json::Value = serde_json::from_str(&must(&theirs, "nix flake show")).unwrap();
        assert_eq!(show, theirs, "flake show --json differs");
    }

    // `flake check --no-build`: passes, with 2.8's warnings about legacy and unknown outputs.
    let check = r.ours(&app, &["flake", "check", "--no-build"]);
    must(&check, "flake check");
    let expected: BTreeSet<String> = [
        "warning: flake output attribute 'defaultPackage' is deprecated; use 'packages.<system>.default' instead",
        "warning: flake output attribute 'devShell' is deprecated; use 'devShells.<system>.default' instead",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(warnings(&check), expected);
    if let Some(theirs) = r.theirs(&app, &["flake", "check", "--no-build"]) {
        must(&theirs, "nix flake check");
        assert_eq!(warnings(&check), warnings(&theirs), "flake check warnings differ");
    }

    // A host with an undefined option: `flake check` fails with the module system's message.
    let broken = root.join("app-broken");
    let cp = Command::new("cp").arg("-r").arg(&app).arg(&broken).status().unwrap();
    assert!(cp.success());
    let text = std::fs::read_to_string(broken.join("flake.nix")).unwrap().replace(
        "      nixosModules.base = import ./modules/base.nix;",
        "      nixosModules.base = import ./modules/base.nix;\n      nixosConfigurations.bad = nixpkgs.lib.nixosSystem {\n        system = \"x86_64-linux\";\n        modules = [ { boot.isContainer = true; services.nonexistentService.enable = true; } ];\n      };",
    );
    std::fs::write(broken.join("flake.nix"), text).unwrap();
    let first_error = |o: &Output| stderr(o).lines().find(|l| l.starts_with("error:")).unwrap_or("").to_owned();
    let check = r.ours(&broken, &["flake", "check", "--no-build"]);
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    let message =
        "error: The option `services.nonexistentService' defined in `<unknown-file>' does not exist.".to_owned();
    assert_eq!(first_error(&check), message);
    if let Some(theirs) = r.theirs(&broken, &["flake", "check", "--no-build"]) {
        assert_eq!(theirs.status.code(), Some(1), "{}", stderr(&theirs));
        assert_eq!(first_error(&theirs), message);
    }
    remove_with_store(&root);
}
