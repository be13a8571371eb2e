//! Self-test of the closure checker the store-level tests rely on
//! (`common::check_closure`): on a small store written by `rnix-eval
//! instantiate --store DIR` (no ../shared needed) every path recomputes to
//! its name, and changing one byte of a `.drv`, of a `toFile` text or of a
//! copied source tree is reported.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::*;
use rnix_tests::paths;

const EXPR: &str = r#"
let
  src = builtins.path { path = ./tree; name = "tree"; };
  note = builtins.toFile "note.txt" "tree is ${src}\n";
  dep = derivation { name = "dep"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo > $out" ]; };
in derivation {
  name = "top";
  system = "x86_64-linux";
  builder = "/bin/sh";
  args = [ "-c" "cat ${note} ${dep} > $out" ];
  inherit src;
  outputs = [ "out" "dev" ];
}
"#;

fn flip_last_byte(p: &Path) {
    let _ = fs::set_permissions(p, fs::Permissions::from_mode(0o644));
    let mut bytes = fs::read(p).unwrap();
    let last = bytes.last_mut().expect("non-empty file");
    *last ^= 1;
    fs::write(p, bytes).unwrap();
}

#[test]
fn check_closure_accepts_what_is_written_and_catches_changes() {
    let tmp = TempDir::new("check");
    let work = tmp.path().join("work");
    fs::create_dir_all(work.join("tree/sub")).unwrap();
    fs::write(work.join("tree/a.txt"), "a\n").unwrap();
    fs::write(work.join("tree/sub/run.sh"), "#!/bin/sh\n").unwrap();
    fs::set_permissions(work.join("tree/sub/run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink("a.txt", work.join("tree/link")).unwrap();
    fs::write(work.join("top.nix"), EXPR).unwrap();
    let store = tmp.path().join("store");
    let out = run_ok(
        &paths::rnix_eval_for_tests(),
        &["instantiate", "--store", &store.to_string_lossy(), "top.nix"],
        &work,
        tmp.path(),
    );
    let store_dir = store.join("nix/store");
    let names = store_entries(&store_dir);
    assert!(names.contains(out.trim().trim_start_matches("/nix/store/")), "{out}");
    let find = |suffix: &str| {
        names.iter().find(|n| n.ends_with(suffix)).unwrap_or_else(|| panic!("no *{suffix} in {names:?}")).clone()
    };
    let (top, dep, note, tree) = (find("-top.drv"), find("-dep.drv"), find("-note.txt"), find("-tree"));
    assert_eq!(names.len(), 4, "{names:?}");
    assert_no_problems(&check_closure(&store_dir, &names), "fresh store");

    for victim in [top.clone(), dep, note] {
        flip_last_byte(&store_dir.join(&victim));
        let problems = check_closure(&store_dir, &names);
        assert!(problems.iter().any(|p| p.starts_with(&victim)), "{victim}: {problems:?}");
        flip_last_byte(&store_dir.join(&victim));
    }
    assert_no_problems(&check_closure(&store_dir, &names), "restored store");
    // Deep inside the source tree: the executable bit.
    let run = store_dir.join(&tree).join("sub/run.sh");
    let _ = fs::set_permissions(store_dir.join(&tree).join("sub"), fs::Permissions::from_mode(0o755));
    fs::set_permissions(&run, fs::Permissions::from_mode(0o644)).unwrap();
    let problems = check_closure(&store_dir, &names);
    assert!(problems.iter().any(|p| p.starts_with(&tree)), "{problems:?}");
    // A missing path.
    let mut more = names.clone();
    more.insert("00000000000000000000000000000000-gone.drv".to_string());
    assert!(check_closure(&store_dir, &more).iter().any(|p| p.ends_with("missing")));
}
