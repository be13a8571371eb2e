//! The embedding API, black-box: a program that uses `nix-eval` as a library evaluates a
//! file through the crate's public surface only (`EvalBuilder`, `Eval::eval_file`,
//! `Eval::force`, `Value`, `Eval::print_value`), with no builtins installed.
//!
//! The expected printed value is what the reference (`nix-instantiate --eval --strict`)
//! prints for the same file: computed here when the reference is installed, else the
//! recorded output of CppNix 2.8 below.

use nix_eval::{EvalBuilder, Settings, Symbol, Value};
use std::path::Path;
use std::process::Command;

/// The file: language features only (`import`, `null`/`true`/`false` and every `builtins.*` are
/// nix-builtins', which this crate does not depend on).
const MAIN: &str = r#"
let
  lib = {
    greeting = "hello, ${"world"}";
    add = a: b: a + b;
    twice = x: [ x x ];
    check = { a ? 1, ... }@args: a == 1 && args ? b;
  };
  fib = n: if n < 2 then n else fib (n - 1) + fib (n - 2);
  base = { x = 1; y = "two"; };
in rec {
  inherit (lib) greeting;
  sum = lib.add 40 2;
  fibs = [ (fib 0) (fib 1) (fib 10) ] ++ lib.twice (fib 5);
  merged = base // { y = "${base.y}!"; z = sum * 2; };
  nested.deeper.value = with merged; x + z;
  path = ./lib.nix; # need not exist
  float = 1.5 * 2;
  pattern = lib.check { b = 0; };
}
"#;

/// CppNix 2.8's `nix-instantiate --eval --strict main.nix` (with the directory as `/dir`).
const RECORDED: &str = "{ fibs = [ 0 1 55 5 5 ]; float = 3; greeting = \"hello, world\"; merged = { x = 1; y = \"two!\"; z = 84; }; nested = { deeper = { value = 85; }; }; path = /dir/lib.nix; pattern = true; sum = 42; }";

fn reference(file: &Path) -> Option<String> {
    let o = Command::new("nix-instantiate").args(["--eval", "--strict"]).arg(file).output().ok()?;
    assert!(o.status.success(), "the reference failed: {}", String::from_utf8_lossy(&o.stderr));
    Some(String::from_utf8_lossy(&o.stdout).trim_end().to_owned())
}

#[test]
fn a_file_evaluates_through_the_public_surface() {
    let dir = std::env::temp_dir().join(format!("nix-eval-embedding-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let main = dir.join("main.nix");
    std::fs::write(&main, MAIN).unwrap();

    let mut ev = EvalBuilder::new(Settings::default()).build();
    let v = ev.eval_file(&main).expect("evaluates");
    let Value::Attrs(set) = ev.force(&v).unwrap() else { panic!("not a set") };
    let sum = ev.force(set.get(Symbol::new("sum")).unwrap()).unwrap();
    assert!(matches!(sum, Value::Int(42)), "sum");

    let printed = ev.print_value(&v, true).unwrap();
    let want = match reference(&main) {
        Some(r) => r,
        None => RECORDED.replace("/dir/", &format!("{}/", dir.display())),
    };
    assert_eq!(printed, want);

    // Errors come back as values, not panics.
    let Err(e) = ev.eval_expr("{ a = 1; }.b", Path::new("/")).and_then(|v| ev.force(&v)) else {
        panic!("a missing attribute evaluated");
    };
    assert_eq!(e.msg, "attribute 'b' missing");
    assert!(e.render(false).contains("attribute 'b' missing"), "{}", e.render(false));
    let _ = std::fs::remove_dir_all(&dir);
}
