//! Cyclic and very deep values: every walk over a value stops quickly and in bounded memory.
//!
//! `let x = { a = x; }; in builtins.toXML x` once grew to 12 GB in 30 s. Each row below walks a
//! cyclic value (`x = { a = x; }`, `x = [ x ]`), a value 10^5 levels deep (built by `foldl'`),
//! or an endless one (`f = n: { a = f (n + 1); }`) with `==`, `<`, `toString`, `toXML`,
//! `toJSON`, `deepSeq`, `genericClosure`, derivation attributes, `--strict` printing, `--json`
//! or `--xml`. It must end with the expected exit status (an error about the stack or the call
//! depth, or the reference's result such as `«repeated»`), never crash, and its peak RSS must stay
//! under 200 MiB. The peak is the kernel's (`getrusage(RUSAGE_CHILDREN)`, the largest child
//! so far), so the rows run one after another and this file holds one test.
//! No timing assertion: a generous timeout only catches a run that does not stop.

use std::time::Duration;

use rnix_tests::paths;
use rnix_tests::process::{run, RunSpec};

/// Peak RSS allowed for one run.
const MAX_RSS_KIB: i64 = 200 * 1024;

#[repr(C)]
struct RUsage {
    utime: [i64; 2],
    stime: [i64; 2],
    /// Kilobytes on Linux.
    maxrss: i64,
    rest: [i64; 13],
}

extern "C" {
    // libc is linked by std anyway; declaring it avoids a dependency.
    fn getrusage(who: i32, usage: *mut RUsage) -> i32;
}
const RUSAGE_CHILDREN: i32 = -1;

/// The largest peak RSS (KiB) of the children waited for so far.
fn children_max_rss_kib() -> i64 {
    let mut u = RUsage { utime: [0; 2], stime: [0; 2], maxrss: 0, rest: [0; 13] };
    // SAFETY: `u` is a valid, writable `struct rusage` (same layout on 64-bit Linux).
    let r = unsafe { getrusage(RUSAGE_CHILDREN, &mut u) };
    assert_eq!(r, 0, "getrusage failed");
    u.maxrss
}

enum Expect {
    /// Exit 0 with exactly this stdout (trimmed).
    Prints(&'static str),
    /// Exit 0, any output.
    Succeeds,
    /// Exit 1 with this text in stderr.
    Fails(&'static str),
}
use Expect::*;

const DEEP_LIST: &str = "builtins.foldl' (acc: x: [ acc ]) [ ] (builtins.genList (x: x) 100000)";
const DEEP_SET: &str = "builtins.foldl' (acc: x: { a = acc; }) { } (builtins.genList (x: x) 100000)";
const ENDLESS_SET: &str = "let f = n: { a = f (n + 1); }; in f 0";
const ENDLESS_LIST: &str = "let f = n: [ (f (n + 1)) ]; in f 0";

fn rows() -> Vec<(&'static [&'static str], String, Expect)> {
    let strict: &'static [&'static str] = &["--strict"];
    let lazy: &'static [&'static str] = &[];
    let set = "let x = { a = x; }; in";
    let list = "let x = [ x ]; in";
    let two_sets = "let x = { a = x; }; y = { a = y; }; in";
    let two_lists = "let x = [ x ]; y = [ y ]; in";
    let drv = |v: &str| format!("(derivation {{ name = \"a\"; builder = \"b\"; system = \"c\"; y = {v}; }}).drvPath");
    vec![
        // Cyclic values.
        (strict, format!("{set} x"), Prints("{ a = «repeated»; }")),
        (strict, format!("{list} x"), Prints("[ [ «repeated» ] ]")),
        (lazy, format!("{set} builtins.trace x 1"), Prints("1")),
        (strict, format!("{set} builtins.deepSeq x 1"), Prints("1")),
        (strict, format!("{list} builtins.deepSeq x 1"), Prints("1")),
        (strict, format!("{set} x == x"), Prints("true")),
        (strict, format!("{two_sets} x == y"), Fails("stack overflow")),
        (strict, format!("{two_lists} x == y"), Fails("stack overflow")),
        (strict, format!("{two_lists} x < y"), Fails("stack overflow")),
        (strict, format!("{list} toString x"), Fails("stack overflow")),
        (strict, "let x = { outPath = x; }; in \"${x}\"".to_string(), Fails("stack overflow")),
        (strict, format!("{set} builtins.toXML x"), Fails("stack overflow")),
        (strict, format!("{list} builtins.toXML x"), Fails("stack overflow")),
        (strict, format!("{set} builtins.toJSON x"), Fails("stack overflow")),
        (strict, format!("{list} builtins.toJSON x"), Fails("stack overflow")),
        (&["--strict", "--json"], format!("{set} x"), Fails("stack overflow")),
        (&["--strict", "--xml"], format!("{set} x"), Fails("stack overflow")),
        (&["--xml"], format!("{set} x"), Fails("stack overflow")),
        (strict, format!("{list} {}", drv("x")), Fails("stack overflow")),
        (
            strict,
            format!("{two_lists} builtins.genericClosure {{ startSet = [ {{ key = x; }} {{ key = y; }} ]; operator = e: [ ]; }}"),
            Fails("stack overflow"),
        ),
        // Very deep values (10 times max-call-depth).
        (lazy, DEEP_LIST.to_string(), Succeeds),
        (lazy, DEEP_SET.to_string(), Succeeds),
        (strict, DEEP_LIST.to_string(), Fails("stack overflow")),
        (strict, format!("let l = {DEEP_LIST}; in [ l ] == [ l ]"), Prints("true")),
        (strict, format!("({DEEP_LIST}) == ({DEEP_LIST})"), Fails("stack overflow")),
        (strict, format!("({DEEP_SET}) == ({DEEP_SET})"), Fails("stack overflow")),
        (strict, format!("({DEEP_LIST}) < ({DEEP_LIST})"), Fails("stack overflow")),
        (strict, format!("toString ({DEEP_LIST})"), Fails("stack overflow")),
        (strict, format!("builtins.toXML ({DEEP_SET})"), Fails("stack overflow")),
        (strict, format!("builtins.toJSON ({DEEP_SET})"), Fails("stack overflow")),
        (strict, format!("builtins.deepSeq ({DEEP_SET}) 1"), Fails("stack overflow")),
        (&["--strict", "--xml"], DEEP_SET.to_string(), Fails("stack overflow")),
        (strict, drv(DEEP_LIST), Fails("stack overflow")),
        // Endless values.
        (strict, ENDLESS_SET.to_string(), Fails("stack overflow")),
        (strict, format!("({ENDLESS_SET}) == ({ENDLESS_SET})"), Fails("stack overflow")),
        (strict, format!("builtins.toXML ({ENDLESS_SET})"), Fails("stack overflow")),
        (strict, format!("builtins.toJSON ({ENDLESS_SET})"), Fails("stack overflow")),
        (strict, format!("toString ({ENDLESS_LIST})"), Fails("stack overflow")),
        (strict, format!("({ENDLESS_LIST}) < ({ENDLESS_LIST})"), Fails("stack overflow")),
    ]
}

#[test]
fn cyclic_and_deep_values_stop_quickly_in_bounded_memory() {
    let bin = paths::rnix_eval_for_tests();
    let dir = std::env::temp_dir();
    let mut failures = Vec::new();
    for (flags, expr, expect) in rows() {
        let spec = RunSpec::new(&bin, &dir)
            .arg("instantiate")
            .args(["--eval"])
            .args(flags.iter().copied())
            .args(["-E", expr.as_str()])
            .env("HOME", "/fake-home")
            .timeout(Duration::from_secs(30));
        let out = run(&spec);
        let rss = children_max_rss_kib();
        let what = format!("{} -E '{}'", flags.join(" "), expr);
        if let Some(crash) = out.crash() {
            failures.push(format!("{what}: {crash}"));
            continue;
        }
        let stdout = out.stdout_str();
        let stderr = out.stderr_str();
        let ok = match &expect {
            Prints(s) => out.code() == Some(0) && stdout.trim() == *s,
            Succeeds => out.code() == Some(0),
            Fails(s) => out.code() == Some(1) && stderr.contains(s),
        };
        if !ok {
            let want = match &expect {
                Prints(s) => format!("exit 0 printing {s}"),
                Succeeds => "exit 0".to_string(),
                Fails(s) => format!("exit 1 with '{s}'"),
            };
            failures.push(format!(
                "{what}: expected {want}, got exit {:?}, stdout {:?}, stderr {:?}",
                out.code(),
                rnix_tests::process::truncate(stdout.trim(), 100),
                rnix_tests::process::truncate(&rnix_tests::process::one_line(&stderr), 300)
            ));
        }
        // The peak is a running maximum: this row is the first to exceed it.
        if rss > MAX_RSS_KIB {
            failures.push(format!("{what}: peak RSS {} MiB (limit {} MiB)", rss / 1024, MAX_RSS_KIB / 1024));
            break;
        }
        println!("{what}: ok, peak RSS so far {} MiB, {:.2} s", rss / 1024, out.duration.as_secs_f64());
    }
    assert!(failures.is_empty(), "{} failure(s):\n{}", failures.len(), failures.join("\n"));
}
