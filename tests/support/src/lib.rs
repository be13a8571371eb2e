//! Helpers that integration tests in several crates need, kept once here (a dev-dependency
//! of `nix-store-core`, `nix-flake` and `rnix-tests`) instead of copied into each crate.
//!
//! [`TestDaemon`] starts the reference's `nix-daemon` (CppNix 2.8) on a private store and
//! returns only once a reference client completes a full handshake: a fresh daemon's first
//! worker creates the store, and a client connecting meanwhile is hung up on during the
//! handshake, which made tests that connected as soon as the socket existed flaky.

#![warn(missing_docs)]

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long a fresh daemon may take to answer a full handshake.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The first `name` on `PATH` that is a file.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let paths = env::var_os("PATH")?;
    env::split_paths(&paths).map(|d| d.join(name)).find(|p| p.is_file())
}

/// A `nix-daemon --store STORE` listening on a private socket; killed when dropped.
pub struct TestDaemon {
    child: Child,
    socket: PathBuf,
}

impl TestDaemon {
    /// Starts `nix-daemon --store STORE` on `socket` with `NIX_CONFIG` set to `nix_config`
    /// (and `NIX_REMOTE` removed), and waits until `nix store ping` gets through. Panics if
    /// the daemon exits or does not answer within 30 s; callers check first that
    /// `nix-daemon` is installed ([`find_program`]).
    pub fn start(store: &Path, socket: &Path, nix_config: &str) -> TestDaemon {
        TestDaemon::spawn(Some(store), socket, nix_config)
    }

    /// As [`TestDaemon::start`], but on this machine's own store (`/nix`), with a private
    /// socket: what it builds is where the reference's clients read it back.
    pub fn start_on_host(socket: &Path, nix_config: &str) -> TestDaemon {
        TestDaemon::spawn(None, socket, nix_config)
    }

    fn spawn(store: Option<&Path>, socket: &Path, nix_config: &str) -> TestDaemon {
        let mut command = Command::new("nix-daemon");
        if let Some(store) = store {
            command.arg("--store").arg(store);
        }
        let child = command
            .env("NIX_DAEMON_SOCKET_PATH", socket)
            .env("NIX_CONFIG", nix_config)
            .env_remove("NIX_REMOTE")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting nix-daemon");
        let mut daemon = TestDaemon { child, socket: socket.to_path_buf() };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let ping = Command::new("nix")
                .args(["--extra-experimental-features", "nix-command", "store", "ping", "--store", &daemon.url()])
                .env_remove("NIX_REMOTE")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            if ping.is_ok_and(|s| s.success()) {
                return daemon;
            }
            if let Ok(Some(status)) = daemon.child.try_wait() {
                panic!("nix-daemon exited before answering: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "nix store ping on {} failed for {} s",
                daemon.socket.display(),
                START_TIMEOUT.as_secs()
            );
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// `unix://SOCKET`, the store URL of this daemon.
    pub fn url(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// The socket the daemon listens on.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Stops the daemon now (dropping does the same).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        self.stop();
    }
}
