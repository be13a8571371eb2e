//! Equality, identity and builtin strictness, as a table checked against the reference.
//!
//! Code written for CppNix relies on details of its evaluator that no manual states: `==`
//! forces both sides and then treats the very same value object as equal (so
//! `let f = x: x; g = f; in [ f ] == [ g ]` is true, and `let x = throw "EA"; in [ x ] == [ x ]`
//! throws); which builtins force which arguments, and how far, when a result is only partly
//! used (`builtins.length (map (x: throw "EA") [ 1 2 ])` is 2); how `throw` and `assert` inside
//! them reach `tryEval`. Each row is an expression and its outcome under
//! `instantiate --eval --strict -E`: `ok STDOUT`, or `err` followed by the thrown messages
//! (`EA`, `EB`, `EC`) on the final `error:` line.
//!
//! The outcomes were recorded from the reference `nix-instantiate` (CppNix 2.8); when it is
//! installed, the test runs every row through it again, so a wrong recording fails. Rows made
//! with `newer(...)` are where Nix 2.36 (the language corpus, which wins) differs from 2.8:
//! the expected outcome is 2.36's (from its source: `map`/`filter` do not force the function
//! for an empty list, `genList` always forces it, `replaceStrings` forces a replacement only
//! when its pattern matches), and the reference must still give the recorded 2.8 outcome.

use std::path::Path;
use std::time::Duration;

use rnix_tests::conformance::parallel_map;
use rnix_tests::paths;
use rnix_tests::process::{run, RunOutput, RunSpec};

struct Row {
    expr: &'static str,
    /// The outcome rnix-eval must give.
    expect: &'static str,
    /// The outcome of CppNix 2.8 where it differs (Nix 2.36 semantics win).
    reference_2_8: Option<&'static str>,
}

const fn case(expr: &'static str, expect: &'static str) -> Row {
    Row { expr, expect, reference_2_8: None }
}

const fn newer(expr: &'static str, expect: &'static str, reference_2_8: &'static str) -> Row {
    Row { expr, expect, reference_2_8: Some(reference_2_8) }
}

/// `==`: which values are the same value object (shared thunks, variables bound to variables,
/// `inherit`, selections, `//`, builtins returning their arguments, imports), derivations
/// compared by `outPath`, functions, evaluation order and errors.
const EQUALITY: &[Row] = &[
    case("let f = x: x; g = f; in [ f ] == [ g ]", "ok true"),
    case("let g = f; f = x: x; in [ f ] == [ g ]", "ok false"),
    case("let b = a; a = x: x; in [ a ] == [ b ]", "ok false"),
    case("let a = x: x; b = a; c = b; in [ a ] == [ c ]", "ok true"),
    case("let x = throw \"EA\"; in [ x ] == [ x ]", "err EA"),
    case("let x = throw \"EA\"; in { a = x; } == { a = x; }", "err EA"),
    case("let l = [ (throw \"EA\") ]; in l == l", "err EA"),
    case("let s = { a = throw \"EA\"; }; in s == s", "err EA"),
    case("let f = x: x; in f == f", "ok false"),
    case("let f = x: x; in [ f ] == [ f ]", "ok true"),
    case("let s = { a = x: x; }; in [ s.a ] == [ s.a ]", "ok false"),
    case("let s = { a = x: x; }; in s == s", "ok true"),
    case("let s = { a = x: x; }; in s // {} == s // {}", "ok true"),
    case("let f = x: x; h = y: f; in [ (h 1) ] == [ (h 2) ]", "ok false"),
    case("let f = x: x; in { inherit f; } == { inherit f; }", "ok true"),
    case("let s = { f = x: x; }; in { inherit (s) f; } == { inherit (s) f; }", "ok false"),
    case("let l = [ (x: x) ]; in l == l", "ok true"),
    case("(f: [ f ] == [ f ]) (x: x)", "ok true"),
    case("let f = x: x; in builtins.attrValues { a = f; } == [ f ]", "ok true"),
    case("let f = x: x; in map (x: x) [ f ] == [ f ]", "ok false"),
    case("let f = x: x; in builtins.head [ f ] == f", "ok false"),
    case("let f = x: x; in [ (builtins.head [ f ]) ] == [ f ]", "ok false"),
    case("let f = x: x; in rec { a = f; b = a; } == { a = f; b = f; }", "ok true"),
    case("let f = x: x; in rec { b = a; a = f; } == { a = f; b = f; }", "ok false"),
    case("{ a = throw \"EA\"; b = 1; } == { a = throw \"EB\"; c = 1; }", "err EA"),
    case("{ a = 1; b = throw \"EB\"; } == { a = 2; b = throw \"EC\"; }", "ok false"),
    case("[ 1 (throw \"EA\") ] == [ 2 (throw \"EB\") ]", "ok false"),
    case("[ (throw \"EA\") 1 ] == [ (throw \"EB\") 2 ]", "err EA"),
    case("[ 1 ] == [ 1 2 ]", "ok false"),
    case("{ a = throw \"EA\"; } == { a = throw \"EA\"; b = 1; }", "ok false"),
    case(
        "{ type = \"derivation\"; outPath = \"x\"; a = 1; } == { type = \"derivation\"; outPath = \"x\"; a = 2; }",
        "ok true",
    ),
    case("{ type = \"derivation\"; outPath = \"x\"; } == { type = \"derivation\"; outPath = \"y\"; }", "ok false"),
    case("{ type = \"derivation\"; a = 1; } == { type = \"derivation\"; a = 1; }", "ok true"),
    case("{ type = throw \"EA\"; } == { type = \"derivation\"; }", "err EA"),
    case("{ type = \"derivation\"; outPath = \"x\"; } == { type = throw \"EB\"; outPath = \"x\"; }", "err EB"),
    case("let d = derivation { name = \"a\"; builder = \"b\"; system = \"c\"; }; in d == d", "ok true"),
    case("let d = derivation { name = \"a\"; builder = \"b\"; system = \"c\"; }; in d == d // { x = 1; }", "ok true"),
    case("let d = derivation { name = \"a\"; builder = \"b\"; system = \"c\"; }; in [ d ] == [ d.out ]", "ok true"),
    case("1 == 1.0", "ok true"),
    case("(0.1 + 0.2) == 0.3", "ok false"),
    case("\"a\" == \"a\"", "ok true"),
    case("./. == ./.", "ok true"),
    case("null == null", "ok true"),
    case("[] == []", "ok true"),
    case("{} == {}", "ok true"),
    case("builtins.map == builtins.map", "ok false"),
    case("[ builtins.map ] == [ builtins.map ]", "ok false"),
    case("let m = builtins.map; in [ m ] == [ m ]", "ok true"),
    case("[ builtins.add ] == [ builtins.add ]", "ok false"),
    case("let a = builtins.add 1; in [ a ] == [ a ]", "ok true"),
    case("[ (builtins.add 1) ] == [ (builtins.add 1) ]", "ok false"),
    case("let f = x: x; in builtins.elem f [ f ]", "ok true"),
    case("let f = x: x; in builtins.elem f [ (x: x) ]", "ok false"),
    case("let x = throw \"EA\"; in builtins.elem x [ x ]", "err EA"),
    case("let f = x: x; l = [ f ]; in builtins.elem (builtins.head l) l", "ok false"),
    case("let f = x: x; in builtins.filter (y: y == f) [ f ]", "ok [ ]"),
    case("let f = x: x; in [ f ] == builtins.concatLists [ [ f ] ]", "ok true"),
    case("let f = x: x; in [ f ] == [ f ] ++ []", "ok true"),
    case("let f = x: x; in [ f ] == builtins.tail [ 1 f ]", "ok true"),
    case("let f = x: x; in { a = f; } == builtins.removeAttrs { a = f; b = 1; } [ \"b\" ]", "ok true"),
    case("let f = x: x; in { a = f; } == builtins.intersectAttrs { a = 1; } { a = f; }", "ok true"),
    case("let f = x: x; in [ f ] == builtins.catAttrs \"a\" [ { a = f; } ]", "ok true"),
    case("let f = x: x; s = { a = f; }; in [ f ] == builtins.catAttrs \"a\" [ s ]", "ok true"),
    case("let f = x: x; in { a = f; } == builtins.listToAttrs [ { name = \"a\"; value = f; } ]", "ok true"),
    case("let f = x: x; in { a = f; } == builtins.mapAttrs (n: v: v) { a = f; }", "ok false"),
    case("let f = x: x; in [ f ] == builtins.sort (a: b: false) [ f ]", "ok true"),
    case("let f = x: x; in [ f ] == builtins.genList (i: f) 1", "ok false"),
    case("let f = x: x; in [ [ f ] ] == [ [ f ] ]", "ok true"),
    case("let f = x: x; in { a.b = f; } == { a.b = f; }", "ok true"),
    case("let f = x: x; in { a = { b = f; }; } == { a.b = f; }", "ok true"),
    case("let f = x: x; in (builtins.partition (x: true) [ f ]).right == [ f ]", "ok true"),
    case("let f = x: x; in (builtins.groupBy (x: \"a\") [ f ]).a == [ f ]", "ok true"),
    case("let f = x: x; in builtins.zipAttrsWith (n: v: v) [ { a = f; } ] == { a = [ f ]; }", "ok true"),
    case(
        "let f = x: x; in builtins.attrValues (builtins.zipAttrsWith (n: v: builtins.head v) [ { a = f; } ]) == [ f ]",
        "ok false",
    ),
    case("let f = x: x; in (builtins.tryEval f).value == f", "ok false"),
    case("let f = x: x; in [ (builtins.tryEval f).value ] == [ f ]", "ok false"),
    case("let f = x: x; in [ (builtins.seq 1 f) ] == [ f ]", "ok false"),
    case("let f = x: x; in [ (if true then f else f) ] == [ f ]", "ok false"),
    case("let f = x: x; in [ (let g = f; in g) ] == [ f ]", "ok false"),
    case("let f = x: x; in (let g = f; in [ g ]) == [ f ]", "ok true"),
    case("let f = x: x; in (y: [ y ]) f == [ f ]", "ok true"),
    case("let f = x: x; in ({ y }: [ y ]) { y = f; } == [ f ]", "ok true"),
    case("let f = x: x; in ({ y ? f }: [ y ]) { } == [ f ]", "ok true"),
    case("let f = x: x; in ({ y ? f, ... }@a: [ a.y ]) { y = f; } == [ f ]", "ok false"),
    case("let f = x: x; s = { a = f; }; in with s; [ a ] == [ f ]", "ok false"),
    case("let f = x: x; in [ (builtins.getAttr \"a\" { a = f; }) ] == [ f ]", "ok false"),
    case("let f = x: x; s = { a = f; }; in builtins.attrValues s == builtins.attrValues s", "ok true"),
    case("let s = { a = x: x; }; in builtins.attrValues s == builtins.attrValues s", "ok true"),
    case("let s = { a = x: x; }; in builtins.attrValues s == [ s.a ]", "ok false"),
    case("let f = import ./id-fn.nix; in [ f ] == [ (import ./id-fn.nix) ]", "ok false"),
    case("[ (import ./id-fn.nix) ] == [ (import ./id-fn.nix) ]", "ok false"),
    case("import ./id-set.nix == import ./id-set.nix", "ok true"),
    case("let s = rec { a = x: x; b = a; }; in [ s.a ] == [ s.b ]", "ok false"),
    case("let s = rec { a = x: x; b = a; }; in { inherit (s) a; } == { a = s.b; }", "ok false"),
    case("let s = rec { b = a; a = x: x; }; in { x = s.a; } == { x = s.b; }", "ok false"),
    case("let x = { a = x; }; in x == x", "ok true"),
    case("let x = { a = x; }; in [ x ] == [ x ]", "ok true"),
    case("let x = [ x ]; in x == x", "ok true"),
    case("let f = x: x; in builtins.deepSeq [ f ] ([ f ] == [ f ])", "ok true"),
    case("let f = x: x; in builtins.all (x: x == f) [ f ]", "ok false"),
    case("let f = x: x; in builtins.any (y: [ y ] == [ f ]) [ f ]", "ok true"),
    case("let f = x: x; in builtins.foldl' (a: b: a && [ b ] == [ f ]) true [ f ]", "ok true"),
    case("let f = x: x; in let inherit f; in [ f ] == [ f ]", "ok true"),
    case("let s = { f = x: x; }; in let inherit (s) f; in [ f ] == [ f ]", "ok true"),
    case("let s = { f = x: x; }; in let inherit (s) f; g = f; in [ f ] == [ g ]", "ok true"),
    case("let f = x: x; in ({ a ? f, b ? a }: [ a ] == [ b ]) { }", "ok true"),
    case("let f = x: x; in ({ a, b ? a }: [ a ] == [ b ]) { a = f; }", "ok true"),
    case("let f = x: x; s = { inherit f; }; in [ s.f ] == [ f ]", "ok false"),
    case("let f = x: x; s = { inherit f; }; in s == { inherit f; }", "ok true"),
    case("let f = x: x; s = { a = f; }; in with s; [ a ] == [ a ]", "ok false"),
    case("let f = x: x; in builtins.getAttr \"a\" { a = f; } == f", "ok false"),
    case("let s = { a = { b = x: x; }; }; in s.a == s.a", "ok true"),
    case("let s = { a = [ (x: x) ]; }; in s.a == s.a", "ok true"),
    case("let s = { a = { b = x: x; }; }; in [ s.a ] == [ s.a ]", "ok true"),
    case("let d = derivation { name = \"a\"; builder = \"b\"; system = \"c\"; }; in d == d // { x = x: x; }", "ok true"),
    case("let d = derivation { name = \"a\"; builder = \"b\"; system = \"c\"; }; in { inherit d; } == { d = d // { x = x: x; }; }", "ok true"),
    case("let d = derivation { name = \"a\"; builder = \"b\"; system = \"c\"; }; in [ d.drvPath ] == [ d.drvPath ]", "ok true"),
    case("let f = x: x; l = [ f f ]; in builtins.elemAt l 0 == builtins.elemAt l 1", "ok false"),
    case("let f = x: x; l = [ f f ]; in [ (builtins.elemAt l 0) ] == [ (builtins.elemAt l 1) ]", "ok false"),
    case("let f = x: x; in builtins.elem f (map (x: x) [ f ])", "ok false"),
    case("let f = x: x; in builtins.elem f (builtins.filter (x: true) [ f ])", "ok true"),
    case("let f = x: x; in (builtins.listToAttrs [ { name = \"a\"; value = f; } ]).a == f", "ok false"),
    case("let f = x: x; in [ (builtins.listToAttrs [ { name = \"a\"; value = f; } ]).a ] == [ f ]", "ok false"),
    case("let f = x: x; in { a = f; } == (builtins.listToAttrs [ { name = \"a\"; value = f; } ])", "ok true"),
    case("let f = x: x; in builtins.attrValues { a = f; b = f; } == [ f f ]", "ok true"),
    case("let f = x: x; in builtins.tail [ 1 f ] == [ f ]", "ok true"),
    case("let f = x: x; in [ f ] ++ [ f ] == [ f f ]", "ok true"),
    case("let f = x: x; in builtins.concatMap (x: [ x ]) [ f ] == [ f ]", "ok true"),
    case("let f = x: x; in builtins.concatMap (x: [ f ]) [ 1 ] == [ f ]", "ok true"),
    case("let f = x: x; in (builtins.partition (x: true) [ f ]).right == [ f ]", "ok true"),
    case("let f = x: x; in builtins.genList (x: f) 1 == [ f ]", "ok false"),
    case("let a = { x = 1; }; b = a; in [ a ] == [ b ]", "ok true"),
    case("let b = a; a = { x = throw \"EA\"; }; in [ a ] == [ b ]", "err EA"),
    case("let a = { x = throw \"EA\"; }; b = a; in [ a ] == [ b ]", "ok true"),
    case("let zz = throw \"EA\"; aa = zz; in [ aa ] == [ zz ]", "err EA"),
    case("rec { f = x: x; g = f; }.f == rec { f = x: x; g = f; }.g", "ok false"),
    case("let s = rec { f = x: x; g = f; }; in [ s.f ] == [ s.g ]", "ok false"),
    case("let s = rec { f = x: x; g = f; }; in { inherit (s) f; } == { f = s.g; }", "ok false"),
    case("let s = rec { g = f; f = x: x; }; in s == { inherit (s) f g; }", "ok false"),
];

/// What builtins force, and how errors raised inside them propagate (also to `tryEval`).
const STRICTNESS: &[Row] = &[
    case("builtins.length (map (x: throw \"EA\") [ 1 2 ])", "ok 2"),
    case("builtins.head (builtins.genList (x: if x == 1 then throw \"EA\" else x) 3)", "ok 0"),
    case("builtins.length (builtins.genList (x: throw \"EA\") 3)", "ok 3"),
    case("builtins.elemAt (map (x: if x == 2 then throw \"EA\" else x) [ 1 2 3 ]) 2", "ok 3"),
    case("builtins.tryEval (builtins.elemAt [ 1 ] 5)", "err"),
    case("builtins.tryEval (builtins.head [ ])", "err"),
    case("builtins.tryEval (map (x: throw \"EA\") [ 1 ])", "err EA"),
    case("builtins.tryEval (builtins.deepSeq (map (x: throw \"EA\") [ 1 ]) 1)", "ok { success = false; value = false; }"),
    case("builtins.tryEval (builtins.seq (map (x: throw \"EA\") [ 1 ]) 1)", "ok { success = true; value = 1; }"),
    case("builtins.tryEval (builtins.seq (throw \"EA\") 1)", "ok { success = false; value = false; }"),
    case("builtins.tryEval (builtins.deepSeq { a = throw \"EA\"; } 1)", "ok { success = false; value = false; }"),
    case("builtins.tryEval (builtins.deepSeq { a = { b = assert false; 1; }; } 1)", "ok { success = false; value = false; }"),
    case("builtins.tryEval (builtins.length (builtins.filter (x: x) [ true (throw \"EA\") ]))", "ok { success = false; value = false; }"),
    case("builtins.length (builtins.filter (x: true) [ (throw \"EA\") 1 ])", "ok 2"),
    case("builtins.length (builtins.concatMap (x: [ x x ]) [ (throw \"EA\") ])", "ok 2"),
    case("builtins.length (builtins.concatMap (x: throw \"EA\") [ ])", "ok 0"),
    case("builtins.tryEval (builtins.concatMap (x: throw \"EA\") [ 1 ])", "ok { success = false; value = false; }"),
    case("builtins.length (builtins.concatLists [ [ (throw \"EA\") ] [ 1 ] ])", "ok 2"),
    case("builtins.tryEval (builtins.concatLists [ (throw \"EA\") ])", "ok { success = false; value = false; }"),
    case("builtins.foldl' (a: b: b) 0 [ (throw \"EA\") 1 ]", "err EA"),
    case("builtins.foldl' (a: b: a) 0 [ (throw \"EA\") 1 ]", "ok 0"),
    case("builtins.foldl' (a: b: b) (throw \"EA\") [ ]", "err EA"),
    case("builtins.foldl' (a: b: b) (throw \"EA\") [ 1 ]", "ok 1"),
    case("builtins.foldl' (a: b: { x = b; }) 0 [ 1 (throw \"EA\") ]", "err EA"),
    case("builtins.tryEval (builtins.foldl' (a: b: throw \"EA\") 0 [ 1 ])", "ok { success = false; value = false; }"),
    case("builtins.any (x: x) [ true (throw \"EA\") ]", "ok true"),
    case("builtins.any (x: x) [ false (throw \"EA\") ]", "err EA"),
    case("builtins.all (x: x) [ false (throw \"EA\") ]", "ok false"),
    case("builtins.all (x: x) [ true (throw \"EA\") ]", "err EA"),
    case("builtins.tryEval (builtins.any (x: throw \"EA\") [ 1 ])", "ok { success = false; value = false; }"),
    case("builtins.any (x: x) [ 1 ]", "err"),
    case("builtins.all (x: 1) [ 1 ]", "err"),
    case("builtins.length (builtins.sort (a: b: a < b) [ 2 1 ])", "ok 2"),
    case("builtins.sort (a: b: a < b) [ (throw \"EA\") ]", "err EA"),
    case("builtins.sort (a: b: throw \"EA\") [ 1 ]", "ok [ 1 ]"),
    case("builtins.sort (a: b: throw \"EA\") [ 1 2 ]", "err EA"),
    case("builtins.tryEval (builtins.sort (a: b: throw \"EA\") [ 1 2 ])", "ok { success = false; value = false; }"),
    case("builtins.sort (a: b: 1) [ 1 2 ]", "err"),
    case("builtins.length (builtins.partition (x: true) [ (throw \"EA\") ]).right", "err EA"),
    case("builtins.partition (x: x) [ true (throw \"EA\") ]", "err EA"),
    case("(builtins.partition (x: x) [ true (throw \"EA\") ]).right", "err EA"),
    case("builtins.attrNames (builtins.groupBy (x: x) [ \"a\" (throw \"EA\") ])", "err EA"),
    case("builtins.attrNames (builtins.groupBy (x: \"k\") [ (throw \"EA\") ])", "ok [ \"k\" ]"),
    case("builtins.length (builtins.groupBy (x: \"k\") [ (throw \"EA\") ]).k", "ok 1"),
    case("builtins.attrNames (builtins.listToAttrs [ { name = \"a\"; value = throw \"EA\"; } ])", "ok [ \"a\" ]"),
    case("builtins.attrNames (builtins.listToAttrs [ (throw \"EA\") ])", "err EA"),
    case("builtins.attrNames (builtins.listToAttrs [ { name = throw \"EA\"; value = 1; } ])", "err EA"),
    case("builtins.listToAttrs [ { name = \"a\"; value = 1; } { name = \"a\"; value = throw \"EA\"; } ]", "ok { a = 1; }"),
    case("builtins.listToAttrs [ { name = \"a\"; } ]", "err"),
    case("builtins.listToAttrs [ { name = \"a\"; value = 1; } { name = \"a\"; } ]", "ok { a = 1; }"),
    case("builtins.attrNames (builtins.mapAttrs (n: v: throw \"EA\") { a = 1; })", "ok [ \"a\" ]"),
    case("builtins.tryEval (builtins.mapAttrs (n: v: throw \"EA\") { a = 1; })", "err EA"),
    case("builtins.mapAttrs (n: v: throw \"EA\") { }", "ok { }"),
    case("builtins.attrNames (builtins.zipAttrsWith (n: v: throw \"EA\") [ { a = 1; } ])", "ok [ \"a\" ]"),
    case("builtins.zipAttrsWith (n: v: v) [ { a = 1; } (throw \"EA\") ]", "err EA"),
    case("builtins.zipAttrsWith (n: v: builtins.length v) [ { a = throw \"EA\"; } ]", "ok { a = 1; }"),
    case("builtins.length (builtins.attrValues { a = throw \"EA\"; })", "ok 1"),
    case("builtins.length (builtins.catAttrs \"a\" [ { a = throw \"EA\"; } ])", "ok 1"),
    case("builtins.catAttrs \"a\" [ { b = 1; } (throw \"EA\") ]", "err EA"),
    case("builtins.catAttrs \"a\" [ 1 ]", "err"),
    case("builtins.length [ (throw \"EA\") ]", "ok 1"),
    case("builtins.length (builtins.genList (x: x) (throw \"EA\"))", "err EA"),
    case("builtins.genList (x: x) (-1)", "err"),
    newer("builtins.genList (throw \"EA\") 0", "err EA", "ok [ ]"),
    newer("builtins.length (builtins.genList (throw \"EA\") 2)", "err EA", "ok 2"),
    newer("builtins.length (map (throw \"EA\") [ 1 ])", "err EA", "ok 1"),
    case("builtins.map (throw \"EA\") [ ]", "ok [ ]"),
    newer("builtins.filter (throw \"EA\") [ ]", "ok [ ]", "err EA"),
    newer("builtins.length (builtins.filter (throw \"EA\") [ ])", "ok 0", "err EA"),
    case("builtins.tryEval (builtins.filter (throw \"EA\") [ 1 ])", "ok { success = false; value = false; }"),
    case("builtins.foldl' (throw \"EA\") 0 [ ]", "err EA"),
    case("builtins.elemAt [ (throw \"EA\") 1 ] 1", "ok 1"),
    case("builtins.elemAt (throw \"EA\") 1", "err EA"),
    case("builtins.head [ 1 (throw \"EA\") ]", "ok 1"),
    case("builtins.tail [ (throw \"EA\") 1 ]", "ok [ 1 ]"),
    case("builtins.functionArgs (throw \"EA\")", "err EA"),
    case("builtins.functionArgs ({ a, b ? throw \"EA\" }: 1)", "ok { a = false; b = true; }"),
    case("builtins.functionArgs builtins.map", "ok { }"),
    case("builtins.functionArgs (x: x)", "ok { }"),
    case("builtins.seq (throw \"EA\") 1", "err EA"),
    case("builtins.seq 1 (throw \"EB\")", "err EB"),
    case("builtins.seq { a = throw \"EA\"; } 1", "ok 1"),
    case("builtins.seq [ (throw \"EA\") ] 1", "ok 1"),
    case("builtins.deepSeq [ (throw \"EA\") ] 1", "err EA"),
    case("builtins.deepSeq { a = [ { b = throw \"EA\"; } ]; } 1", "err EA"),
    case("builtins.deepSeq 1 (throw \"EB\")", "err EB"),
    case("builtins.deepSeq { a = throw \"EA\"; b = throw \"EB\"; } 1", "err EA"),
    case("builtins.deepSeq [ (throw \"EA\") (throw \"EB\") ] 1", "err EA"),
    case("builtins.deepSeq (x: throw \"EA\") 1", "ok 1"),
    newer("builtins.replaceStrings [ \"a\" ] [ (throw \"EA\") ] \"b\"", "ok \"b\"", "err EA"),
    case("builtins.replaceStrings [ \"a\" ] [ (throw \"EA\") ] \"a\"", "err EA"),
    newer("builtins.replaceStrings [ \"a\" \"b\" ] [ \"x\" (throw \"EA\") ] \"a\"", "ok \"x\"", "err EA"),
    case("builtins.replaceStrings [ (throw \"EA\") ] [ \"x\" ] \"\"", "err EA"),
    case("builtins.replaceStrings [ \"a\" ] [ \"x\" \"y\" ] \"a\"", "err"),
    case("builtins.replaceStrings [ \"\" ] [ \"x\" ] \"ab\"", "ok \"xaxbx\""),
    case("builtins.replaceStrings [ \"a\" \"\" ] [ \"x\" (throw \"EA\") ] \"b\"", "err EA"),
    case("builtins.tryEval (builtins.replaceStrings [ \"a\" ] [ (throw \"EA\") ] \"a\")", "ok { success = false; value = false; }"),
    case("builtins.genericClosure { startSet = [ { key = 1; } ]; operator = x: [ ]; }", "ok [ { key = 1; } ]"),
    case("builtins.genericClosure { startSet = [ { key = 1; a = throw \"EA\"; } ]; operator = x: [ ]; }", "err EA"),
    case("builtins.length (builtins.genericClosure { startSet = [ { key = 1; a = throw \"EA\"; } ]; operator = x: [ ]; })", "ok 1"),
    case("builtins.length (builtins.genericClosure { startSet = [ { key = 1; } ]; operator = x: [ { key = 2; } (throw \"EA\") ]; })", "err EA"),
    case("builtins.length (builtins.genericClosure { startSet = [ { key = 1; } (throw \"EA\") ]; operator = x: [ ]; })", "err EA"),
    case("builtins.genericClosure { startSet = [ { key = 1; } ]; operator = x: throw \"EA\"; }", "err EA"),
    case("builtins.genericClosure { startSet = [ { key = 1; } { key = \"a\"; } ]; operator = x: [ ]; }", "err"),
    case("builtins.genericClosure { startSet = [ { key = x: x; } ]; operator = x: [ ]; }", "ok [ { key = <LAMBDA>; } ]"),
    case("builtins.genericClosure { startSet = [ { nokey = 1; } ]; operator = x: [ ]; }", "err"),
    case("builtins.length (builtins.genericClosure { startSet = [ { key = [ 1 ]; } { key = [ 1 ]; } ]; operator = x: [ ]; })", "ok 1"),
    case("builtins.length (builtins.genericClosure { startSet = [ { key = 1; } { key = 1.0; } ]; operator = x: [ ]; })", "ok 1"),
    case("builtins.tryEval (assert false; 1)", "ok { success = false; value = false; }"),
    case("builtins.tryEval (builtins.head (map (x: assert x > 1; x) [ 1 ]))", "ok { success = false; value = false; }"),
    case("builtins.tryEval (builtins.attrValues (builtins.mapAttrs (n: v: throw \"EA\") { a = 1; }))", "err EA"),
    case("builtins.tryEval (builtins.deepSeq (builtins.attrValues (builtins.mapAttrs (n: v: throw \"EA\") { a = 1; })) 1)", "ok { success = false; value = false; }"),
    case("builtins.tryEval (builtins.toJSON { a = throw \"EA\"; })", "ok { success = false; value = false; }"),
    case("builtins.tryEval (builtins.toXML { a = throw \"EA\"; })", "ok { success = false; value = false; }"),
    case("builtins.tryEval (toString [ (throw \"EA\") ])", "ok { success = false; value = false; }"),
    case("builtins.tryEval (builtins.elemAt [ ] 0)", "err"),
    case("builtins.tryEval (builtins.getAttr \"x\" { })", "err"),
    case("builtins.tryEval ({ }.x)", "err"),
    case("builtins.tryEval (builtins.abort \"EA\")", "err EA"),
    case("builtins.tryEval (1 + \"a\")", "err"),
    case("builtins.length (builtins.attrNames { a = throw \"EA\"; })", "ok 1"),
    case("builtins.isAttrs (builtins.intersectAttrs { a = 1; } { a = throw \"EA\"; })", "ok true"),
    case("builtins.attrNames (builtins.removeAttrs { a = throw \"EA\"; b = 1; } [ \"a\" ])", "ok [ \"b\" ]"),
    case("builtins.hasAttr \"a\" { a = throw \"EA\"; }", "ok true"),
    case("builtins.typeOf (builtins.getAttr \"a\" { a = throw \"EA\"; })", "err EA"),
    case("builtins.length (builtins.concatMap (x: x) [ [ 1 ] (throw \"EA\") ])", "err EA"),
    case("builtins.tryEval (builtins.concatStringsSep \",\" [ \"a\" (throw \"EA\") ])", "ok { success = false; value = false; }"),
    case("builtins.concatStringsSep (throw \"EA\") [ ]", "err EA"),
    case("builtins.toString (throw \"EA\")", "err EA"),
    case("builtins.toString [ 1 (throw \"EA\") ]", "err EA"),
    case("builtins.tryEval (builtins.tryEval (throw \"EA\"))", "ok { success = true; value = { success = false; value = false; }; }"),
    case("let x = builtins.tryEval (throw \"EA\"); in x.success", "ok false"),
    case("builtins.tryEval (let x = throw \"EA\"; in [ x ] == [ x ])", "ok { success = false; value = false; }"),
    case("builtins.tryEval ({ a = throw \"EA\"; } == { a = throw \"EB\"; })", "ok { success = false; value = false; }"),
    case("builtins.tryEval ({ a = throw \"EA\"; } == { b = 1; })", "ok { success = true; value = false; }"),
    case("builtins.length (builtins.split \"a\" (throw \"EA\"))", "err EA"),
    case("builtins.lessThan [ 1 (throw \"EA\") ] [ 2 (throw \"EB\") ]", "ok true"),
    case("builtins.lessThan [ 1 (throw \"EA\") ] [ 1 (throw \"EB\") ]", "err EA"),
    case("[ (x: x) ] < [ (x: x) ]", "err"),
    case("let f = x: x; in [ f ] < [ f ]", "ok false"),
    case("let f = x: x; in [ f 1 ] < [ f 2 ]", "ok true"),
    case("builtins.sort builtins.lessThan [ [ 1 (throw \"EA\") ] [ 2 ] ]", "err EA"),
    case("builtins.all (x: x) [ ]", "ok true"),
    case("builtins.any (throw \"EA\") [ ]", "err EA"),
    case("builtins.mapAttrs (throw \"EA\") { }", "ok { }"),
    case("builtins.attrNames (builtins.mapAttrs (throw \"EA\") { a = 1; })", "ok [ \"a\" ]"),
    case("builtins.listToAttrs (map (x: { name = x; value = throw \"EA\"; }) [ \"a\" ])", "err EA"),
    case("builtins.length (builtins.attrNames (builtins.listToAttrs (map (x: { name = x; value = throw \"EA\"; }) [ \"a\" \"a\" ])))", "ok 1"),
];

/// Files the rows import (a file imported twice is one value).
const FILES: &[(&str, &str)] = &[("id-fn.nix", "(x: x)\n"), ("id-set.nix", "{ a = x: x; b = 1; }\n")];

/// `ok STDOUT`, or `err` and the thrown tokens of the final `error:` line, or a crash.
fn outcome(out: &RunOutput) -> String {
    if let Some(crash) = out.crash() {
        return format!("crash: {crash}");
    }
    match out.code() {
        Some(0) => return format!("ok {}", out.stdout_str().trim()),
        Some(1) => {}
        c => return format!("exit {c:?}"),
    }
    let stderr = out.stderr_str();
    let last = stderr.lines().map(str::trim).rfind(|l| l.starts_with("error:")).unwrap_or("");
    let tokens: Vec<&str> =
        last.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| matches!(*w, "EA" | "EB" | "EC")).collect();
    if tokens.is_empty() {
        "err".to_string()
    } else {
        format!("err {}", tokens.join(" "))
    }
}

fn spec(program: &Path, prefix: &[&str], dir: &Path, expr: &str) -> RunSpec {
    RunSpec::new(program, dir)
        .args(prefix.iter().copied())
        .args(["--eval", "--strict", "-E", expr])
        .env("HOME", "/fake-home")
        .timeout(Duration::from_secs(30))
}

fn check(name: &str, rows: &[Row]) {
    let dir = std::env::temp_dir().join(format!("rnix-semantics-{}-{}", name, std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dir = dir.canonicalize().unwrap();
    for (file, text) in FILES {
        std::fs::write(dir.join(file), text).unwrap();
    }
    let bin = paths::rnix_eval_for_tests();
    let reference = paths::reference_nix_instantiate();
    if reference.is_none() {
        println!("nix-instantiate not found: checking the recorded outcomes only");
    }
    let jobs = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let results = parallel_map(rows, jobs, |row| {
        let ours = outcome(&run(&spec(&bin, &["instantiate"], &dir, row.expr)));
        let theirs = reference.as_ref().map(|r| outcome(&run(&spec(r, &[], &dir, row.expr))));
        (ours, theirs)
    });
    let _ = std::fs::remove_dir_all(&dir);
    let mut failures = Vec::new();
    for (row, (ours, theirs)) in rows.iter().zip(&results) {
        if ours != row.expect {
            failures.push(format!("{}\n    expected: {}\n    rnix-eval: {}", row.expr, row.expect, ours));
        }
        let recorded = row.reference_2_8.unwrap_or(row.expect);
        if let Some(theirs) = theirs {
            if theirs != recorded {
                failures.push(format!(
                    "{}\n    recorded reference outcome: {}\n    nix-instantiate now gives: {}",
                    row.expr, recorded, theirs
                ));
            }
        }
    }
    println!("{name}: {} rows, {} failure(s)", rows.len(), failures.len());
    assert!(failures.is_empty(), "{name}: {} failure(s):\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn equality_and_identity_match_the_reference() {
    check("equality", EQUALITY);
}

#[test]
fn builtin_strictness_matches_the_reference() {
    check("strictness", STRICTNESS);
}
