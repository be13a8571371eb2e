//! Local stores that Nix can use: `rnix-eval instantiate --store DIR` writes the
//! files *and* the store database the way CppNix 2.8's `nix-instantiate --store DIR`
//! does, so `nix-store --realise`, `nix path-info`, `nix-store --verify` and
//! `nix copy` work on it. The reference (`nix-instantiate`, `nix-store`, `nix`) is the
//! oracle throughout: every expectation is what it writes or answers.
//!
//! * a small store: the same schema text, the same rows (NAR hash, NAR size,
//!   content address, references, derivation outputs) and the same state layout;
//! * the NixOS desktop (`../shared`): `nix-store -qR` lists the reference's 3,030
//!   paths, `nix path-info --json -r` agrees path by path, `--verify
//!   --check-contents` is silent and `--realise --dry-run` plans the build;
//! * a writer killed half-way leaves a store `nix-store --verify` accepts, and the
//!   next run completes it; `rnix-eval` and `nix-instantiate` writing one store at
//!   the same time both succeed; a store Nix made is reused; a store from an older
//!   rnix-eval (files, no database) is completed;
//! * store URLs (`local?root=`, `--option store`, `NIX_REMOTE`, `dummy://`, bad
//!   ones), read-only modes writing nothing, and `--add-root`.
//!
//! Tests that need the reference print a note and pass when it is not installed.

mod common;

use rnix_test_support::{find_program, TestDaemon};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{reference_or_note, shared_or_skip, TempDir};
use rnix_tests::paths;

/// The reference's tools, next to its `nix-instantiate`.
struct Reference {
    instantiate: PathBuf,
    store: PathBuf,
    nix: PathBuf,
}

fn reference(what: &str) -> Option<Reference> {
    let instantiate = reference_or_note(what)?;
    let dir = instantiate.parent().unwrap_or(Path::new("/")).to_path_buf();
    Some(Reference { instantiate, store: dir.join("nix-store"), nix: dir.join("nix") })
}

/// Runs `prog args` in `cwd` with HOME there and no NIX_* from outside, plus `env`.
fn run_env(prog: &Path, args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(prog);
    c.args(args).current_dir(cwd).env("HOME", cwd).env_remove("NIX_REMOTE").env_remove("NIX_PATH");
    c.env("XDG_CACHE_HOME", cwd.join(".cache")).stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    let t0 = Instant::now();
    let out = c.output().unwrap_or_else(|e| panic!("running {}: {e}", prog.display()));
    eprintln!("[{:.1} s] {} {}", t0.elapsed().as_secs_f64(), prog.display(), args.join(" "));
    out
}

fn run(prog: &Path, args: &[&str], cwd: &Path) -> Output {
    run_env(prog, args, cwd, &[])
}

/// stdout of a run that must succeed.
fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr).lines().rev().take(30).collect::<Vec<_>>().join("\n")
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn rnix() -> PathBuf {
    paths::rnix_eval_for_tests()
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// A derivation with every kind of path the evaluator adds: `toFile` with a reference,
/// a source file, a source tree, a flat import, two outputs, an input derivation.
const SMALL: &str = r#"
let
  dep = derivation { name = "dep"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo > $out" ]; };
  text = builtins.toFile "hello.txt" "hi ${builtins.toFile "inner" "x"}";
  flat = builtins.path { path = ./src/a.txt; name = "flat"; recursive = false; };
in derivation {
  name = "small"; system = "x86_64-linux"; builder = "/bin/sh";
  args = [ "-c" "echo ${text} ${./src} ${./src/a.txt} ${flat} ${dep} > $out" ];
  outputs = [ "out" "dev" ];
}
"#;

/// `dir/small.nix` and its sources.
fn write_small(dir: &Path) -> PathBuf {
    fs::create_dir_all(dir.join("src/sub")).unwrap();
    fs::write(dir.join("src/a.txt"), "hello\n").unwrap();
    fs::write(dir.join("src/sub/run.sh"), "#!/bin/sh\n").unwrap();
    fs::set_permissions(dir.join("src/sub/run.sh"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink("a.txt", dir.join("src/link")).unwrap();
    let f = dir.join("small.nix");
    fs::write(&f, SMALL).unwrap();
    f
}

/// Everything the database says, by path (ids and registration times left out).
fn db_rows(root: &Path) -> Vec<String> {
    let db = root.join("nix/var/nix/db/db.sqlite");
    let conn = rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|e| panic!("opening {}: {e}", db.display()));
    let mut rows = Vec::new();
    let queries = [
        "select 'schema', type || ' ' || name || ': ' || coalesce(sql, '') from sqlite_master order by name",
        "select 'path', path || ' ' || hash || ' ' || coalesce(narSize, 'null') || ' ' || coalesce(deriver, 'null') \
         || ' ' || coalesce(ultimate, 'null') || ' ' || coalesce(sigs, 'null') || ' ' || coalesce(ca, 'null') \
         from ValidPaths order by path",
        "select 'ref', a.path || ' -> ' || b.path from Refs r join ValidPaths a on a.id = r.referrer \
         join ValidPaths b on b.id = r.reference order by 2",
        "select 'output', v.path || ' ' || o.id || ' ' || o.path from DerivationOutputs o \
         join ValidPaths v on v.id = o.drv order by 2",
    ];
    for q in queries {
        let mut stmt = conn.prepare(q).unwrap();
        let it = stmt.query_map([], |r| Ok(format!("{}: {}", r.get::<_, String>(0)?, r.get::<_, String>(1)?))).unwrap();
        rows.extend(it.map(Result::unwrap));
    }
    rows
}

/// `mode type relative-path` of the store's state (`nix/var/nix`) and the store
/// directory itself, without what only names a process or a moment.
fn state_layout(root: &Path) -> Vec<String> {
    fn walk(base: &Path, p: &Path, out: &mut Vec<String>) {
        let m = fs::symlink_metadata(p).unwrap();
        let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
        let kind = if m.is_symlink() {
            "l"
        } else if m.is_dir() {
            "d"
        } else {
            "f"
        };
        // Sizes of the database files vary with page reuse; the reserve and the schema do not.
        let size = if rel.ends_with("reserved") || rel.ends_with("schema") { m.len().to_string() } else { "-".into() };
        if !rel.contains("db.sqlite") && !rel.starts_with("temproots/") {
            out.push(format!("{:o} {kind} {size} {rel}", m.mode() & 0o7777));
        }
        if m.is_dir() {
            for e in fs::read_dir(p).unwrap() {
                walk(base, &e.unwrap().path(), out);
            }
        }
    }
    let mut out = Vec::new();
    let state = root.join("nix/var/nix");
    walk(&state, &state, &mut out);
    let store = fs::metadata(root.join("nix/store")).unwrap();
    out.push(format!("store dir {:o} uid {} gid {}", store.mode() & 0o7777, store.uid(), store.gid()));
    out.sort();
    out
}

/// The small store: same schema, rows and layout as the reference's; Nix's tools accept it.
#[test]
fn small_store_database_equals_the_reference() {
    let Some(nix) = reference("the store database") else { return };
    let tmp = TempDir::new("sdb-small");
    let f = write_small(tmp.path());
    let (ours, theirs) = (tmp.path().join("ours"), tmp.path().join("theirs"));
    let drv = ok(run(&rnix(), &["instantiate", "--store", &s(&ours), &s(&f)], tmp.path()), "rnix-eval");
    let want = ok(run(&nix.instantiate, &["--store", &s(&theirs), &s(&f)], tmp.path()), "nix-instantiate");
    assert_eq!(drv, want);
    let drv = drv.trim();

    let (a, b) = (db_rows(&ours), db_rows(&theirs));
    assert!(a.iter().filter(|r| r.starts_with("path:")).count() >= 6, "{a:#?}");
    assert_eq!(a, b, "database rows");
    assert_eq!(state_layout(&ours), state_layout(&theirs), "state layout");

    let verify = ok(run(&nix.store, &["--store", &s(&ours), "--verify", "--check-contents"], tmp.path()), "verify");
    assert_eq!(verify, "");
    let out = run(
        &nix.store,
        &["--store", &s(&ours), "--realise", "--dry-run", drv, "--option", "substituters", ""],
        tmp.path(),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && err.contains("will be built") && err.contains(drv), "{err}");
    // `nix copy` takes it as a valid store path.
    let copy = tmp.path().join("copy");
    let from = format!("local?root={}", ours.display());
    let to = format!("local?root={}", copy.display());
    let args = [
        "--extra-experimental-features",
        "nix-command",
        "copy",
        "--no-check-sigs",
        "--derivation",
        "--from",
        &from,
        "--to",
        &to,
        drv,
    ];
    ok(run(&nix.nix, &args, tmp.path()), "nix copy");
    assert!(copy.join(&drv[1..]).exists());
}

/// The desktop closure: what Nix's own tools say about our store equals what they say
/// about the reference's.
#[test]
fn desktop_store_is_registered_like_the_reference() {
    let (Some(nixos), Some(config)) =
        (shared_or_skip("nixpkgs/nixos-20.09/nixos"), shared_or_skip("configs/desktop.nix"))
    else {
        return;
    };
    let Some(nix) = reference("the desktop store database") else { return };
    let tmp = TempDir::new("sdb-desk");
    let (ours, theirs) = (tmp.path().join("ours"), tmp.path().join("theirs"));
    let cfg = format!("nixos-config={}", config.display());
    let args = |store: &Path| {
        vec![s(&nixos), "-A".into(), "system".into(), "-I".into(), cfg.clone(), "--store".into(), s(store)]
    };
    let mut a = vec!["instantiate".to_string()];
    a.extend(args(&ours));
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let drv = ok(run(&rnix(), &a, tmp.path()), "rnix-eval");
    let b = args(&theirs);
    let b: Vec<&str> = b.iter().map(String::as_str).collect();
    assert_eq!(drv, ok(run(&nix.instantiate, &b, tmp.path()), "nix-instantiate"));
    let drv = drv.trim();

    let closure = |root: &Path| -> BTreeSet<String> {
        ok(run(&nix.store, &["--store", &s(root), "-qR", drv], tmp.path()), "nix-store -qR")
            .lines()
            .map(String::from)
            .collect()
    };
    let (qa, qb) = (closure(&ours), closure(&theirs));
    assert_eq!(qb.len(), 3030, "the reference's closure");
    assert_eq!(qa, qb, "nix-store -qR");

    let info = |root: &Path| -> BTreeMap<String, String> {
        let args = [
            "--extra-experimental-features",
            "nix-command",
            "path-info",
            "--store",
            &s(root),
            "--json",
            "-r",
            "--derivation",
            drv,
        ];
        let json = ok(run(&nix.nix, &args, tmp.path()), "nix path-info");
        path_infos(&json)
    };
    let (ia, ib) = (info(&ours), info(&theirs));
    assert_eq!(ia.len(), 3030);
    let differing: Vec<&String> = ib.keys().filter(|p| ia.get(*p) != ib.get(*p)).take(5).collect();
    assert!(differing.is_empty(), "path-info differs for {differing:?}: ours {:?}", differing.first().map(|p| &ia[*p]));

    let verify = run(&nix.store, &["--store", &s(&ours), "--verify", "--check-contents"], tmp.path());
    assert_eq!(ok(verify, "verify"), "");
    let out = run(
        &nix.store,
        &["--store", &s(&ours), "--realise", "--dry-run", drv, "--option", "substituters", ""],
        tmp.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("these 2548 derivations will be built"));
}

/// `nix path-info --json` entries by path, without `registrationTime` (a moment, not a fact
/// about the path), each as its remaining JSON text with keys in order.
fn path_infos(json: &str) -> BTreeMap<String, String> {
    // Objects are flat except for the `references` array: split at `},{`.
    let body = json.trim().trim_start_matches('[').trim_end_matches(']');
    let mut out = BTreeMap::new();
    for obj in body.split("},{") {
        let obj = obj.trim_start_matches('{').trim_end_matches('}');
        let mut fields: Vec<String> =
            split_top_level(obj).into_iter().filter(|f| !f.starts_with("\"registrationTime\"")).collect();
        fields.sort();
        let path = fields.iter().find_map(|f| f.strip_prefix("\"path\":")).unwrap_or("?").trim_matches('"').to_string();
        out.insert(path, fields.join(","));
    }
    out
}

/// Splits `a:1,"b":[x,y],c:2` at the commas outside brackets and strings.
fn split_top_level(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut depth, mut in_str, mut esc) = (Vec::new(), String::new(), 0, false, false);
    for c in s.chars() {
        match c {
            _ if esc => esc = false,
            '\\' if in_str => esc = true,
            '"' => in_str = !in_str,
            '[' if !in_str => depth += 1,
            ']' if !in_str => depth -= 1,
            ',' if !in_str && depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

/// Many paths: `n` text files, each referring to the one before, and a derivation over all.
fn many_paths(dir: &Path, n: usize, tag: &str) -> PathBuf {
    let f = dir.join(format!("many-{tag}.nix"));
    fs::write(
        &f,
        format!(
            r#"let files = builtins.genList (i: builtins.toFile "f${{toString i}}" "{tag} ${{toString i}}") {n};
                   chain = builtins.foldl' (prev: f: builtins.toFile "c" "${{prev}} ${{f}}") (builtins.toFile "c0" "") files;
               in derivation {{ name = "many"; system = "x"; builder = "/b"; args = files ++ [ chain ]; }}"#
        ),
    )
    .unwrap();
    f
}

/// Rows of the store database under `store` (0 while it does not exist or is locked), read
/// without writing to it.
fn valid_rows(store: &Path) -> usize {
    let db = store.join("nix/var/nix/db/db.sqlite");
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
    rusqlite::Connection::open_with_flags(db, flags)
        .and_then(|c| c.query_row("select count(*) from ValidPaths", [], |r| r.get::<_, i64>(0)))
        .map_or(0, |n| n as usize)
}

/// Entries of `store/nix/store` (0 before it exists).
fn store_entries(store: &Path) -> usize {
    fs::read_dir(store.join("nix/store")).map_or(0, |d| d.count())
}

/// A writer killed (SIGKILL) in the middle leaves files without rows at worst, which
/// `nix-store --verify` accepts; running again completes the store. Killed at two moments,
/// each checked to be in the middle: while the first files are written (few or no rows),
/// and once part of the paths are registered (some rows, not all).
#[test]
fn killed_writer_leaves_a_valid_store() {
    let Some(nix) = reference("the killed writer's store") else { return };
    let tmp = TempDir::new("sdb-kill");
    let f = many_paths(tmp.path(), 6000, "kill");
    let total = 6000 + 6000 + 1 + 1; // texts, chain links, c0 and the drv
    type Moment = (&'static str, fn(usize, usize) -> bool);
    let moments: [Moment; 2] = [
        ("writing the first files", |files, _rows| files > 200),
        ("part of the paths registered", |_files, rows| rows > 1000),
    ];
    for (i, (moment, ready)) in moments.into_iter().enumerate() {
        let store = tmp.path().join(format!("store-{i}"));
        let mut child = Command::new(rnix())
            .args(["instantiate", "--store", &s(&store), &s(&f)])
            .current_dir(tmp.path())
            .env("HOME", tmp.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        let mut killed = false;
        while t0.elapsed() < Duration::from_secs(120) {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if ready(store_entries(&store), valid_rows(&store)) {
                child.kill().unwrap();
                killed = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let _ = child.wait();
        assert!(killed, "{moment}: the writer finished before it could be killed: make the workload larger");
        let rows = valid_rows(&store);
        eprintln!("killed while {moment}: {} store entries, {rows} of {total} paths registered", store_entries(&store));
        assert!(rows < total, "{moment}: all {total} paths were registered: the kill came too late");
        if i == 1 {
            assert!(rows > 0, "{moment}: nothing registered");
        }
        let verify = run(&nix.store, &["--store", &s(&store), "--verify", "--check-contents"], tmp.path());
        assert_eq!(ok(verify, &format!("verify after the kill ({moment}, {rows} rows)")), "");

        let drv = ok(run(&rnix(), &["instantiate", "--store", &s(&store), &s(&f)], tmp.path()), "rnix-eval again");
        let verify = run(&nix.store, &["--store", &s(&store), "--verify", "--check-contents"], tmp.path());
        assert_eq!(ok(verify, "verify after the rerun"), "");
        let closure = ok(run(&nix.store, &["--store", &s(&store), "-qR", drv.trim()], tmp.path()), "-qR");
        assert_eq!(closure.lines().count(), total, "{moment}");
    }
}

/// `rnix-eval` and `nix-instantiate` writing the same paths into one store at the same
/// time both succeed and agree; the test checks that their writes did overlap (both still
/// running while the database had some, not all, paths).
#[test]
fn concurrent_rnix_eval_and_nix_instantiate_share_a_store() {
    let Some(nix) = reference("concurrent writers") else { return };
    let tmp = TempDir::new("sdb-conc");
    let n = 3000;
    let total = n + n + 2;
    let f = many_paths(tmp.path(), n, "conc");
    let store = tmp.path().join("store");
    let spawn = |prog: &Path, args: Vec<String>| {
        Command::new(prog)
            .args(args)
            .current_dir(tmp.path())
            .env("HOME", tmp.path())
            .env("XDG_CACHE_HOME", tmp.path().join(".cache"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut ours = spawn(&rnix(), vec!["instantiate".into(), "--store".into(), s(&store), s(&f)]);
    let mut theirs = spawn(&nix.instantiate, vec!["--store".into(), s(&store), s(&f)]);
    let mut overlapped = false;
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(300) {
        let done = (ours.try_wait().unwrap().is_some(), theirs.try_wait().unwrap().is_some());
        if done.0 || done.1 {
            break;
        }
        let rows = valid_rows(&store);
        overlapped |= rows > 0 && rows < total;
        std::thread::sleep(Duration::from_millis(2));
    }
    let (a, b) = (ours.wait_with_output().unwrap(), theirs.wait_with_output().unwrap());
    let a = ok(a, "rnix-eval (concurrent)");
    assert_eq!(a, ok(b, "nix-instantiate (concurrent)"));
    assert!(overlapped, "the two writers did not write at the same time: make the workload larger");
    let verify = run(&nix.store, &["--store", &s(&store), "--verify", "--check-contents"], tmp.path());
    assert_eq!(ok(verify, "verify"), "");
    let closure = ok(run(&nix.store, &["--store", &s(&store), "-qR", a.trim()], tmp.path()), "-qR");
    assert_eq!(closure.lines().count(), total);
}

/// A store Nix made is reused: valid paths are neither rewritten nor registered again.
/// A store an older rnix-eval wrote (files, no database) gets its database.
#[test]
fn existing_stores_are_reused_or_completed() {
    let Some(nix) = reference("existing stores") else { return };
    let tmp = TempDir::new("sdb-exist");
    let f = write_small(tmp.path());
    let store = tmp.path().join("store");
    let drv = ok(run(&nix.instantiate, &["--store", &s(&store), &s(&f)], tmp.path()), "nix-instantiate");
    let before = db_rows(&store);
    let times = |root: &Path| registration_times(root);
    let t_before = times(&store);
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(ok(run(&rnix(), &["instantiate", "--store", &s(&store), &s(&f)], tmp.path()), "rnix-eval"), drv);
    assert_eq!(db_rows(&store), before);
    assert_eq!(times(&store), t_before, "valid paths were registered again");

    // No database: the paths are invalid to Nix; adding them again registers them.
    let old = tmp.path().join("old");
    ok(run(&nix.instantiate, &["--store", &s(&old), &s(&f)], tmp.path()), "nix-instantiate");
    fs::remove_dir_all(old.join("nix/var")).unwrap();
    assert_eq!(ok(run(&rnix(), &["instantiate", "--store", &s(&old), &s(&f)], tmp.path()), "rnix-eval"), drv);
    assert_eq!(db_rows(&old), before);
    let verify = run(&nix.store, &["--store", &s(&old), "--verify", "--check-contents"], tmp.path());
    assert_eq!(ok(verify, "verify"), "");
}

fn registration_times(root: &Path) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(root.join("nix/var/nix/db/db.sqlite")).unwrap();
    let mut stmt = conn.prepare("select path, registrationTime from ValidPaths order by path").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
}

/// Store URLs: the spellings Nix accepts name the same local store; unsupported ones
/// fail with exit 1 and a message naming what is supported.
#[test]
fn store_urls() {
    let tmp = TempDir::new("sdb-url");
    let f = write_small(tmp.path());
    let want = ok(run(&rnix(), &["instantiate", "--store", &s(&tmp.path().join("a")), &s(&f)], tmp.path()), "DIR");
    let rows = db_rows(&tmp.path().join("a"));
    // (arguments, environment, the store directory they name)
    type Spelling<'a> = (Vec<String>, Vec<(&'a str, String)>, &'a str);
    let spellings: Vec<Spelling> = vec![
        (vec!["--store".into(), format!("local?root={}", tmp.path().join("b").display())], vec![], "b"),
        (vec!["--store".into(), "./c".into()], vec![], "c"),
        (vec!["--option".into(), "store".into(), s(&tmp.path().join("d"))], vec![], "d"),
        (vec![], vec![("NIX_REMOTE", s(&tmp.path().join("e")))], "e"),
    ];
    for (args, env, dir) in spellings {
        let mut a: Vec<&str> = vec!["instantiate"];
        a.extend(args.iter().map(String::as_str));
        a.push(f.to_str().unwrap());
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(ok(run_env(&rnix(), &a, tmp.path(), &env), dir), want, "{a:?}");
        let got: Vec<String> = db_rows(&tmp.path().join(dir));
        assert_eq!(got, rows, "{a:?}");
    }
    // Each bad URL through every way of naming a store and every kind of command: exit 1,
    // one clear error naming what is supported, nothing written, no panic.
    let flake = tmp.path().join("flake");
    fs::create_dir_all(&flake).unwrap();
    fs::write(flake.join("flake.nix"), "{ outputs = _: { x = 1; }; }").unwrap();
    let flake_ref = format!("path:{}#x", flake.display());
    for (bad, says, says_supported) in [
        ("ssh://host", "'ssh://'", "dummy://"),
        ("https://cache.nixos.org", "'https://'", "dummy://"),
        ("s3://bucket", "'s3://'", "unix://PATH"),
        ("nonsense", "don't know how to open Nix store 'nonsense'", "local?root=DIR"),
        ("local?frobnicate=1", "'frobnicate'", "supported: root"),
        ("daemon?x=1", "parameter 'x'", "takes none"),
        ("unix:///tmp/socket?y=1", "parameter 'y'", "takes none"),
        ("dummy://?z=1", "parameter 'z'", "takes none"),
        ("local?store=/gnu/store", "'/gnu/store'", "only the store directory '/nix/store' is supported"),
        ("local?root=%zz", "invalid percent-encoding", "local?root=%zz"),
    ] {
        let file = s(&f);
        // (arguments, environment)
        type Way<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>);
        let ways: Vec<Way> = vec![
            (vec!["instantiate", "--store", bad, &file], vec![]),
            (vec!["--option", "store", bad, "instantiate", &file], vec![]),
            (vec!["instantiate", &file], vec![("NIX_REMOTE", bad)]),
            (vec!["eval", "--store", bad, "--expr", "1"], vec![]),
            (vec!["--store", bad, &flake_ref, "--no-write-lock-file"], vec![]),
        ];
        for (args, env) in ways {
            let out = run_env(&rnix(), &args, tmp.path(), &env);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?} {env:?}: {err}");
            assert!(err.starts_with("error: ") && err.lines().count() == 1, "{args:?} {env:?}: {err}");
            assert!(err.contains(says) && err.contains(says_supported), "{args:?} {env:?}: {err}");
            assert!(out.stdout.is_empty(), "{args:?} {env:?}");
        }
    }
}

/// A daemon store is connected at its first use, as 2.8 does: `--eval -E 1` with no daemon
/// listening prints 1; adding to the store fails then with a clear error and exit 1.
#[test]
fn a_daemon_nobody_listens_on_is_needed_only_when_used() {
    let tmp = TempDir::new("sdb-lazy-daemon");
    let url = format!("unix://{}", tmp.path().join("no-daemon.sock").display());
    let evals: [&[&str]; 2] =
        [&["instantiate", "--store", &url, "--eval", "-E", "1"], &["eval", "--store", &url, "--expr", "1"]];
    for args in evals {
        assert_eq!(ok(run(&rnix(), args, tmp.path()), "eval without a daemon"), "1\n", "{args:?}");
    }
    let adds: [&[&str]; 2] = [
        &["instantiate", "--store", &url, "-E", "builtins.toFile \"a\" \"b\""],
        &["eval", "--store", &url, "--expr", "builtins.toFile \"a\" \"b\""],
    ];
    for args in adds {
        let out = run(&rnix(), args, tmp.path());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.starts_with("error: ") && err.contains("No such file or directory"), "{args:?}: {err}");
    }
    // The reference agrees on the first half (its wording of the failure differs).
    if let Some(r) = reference("lazy daemon connection") {
        let out = run(&r.instantiate, &["--store", &url, "--eval", "-E", "1"], tmp.path());
        assert_eq!(ok(out, "nix-instantiate without a daemon"), "1\n");
        let out = run(&r.instantiate, &["--store", &url, "-E", "builtins.toFile \"a\" \"b\""], tmp.path());
        assert_eq!(out.status.code(), Some(1));
    }
}

/// `auto` picks the daemon when its socket answers, as Nix does, and the evaluation's
/// paths land in the daemon's store (valid there); `--store daemon` says the same, and
/// read-only evaluation does not need the daemon to write.
#[test]
fn auto_prefers_a_listening_daemon() {
    if find_program("nix-daemon").is_none() {
        assert!(std::env::var_os("CI").is_none(), "nix-daemon is not installed, and CI is set");
        eprintln!("NOTE: nix-daemon not found: test skipped");
        return;
    }
    let tmp = TempDir::new("sdb-auto");
    let f = write_small(tmp.path());
    let socket = tmp.path().join("daemon.sock");
    let mut daemon = TestDaemon::start(&tmp.path().join("dstore"), &socket, "substituters =\n");
    let env = [("NIX_DAEMON_SOCKET_PATH", socket.to_str().unwrap())];
    let url = daemon.url();
    let mut results = Vec::new();
    for args in [
        vec!["instantiate", f.to_str().unwrap()],
        vec!["instantiate", "--store", "daemon", f.to_str().unwrap()],
        vec!["instantiate", "--store", &url, f.to_str().unwrap()],
        vec!["instantiate", "--readonly-mode", f.to_str().unwrap()],
    ] {
        let out = run_env(&rnix(), &args, tmp.path(), &env);
        results.push((args.clone(), out));
    }
    let valid = |drv: &str| {
        Command::new("nix-store")
            .args(["--store", &url, "--check-validity", drv])
            .stdin(Stdio::null())
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    let mut checks = Vec::new();
    for (args, out) in results {
        let text = ok(out, &format!("{args:?}"));
        assert!(text.ends_with("-small.drv\n"), "{args:?}: {text}");
        checks.push((args, text.trim().to_string()));
    }
    let first = checks[0].1.clone();
    let all_valid: Vec<bool> = checks.iter().map(|(_, d)| valid(d)).collect();
    daemon.stop();
    for (args, drv) in &checks {
        assert_eq!(drv, &first, "{args:?}");
    }
    assert!(all_valid.iter().all(|v| *v), "the drv is not valid in the daemon's store: {all_valid:?}");
}

/// `auto` for a user who cannot write `/nix` and has no daemon: a complete local store of
/// their own at `$XDG_DATA_HOME/rnix-eval`, named by a one-line notice on stderr (not with
/// `--quiet`, not when nothing is written), holding what `--store DIR` would hold and
/// accepted by Nix's tools. Run as `nobody` (`setpriv`), so it needs root.
#[test]
fn auto_falls_back_to_a_store_of_your_own() {
    // `/proc/self` belongs to the process's effective user.
    let root = fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    let Some(setpriv) = find_program("setpriv").filter(|_| root) else {
        assert!(std::env::var_os("CI").is_none(), "setpriv or root is missing, and CI is set");
        eprintln!("NOTE: not root or no setpriv: test skipped");
        return;
    };
    let tmp = TempDir::new("sdb-fallback");
    let f = write_small(tmp.path());
    let open = |p: &Path| {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(p, fs::Permissions::from_mode(0o777)).unwrap();
    };
    open(tmp.path());
    let want =
        ok(run(&rnix(), &["instantiate", "--store", &s(&tmp.path().join("explicit")), &s(&f)], tmp.path()), "DIR");
    let data = tmp.path().join("data");
    let as_nobody = |args: &[&str]| {
        let out = Command::new(&setpriv)
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(rnix())
            .args(args)
            .current_dir(tmp.path())
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", tmp.path())
            .env("XDG_DATA_HOME", &data)
            .env("NIX_DAEMON_SOCKET_PATH", tmp.path().join("no-daemon"))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let store = data.join("rnix-eval");
    let notice = format!("note: '/nix' is not writable, so rnix-eval uses the local store at '{}'\n", store.display());
    let warning = "warning: you did not specify '--add-root'; the result might be removed by the garbage collector\n";
    let file = s(&f);
    assert_eq!(as_nobody(&["instantiate", &file]), (Some(0), want.clone(), format!("{notice}{warning}")));
    assert_eq!(db_rows(&store), db_rows(&tmp.path().join("explicit")), "the store of one's own");
    assert_eq!(as_nobody(&["--quiet", "instantiate", &file]), (Some(0), want.clone(), warning.to_owned()));
    let eval = as_nobody(&["instantiate", "--eval", "-E", "1"]);
    assert_eq!(eval, (Some(0), "1\n".to_owned(), String::new()), "nothing written, no notice");
    if let Some(nix) = reference("the fallback store") {
        let verify = run(&nix.store, &["--store", &s(&store), "--verify", "--check-contents"], tmp.path());
        assert_eq!(ok(verify, "verify"), "");
        let closure = ok(run(&nix.store, &["--store", &s(&store), "-qR", want.trim()], tmp.path()), "-qR");
        assert!(closure.lines().any(|l| l == want.trim()), "{closure}");
    }
}

/// `--readonly-mode`, `--dry-run`, `dummy://` and `eval` compute the same drv path and
/// write nothing: no store directory, no database.
#[test]
fn read_only_evaluation_writes_nothing() {
    let tmp = TempDir::new("sdb-ro");
    let f = write_small(tmp.path());
    let store = tmp.path().join("store");
    let st = s(&store);
    let want = ok(run(&rnix(), &["instantiate", "--store", "dummy://", &s(&f)], tmp.path()), "dummy://");
    assert!(want.starts_with("/nix/store/") && want.trim().ends_with("-small.drv"), "{want}");
    for args in [
        vec!["instantiate", "--readonly-mode", "--store", &st, f.to_str().unwrap()],
        vec!["instantiate", "--dry-run", "--store", &st, f.to_str().unwrap()],
        vec!["instantiate", "--store", "dummy://", f.to_str().unwrap()],
    ] {
        assert_eq!(ok(run(&rnix(), &args, tmp.path()), "read-only"), want, "{args:?}");
    }
    let expr = format!("(import {}).drvPath", f.display());
    let out =
        ok(run(&rnix(), &["eval", "--impure", "--store", "dummy://", "--raw", "--expr", &expr], tmp.path()), "eval");
    assert_eq!(out, want.trim());
    assert!(!store.exists(), "a read-only evaluation created {}", store.display());
}

/// `--add-root PATH`: the root and its indirect link as nix-instantiate makes them, the
/// root printed instead of the drv path; without it, the reference's warning.
#[test]
fn add_root_like_nix_instantiate() {
    let tmp = TempDir::new("sdb-root");
    let f = write_small(tmp.path());
    let store = tmp.path().join("store");
    let out = run(&rnix(), &["instantiate", "--store", &s(&store), &s(&f)], tmp.path());
    let drv = ok(out.clone(), "no root");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "warning: you did not specify '--add-root'; the result might be removed by the garbage collector\n"
    );
    let root = tmp.path().join("result");
    for args in [vec!["--add-root", root.to_str().unwrap()], vec!["--add-root", "result", "--indirect"]] {
        let mut a = vec!["instantiate", "--store", store.to_str().unwrap(), f.to_str().unwrap()];
        a.extend(args);
        let out = run(&rnix(), &a, tmp.path());
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{a:?}");
        assert_eq!(ok(out, "add-root"), format!("{}\n", root.display()));
        assert_eq!(fs::read_link(&root).unwrap(), Path::new(drv.trim()));
        let auto: Vec<PathBuf> =
            fs::read_dir(store.join("nix/var/nix/gcroots/auto")).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(auto.len(), 1);
        assert_eq!(fs::read_link(&auto[0]).unwrap(), root);
        if let Some(nix) = reference("--add-root") {
            // The reference names the indirect root the same way (a hash of the root's path).
            let theirs = tmp.path().join("theirs");
            let rroot = tmp.path().join("result");
            let args =
                ["--store", theirs.to_str().unwrap(), f.to_str().unwrap(), "--add-root", rroot.to_str().unwrap()];
            ok(run(&nix.instantiate, &args, tmp.path()), "nix-instantiate --add-root");
            let names = |d: &Path| -> Vec<std::ffi::OsString> {
                fs::read_dir(d.join("nix/var/nix/gcroots/auto")).unwrap().map(|e| e.unwrap().file_name()).collect()
            };
            assert_eq!(names(&store), names(&theirs));
        }
    }
    // A root inside the store is refused, as the reference refuses it.
    let out = run(&rnix(), &["instantiate", "--store", &s(&store), &s(&f), "--add-root", "/nix/store/x"], tmp.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("in the Nix store is forbidden"));
}
