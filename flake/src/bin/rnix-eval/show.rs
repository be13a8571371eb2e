//! `flake show [--json] [--legacy]`: the outputs as 2.8 draws them (spec §7).
//!
//! A tree with the reference's connectors and ANSI codes (2.8 emits them even to a pipe),
//! or one line of JSON with sorted keys. Which attribute paths are recursed into, shown as
//! derivations, apps, templates, overlays, modules or configurations is 2.8's table; all
//! systems are evaluated (2.8 has no `--all-systems`; the flag is accepted and ignored).
//! Each visited path is an `evaluating '…'...` line on stderr, as 2.8 prints its activity.
//!
//! With `-j N` the derivations (`checks`, `packages`, `devShells`, `defaultPackage`,
//! `devShell`, `formatter` leaves: each may be a whole NixOS system) are shown by N worker
//! processes (`flake show --worker`, see `nix_flake::eval_jobs::pool`): the walk records
//! its stdout and stderr text with the derivations in their places, and prints each
//! derivation's lines (and its error, which ends the run as it would) in that place, so the
//! output is that of the single-process run. The first derivations are shown in this
//! process, until they took as long as a worker needs to start (see `run_segments`): a
//! small flake starts no worker.

use std::io::Write;
use std::time::{Duration, Instant};

use nix_eval::error::{ErrorKind, EvalError, Result};
use nix_eval::{CoerceOpts, Eval, Symbol, Value};
use serde_json::{Map, Value as Json};

use nix_flake::eval_jobs::pool::{self, Answer, WorkerSpec};
use serde_json::json;

use crate::args::FlakeOpts;
use crate::flake_cmd::{lock, outputs, parse_installable};

/// The key of a placeholder object in a collecting walk's JSON: the unit's index.
const UNIT_KEY: &str = "\u{0}rnix-eval-unit";

/// A collecting walk's output: stdout and stderr text, and derivations to show in place.
enum Segment {
    Out(String),
    Err(String),
    Unit { path: Vec<String>, header: String, next: String },
}

const GREEN: &str = "\x1b[32;1m";
const BOLD: &str = "\x1b[1m";
const NORMAL: &str = "\x1b[0m";
const MAGENTA: &str = "\x1b[35;1m";

struct Shower<'a> {
    json: bool,
    legacy: bool,
    out: &'a mut dyn Write,
    /// `Some`: record text and derivations instead of printing and evaluating them.
    segments: Option<Vec<Segment>>,
}

/// Whether the value at `path` is shown as a derivation (and so is a unit for workers).
fn is_derivation_leaf(path: &[String]) -> bool {
    let first = path.first().map(String::as_str).unwrap_or("");
    (path.len() == 2 && ["defaultPackage", "devShell", "formatter"].contains(&first))
        || (path.len() == 3 && ["checks", "packages", "devShells"].contains(&first))
}

fn err(msg: &str) -> Box<EvalError> {
    EvalError::new(ErrorKind::Other, msg.to_owned())
}

fn get_string(ev: &mut Eval, a: &nix_eval::Attrs, name: &str) -> Result<String> {
    let Some(v) = a.get(Symbol::new(name)).cloned() else {
        return Err(EvalError::new(ErrorKind::MissingAttr, format!("attribute '{name}' missing")));
    };
    let v = ev.force(&v)?;
    Ok(ev.coerce_to_string(&v, nix_eval::source::Pos::NONE, CoerceOpts::NO_COPY)?.to_str_lossy().into_owned())
}

impl Shower<'_> {
    fn line(&mut self, s: &str) {
        if self.json {
            return;
        }
        match &mut self.segments {
            Some(segments) => segments.push(Segment::Out(format!("{s}\n"))),
            None => {
                let _ = writeln!(self.out, "{s}");
            }
        }
    }

    fn err_line(&mut self, s: &str) {
        match &mut self.segments {
            Some(segments) => segments.push(Segment::Err(format!("{s}\n"))),
            None => eprintln!("{s}"),
        }
    }

    fn visit(
        &mut self,
        ev: &mut Eval,
        v: &Value,
        path: &[String],
        header: &str,
        next: &str,
    ) -> Result<Map<String, Json>> {
        if let Some(segments) = &mut self.segments {
            if is_derivation_leaf(path) {
                let unit = segments.iter().filter(|s| matches!(s, Segment::Unit { .. })).count();
                segments.push(Segment::Unit { path: path.to_vec(), header: header.to_owned(), next: next.to_owned() });
                return Ok(Map::from_iter([(UNIT_KEY.to_owned(), json!(unit))]));
            }
        }
        // 2.8 reports each attribute path it visits as an activity, on stderr.
        self.err_line(&format!("evaluating '{}'...", path.join(".")));
        let r = self.visit_inner(ev, v, path, header, next);
        match r {
            Err(_) if path.first().map(String::as_str) == Some("legacyPackages") => Ok(Map::new()),
            r => r,
        }
    }

    fn visit_inner(
        &mut self,
        ev: &mut Eval,
        v: &Value,
        path: &[String],
        header: &str,
        next: &str,
    ) -> Result<Map<String, Json>> {
        let mut j = Map::new();
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        let n = p.len();
        let first = p.first().copied().unwrap_or("");
        let recurse_here = n == 0
            || (n == 1
                && [
                    "defaultPackage",
                    "devShell",
                    "formatter",
                    "nixosConfigurations",
                    "nixosModules",
                    "defaultApp",
                    "templates",
                    "overlays",
                ]
                .contains(&first))
            || ((n == 1 || n == 2) && ["checks", "packages", "devShells", "apps"].contains(&first));
        if recurse_here {
            self.recurse(ev, v, path, header, next, &mut j)?;
        } else if (n == 2 && ["defaultPackage", "devShell", "formatter"].contains(&first))
            || (n == 3 && ["checks", "packages", "devShells"].contains(&first))
        {
            match derivation(ev, v)? {
                Some(a) => self.show_derivation(ev, &a, &p, header, &mut j)?,
                None => return Err(err("expected a derivation")),
            }
        } else if first == "hydraJobs" {
            match derivation(ev, v)? {
                Some(a) => self.show_derivation(ev, &a, &p, header, &mut j)?,
                None => self.recurse(ev, v, path, header, next, &mut j)?,
            }
        } else if first == "legacyPackages" {
            if n == 1 {
                self.recurse(ev, v, path, header, next, &mut j)?;
            } else if !self.legacy {
                self.err_line(&format!("warning: {header}: {MAGENTA}omitted{NORMAL} (use '--legacy' to show)"));
            } else if let Some(a) = derivation(ev, v)? {
                self.show_derivation(ev, &a, &p, header, &mut j)?;
            } else if n <= 2 {
                self.recurse(ev, v, path, header, next, &mut j)?;
            }
        } else if (n == 2 && first == "defaultApp") || (n == 3 && first == "apps") {
            let v = ev.force(v)?;
            let is_app = match &v {
                Value::Attrs(a) => a.contains(Symbol::new("type")) && get_string(ev, a, "type")? == "app",
                _ => false,
            };
            if !is_app {
                return Err(err("not an app definition"));
            }
            if self.json {
                j.insert("type".into(), "app".into());
            } else {
                self.line(&format!("{header}: app"));
            }
        } else if (n == 1 && first == "defaultTemplate") || (n == 2 && first == "templates") {
            let v = ev.force(v)?;
            let Value::Attrs(a) = &v else {
                return Err(err("expected a set"));
            };
            let d = get_string(ev, a, "description")?;
            if self.json {
                j.insert("type".into(), "template".into());
                j.insert("description".into(), d.into());
            } else {
                self.line(&format!("{header}: template: {BOLD}{d}{NORMAL}"));
            }
        } else {
            let (ty, desc) = if (n == 1 && first == "overlay") || (n == 2 && first == "overlays") {
                ("nixpkgs-overlay", "Nixpkgs overlay")
            } else if n == 2 && first == "nixosConfigurations" {
                ("nixos-configuration", "NixOS configuration")
            } else if (n == 1 && first == "nixosModule") || (n == 2 && first == "nixosModules") {
                ("nixos-module", "NixOS module")
            } else {
                ("unknown", "unknown")
            };
            if self.json {
                j.insert("type".into(), ty.into());
            } else {
                self.line(&format!("{header}: {MAGENTA}{desc}{NORMAL}"));
            }
        }
        Ok(j)
    }

    fn recurse(
        &mut self,
        ev: &mut Eval,
        v: &Value,
        path: &[String],
        header: &str,
        next: &str,
        j: &mut Map<String, Json>,
    ) -> Result<()> {
        self.line(header);
        let v = ev.force(v)?;
        let Value::Attrs(a) = &v else {
            return Err(EvalError::new(ErrorKind::Type, format!("expected a set but found {}", v.ty().describe())));
        };
        let attrs: Vec<(String, Value)> =
            a.sorted().iter().map(|x| (x.name.as_str().to_owned(), x.value.clone())).collect();
        for (i, (name, value)) in attrs.iter().enumerate() {
            let last = i + 1 == attrs.len();
            let mut p2 = path.to_vec();
            p2.push(name.clone());
            let h = format!("{GREEN}{next}{}{NORMAL}{BOLD}{name}{NORMAL}", if last { "└───" } else { "├───" });
            let nx = format!("{next}{}", if last { "    " } else { "│   " });
            let j2 = self.visit(ev, value, &p2, &h, &nx)?;
            if self.json {
                j.insert(name.clone(), Json::Object(j2));
            }
        }
        Ok(())
    }

    fn show_derivation(
        &mut self,
        ev: &mut Eval,
        a: &nix_eval::Attrs,
        p: &[&str],
        header: &str,
        j: &mut Map<String, Json>,
    ) -> Result<()> {
        let name = get_string(ev, a, "name")?;
        if self.json {
            let mut desc = None;
            if let Some(m) = a.get(Symbol::new("meta")).cloned() {
                if let Value::Attrs(m) = ev.force(&m)? {
                    if m.contains(Symbol::new("description")) {
                        desc = Some(get_string(ev, &m, "description")?);
                    }
                }
            }
            j.insert("type".into(), "derivation".into());
            j.insert("name".into(), name.into());
            if let Some(d) = desc {
                j.insert("description".into(), d.into());
            }
        } else {
            let n = p.len();
            let kind = if (n == 2 && p[0] == "devShell") || (n >= 2 && p[0] == "devShells") {
                "development environment"
            } else if (n == 3 && p[0] == "checks") || (n >= 1 && p[0] == "hydraJobs") {
                "derivation"
            } else {
                "package"
            };
            self.line(&format!("{header}: {kind} '{name}'"));
        }
        Ok(())
    }
}

/// The set if `v` is a derivation (`type = "derivation"`).
fn derivation(ev: &mut Eval, v: &Value) -> Result<Option<nix_eval::Attrs>> {
    let v = ev.force(v)?;
    match &v {
        Value::Attrs(a) if ev.is_derivation(a)? => Ok(Some(a.clone())),
        _ => Ok(None),
    }
}

pub fn show(ev: &mut Eval, opts: &FlakeOpts, installable: &str, stdout: &mut dyn Write) -> Result<u8> {
    if opts.pool.worker {
        return Ok(worker(ev, opts, installable));
    }
    let begun = Instant::now();
    let (r, _) = parse_installable(installable)?;
    let locked = lock(ev, opts, &r)?;
    let outs = outputs(ev, &locked)?;
    let header = format!("{BOLD}{}{NORMAL}", locked.flake.locked_ref);
    let collect = opts.pool.jobs > 1;
    let mut s = Shower { json: opts.json, legacy: opts.legacy, out: stdout, segments: collect.then(Vec::new) };
    let mut walked = s.visit(ev, &outs, &[], &header, "");
    if let Some(segments) = s.segments.take() {
        // What the walk met before an error of its own is shown first, as it would be.
        let startup = begun.elapsed();
        let Some(units) = run_segments(ev, opts, &outs, startup, segments, stdout) else { return Ok(1) };
        if let Ok(j) = &mut walked {
            fill_units(j, &units);
        }
    }
    let j = walked?;
    if opts.json {
        let _ = writeln!(stdout, "{}", nix_flake::json::to_compact(&Json::Object(j)));
    }
    Ok(0)
}

/// The least time derivations are shown in this process before the rest go to workers.
const MIN_IN_PROCESS: Duration = Duration::from_millis(250);

/// Test hook: the milliseconds derivations are shown in this process instead (0: all by
/// workers).
const IN_PROCESS_MS_ENV: &str = "RNIX_FLAKE_SHOW_IN_PROCESS_MS";

/// Prints a collecting walk's text with each derivation shown in its place — in this
/// process until the derivations have taken as long as this process took to reach them
/// (`startup`: locking the flake, its outputs, the walk; about what a worker needs before
/// its first derivation), then by workers; the derivations' JSON, or `None` after printing
/// the first error (which ends the run).
///
/// Why: a worker first locks the flake and evaluates what the derivations share (often
/// one nixpkgs), which this process already has after its first; a small flake's
/// derivations all fit in that time and start no worker, and expensive ones (NixOS systems
/// as `checks`) go to workers after at most that long — the rule that never spends more
/// than twice the better of the two choices when the costs ahead are unknown.
fn run_segments(
    ev: &mut Eval,
    opts: &FlakeOpts,
    outs: &Value,
    startup: Duration,
    segments: Vec<Segment>,
    stdout: &mut dyn Write,
) -> Option<Vec<Json>> {
    let budget = match std::env::var(IN_PROCESS_MS_ENV).ok().and_then(|v| v.parse().ok()) {
        Some(ms) => Duration::from_millis(ms),
        None => startup.max(MIN_IN_PROCESS),
    };
    let mut units = Vec::new();
    let mut requests = Vec::new();
    for (i, s) in segments.iter().enumerate() {
        if let Segment::Unit { path, header, next } = s {
            units.push(i);
            requests.push(json!({ "path": path, "header": header, "next": next }).to_string());
        }
    }
    let spec = WorkerSpec { args: pool::worker_args(), capture_stderr: true };
    let mut printed = 0;
    let mut failed = false;
    let mut shown = Vec::new();
    let print_before = |end: usize, printed: &mut usize, stdout: &mut dyn Write| {
        for s in &segments[*printed..end] {
            match s {
                Segment::Out(t) => {
                    let _ = stdout.write_all(t.as_bytes());
                }
                Segment::Err(t) => eprint!("{t}"),
                Segment::Unit { .. } => {}
            }
        }
        *printed = end;
    };
    let mut take = |reply: Json, stdout: &mut dyn Write, failed: &mut bool| {
        if let Some(msg) = reply.get("error").and_then(Json::as_str) {
            eprintln!("{msg}");
            *failed = true;
            return;
        }
        let _ = stdout.write_all(reply.get("out").and_then(Json::as_str).unwrap_or("").as_bytes());
        shown.push(reply.get("json").cloned().unwrap_or(Json::Object(Map::new())));
    };
    let started = Instant::now();
    let mut local = 0;
    while local < units.len() && started.elapsed() < budget {
        let Segment::Unit { path, header, next } = &segments[units[local]] else { unreachable!("a unit") };
        print_before(units[local], &mut printed, stdout);
        printed += 1;
        let reply = show_unit(ev, opts, outs, path, header, next);
        take(reply, stdout, &mut failed);
        if failed {
            return None;
        }
        local += 1;
    }
    pool::map_ordered(&spec, opts.pool.jobs, &requests[local..], |k, answer| {
        if failed {
            return;
        }
        print_before(units[local + k], &mut printed, stdout);
        printed += 1;
        match answer {
            Answer::Reply(reply, err) => {
                eprint!("{err}");
                take(reply, stdout, &mut failed);
            }
            Answer::Died(msg, err) => {
                eprint!("{err}");
                eprintln!("{msg}");
                failed = true;
            }
        }
    });
    if failed {
        return None;
    }
    print_before(segments.len(), &mut printed, stdout);
    Some(shown)
}

/// Replaces the placeholders of a collecting walk's JSON with the derivations' JSON.
fn fill_units(j: &mut Map<String, Json>, units: &[Json]) {
    for v in j.values_mut() {
        let Json::Object(m) = v else { continue };
        match m.get(UNIT_KEY).and_then(Json::as_u64) {
            Some(i) => *v = units.get(i as usize).cloned().unwrap_or(Json::Object(Map::new())),
            None => fill_units(m, units),
        }
    }
}

/// `flake show --worker`: answers `{"path","header","next"}` by showing that derivation as
/// the single-process walk would (its `evaluating` line on stderr); replies with the stdout
/// text and JSON, or the rendered error.
fn worker(ev: &mut Eval, opts: &FlakeOpts, installable: &str) -> u8 {
    let show_trace = ev.settings.show_trace;
    let render = |e: &EvalError| nix_flake::cli::session::render_error(e, show_trace, opts.error_format);
    let opened = (|| {
        let (r, _) = parse_installable(installable)?;
        let flags = nix_flake::eval::LockFlags { write_lock_file: false, ..opts.lock.clone() };
        let locked = nix_flake::eval::lock_flake(ev, &r, &flags)?;
        outputs(ev, &locked)
    })();
    let (outs, opened) = match opened {
        Ok(v) => (Some(v), Ok(())),
        Err(e) => (None, Err(render(&e))),
    };
    pool::serve(opened, true, pool::DEFAULT_MAX_MEMORY_MIB, |request| {
        let Some(outs) = &outs else { return json!({ "error": "error: no flake outputs" }) };
        let text = |k: &str| request.get(k).and_then(Json::as_str).unwrap_or("").to_owned();
        let path: Vec<String> = request
            .get("path")
            .and_then(Json::as_array)
            .map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect())
            .unwrap_or_default();
        show_unit(ev, opts, outs, &path, &text("header"), &text("next"))
    })
}

/// Shows the derivation at `path` as the single-process walk would (its `evaluating` line
/// on stderr): `{"out": TEXT, "json": …}`, or `{"error": MESSAGE}` rendered.
fn show_unit(ev: &mut Eval, opts: &FlakeOpts, outs: &Value, path: &[String], header: &str, next: &str) -> Json {
    let show_trace = ev.settings.show_trace;
    let mut buf = Vec::new();
    let mut s = Shower { json: opts.json, legacy: opts.legacy, out: &mut buf, segments: None };
    let shown = crate::check::select_unforced(ev, outs, path).and_then(|v| {
        let v = v.ok_or_else(|| err(&format!("attribute '{}' not found", path.join("."))))?;
        s.visit(ev, &v, path, header, next)
    });
    let _ = nix_builtins::store::flush_store(ev);
    match shown {
        Ok(j) => json!({ "out": String::from_utf8_lossy(&buf), "json": j }),
        Err(e) => json!({ "error": nix_flake::cli::session::render_error(&e, show_trace, opts.error_format) }),
    }
}
