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
