//! One evaluation session per command: the settings, the search path, the stores and
//! the evaluator, built in one place ([`Session::open`]) for every command of the
//! `rnix-eval` binary, and the one place errors are rendered ([`Session::render_error`]).

use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::cli::search_path;
use nix_eval::error::EvalError;
pub use nix_eval::ErrorFormat;
use nix_eval::{Eval, EvalBuilder, Settings};
use nix_store_core::{DirStore, ReadOnlyStore, ResolvedStore, Store, StoreUrl};

/// Everything a command line says about how to evaluate.
#[derive(Clone, Debug, Default)]
pub struct SessionOptions {
    /// Pure evaluation (`--pure-eval`, flakes unless `--impure`).
    pub pure: bool,
    /// `--restrict-eval`: file access limited to the search path and allowed URIs.
    pub restrict: bool,
    /// `-I` entries, in order (before `NIX_PATH`).
    pub includes: Vec<String>,
    /// `--option nix-path …`: replaces `NIX_PATH`.
    pub nix_path_setting: Option<String>,
    /// `allowed-uris`: URI prefixes fetchers may use in restricted mode.
    pub allowed_uris: Vec<String>,
    /// `max-call-depth`: the evaluator's recursion limit.
    pub max_call_depth: Option<usize>,
    /// `--show-trace`: errors print their whole trace.
    pub show_trace: bool,
    /// `experimental-features` (and `extra-…`), in order.
    pub experimental: Vec<String>,
    /// Lint settings passed to the evaluator (name, level).
    pub lints: Vec<(String, String)>,
    /// `--trace-function-calls`: a line on stderr around every call.
    pub trace_function_calls: bool,
    /// `--system` / `--option system`: `builtins.currentSystem` and flake defaults.
    pub system: Option<String>,
    /// `--store URL` / `--option store URL`; `NIX_REMOTE` otherwise.
    pub store: Option<String>,
    /// The `commit-lockfile-summary` setting (`--commit-lock-file`'s first line).
    pub commit_lock_file_summary: Option<String>,
    /// `--flake-registry FILE`.
    pub global_registry: Option<PathBuf>,
    /// `--accept-flake-config`: apply a flake's `nixConfig` instead of ignoring it.
    pub accept_flake_config: bool,
    /// The evaluation store writes nothing (`.drv` files are only computed).
    pub eval_read_only: bool,
    /// Fetched sources are written to the store even when evaluation does not write.
    pub fetch_writes: bool,
    /// `-v` count minus `--quiet` count.
    pub verbosity: i32,
    /// `--error-format`: how errors are printed.
    pub error_format: ErrorFormat,
    /// `--option allow-import-from-derivation false`: reading a derivation's output during
    /// evaluation is an error instead of a build.
    pub forbid_ifd: bool,
}

impl SessionOptions {
    /// Whether an experimental feature is on.
    pub fn has_feature(&self, f: &str) -> bool {
        self.experimental.iter().any(|x| x == f)
    }

    /// The search path: `-I` entries, then `--option nix-path` or else `NIX_PATH`; empty in
    /// pure mode (2.8's `EvalState` ignores it there).
    pub fn search_path(&self) -> Vec<String> {
        if self.pure {
            return Vec::new();
        }
        let env = std::env::var("NIX_PATH").ok();
        search_path::search_path(&self.includes, self.nix_path_setting.as_deref().or(env.as_deref()))
    }
}

/// The evaluator with its stores, as every command uses it.
pub struct Session {
    /// The evaluator, with builtins, flake support and stores installed.
    pub ev: Eval,
    /// The options the session was opened with.
    pub options: SessionOptions,
}

/// Opens the store named by `spec` (else `NIX_REMOTE`, else `auto`); `read_only` stores
/// compute paths and write nothing, touching no database. Returns a notice to show.
pub fn open_store_url(spec: Option<&str>, read_only: bool) -> Result<(Rc<dyn Store>, Option<String>), String> {
    let env = std::env::var("NIX_REMOTE").ok();
    let spec = spec.or(env.as_deref()).unwrap_or("auto");
    let url = StoreUrl::parse(spec, &cwd()).map_err(|e| e.to_string())?;
    let (url, notice) = url.resolve(read_only);
    let opened: Rc<dyn Store> = match url {
        ResolvedStore::Dummy => Rc::new(ReadOnlyStore::new()),
        ResolvedStore::Local { root } if read_only => Rc::new(ReadOnlyStore::over(root)),
        ResolvedStore::Local { root } => Rc::new(DirStore::new(root)),
        // Connected only if import from derivation needs a build (or `--add-root` a root).
        ResolvedStore::Daemon { socket } if read_only => {
            Rc::new(ReadOnlyStore::over_daemon(StoreUrl::socket_path(socket.as_deref())))
        }
        // Connected at the first use, as 2.8 does (`--eval -E 1` needs no daemon).
        ResolvedStore::Daemon { socket } => {
            Rc::new(nix_store_core::daemon::LazyDaemonStore::new(StoreUrl::socket_path(socket.as_deref())))
        }
    };
    Ok((opened, notice))
}

impl Session {
    /// Builds the evaluator and opens the stores `o` asks for. Notices (such as the store
    /// chosen for `auto`) are printed on stderr, unless `--quiet` (verbosity below 0).
    pub fn open(o: SessionOptions) -> Result<Session, String> {
        let mut settings = Settings { pure: o.pure, restrict: o.restrict, ..Settings::default() };
        settings.nix_path = o.search_path();
        settings.show_trace = o.show_trace;
        if let Some(d) = o.max_call_depth {
            settings.max_call_depth = d;
        }
        if let Some(s) = &o.system {
            settings.system = s.clone();
        }
        settings.experimental_features = o.experimental.clone();
        settings.lints = o.lints.clone();
        settings.trace_function_calls = o.trace_function_calls;
        let flakes = o.has_feature("flakes");
        let mut ev = crate::eval::install(nix_builtins::install(EvalBuilder::new(settings)), flakes).build();
        let (eval_store, notice) = open_store_url(o.store.as_deref(), o.eval_read_only)?;
        let show_notice = |n: Option<String>| {
            if let (Some(n), true) = (n, o.verbosity >= 0) {
                eprintln!("{n}");
            }
        };
        show_notice(notice);
        let fetch_store = if o.eval_read_only && o.fetch_writes {
            let (s, notice) = open_store_url(o.store.as_deref(), false)?;
            show_notice(notice);
            s
        } else {
            eval_store.clone()
        };
        {
            let state = ev.ext::<crate::eval::FlakeState>();
            state.allowed_uris = o.allowed_uris.clone();
            state.global_registry = o.global_registry.clone();
        }
        // Fetches and, in pure or restricted mode, file access limited to the allowed roots.
        crate::eval::setup(&mut ev, eval_store, fetch_store);
        ev.ext::<nix_builtins::store::StoreState>().allow_import_from_derivation = !o.forbid_ifd;
        crate::progress::set_verbosity(o.verbosity);
        Ok(Session { ev, options: o })
    }

    /// An evaluation error as the user asked to see it (`--show-trace`, `--error-format`).
    pub fn render_error(&self, e: &EvalError) -> String {
        render_error(e, self.options.show_trace, self.options.error_format)
    }

    /// Waits for the store writes still queued; false (after printing the error) if one failed.
    pub fn flush_store_or_report(&mut self) -> bool {
        match nix_builtins::store::flush_store(&mut self.ev) {
            Ok(()) => true,
            Err(e) => {
                eprintln!("error: {}", e);
                false
            }
        }
    }
}

/// An evaluation error as the user asked to see it: the one place errors are rendered.
pub fn render_error(e: &EvalError, show_trace: bool, format: ErrorFormat) -> String {
    e.render_as(show_trace, format)
}

/// `e` with the outermost context `… msg` (no position): after the message in text, as
/// `nix flake check` prints it (before the `--show-trace` hint), an outermost trace frame in
/// the other formats.
pub fn render_error_with_context(e: &EvalError, show_trace: bool, format: ErrorFormat, msg: &str) -> String {
    match format {
        ErrorFormat::Text => {
            let mut text = e.render(show_trace);
            let at = text.strip_suffix(nix_eval::error::SHOW_TRACE_HINT).map_or(text.len(), |t| t.len() - 1);
            text.insert_str(at, &format!("\n       … {msg}"));
            text
        }
        format => {
            let mut e = e.clone();
            e.trace.push(nix_eval::error::TraceFrame { pos: nix_eval::source::Pos::NONE, msg: msg.to_string() });
            e.render_as(show_trace, format)
        }
    }
}

/// The working directory (`/` if it cannot be read).
pub fn cwd() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"))
}

/// `p` made absolute against the working directory and canonicalised as Nix paths are.
pub fn absolute(p: &str) -> String {
    if p.starts_with('/') {
        nix_eval::canon_path(p)
    } else {
        nix_eval::canon_path(&format!("{}/{}", cwd().display(), p))
    }
}

/// The directory holding `path` (the working directory if it has none).
pub fn parent_dir(path: &str) -> PathBuf {
    Path::new(path).parent().map(PathBuf::from).unwrap_or_else(cwd)
}
