//! The worker process (`eval-jobs --worker …`): evaluates the root once, then answers one
//! attribute path per line on stdin with one [`Outcome`] line on stdout. After each job it
//! waits for the store writes (so a printed `.drv` is in the store) and makes the GC root;
//! [`super::pool::serve`] keeps it under `--max-memory-size` ([`super::memory`]).

use std::path::Path;

use super::job::classify;
use super::options::Options;
use super::protocol::{parse_request, Outcome};
use super::session::Session;
use serde_json::json;

/// Test hook: a worker asked for an attribute of this name aborts, as a crash would.
const ABORT_ON_ENV: &str = "RNIX_EVAL_JOBS_TEST_ABORT_ON";

/// Runs a worker process: evaluates the root, then answers requests on stdin; the exit status.
pub fn main(o: &Options) -> u8 {
    let mut session = None;
    let opened = Session::open(o).map(|s| session = Some(s));
    let abort_on = std::env::var(ABORT_ON_ENV).ok();
    super::pool::serve(opened, false, o.max_memory_size, |request| {
        let Some(session) = session.as_mut() else { return json!({ "error": "no session" }) };
        let Some(path) = parse_request(&request) else {
            return json!({ "error": format!("error: eval-jobs worker: bad request '{request}'") });
        };
        if abort_on.is_some() && path.last() == abort_on.as_ref() {
            std::process::abort();
        }
        evaluate(session, o, &path).to_json()
    })
}

fn evaluate(s: &mut Session, o: &Options, path: &[String]) -> Outcome {
    let show = o.show_trace;
    let outcome = match s.select(path) {
        Ok(v) => match classify(&mut s.ev, &v, path.len(), o.force_recurse, o.meta) {
            Ok(x) => x,
            Err(e) => Outcome::Error(e.render(show).trim_end().to_owned()),
        },
        Err(e) => Outcome::Error(e.render(show).trim_end().to_owned()),
    };
    let Outcome::Job(job) = &outcome else {
        return outcome;
    };
    if let Err(e) = nix_builtins::store::flush_store(&mut s.ev) {
        return Outcome::Error(format!("error: {e}"));
    }
    if let (Some(dir), Some(drv)) = (&o.gc_roots_dir, job.get("drvPath").and_then(|d| d.as_str())) {
        let name = Path::new(drv).file_name().map(|n| dir.join(n)).unwrap_or_else(|| dir.clone());
        // The store makes the root as `instantiate --add-root` does (none in `dummy://`).
        let store = s.ev.ext::<nix_builtins::store::StoreState>().store.clone();
        let made = std::fs::create_dir_all(dir)
            .map_err(|e| e.to_string())
            .and_then(|_| store.add_perm_root(drv, &name).map_err(|e| e.to_string()));
        if let Err(e) = made {
            return Outcome::Error(format!("error: cannot make the GC root '{}': {e}", name.display()));
        }
    }
    outcome
}
