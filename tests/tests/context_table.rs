//! The string-context table: every builtin and language operation that takes or
//! returns strings, fed strings carrying each kind of context (none, a source
//! path, a derivation output, another output, a whole `.drv`, all of them), and
//! the context of the result (`builtins.getContext`, `builtins.hasContext`,
//! deep through lists and sets) compared with the reference's.
//!
//! Why: a lost context is the worst kind of bug — derivation hashes change and
//! builds miss their inputs (`builtins.toPath` dropping its argument's context
//! cost a `texlive.combine` of nixpkgs 18.03 40% of its `inputDrvs`). Where the
//! reference refuses a context ("is not allowed to refer to a store path"), we
//! must refuse too.
//!
//! The cases are the cross product of [`OPS`] and [`STRING_INPUTS`] (plus
//! [`COERCE_OPS`] × [`COERCIBLE_INPUTS`]); each is one `-E` expression, and
//! many run in one `instantiate --eval --strict` process: an error stops
//! a process, so the run resumes after the failing case. Expected results come
//! from the reference `nix-instantiate` run in this test; without it the test
//! only checks that `rnix-eval` neither panics nor hangs on any case.
//!
//! Both sides run with `--read-write-mode --store DIR` (a throw-away store each):
//! in read-only mode the reference refuses a whole-`.drv` context in a derivation
//! ("path '….drv' is not valid") because the `.drv` was never written. A second,
//! smaller table ([`STORE_OPS`]) reads the store (`readFile`, `storePath`,
//! `builtins.path`, …); its inputs carry no derivation outputs, which the
//! reference would try to build.

mod common;

use std::path::Path;

use common::*;
use rnix_tests::paths;
use rnix_tests::process::{run, RunSpec};

/// Written next to the cases as `prelude.nix`; every case starts with
/// `with import ./prelude.nix;`.
const PRELUDE: &str = r#"
rec {
  drv = derivation { name = "ctx-a"; builder = "/bin/sh"; system = "x86_64-linux"; outputs = [ "out" "dev" ]; };
  drv2 = derivation { name = "ctx-b-1.2"; builder = "/bin/sh"; system = "x86_64-linux"; };
  set = { abc = 1; x = 2; };
  # What a value's context is, deeply: strings show their text, getContext and hasContext.
  show = v:
    let t = builtins.typeOf v; in
    if t == "string" then { s = builtins.unsafeDiscardStringContext v; c = builtins.getContext v; h = builtins.hasContext v; }
    else if t == "list" then map show v
    else if t == "set" then
      (if v.type or null == "derivation" then { drvPath = show v.drvPath; outPath = show v.outPath; }
       else builtins.mapAttrs (n: show) v)
    else if t == "path" then { path = toString v; }
    else if t == "lambda" || t == "primop" then t
    else v;
}
"#;

/// The file the source-path inputs refer to (its store path depends only on this text).
const FILE_TEXT: &str = "context table\n";

/// String inputs: `(name, expression)`; each carries a different context.
const STRING_INPUTS: &[(&str, &str)] = &[
    ("plain", r#""abc""#),
    ("storeish", r#"builtins.unsafeDiscardStringContext "${drv2}""#),
    ("src", r#""${./file.txt}""#),
    ("out", r#""${drv}""#),
    ("dev", r#""${drv.dev}""#),
    ("drvPath", "drv.drvPath"),
    ("all", r#""${./file.txt}:${drv.dev}:${drv2.drvPath}:${drv}""#),
];

/// Operations on a string `s`: `(name, body)`.
const OPS: &[(&str, &str)] = &[
    // the language
    ("id", "s"),
    ("plus-right", r#"s + "x""#),
    ("plus-left", r#""x" + s"#),
    ("plus-self", "s + s"),
    ("interp", r#""a${s}b""#),
    ("interp-only", r#""${s}""#),
    ("indented-interp", "''\n  a${s}\n''"),
    ("path-plus", "./. + s"),
    ("path-interp", "./${s}"),
    ("plus-path", "s + ./file.txt"),
    ("let", "let x = s; in x"),
    ("if", "if true then s else null"),
    ("list", "[ s s ]"),
    ("attr-value", "{ a = s; }"),
    ("dyn-attr-name", "builtins.attrNames { ${s} = 1; }"),
    ("select-dyn", "{ abc = 1; }.${s} or 0"),
    ("has-dyn", "{ abc = 1; } ? ${s}"),
    ("eq-plain", "s == builtins.unsafeDiscardStringContext s"),
    ("eq-self", "s == s"),
    ("neq", r#"s != "abc""#),
    ("lt", r#"s < "zzz""#),
    ("to-string-set", "toString { __toString = self: s; }"),
    ("interp-to-string-set", r#""${{ __toString = self: s; }}""#),
    ("interp-out-path-set", r#""${{ outPath = s; }}""#),
    ("to-string-out-path-set", "toString { outPath = s; }"),
    // string builtins
    ("toString", "toString s"),
    ("toString-list", "toString [ s 1 null s ]"),
    ("toPath", "builtins.toPath s"),
    ("stringLength", "builtins.stringLength s"),
    ("substring-0-3", "builtins.substring 0 3 s"),
    ("substring-1-0", "builtins.substring 1 0 s"),
    ("substring-0-0", "builtins.substring 0 0 s"),
    ("substring-beyond", "builtins.substring 1000 5 s"),
    ("substring-neg-len", "builtins.substring 2 (-1) s"),
    ("substring-all", "builtins.substring 0 1000 s"),
    ("replace-input", r#"builtins.replaceStrings [ "a" ] [ "b" ] s"#),
    ("replace-input-nomatch", r#"builtins.replaceStrings [ "@@" ] [ "b" ] s"#),
    ("replace-pattern", r#"builtins.replaceStrings [ s ] [ "r" ] "xabcx""#),
    ("replace-pattern-nomatch", r#"builtins.replaceStrings [ s ] [ "r" ] "@@""#),
    ("replace-with", r#"builtins.replaceStrings [ "a" ] [ s ] "xax""#),
    ("replace-with-unused", r#"builtins.replaceStrings [ "a" ] [ s ] "xyz""#),
    ("replace-with-empty-pattern", r#"builtins.replaceStrings [ "" ] [ s ] "ab""#),
    ("replace-all-three", "builtins.replaceStrings [ s ] [ s ] s"),
    ("replace-empty-lists", "builtins.replaceStrings [ ] [ ] s"),
    ("concatStringsSep-sep-empty", "builtins.concatStringsSep s [ ]"),
    ("concatStringsSep-sep-one", r#"builtins.concatStringsSep s [ "a" ]"#),
    ("concatStringsSep-sep", r#"builtins.concatStringsSep s [ "a" "b" ]"#),
    ("concatStringsSep-elem", r#"builtins.concatStringsSep "," [ s "b" ]"#),
    ("concatStrings", r#"builtins.concatStrings [ s "b" s ]"#),
    ("match-input", r#"builtins.match "(.)(.*)" s"#),
    ("match-regex", r#"builtins.match s "abc""#),
    ("split-input", r#"builtins.split "(/)" s"#),
    ("split-input-nomatch", r#"builtins.split "@@" s"#),
    ("split-regex", r#"builtins.split s "abc""#),
    ("baseNameOf", "baseNameOf s"),
    ("dirOf", "dirOf s"),
    ("hashString-input", r#"builtins.hashString "sha256" s"#),
    ("hashString-algo", r#"builtins.hashString s "x""#),
    ("toJSON", "builtins.toJSON s"),
    ("toJSON-nested", "builtins.toJSON { a = [ s ]; }"),
    ("fromJSON-roundtrip", "builtins.fromJSON (builtins.toJSON s)"),
    ("fromJSON-list", r#"builtins.fromJSON (builtins.toJSON [ s ])"#),
    ("toXML", "builtins.toXML s"),
    ("fromTOML", r#"builtins.fromTOML ("a = " + builtins.toJSON s)"#),
    ("toFile-contents", r#"builtins.toFile "f" s"#),
    ("toFile-name", r#"builtins.toFile (builtins.substring 0 0 s + "f") "x""#),
    ("placeholder", "builtins.placeholder s"),
    ("parseDrvName", "builtins.parseDrvName s"),
    ("parseDrvName-versioned", r#"builtins.parseDrvName (s + "-1.0")"#),
    ("splitVersion", "builtins.splitVersion s"),
    ("compareVersions", r#"builtins.compareVersions s "1.0""#),
    ("unsafeDiscardStringContext", "builtins.unsafeDiscardStringContext s"),
    ("unsafeDiscardOutputDependency", "builtins.unsafeDiscardOutputDependency s"),
    ("appendContext-empty", "builtins.appendContext s { }"),
    ("appendContext-own", "builtins.appendContext s (builtins.getContext s)"),
    ("appendContext-onto-plain", r#"builtins.appendContext "x" (builtins.getContext s)"#),
    ("getContext-keys", "builtins.attrNames (builtins.getContext s)"),
    (
        "appendContext-path",
        r#"builtins.appendContext "x" { ${builtins.unsafeDiscardStringContext s} = { path = true; }; }"#,
    ),
    (
        "appendContext-allOutputs",
        r#"builtins.appendContext "x" { ${builtins.unsafeDiscardStringContext s} = { allOutputs = true; }; }"#,
    ),
    (
        "appendContext-outputs",
        r#"builtins.appendContext "x" { ${builtins.unsafeDiscardStringContext s} = { outputs = [ "out" "dev" ]; }; }"#,
    ),
    (
        "appendContext-nothing",
        r#"builtins.appendContext "x" { ${builtins.unsafeDiscardStringContext s} = { path = false; allOutputs = false; outputs = [ ]; }; }"#,
    ),
    (
        "appendContext-output-name",
        r#"builtins.appendContext "x" { ${drv.drvPath} = { outputs = [ ("out" + builtins.substring 0 0 s) ]; }; }"#,
    ),
    (
        "discardOutputDependency-appended",
        r#"builtins.unsafeDiscardOutputDependency (builtins.appendContext s { ${drv.drvPath} = { allOutputs = true; outputs = [ "dev" ]; }; })"#,
    ),
    // attribute names
    ("listToAttrs", "builtins.attrNames (builtins.listToAttrs [ { name = s; value = 1; } ])"),
    ("listToAttrs-value", "builtins.listToAttrs [ { name = \"a\"; value = s; } ]"),
    (
        "intersectAttrs",
        "builtins.attrNames (builtins.intersectAttrs (builtins.listToAttrs [ { name = s; value = 1; } ]) { abc = 2; })",
    ),
    ("getAttr", "builtins.getAttr s (set // { ${builtins.unsafeDiscardStringContext s} = 3; })"),
    ("hasAttr", "builtins.hasAttr s set"),
    ("removeAttrs", "builtins.removeAttrs set [ s ]"),
    ("catAttrs", "builtins.catAttrs s [ set ]"),
    ("unsafeGetAttrPos", "builtins.unsafeGetAttrPos s set"),
    ("groupBy", "builtins.attrNames (builtins.groupBy (x: x) [ s ])"),
    ("mapAttrs-names", "builtins.attrNames (builtins.mapAttrs (n: v: s) set)"),
    // control, types, lists
    ("typeOf", "builtins.typeOf s"),
    ("isString", "builtins.isString s"),
    ("seq", "builtins.seq s s"),
    ("deepSeq", "builtins.deepSeq [ s ] s"),
    ("trace", "builtins.trace s s"),
    ("tryEval", "builtins.tryEval s"),
    ("getEnv", "builtins.getEnv s"),
    ("elem", "builtins.elem s [ (builtins.unsafeDiscardStringContext s) ]"),
    ("head", "builtins.head [ s ]"),
    ("attrValues", "builtins.attrValues { a = s; }"),
    ("sort", "builtins.sort builtins.lessThan [ s \"a\" ]"),
    ("lessThan", r#"builtins.lessThan s "z""#),
    ("genericClosure", "builtins.genericClosure { startSet = [ { key = s; } ]; operator = x: [ ]; }"),
    ("throw", "(builtins.tryEval (throw s)).success"),
    ("addErrorContext", "builtins.addErrorContext s s"),
    // derivations: the context of every attribute goes into the .drv
    ("derivation-attr", r#"derivation { name = "c"; builder = "/bin/sh"; system = "x86_64-linux"; a = s; }"#),
    (
        "derivation-args",
        r#"derivation { name = "c"; builder = "/bin/sh"; system = "x86_64-linux"; args = [ "-c" s ]; }"#,
    ),
    ("derivation-builder", r#"derivation { name = "c"; builder = s; system = "x86_64-linux"; }"#),
    ("derivation-system", r#"derivation { name = "c"; builder = "/bin/sh"; system = s; }"#),
    ("derivation-name", r#"derivation { name = "c" + builtins.substring 0 0 s; builder = "/bin/sh"; system = "x"; }"#),
    (
        "derivation-outputs",
        r#"derivation { name = "c"; builder = "/bin/sh"; system = "x"; outputs = [ ("out" + builtins.substring 0 0 s) ]; }"#,
    ),
    (
        "derivation-hash-mode",
        r#"derivation { name = "c"; builder = "/bin/sh"; system = "x"; outputHash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; outputHashMode = "flat" + builtins.substring 0 0 s; }"#,
    ),
    (
        "derivation-hash",
        r#"derivation { name = "c"; builder = "/bin/sh"; system = "x"; outputHash = builtins.substring 0 0 s + "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; outputHashMode = "flat"; }"#,
    ),
    (
        "derivation-structured",
        r#"derivation { name = "c"; builder = "/bin/sh"; system = "x"; __structuredAttrs = true; a = [ s ]; }"#,
    ),
    (
        "derivation-passAsFile",
        r#"derivation { name = "c"; builder = "/bin/sh"; system = "x"; passAsFile = [ "a" ]; a = s; }"#,
    ),
    (
        "derivation-ignoreNulls",
        r#"derivation { name = "c"; builder = "/bin/sh"; system = "x"; __ignoreNulls = true; a = s; b = null; }"#,
    ),
    ("derivationStrict", r#"builtins.derivationStrict { name = "c"; builder = "/bin/sh"; system = "x"; a = s; }"#),
    ("derivation-name-attr", r#"(derivation { name = "c"; builder = "/bin/sh"; system = "x"; a = s; }).name"#),
    ("derivation-attr-back", r#"(derivation { name = "c"; builder = "/bin/sh"; system = "x"; a = s; }).a"#),
    ("toJSON-derivation", r#"builtins.toJSON (derivation { name = "c"; builder = "/bin/sh"; system = "x"; a = s; })"#),
];

/// Values that coerce to strings without being strings.
const COERCIBLE_INPUTS: &[(&str, &str)] = &[
    ("path", "./file.txt"),
    ("derivation", "drv"),
    ("derivation-dev", "drv.dev"),
    ("outPath-set", r#"{ outPath = "${drv}"; }"#),
    ("toString-set", "{ __toString = self: drv.drvPath; }"),
    ("list", "[ drv ./file.txt ]"),
];

/// Operations that coerce their argument: `(name, body)` with `v` the value.
const COERCE_OPS: &[(&str, &str)] = &[
    ("interp", r#""a${v}""#),
    ("plus", r#""a" + v"#),
    ("toString", "toString v"),
    ("toPath", "builtins.toPath v"),
    ("baseNameOf", "baseNameOf v"),
    ("dirOf", "dirOf v"),
    ("stringLength", "builtins.stringLength v"),
    ("substring", "builtins.substring 0 3 v"),
    ("substring-0-0", "builtins.substring 0 0 v"),
    ("concatStringsSep", r#"builtins.concatStringsSep "," [ v v ]"#),
    ("unsafeDiscardStringContext", "builtins.unsafeDiscardStringContext v"),
    ("unsafeDiscardOutputDependency", "builtins.unsafeDiscardOutputDependency v"),
    ("toJSON", "builtins.toJSON v"),
    ("toXML", "builtins.toXML v"),
    ("derivation-attr", r#"derivation { name = "c"; builder = "/bin/sh"; system = "x"; a = v; }"#),
    ("derivation-args", r#"derivation { name = "c"; builder = "/bin/sh"; system = "x"; args = [ v ]; }"#),
    ("toFile", r#"builtins.toFile "f" "${v}""#),
    ("hashString", r#"builtins.hashString "sha1" v"#),
    ("path-plus", "./. + v"),
];

/// The inputs of [`STORE_OPS`]: no derivation outputs (reading one means building it).
const STORE_INPUTS: &[(&str, &str)] = &[
    ("plain", r#""abc""#),
    ("storeish", r#"builtins.unsafeDiscardStringContext "${drv2}""#),
    ("src", r#""${./file.txt}""#),
    ("drvPath", "drv.drvPath"),
    ("src-and-drvPath", r#""${./file.txt}${drv2.drvPath}""#),
];

/// Operations that read the store.
const STORE_OPS: &[(&str, &str)] = &[
    ("readFile", "builtins.readFile s"),
    ("storePath", "builtins.storePath s"),
    ("pathExists", "builtins.pathExists s"),
    ("hashFile", r#"builtins.hashFile "sha256" s"#),
    ("path", "builtins.path { path = s; }"),
    ("path-name", r#"builtins.path { path = ./file.txt; name = "f" + builtins.substring 0 0 s; }"#),
    ("filterSource", "builtins.filterSource (p: t: true) s"),
    ("toFile-interp", r#"builtins.toFile "f" "${s}""#),
    ("readFile-toFile", r#"builtins.readFile (builtins.toFile "f" s)"#),
    ("import-toFile", r#"import (builtins.toFile "f.nix" (builtins.toJSON s))"#),
    ("import-interp", r#"import "${builtins.toFile "f.nix" "x: x"}" s"#),
    ("scopedImport", r#"scopedImport { x = s; } (builtins.toFile "f.nix" "x")"#),
];

/// Cases where ours differs from the reference for a reason other than the context,
/// with that reason. A listed case that agrees fails the test: remove it from the list.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "storePath / storeish",
        "in read-write mode the reference requires the path in the store or substitutes it (ensurePath); we \
         cannot substitute and our default store is not /nix/store, so we do not check",
    ),
    ("appendContext-path / storeish", "as storePath / storeish: appendContext's ensurePath of every key"),
    ("appendContext-path / out", "as appendContext-path / storeish"),
    ("appendContext-path / dev", "as appendContext-path / storeish"),
    ("appendContext-nothing / storeish", "as appendContext-path / storeish"),
    ("appendContext-nothing / out", "as appendContext-path / storeish"),
    ("appendContext-nothing / dev", "as appendContext-path / storeish"),
    (
        "storePath / src-and-drvPath",
        "the reference resolves symlinks of a path below a store path in the real /nix/store, not in --store DIR",
    ),
    (
        "path / drvPath",
        "the reference's store checks the outputs of a file named *.drv added by builtins.path as a derivation's",
    ),
    ("filterSource / drvPath", "as path / drvPath"),
];

/// Error messages whose presence in the reference's error must be matched by ours
/// (the errors about contexts; other wording may follow Nix 2.36).
const CONTEXT_ERRORS: &[&str] = &[
    "is not allowed to refer to a store path",
    "cannot refer to derivation outputs",
    "cannot be appended to a path",
    "not in the Nix store",
];

/// Cases per process: an error ends a process and the rest of its chunk is re-run.
const CHUNK: usize = 60;

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// The line printed for the case.
    Value(String),
    /// The case failed: stderr.
    Error(String),
}

struct Case {
    name: String,
    expr: String,
}

fn cases(inputs: &[(&str, &str)], ops: &[(&str, &str)], var: &str) -> Vec<Case> {
    let mut out = Vec::new();
    for (op, body) in ops {
        for (input, value) in inputs {
            out.push(Case {
                name: format!("{op} / {input}"),
                expr: format!("with import ./prelude.nix; show (({var}: {body}) ({value}))"),
            });
        }
    }
    out
}

/// Runs every case with `prog` (`rnix-eval instantiate` or `nix-instantiate`),
/// several to a process; an error ends the process, so the run resumes after it.
fn run_cases(prog: &Path, extra: &[&str], cases: &[Case], cwd: &Path, home: &Path) -> Vec<Outcome> {
    let is_ours = prog.file_name().is_some_and(|n| n == paths::BIN_NAME);
    let mut results = Vec::with_capacity(cases.len());
    let mut start = 0;
    while start < cases.len() {
        let end = (start + CHUNK).min(cases.len());
        let mut args: Vec<&str> = Vec::new();
        if is_ours {
            args.push("instantiate");
        }
        // One value per line (`--json` prints them without a separator).
        args.extend(["--eval", "--strict"]);
        args.extend(extra.iter().copied());
        args.push("-E");
        args.extend(cases[start..end].iter().map(|c| c.expr.as_str()));
        let spec =
            RunSpec::new(prog, cwd).args(args.iter().copied()).env("HOME", &home.to_string_lossy()).timeout(TIMEOUT);
        let out = run(&spec);
        if let Some(crash) = out.crash() {
            panic!("{} crashed ({crash}) in cases {start}..{end}:\n{}", prog.display(), out.stderr_str());
        }
        let stdout = out.stdout_str();
        let lines: Vec<&str> = stdout.lines().collect();
        assert!(lines.len() <= end - start, "{} printed more lines than cases:\n{stdout}", prog.display());
        results.extend(lines.iter().map(|l| Outcome::Value(l.to_string())));
        if out.code() == Some(0) {
            assert_eq!(lines.len(), end - start, "{} printed too few lines:\n{stdout}", prog.display());
            start = end;
        } else {
            assert_eq!(out.code(), Some(1), "{}: {}\n{}", prog.display(), out.describe_exit(), out.stderr_str());
            results.push(Outcome::Error(out.stderr_str()));
            start += lines.len() + 1;
        }
    }
    results
}

/// The first line of an error, for the report.
fn first_error_line(stderr: &str) -> &str {
    stderr.lines().find(|l| l.starts_with("error:")).unwrap_or_else(|| stderr.lines().next().unwrap_or(""))
}

/// Where ours differs from the reference's, one line each.
fn differences(cases: &[Case], ours: &[Outcome], theirs: &[Outcome]) -> Vec<String> {
    let mut diffs = Vec::new();
    for ((case, o), t) in cases.iter().zip(ours).zip(theirs) {
        let diff = match (o, t) {
            (Outcome::Value(a), Outcome::Value(b)) if a == b => None,
            (Outcome::Value(a), Outcome::Value(b)) => Some(format!("ours {a}\n      reference {b}")),
            (Outcome::Error(e), Outcome::Value(b)) => {
                Some(format!("ours fails: {}\n      reference {b}", first_error_line(e)))
            }
            (Outcome::Value(a), Outcome::Error(e)) => {
                Some(format!("ours {a}\n      reference fails: {}", first_error_line(e)))
            }
            (Outcome::Error(e), Outcome::Error(r)) => CONTEXT_ERRORS
                .iter()
                .find(|m| r.contains(*m) && !e.contains(*m))
                .map(|m| format!("reference fails with '{m}', ours: {}", first_error_line(e))),
        };
        if let Some(d) = diff {
            diffs.push(format!("{}: {}\n      ({})", case.name, d, case.expr));
        }
    }
    diffs
}

/// `--read-write-mode` into a fresh store at `store`; never substitute or build.
fn store_args(store: &Path) -> Vec<String> {
    let mut args: Vec<String> = vec!["--read-write-mode".into(), "--store".into(), store.display().to_string()];
    for (k, v) in [("substituters", ""), ("allow-import-from-derivation", "false")] {
        args.extend(["--option".into(), k.into(), v.into()]);
    }
    args
}

fn check_table(tag: &str, cases: Vec<Case>) {
    let dir = TempDir::new(tag);
    let home = TempDir::new(&format!("{tag}-home"));
    std::fs::write(dir.path().join("prelude.nix"), PRELUDE).unwrap();
    std::fs::write(dir.path().join("file.txt"), FILE_TEXT).unwrap();
    let ours_bin = paths::rnix_eval_for_tests();
    let ours_store = TempDir::new(&format!("{tag}-ours-store"));
    let ours_extra = store_args(ours_store.path());
    let ours_extra: Vec<&str> = ours_extra.iter().map(String::as_str).collect();
    let ours = run_cases(&ours_bin, &ours_extra, &cases, dir.path(), home.path());
    let Some(reference) = reference_or_note("the string-context table") else { return };
    let ref_store = TempDir::new(&format!("{tag}-ref-store"));
    let ref_extra = store_args(ref_store.path());
    let ref_extra: Vec<&str> = ref_extra.iter().map(String::as_str).collect();
    let theirs = run_cases(&reference, &ref_extra, &cases, dir.path(), home.path());
    let errors = theirs.iter().filter(|o| matches!(o, Outcome::Error(_))).count();
    println!("{tag}: {} cases, {errors} of them errors in the reference", cases.len());
    let diffs = differences(&cases, &ours, &theirs);
    let known = |d: &String| KNOWN_DIFFERENCES.iter().any(|(name, _)| d.starts_with(&format!("{name}: ")));
    let agreeing_known: Vec<&str> = KNOWN_DIFFERENCES
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| cases.iter().any(|c| c.name == *name))
        .filter(|name| !diffs.iter().any(|d| d.starts_with(&format!("{name}: "))))
        .collect();
    assert!(agreeing_known.is_empty(), "now as the reference, remove from KNOWN_DIFFERENCES: {agreeing_known:?}");
    let diffs: Vec<String> = diffs.into_iter().filter(|d| !known(d)).collect();
    assert!(
        diffs.is_empty(),
        "{} of {} cases differ from the reference:\n{}",
        diffs.len(),
        cases.len(),
        diffs.iter().take(80).cloned().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn string_context_as_the_reference() {
    let mut all = cases(STRING_INPUTS, OPS, "s");
    all.extend(cases(COERCIBLE_INPUTS, COERCE_OPS, "v"));
    check_table("context-table", all);
}

#[test]
fn string_context_of_store_reads_as_the_reference() {
    check_table("context-table-store", cases(STORE_INPUTS, STORE_OPS, "s"));
}

/// What the table relies on: as the reference does, `-E A B C` evaluates and prints
/// each expression before reading the next, so an error (or a syntax error) leaves the
/// output of the expressions before it.
#[test]
fn expressions_print_in_turn_until_an_error() {
    let ours = paths::rnix_eval_for_tests();
    let dir = TempDir::new("context-table-cli");
    for bad in [r#"throw "stop here""#, "(stop here"] {
        let args = ["instantiate", "--eval", "--strict", "-E", "1", "{ a = 2; }", bad, "3"];
        let out = run(&RunSpec::new(&ours, dir.path()).args(args).timeout(TIMEOUT));
        assert_eq!(out.code(), Some(1), "{bad}: {}", out.stderr_str());
        assert_eq!(out.stdout_str(), "1\n{ a = 2; }\n", "{bad}: {}", out.stderr_str());
        assert!(out.stderr_str().contains("stop here") || out.stderr_str().contains("syntax error"), "{bad}");
    }
}
