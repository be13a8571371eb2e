//! Pure evaluation of a flake: the messages are CppNix 2.8's (`nix eval .#ATTR` on the same
//! flake). Needs only the release binary.

mod common;

use common::*;

const FLAKE: &str = r#"{
  outputs = { self }: {
    time = builtins.currentTime;
    hasTime = builtins ? currentTime;
    np = <nixpkgs>;
    host = builtins.readFile /etc/hostname;
    env = builtins.getEnv "HOME";
    fetchurl = builtins.isFunction (import <nix/fetchurl.nix>);
    exists = builtins.pathExists /etc/hostname;
    dotdot = builtins.readFile (./. + "/../../../../../../etc/hostname");
    inside = builtins.readFile ./flake.nix != "";
    sp = builtins.storePath /nix/store/ql2b9hkw6m1xllxsicfy60g73xci27gs-source;
    nixPath = builtins.nixPath;
    link = builtins.readFile ./link;
    ft = builtins.fetchTree { type = "path"; path = "/tmp"; };
    ftb = builtins.fetchTarball "http://127.0.0.1:1/x.tar.gz";
    fu = builtins.fetchurl "http://127.0.0.1:1/x";
  };
}
"#;

#[test]
fn pure_mode_as_the_reference() {
    if !bin_built() {
        return;
    }
    let base = scratch("pure");
    let dir = base.join("flake");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("flake.nix"), FLAKE).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", dir.join("link")).unwrap();
    // Outside the flake: a path: flake is copied whole.
    let store = base.join("store").display().to_string();
    let eval = |attr: &str, impure: bool| {
        let inst = format!("path:{}#{attr}", dir.display());
        let mut args = vec!["eval", inst.as_str(), "--store", store.as_str()];
        if impure {
            args.push("--impure");
        }
        run(&dir, &args)
    };
    for (attr, out) in [
        ("hasTime", "false\n"),
        ("env", "\"\"\n"),
        ("fetchurl", "true\n"),
        ("exists", "false\n"),
        ("inside", "true\n"),
        ("nixPath", "[ ]\n"),
    ] {
        let o = eval(attr, false);
        assert!(o.status.success(), "{attr}: {}", stderr(&o));
        assert_eq!(stdout(&o), out, "{attr}");
    }
    for (attr, msg) in [
        ("time", "error: attribute 'currentTime' missing"),
        ("np", "error: cannot look up '<nixpkgs>' in pure evaluation mode (use '--impure' to override)"),
        ("host", "error: access to absolute path '/etc/hostname' is forbidden in pure eval mode (use '--impure' to override)"),
        ("dotdot", "error: access to absolute path '/etc/hostname' is forbidden in pure eval mode (use '--impure' to override)"),
        ("sp", "error: 'builtins.storePath' is not allowed in pure evaluation mode"),
        ("link", "error: access to canonical path '/etc/hostname' is forbidden in restricted mode"),
        ("ft", "error: in pure evaluation mode, 'fetchTree' requires a locked input, at /nix/store/"),
        ("ftb", "error: in pure evaluation mode, 'fetchTarball' requires a 'sha256' argument"),
        ("fu", "error: in pure evaluation mode, 'fetchurl' requires a 'sha256' argument"),
    ] {
        let o = eval(attr, false);
        assert_eq!(o.status.code(), Some(1), "{attr}");
        assert!(stderr(&o).starts_with(msg), "{attr}: {}", stderr(&o));
    }
    // --impure lifts it.
    let host = std::fs::read_to_string("/etc/hostname").ok();
    if let Some(h) = host {
        let o = eval("host", true);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(stdout(&o), format!("{:?}\n", h));
    }
    let o = eval("hasTime", true);
    assert_eq!(stdout(&o), "true\n");
    let _ = std::fs::remove_dir_all(&base);
}

/// The reference's `nix`, if installed.
fn reference_nix() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("nix")).find(|p| p.is_file())
}

/// Store paths are readable in pure mode only when they belong to the inputs or the evaluation
/// made them: another flake's source, though in the store, is refused with 2.8's message (as
/// `nix eval` 2.8 refuses it, checked when the reference is installed); `--impure` lifts it.
#[test]
fn pure_mode_refuses_store_paths_outside_the_inputs() {
    if !bin_built() {
        return;
    }
    let base = scratch("pure-store");
    let store = base.join("store").display().to_string();
    let other = base.join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("flake.nix"), "{ outputs = { self }: { p = self.outPath; }; }\n").unwrap();
    let other_ref = format!("path:{}#p", other.display());
    let o = run(&base, &["eval", "--raw", &other_ref, "--store", &store]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The same path the reference gives (content-addressed).
    let other_path = stdout(&o);
    assert!(other_path.starts_with("/nix/store/") && other_path.ends_with("-source"), "{other_path}");
    let dir = base.join("flake");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("data.txt"), "data\n").unwrap();
    let flake = format!(
        r#"{{ outputs = {{ self }}: {{
  other = builtins.readFile "{other_path}/flake.nix";
  otherPath = builtins.readFile {other_path}/flake.nix;
  own = builtins.readFile "${{self}}/flake.nix" != "";
  copied = builtins.readFile "${{./data.txt}}";
  made = builtins.readFile (builtins.toFile "x" "made");
}}; }}
"#
    );
    std::fs::write(dir.join("flake.nix"), flake).unwrap();
    let eval = |attr: &str, impure: bool| {
        let inst = format!("path:{}#{attr}", dir.display());
        let mut args = vec!["eval", inst.as_str(), "--store", store.as_str()];
        if impure {
            args.push("--impure");
        }
        run(&dir, &args)
    };
    let refused = format!(
        "error: access to absolute path '{other_path}/flake.nix' is forbidden in pure eval mode (use '--impure' to override)"
    );
    for attr in ["other", "otherPath"] {
        let o = eval(attr, false);
        assert_eq!(o.status.code(), Some(1), "{attr}: {}", stdout(&o));
        assert_eq!(stderr(&o).lines().next(), Some(refused.as_str()), "{attr}");
    }
    // `made` (a `toFile` result, read through its context) 2.8 allows in /nix/store; with
    // `--store DIR` it checks the file's real location and refuses it, a quirk not copied.
    for (attr, out) in [("own", "true\n"), ("copied", "\"data\\n\"\n"), ("made", "\"made\"\n")] {
        let o = eval(attr, false);
        assert!(o.status.success(), "{attr}: {}", stderr(&o));
        assert_eq!(stdout(&o), out, "{attr}");
    }
    let o = eval("other", true);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "\"{ outputs = { self }: { p = self.outPath; }; }\\n\"\n");
    if let Some(nix) = reference_nix() {
        // 2.8 on the same flakes, in its own store and home.
        let home = base.join("home");
        let ref_store = base.join("ref-store").display().to_string();
        let nix_eval = |args: &[&str]| {
            std::process::Command::new(&nix)
                .args(["--extra-experimental-features", "nix-command flakes", "--store", &ref_store])
                .args(args)
                .current_dir(&base)
                .env("HOME", &home)
                .env("XDG_CONFIG_HOME", home.join(".config"))
                .env("XDG_CACHE_HOME", home.join(".cache"))
                .env_remove("NIX_PATH")
                .output()
                .expect("run nix")
        };
        let o = nix_eval(&["eval", "--raw", &other_ref]);
        assert_eq!(stdout(&o), other_path, "{}", stderr(&o));
        for attr in ["other", "otherPath"] {
            let o = nix_eval(&["eval", &format!("path:{}#{attr}", dir.display())]);
            assert_eq!(o.status.code(), Some(1));
            assert_eq!(stderr(&o).lines().next(), Some(refused.as_str()), "reference, {attr}");
        }
        for attr in ["own", "copied"] {
            let o = nix_eval(&["eval", &format!("path:{}#{attr}", dir.display())]);
            assert_eq!(stdout(&o), stdout(&eval(attr, false)), "reference, {attr}: {}", stderr(&o));
        }
    }
    remove_with_store(&base);
}
