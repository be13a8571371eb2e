//! The daemon client against the reference: a private `nix-daemon` (CppNix 2.8)
//! on a chroot store per test, and CppNix's own clients (`nix-store`,
//! `nix-instantiate`, `nix path-info`) talking to the same socket as the oracle.
//! Each content test runs at the protocol minor the daemon offers and at older
//! ones (1.24: `AddTextToStore` and the bare-NAR `AddToStore`; 1.29: builds named
//! without `!*`), so every request form is checked against a real daemon.
//!
//! Without `nix-daemon` these tests are skipped with a note, unless `CI` is set,
//! where that is a failure. The fake-daemon tests at the end need nothing: they
//! check that a daemon that hangs, hangs up or talks nonsense gives a clear error.

use std::collections::BTreeSet;
use std::env;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use nix_store_core::daemon::{wire, BuildMode, ConnectOptions, DaemonStore, DerivedPath, LogMode};
use nix_store_core::{FileIngestionMethod, Hash, Store, StorePath};
use rnix_test_support::{find_program, TestDaemon};

/// A scratch directory removed at the end (store directories are read-only: made writable first).
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = env::temp_dir().join(format!("rnix-daemon-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        make_writable(&self.0);
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn make_writable(p: &Path) {
    if let Ok(meta) = fs::symlink_metadata(p) {
        if meta.is_dir() {
            let _ = fs::set_permissions(p, fs::Permissions::from_mode(0o755));
            for e in fs::read_dir(p).into_iter().flatten().flatten() {
                make_writable(&e.path());
            }
        }
    }
}

/// A `nix-daemon --store DIR/store` listening on `DIR/socket` (the shared test helper), with
/// its scratch directory; the daemon is stopped before the directory is removed.
struct Daemon {
    daemon: TestDaemon,
    dir: TempDir,
}

impl Daemon {
    /// Starts a daemon, or returns `None` (with a note) if `nix-daemon` is not installed.
    fn start(tag: &str) -> Option<Daemon> {
        if find_program("nix-daemon").is_none() {
            assert!(env::var_os("CI").is_none(), "nix-daemon is not installed, and CI is set");
            eprintln!("NOTE: nix-daemon not found on PATH: daemon test '{tag}' skipped");
            return None;
        }
        let dir = TempDir::new(tag);
        // Builds in a chroot store are sandboxed; the builder needs /bin/sh and its libraries.
        let daemon = TestDaemon::start(
            &dir.0.join("store"),
            &dir.0.join("socket"),
            "substituters =\nextra-sandbox-paths = /bin? /usr? /lib? /lib64?\n",
        );
        Some(Daemon { daemon, dir })
    }

    fn url(&self) -> String {
        self.daemon.url()
    }

    fn connect(&self, max_minor: u8) -> DaemonStore {
        let opts = ConnectOptions {
            max_minor,
            timeout: Some(Duration::from_secs(60)),
            log: LogMode::Collect,
            real_root: self.dir.0.join("store"),
            ..ConnectOptions::default()
        };
        // A fresh daemon store is created by the first worker process; a worker started at the
        // same time (the listening probe above made one) may find it half-made and hang up.
        let mut tries = 0;
        loop {
            match DaemonStore::connect_with(self.daemon.socket(), opts.clone()) {
                Ok(store) => return store,
                Err(e) if tries < 20 && e.to_string().contains("closed the connection while connecting") => {
                    tries += 1;
                    thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("connecting to the test daemon: {e:?}"),
            }
        }
    }

    /// Runs a CppNix client against this daemon; its stdout, trimmed. Panics on failure.
    fn nix(&self, program: &str, args: &[&str]) -> String {
        let out = Command::new(program)
            .args(["--store", &self.url()])
            .args(args)
            .env("NIX_CONFIG", "experimental-features = nix-command")
            .env_remove("NIX_REMOTE")
            .output()
            .expect("running the reference");
        assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// `nix-store --verify-path` on the daemon's store directly (2.8's client reads the
    /// files itself, so it cannot verify through the socket of a chroot store).
    fn verify(&self, path: &str) {
        let out = Command::new("nix-store")
            .arg("--store")
            .arg(self.dir.0.join("store"))
            .args(["--verify-path", path])
            .env_remove("NIX_REMOTE")
            .output()
            .unwrap();
        assert!(out.status.success(), "verifying {path}: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn store_file(&self, path: &str) -> PathBuf {
        self.dir.0.join("store").join(path.trim_start_matches('/'))
    }
}

/// The protocol minors every content test runs at: what CppNix 2.8 offers, then older forms.
const MINORS: [u8; 3] = [wire::MAX_MINOR, 25, 24];

/// A source tree with a regular file, an executable, a symlink and a subdirectory.
fn make_tree(root: &Path) -> PathBuf {
    let src = root.join("src");
    fs::create_dir_all(src.join("sub")).unwrap();
    fs::write(src.join("a.txt"), "hello\n").unwrap();
    fs::write(src.join("sub/run"), "#!/bin/sh\necho run\n").unwrap();
    fs::set_permissions(src.join("sub/run"), fs::Permissions::from_mode(0o755)).unwrap();
    symlink("a.txt", src.join("link")).unwrap();
    src
}

fn no_filter() -> impl FnMut(&Path, nix_store_core::FileType) -> bool {
    |_, _| true
}

#[test]
fn handshake_negotiates_the_lower_version() {
    let Some(daemon) = Daemon::start("handshake") else { return };
    let store = daemon.connect(wire::MAX_MINOR);
    let (major, minor) = store.protocol_version();
    assert_eq!(major, 1);
    // CppNix 2.8 speaks 1.34: the daemon's version wins, and it says which Nix it is.
    assert!((33..=wire::MAX_MINOR).contains(&minor), "minor {minor}");
    let version = store.daemon_nix_version().expect("a 1.33+ daemon sends its version");
    let reference = Command::new("nix-daemon").arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&reference.stdout).contains(version), "daemon version {version}");
    assert_eq!(store.trusted().is_some(), minor >= 35);

    let old = daemon.connect(21);
    assert_eq!(old.protocol_version(), (1, 21));
    assert_eq!(old.daemon_nix_version(), None);
    assert!(!old.is_valid_path(&StorePath::parse("/nix/store/00000000000000000000000000000000-x").unwrap()).unwrap());
}

#[test]
fn added_sources_and_texts_are_what_the_reference_adds() {
    for minor in MINORS {
        let Some(daemon) = Daemon::start(&format!("add{minor}")) else { return };
        let src = make_tree(&daemon.dir.0);
        let flat = daemon.dir.0.join("flat.bin");
        fs::write(&flat, b"\x00binary\xff").unwrap();
        fs::set_permissions(&flat, fs::Permissions::from_mode(0o755)).unwrap();
        let store = daemon.connect(minor);
        assert_eq!(store.protocol_version().1, minor.min(34));

        // A tree with an executable and a symlink, whose filter drops one entry.
        let (tree, tree_hash) = store
            .add_path("src", &src, FileIngestionMethod::Recursive, &mut |p: &Path, _| !p.ends_with("dropped"))
            .unwrap();
        // A flat file (its executable bit does not count), deferred.
        let (flat_path, _) =
            store.add_path_deferred("flat.bin", &flat, FileIngestionMethod::Flat, &mut no_filter()).unwrap();
        // A text referring to both, as `toFile` makes it.
        let refs: BTreeSet<String> = [tree.clone(), flat_path.clone()].into();
        let contents = format!("tree {tree} flat {flat_path}\n");
        let text = store.add_text("refs.txt", contents.as_bytes(), &refs).unwrap();
        store.flush().unwrap();

        assert_eq!(daemon.nix("nix-store", &["--add", src.to_str().unwrap()]), tree, "minor {minor}");
        assert_eq!(daemon.nix("nix-store", &["--add-fixed", "sha256", flat.to_str().unwrap()]), flat_path);
        let expr = format!(
            "builtins.toFile \"refs.txt\" \"tree ${{builtins.storePath {tree}}} flat ${{builtins.storePath {flat_path}}}\\n\""
        );
        let reference_text = daemon.nix("nix-instantiate", &["--eval", "--read-write-mode", "-E", &expr]);
        assert_eq!(reference_text, format!("\"{text}\""));
        let references = daemon.nix("nix-store", &["-q", "--references", &text]);
        assert_eq!(references.lines().map(str::to_owned).collect::<BTreeSet<_>>(), refs);
        daemon.verify(&tree);
        daemon.verify(&flat_path);
        daemon.verify(&text);
        assert!(fs::symlink_metadata(daemon.store_file(&format!("{tree}/link"))).unwrap().file_type().is_symlink());
        let run = fs::metadata(daemon.store_file(&format!("{tree}/sub/run"))).unwrap();
        assert_eq!(run.permissions().mode() & 0o111, 0o111);
        assert_eq!(fs::read(daemon.store_file(&text)).unwrap(), contents.as_bytes());
        assert_eq!(tree_hash.algo(), nix_store_core::HashAlgo::Sha256);
        // exists and real_path see the daemon's store.
        assert!(store.exists(&tree) && store.exists(&format!("{tree}/sub/run")));
        assert!(!store.exists(&format!("{tree}/missing")));
        assert_eq!(store.real_path(&text), Some(daemon.store_file(&text)));
    }
}

#[test]
fn derivations_instantiated_elsewhere_land_at_the_reference_path() {
    for minor in [wire::MAX_MINOR, 24] {
        let Some(daemon) = Daemon::start(&format!("drv{minor}")) else { return };
        let src = make_tree(&daemon.dir.0);
        let nix = daemon.dir.0.join("d.nix");
        fs::write(
            &nix,
            format!(
                "derivation {{ name = \"d\"; system = \"x86_64-linux\"; builder = \"/bin/sh\"; src = {}; \
                 text = builtins.toFile \"t\" \"x\"; }}",
                src.display()
            ),
        )
        .unwrap();
        // The reference instantiates into a plain chroot store; its files are replayed into the daemon.
        let local = daemon.dir.0.join("local");
        let run = |args: &[&str]| {
            let out = Command::new(args[0]).args(&args[1..]).env_remove("NIX_REMOTE").output().unwrap();
            assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).unwrap().trim().to_owned()
        };
        let local_arg = local.to_str().unwrap();
        let drv = run(&["nix-instantiate", "--store", local_arg, nix.to_str().unwrap()]);
        let store = daemon.connect(minor);
        let closure = run(&["nix-store", "--store", local_arg, "-qR", &drv]);
        // Sources first, then texts in an order where references come first.
        let mut texts = Vec::new();
        for p in closure.lines() {
            let refs: BTreeSet<String> =
                run(&["nix-store", "--store", local_arg, "-q", "--references", p]).lines().map(str::to_owned).collect();
            let on_disk = local.join(p.trim_start_matches('/'));
            let name = StorePath::parse(p).unwrap().name().to_owned();
            if p.ends_with("-src") {
                let (got, _) =
                    store.add_path(&name, &on_disk, FileIngestionMethod::Recursive, &mut no_filter()).unwrap();
                assert_eq!(got, p);
            } else {
                texts.push((p.to_owned(), name, fs::read(&on_disk).unwrap(), refs));
            }
        }
        texts.sort_by_key(|(p, ..)| p.ends_with(".drv"));
        for (p, name, bytes, refs) in &texts {
            assert_eq!(&store.add_text(name, bytes, refs).unwrap(), p);
        }
        store.flush().unwrap();
        assert_eq!(daemon.nix("nix-instantiate", &[nix.to_str().unwrap()]), drv);
        let refs = daemon.nix("nix-store", &["-q", "--references", &drv]);
        let expected = run(&["nix-store", "--store", local_arg, "-q", "--references", &drv]);
        assert_eq!(refs, expected);
        daemon.verify(&drv);
        make_writable(&local);
    }
}

#[test]
fn paths_of_an_open_store_survive_garbage_collection() {
    let Some(daemon) = Daemon::start("gc") else { return };
    let src = make_tree(&daemon.dir.0);
    // Already in the store (added by the reference), so only the temporary root protects it.
    let existing = daemon.nix("nix-store", &["--add", src.to_str().unwrap()]);
    let store = daemon.connect(wire::MAX_MINOR);
    let (tree, _) = store.add_path("src", &src, FileIngestionMethod::Recursive, &mut no_filter()).unwrap();
    assert_eq!(tree, existing);
    let text = store.add_text("new", b"new text", &BTreeSet::new()).unwrap();
    store.flush().unwrap();
    daemon.nix("nix-store", &["--gc"]);
    // Asked on another connection: the store itself remembers what it uploaded.
    let valid = |p: &str| daemon.connect(wire::MAX_MINOR).exists(p) && daemon.store_file(p).exists();
    assert!(valid(&tree) && valid(&text), "collected while the store was open");
    drop(store);
    daemon.nix("nix-store", &["--gc"]);
    assert!(!valid(&tree) && !valid(&text), "not collected after the store was closed");
}

/// The value of `"key":` in `nix path-info --json` output (a number, string or string list).
fn json_field(json: &str, key: &str) -> Option<String> {
    let start = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &json[start..];
    let end = if rest.starts_with('[') { rest.find(']')? + 1 } else { rest.find([',', '}'])? };
    Some(rest[..end].to_owned())
}

#[test]
fn path_info_matches_nix_path_info_and_invalid_paths_are_invalid() {
    let Some(daemon) = Daemon::start("info") else { return };
    let src = make_tree(&daemon.dir.0);
    let store = daemon.connect(wire::MAX_MINOR);
    let (tree, _) = store.add_path("src", &src, FileIngestionMethod::Recursive, &mut no_filter()).unwrap();
    let text = store.add_text("t", tree.as_bytes(), &[tree.clone()].into()).unwrap();
    for path in [&tree, &text] {
        let sp = StorePath::parse(path).unwrap();
        let info = store.query_path_info(&sp).unwrap().expect("valid");
        let json = daemon.nix("nix", &["path-info", "--json", path]);
        let nar_hash = json_field(&json, "narHash").unwrap();
        assert_eq!(info.nar_hash, Hash::parse_any_prefixed(nar_hash.trim_matches('"')).unwrap());
        assert_eq!(info.nar_size.to_string(), json_field(&json, "narSize").unwrap());
        assert_eq!(info.registration_time.to_string(), json_field(&json, "registrationTime").unwrap());
        let refs: Vec<String> = info.references.iter().map(|r| format!("\"{r}\"")).collect();
        assert_eq!(format!("[{}]", refs.join(",")), json_field(&json, "references").unwrap());
        assert_eq!(info.ca.map(|c| format!("\"{c}\"")), json_field(&json, "ca"));
        assert_eq!(info.deriver, None);
        assert!(info.signatures.is_empty());
        assert!(store.is_valid_path(&sp).unwrap());
    }
    let missing = StorePath::parse("/nix/store/00000000000000000000000000000000-missing").unwrap();
    assert_eq!(store.query_path_info(&missing).unwrap(), None);
    assert!(!store.is_valid_path(&missing).unwrap());
    assert!(!store.exists(&missing.to_absolute()));
    let valid = store.query_valid_paths(&[missing, StorePath::parse(&tree).unwrap()]).unwrap();
    assert_eq!(valid, [tree].into());
}

#[test]
fn a_refused_add_is_a_clear_error_and_the_connection_survives() {
    for minor in [wire::MAX_MINOR, 24] {
        let Some(daemon) = Daemon::start(&format!("err{minor}")) else { return };
        let store = daemon.connect(minor);
        let ghost = "/nix/store/00000000000000000000000000000000-ghost".to_owned();
        let started = Instant::now();
        let bad = store.add_text("bad", b"refers to a ghost", &[ghost.clone()].into()).unwrap();
        let err = store.flush().unwrap_err().to_string();
        assert!(err.contains(&format!("path '{ghost}' is not valid")), "minor {minor}: {err}");
        assert!(!err.contains('\x1b'), "colour codes in {err:?}");
        assert!(started.elapsed() < Duration::from_secs(30));
        // Reported once; the connection is still fine.
        store.flush().unwrap();
        assert!(!store.exists(&bad));
        let good = store.add_text("good", b"fine", &BTreeSet::new()).unwrap();
        assert!(store.exists(&good));

        // Refusals among pipelined adds: each is reported once (by a later add or a flush),
        // and the rest land.
        let mut errors = Vec::new();
        let mut add = |name: &str, contents: &[u8], refs: &BTreeSet<String>| loop {
            match store.add_text(name, contents, refs) {
                Ok(p) => return p,
                Err(e) => errors.push(e.to_string()),
            }
        };
        let mut made = Vec::new();
        let mut previous = BTreeSet::new();
        for i in 0..1500 {
            let p = add(&format!("chain-{i}"), format!("link {i} {previous:?}").as_bytes(), &previous);
            previous = [p.clone()].into();
            made.push(StorePath::parse(&p).unwrap());
            if i % 500 == 250 {
                add(&format!("ghost-{i}"), b"x", &[ghost.clone()].into());
            }
        }
        while let Err(e) = store.flush() {
            errors.push(e.to_string());
        }
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors.iter().all(|e| e.contains("is not valid")), "{errors:?}");
        store.flush().unwrap();
        assert_eq!(store.query_valid_paths(&made).unwrap().len(), made.len());
        let last = made.last().unwrap().to_absolute();
        assert_eq!(daemon.nix("nix-store", &["-qR", &last]).lines().count(), made.len());
    }
}

#[test]
fn build_paths_realises_a_derivation() {
    for minor in [wire::MAX_MINOR, 29] {
        let Some(daemon) = Daemon::start(&format!("build{minor}")) else { return };
        let nix = daemon.dir.0.join("d.nix");
        fs::write(
            &nix,
            "derivation { name = \"x\"; system = builtins.currentSystem; builder = \"/bin/sh\"; \
             args = [\"-c\" \"echo building-x; echo hi > $out\"]; }",
        )
        .unwrap();
        let drv = daemon.nix("nix-instantiate", &[nix.to_str().unwrap()]);
        let out = daemon.nix("nix-instantiate", &["--eval", "-E", &format!("(import {}).outPath", nix.display())]);
        let out = StorePath::parse(out.trim_matches('"')).unwrap();
        let store = daemon.connect(minor);
        assert!(!store.is_valid_path(&out).unwrap());
        let target = DerivedPath::Built { drv: StorePath::parse(&drv).unwrap(), outputs: vec![] };
        store.build_paths(&[target], BuildMode::Normal).unwrap();
        assert!(store.is_valid_path(&out).unwrap());
        assert_eq!(fs::read_to_string(daemon.store_file(&out.to_absolute())).unwrap(), "hi\n");
        let logs = store.take_logs();
        assert!(logs.iter().any(|e| e.build_log_line() == Some("building-x")), "minor {minor}: {logs:?}");
        // A failing build is an error with the builder's complaint, not a hang.
        fs::write(&nix, "derivation { name = \"f\"; system = builtins.currentSystem; builder = \"/bin/sh\"; args = [\"-c\" \"exit 3\"]; }").unwrap();
        let drv = daemon.nix("nix-instantiate", &[nix.to_str().unwrap()]);
        let target = DerivedPath::Built { drv: StorePath::parse(&drv).unwrap(), outputs: vec!["out".into()] };
        let err = store.build_paths(&[target], BuildMode::Normal).unwrap_err();
        assert!(err.is_remote() && err.to_string().contains("failed with exit code 3"), "{err}");
    }
}

/// A fake daemon on a fresh socket: `serve` gets the accepted connection.
fn fake_daemon(tag: &str, serve: impl FnOnce(std::os::unix::net::UnixStream) + Send + 'static) -> (TempDir, PathBuf) {
    let dir = TempDir::new(tag);
    let socket = dir.0.join("socket");
    let listener = UnixListener::bind(&socket).unwrap();
    thread::spawn(move || {
        if let Ok((conn, _)) = listener.accept() {
            serve(conn);
        }
    });
    (dir, socket)
}

fn u64s(values: &[u64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn string(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    wire::write_bytes(&mut out, s.as_bytes()).unwrap();
    out
}

/// The daemon half of a handshake at `minor` (33 or later; 35 says "trusted") and of
/// `SetOptions` (no overrides).
fn fake_handshake_at(conn: &mut std::os::unix::net::UnixStream, minor: u8) {
    let mut buf = [0u8; 8];
    conn.read_exact(&mut buf).unwrap();
    conn.write_all(&u64s(&[wire::WORKER_MAGIC_2, wire::version(minor)])).unwrap();
    let mut client = [0u8; 24]; // version, affinity, reserve space
    conn.read_exact(&mut client).unwrap();
    assert_eq!(u64::from_le_bytes(client[..8].try_into().unwrap()), wire::version(minor));
    conn.write_all(&string("2.8.0")).unwrap();
    if minor >= 35 {
        conn.write_all(&u64s(&[1])).unwrap();
    }
    conn.write_all(&u64s(&[wire::STDERR_LAST])).unwrap();
    let mut options = [0u8; 14 * 8];
    conn.read_exact(&mut options).unwrap();
    conn.write_all(&u64s(&[wire::STDERR_LAST])).unwrap();
}

fn fake_handshake(conn: &mut std::os::unix::net::UnixStream) {
    fake_handshake_at(conn, 34)
}

fn quick(socket: &Path) -> Result<DaemonStore, nix_store_core::daemon::DaemonError> {
    let opts = ConnectOptions { timeout: Some(Duration::from_secs(1)), log: LogMode::Collect, ..Default::default() };
    DaemonStore::connect_with(socket, opts)
}

#[test]
fn a_silent_daemon_times_out() {
    let (_dir, socket) = fake_daemon("silent", |conn| {
        thread::sleep(Duration::from_secs(5));
        drop(conn);
    });
    let started = Instant::now();
    let err = quick(&socket).err().expect("no answer").to_string();
    assert!(err.contains("did not answer in time while connecting"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[test]
fn a_daemon_that_hangs_up_gives_a_clear_error() {
    let (_dir, socket) = fake_daemon("hangup", |mut conn| {
        let mut buf = [0u8; 8];
        let _ = conn.read_exact(&mut buf);
    });
    let err = quick(&socket).err().expect("hung up").to_string();
    assert!(err.contains("closed the connection while connecting"), "{err}");

    // Hanging up later: queued work fails, and so does everything after.
    let (_dir2, socket) = fake_daemon("hangup-later", |mut conn| fake_handshake(&mut conn));
    let store = quick(&socket).unwrap();
    assert_eq!(store.daemon_nix_version(), Some("2.8.0"));
    store.add_text("t", b"x", &BTreeSet::new()).unwrap();
    let err = store.flush().unwrap_err().to_string();
    assert!(err.contains("closed the connection"), "{err}");
    assert!(store.add_text("u", b"y", &BTreeSet::new()).is_err());

    let err = DaemonStore::connect("/nonexistent/socket").err().unwrap().to_string();
    assert!(err.starts_with("cannot connect to the Nix daemon at '/nonexistent/socket'"), "{err}");
}

#[test]
fn a_newer_daemon_says_whether_it_trusts_us() {
    let (_dir, socket) = fake_daemon("trusted", |mut conn| {
        fake_handshake_at(&mut conn, 35);
        thread::sleep(Duration::from_millis(200));
    });
    let store = quick(&socket).unwrap();
    assert_eq!(store.protocol_version(), (1, 35));
    assert_eq!(store.trusted(), Some(true));
}

#[test]
fn a_daemon_speaking_another_protocol_is_refused() {
    let (_dir, socket) = fake_daemon("magic", |mut conn| {
        let _ = conn.write_all(&u64s(&[0x1234, wire::version(34)]));
        thread::sleep(Duration::from_millis(500));
    });
    let err = quick(&socket).err().unwrap().to_string();
    assert!(err.contains("protocol error") && err.contains("0x1234"), "{err}");
    let (_dir2, socket) = fake_daemon("old", |mut conn| {
        let _ = conn.write_all(&u64s(&[wire::WORKER_MAGIC_2, wire::version(20)]));
        thread::sleep(Duration::from_millis(500));
    });
    let err = quick(&socket).err().unwrap().to_string();
    assert!(err.contains("speaks protocol 1.20") && err.contains("1.21"), "{err}");
}

#[test]
fn log_messages_and_structured_errors_are_decoded() {
    let (_dir, socket) = fake_daemon("logs", |mut conn| {
        fake_handshake(&mut conn);
        let mut request = [0u8; 8 + 8 + 48]; // IsValidPath, a 45-byte path padded to 48
        conn.read_exact(&mut request).unwrap();
        let mut reply = u64s(&[wire::STDERR_NEXT]);
        reply.extend(string("\x1b[31;1mwarning:\x1b[0m careful\n"));
        reply.extend(u64s(&[wire::STDERR_START_ACTIVITY, 7, 3, 105]));
        reply.extend(string("building '/nix/store/x.drv'"));
        reply.extend(u64s(&[1, 1]));
        reply.extend(string("/nix/store/x.drv"));
        reply.extend(u64s(&[0, wire::STDERR_RESULT, 7, 101, 1, 1]));
        reply.extend(string("a line"));
        reply.extend(u64s(&[wire::STDERR_STOP_ACTIVITY, 7, wire::STDERR_ERROR]));
        reply.extend(string("Error"));
        reply.extend(u64s(&[0]));
        reply.extend(string("Error"));
        reply.extend(string("it \x1b[35;1mbroke\x1b[0m"));
        reply.extend(u64s(&[0, 1, 0]));
        reply.extend(string("while doing something"));
        conn.write_all(&reply).unwrap();
        thread::sleep(Duration::from_millis(500));
    });
    let store = quick(&socket).unwrap();
    let path = StorePath::parse("/nix/store/00000000000000000000000000000000-x").unwrap();
    assert_eq!(path.to_absolute().len(), 45);
    let err = store.is_valid_path(&path).unwrap_err();
    assert!(err.is_remote());
    assert_eq!(err.to_string(), "while doing something\nit broke");
    let logs = store.take_logs();
    assert_eq!(logs.len(), 4, "{logs:?}");
    assert_eq!(logs[0], nix_store_core::daemon::LogEvent::Message("warning: careful".into()));
    assert_eq!(logs[2].build_log_line(), Some("a line"));
}

/// A client that cannot see the daemon's files (`real_root` wrong, as for any daemon whose
/// store is not this machine's `/nix/store`) still reads what it added: from the source
/// while it is unchanged, else from the NAR the daemon sends (`NarFromPath`).
#[test]
fn paths_the_client_cannot_see_are_read_from_their_source_or_the_daemon() {
    let Some(daemon) = Daemon::start("realpath") else { return };
    let src = make_tree(&daemon.dir.0);
    let opts = ConnectOptions {
        timeout: Some(Duration::from_secs(60)),
        log: LogMode::Collect,
        real_root: daemon.dir.0.join("elsewhere"),
        ..ConnectOptions::default()
    };
    let _probe = daemon.connect(wire::MAX_MINOR);
    let store = DaemonStore::connect_with(daemon.daemon.socket(), opts).unwrap();
    let (tree, hash) = store.add_path("src", &src, FileIngestionMethod::Recursive, &mut no_filter()).unwrap();
    // Unchanged source: read there.
    assert_eq!(store.real_path(&format!("{tree}/a.txt")), Some(src.join("a.txt")));
    // A filtered copy is not its source: fetched from the daemon, with the entry dropped.
    let (filtered, filtered_hash) = store
        .add_path("filtered", &src, FileIngestionMethod::Recursive, &mut |p: &Path, _| !p.ends_with("a.txt"))
        .unwrap();
    let copy = store.real_path(&filtered).unwrap();
    assert!(!copy.starts_with(&src) && !copy.join("a.txt").exists() && copy.join("sub/run").is_file());
    assert_eq!(nix_store_core::nar::nar_hash_path(&copy, &mut no_filter()).unwrap(), filtered_hash);
    // The source gone: fetched too, the same NAR, executable bit and symlink included.
    fs::remove_dir_all(&src).unwrap();
    let copy = store.real_path(&tree).unwrap();
    assert_eq!(nix_store_core::nar::nar_hash_path(&copy, &mut no_filter()).unwrap(), hash);
    assert_eq!(fs::read_to_string(store.real_path(&format!("{tree}/link")).unwrap()).unwrap(), "hello\n");
    // Not valid: nothing to fetch; the connection still works afterwards.
    let missing = "/nix/store/00000000000000000000000000000000-missing";
    assert!(!store.real_path(missing).unwrap().exists());
    assert!(store.exists(&tree));
    let cache = copy.ancestors().nth(3).unwrap().to_path_buf();
    drop(store);
    assert!(!cache.exists(), "the NAR cache {} outlives its store", cache.display());
}
