//! `flake check`: every output evaluated and checked against its schema (2.8 `CmdFlakeCheck`,
//! spec §8), without building.
//!
//! Unlike 2.8 without `--keep-going`, every failing output is reported (each error is
//! followed by the output it was found in, so failures are named even when the message
//! itself does not name them), and the exit status is 1 if any failed. Unknown outputs and
//! deprecated names are warnings. Outputs are visited `hydraJobs` first, then in symbol
//! order (the order in which names first appeared), as 2.8 iterates attribute sets.
//! Progress as 2.8: `evaluating flake...` (unless `--quiet`), and with `-vv` a line per
//! output, NixOS configuration, Hydra job and template.
//!
//! The expensive parts are [`Unit`]s: each derivation of `checks`/`packages`/`devShells`/
//! `defaultPackage`/`devShell`, each NixOS configuration, the `hydraJobs` tree. Without
//! `-j` (or `-j 1`) and `--shard` they are checked where they are met, as always. With
//! `-j N` the walk only records them between the text it printed, the units run on N worker
//! processes (`flake check --worker`, see `nix_flake::eval_jobs::pool`), and each unit's
//! stderr is printed in its place: the output is that of the single-process run. With
//! `--shard I/N` only the units at positions `I-1 mod N` of the attribute-path order are
//! checked (the cheap schema checks run in every shard).

use nix_eval::error::{ErrorKind, EvalError, Result};
use nix_eval::source::Pos;
use nix_eval::{CoerceOpts, Eval, Symbol, Value};

use nix_flake::eval_jobs::options::Shard;
use nix_flake::eval_jobs::pool::{self, Answer, WorkerSpec};
use serde_json::{json, Value as Json};

use crate::args::FlakeOpts;
use crate::flake_cmd::{drv_path_of, lock, outputs, parse_installable};

/// What a [`Unit`] checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum UnitKind {
    Derivation,
    NixosConfiguration,
    HydraJobs,
}

impl UnitKind {
    fn name(self) -> &'static str {
        match self {
            UnitKind::Derivation => "derivation",
            UnitKind::NixosConfiguration => "nixos",
            UnitKind::HydraJobs => "hydra",
        }
    }

    fn parse(s: &str) -> Option<UnitKind> {
        [UnitKind::Derivation, UnitKind::NixosConfiguration, UnitKind::HydraJobs].into_iter().find(|k| k.name() == s)
    }
}

/// An independent, possibly expensive check: the value at `path` below the outputs.
struct Unit {
    kind: UnitKind,
    path: Vec<String>,
    value: Value,
}

/// The run recorded by a collecting walk: text to print, and units in their places.
enum Segment {
    Text(String),
    Unit(Unit),
}

/// What [`Checker::per_system`] does with each system's value (path `[output, system]`).
type PerSystem<'a> = dyn FnMut(&mut Checker, &mut Eval, Vec<String>, Value) + 'a;

struct Checker {
    errors: usize,
    show_trace: bool,
    error_format: nix_flake::cli::ErrorFormat,
    /// `-vv`: progress lines for outputs, configurations, jobs, templates.
    chatty: bool,
    /// `Some`: record text and units instead of printing and checking them now.
    segments: Option<Vec<Segment>>,
}

fn fail(msg: String) -> Box<EvalError> {
    EvalError::new(ErrorKind::Other, msg)
}

fn pos_str(pos: Pos) -> String {
    nix_flake::eval::pos_string(pos)
}

impl Checker {
    /// A line for stderr, now or in its place of the recorded run.
    fn emit(&mut self, line: &str) {
        match &mut self.segments {
            Some(segments) => match segments.last_mut() {
                Some(Segment::Text(t)) => {
                    t.push_str(line);
                    t.push('\n');
                }
                _ => segments.push(Segment::Text(format!("{line}\n"))),
            },
            None => eprintln!("{line}"),
        }
    }

    /// 2.8's chatty activity line (`-vv`).
    fn progress(&mut self, what: &str) {
        if self.chatty {
            self.emit(&format!("{what}..."));
        }
    }

    fn warn(&mut self, msg: &str) {
        self.emit(&format!("warning: {msg}"));
    }

    fn report(&mut self, e: impl std::ops::Deref<Target = EvalError>, what: &str) {
        self.errors += 1;
        let text = nix_flake::cli::session::render_error_with_context(
            &e,
            self.show_trace,
            self.error_format,
            &format!("while checking {what}"),
        );
        self.emit(&text);
    }

    /// Checks a unit now, or records it in a collecting walk.
    fn unit(&mut self, ev: &mut Eval, kind: UnitKind, path: Vec<String>, v: &Value) {
        match &mut self.segments {
            Some(segments) => segments.push(Segment::Unit(Unit { kind, path, value: v.clone() })),
            None => self.run_unit(ev, kind, &path.join("."), v),
        }
    }

    fn run_unit(&mut self, ev: &mut Eval, kind: UnitKind, path: &str, v: &Value) {
        match kind {
            UnitKind::Derivation => self.derivation(ev, path, v),
            UnitKind::NixosConfiguration => self.nixos_configuration(ev, path, v),
            UnitKind::HydraJobs => self.hydra_jobs(ev, path, v),
        }
    }

    /// The attributes of a set in symbol (creation) order, the order 2.8 iterates a set in.
    fn attrs(&mut self, ev: &mut Eval, v: &Value) -> Result<Vec<(String, Value, Pos)>> {
        let v = ev.force(v)?;
        let Value::Attrs(a) = &v else {
            return Err(EvalError::new(
                ErrorKind::Type,
                format!("value is {} while a set was expected", v.ty().describe()),
            ));
        };
        Ok(a.iter().map(|x| (x.name.as_str().to_owned(), x.value.clone(), x.pos)).collect())
    }

    fn system_name(&mut self, name: &str, pos: Pos) {
        if !name.contains('-') {
            self.report(
                fail(format!("'{name}' is not a valid system type, at {}", pos_str(pos))),
                &format!("the system name '{name}'"),
            );
        }
    }

    fn derivation(&mut self, ev: &mut Eval, path: &str, v: &Value) {
        let r = (|| {
            let v = ev.force(v)?;
            let is_drv = match &v {
                Value::Attrs(a) => ev.is_derivation(a)?,
                _ => false,
            };
            if !is_drv {
                return Err(fail(format!("flake attribute '{path}' is not a derivation")));
            }
            drv_path_of(ev, &v).map(|_| ())
        })();
        if let Err(e) = r {
            self.report(e, &format!("the derivation '{path}'"));
        }
    }

    fn per_system(&mut self, ev: &mut Eval, name: &str, v: &Value, each: &mut PerSystem<'_>) -> Result<()> {
        for (sys, sv, spos) in self.attrs(ev, v)? {
            self.system_name(&sys, spos);
            each(self, ev, vec![name.to_owned(), sys], sv);
        }
        Ok(())
    }

    fn overlay(&mut self, ev: &mut Eval, path: &str, v: &Value) {
        let r = (|| {
            let v = ev.force(v)?;
            let Value::Lambda(c) = &v else {
                return Err(fail("overlay does not take an argument named 'final'".into()));
            };
            let arg_ok = |a: Option<Symbol>, want: &str| {
                a.is_some_and(|s| [want, "_", &format!("_{want}")].contains(&s.as_str()))
            };
            if c.formals().is_some() || !arg_ok(c.arg_name(), "final") {
                return Err(fail("overlay does not take an argument named 'final'".into()));
            }
            if arg_ok(c.body_plain_lambda_arg(), "prev") {
                Ok(())
            } else {
                Err(fail("overlay does not take an argument named 'prev'".into()))
            }
        })();
        if let Err(e) = r {
            self.report(e, &format!("the overlay '{path}'"));
        }
    }

    fn module(&mut self, ev: &mut Eval, path: &str, v: &Value) {
        let r = (|| {
            let v = ev.force(v)?;
            match &v {
                Value::Lambda(c) => match c.formals() {
                    Some(f) if f.ellipsis => Ok(()),
                    _ => Err(fail("module must match an open attribute set ('{ config, ... }')".into())),
                },
                Value::Attrs(a) => {
                    for x in a.iter() {
                        ev.force(&x.value)?;
                    }
                    Ok(())
                }
                _ => Err(fail("module must be a function or an attribute set".into())),
            }
        })();
        if let Err(e) = r {
            self.report(e, &format!("the NixOS module '{path}'"));
        }
    }

    fn nixos_configuration(&mut self, ev: &mut Eval, path: &str, v: &Value) {
        self.progress(&format!("checking NixOS configuration '{path}'"));
        let r = (|| {
            let mut cur = ev.force(v)?;
            for key in ["config", "system", "build", "toplevel"] {
                let Value::Attrs(a) = &cur else {
                    return Err(fail(format!("the expression selected by the selection path 'config.system.build.toplevel' should be a set but is {}", cur.ty().describe())));
                };
                let Some(x) = a.get(Symbol::new(key)).cloned() else {
                    return Err(fail(format!(
                        "attribute '{key}' in selection path 'config.system.build.toplevel' not found"
                    )));
                };
                cur = ev.force(&x)?;
            }
            match &cur {
                Value::Attrs(a) if ev.is_derivation(a)? => Ok(()),
                _ => Err(fail("attribute 'config.system.build.toplevel' is not a derivation".into())),
            }
        })();
        if let Err(e) = r {
            self.report(e, &format!("the NixOS configuration '{path}'"));
        }
    }

    fn hydra_jobs(&mut self, ev: &mut Eval, path: &str, v: &Value) {
        let r = (|| {
            let v = ev.force(v)?;
            let Value::Attrs(a) = &v else {
                return Err(fail(format!("value is {} while a set was expected", v.ty().describe())));
            };
            if ev.is_derivation(a)? {
                return Err(fail("jobset should not be a derivation at top-level".into()));
            }
            for (n, x, _) in self.attrs(ev, &v)? {
                let p2 = format!("{path}.{n}");
                let xv = ev.force(&x)?;
                match &xv {
                    Value::Attrs(xa) if ev.is_derivation(xa)? => {
                        self.progress(&format!("checking Hydra job '{p2}'"));
                        self.derivation(ev, &p2, &xv)
                    }
                    Value::Attrs(_) => self.hydra_jobs(ev, &p2, &xv),
                    _ => return Err(fail(format!("value is {} while a set was expected", xv.ty().describe()))),
                }
            }
            Ok(())
        })();
        if let Err(e) = r {
            self.report(e, &format!("the Hydra jobset '{path}'"));
        }
    }

    fn template(&mut self, ev: &mut Eval, path: &str, v: &Value) {
        self.progress(&format!("checking template '{path}'"));
        let r = (|| {
            let v = ev.force(v)?;
            let Value::Attrs(a) = &v else {
                return Err(fail(format!("value is {} while a set was expected", v.ty().describe())));
            };
            match a.get(Symbol::new("path")).cloned() {
                Some(p) => {
                    let s = ev.coerce_to_string(&p, Pos::NONE, CoerceOpts::INTERP)?;
                    if !s.to_str_lossy().starts_with("/nix/store/") {
                        return Err(fail(format!("template '{path}' has a bad 'path' attribute")));
                    }
                }
                None => return Err(fail(format!("template '{path}' lacks attribute 'path'"))),
            }
            match a.get(Symbol::new("description")).cloned() {
                Some(d) => {
                    ev.expect_string(&d, Pos::NONE)?;
                }
                None => return Err(fail(format!("template '{path}' lacks attribute 'description'"))),
            }
            for x in a.iter() {
                let n = x.name.as_str();
                if !["path", "description", "welcomeText"].contains(&n) {
                    return Err(fail(format!("template '{path}' has unsupported attribute '{n}'")));
                }
            }
            Ok(())
        })();
        if let Err(e) = r {
            self.report(e, &format!("the template '{path}'"));
        }
    }

    fn bundler(&mut self, ev: &mut Eval, path: &str, v: &Value) {
        let r = ev.force(v).and_then(|v| match v {
            Value::Lambda(_) => Ok(()),
            _ => Err(fail("bundler must be a function".into())),
        });
        if let Err(e) = r {
            self.report(e, &format!("the template '{path}'"));
        }
    }

    fn output(&mut self, ev: &mut Eval, name: &str, v: &Value) -> Result<()> {
        self.progress(&format!("checking flake output '{name}'"));
        let deprecated = [
            ("defaultPackage", "packages.<system>.default"),
            ("defaultTemplate", "templates.default"),
            ("defaultBundler", "bundlers.<system>.default"),
            ("overlay", "overlays.default"),
            ("devShell", "devShells.<system>.default"),
            ("nixosModule", "nixosModules.default"),
        ];
        if let Some((_, new)) = deprecated.iter().find(|(o, _)| *o == name) {
            self.warn(&format!("flake output attribute '{name}' is deprecated; use '{new}' instead"));
        }
        let drv = UnitKind::Derivation;
        match name {
            "checks" | "packages" | "devShells" => {
                self.per_system(ev, name, v, &mut |c, ev, p, sv| match c.attrs(ev, &sv) {
                    Ok(items) => {
                        for (n, x, _) in items {
                            c.unit(ev, drv, [p.clone(), vec![n]].concat(), &x);
                        }
                    }
                    Err(e) => c.report(e, &format!("flake output '{}'", p.join("."))),
                })
            }
            "apps" | "defaultApp" | "legacyPackages" | "formatter" => {
                self.per_system(ev, name, v, &mut |_, _, _, _| {})
            }
            "defaultPackage" | "devShell" => self.per_system(ev, name, v, &mut |c, ev, p, sv| c.unit(ev, drv, p, &sv)),
            "overlay" => {
                self.overlay(ev, name, v);
                Ok(())
            }
            "overlays" => {
                for (n, x, _) in self.attrs(ev, v)? {
                    self.overlay(ev, &format!("overlays.{n}"), &x);
                }
                Ok(())
            }
            "nixosModule" => {
                self.module(ev, name, v);
                Ok(())
            }
            "nixosModules" => {
                for (n, x, _) in self.attrs(ev, v)? {
                    self.module(ev, &format!("nixosModules.{n}"), &x);
                }
                Ok(())
            }
            "nixosConfigurations" => {
                for (n, x, _) in self.attrs(ev, v)? {
                    self.unit(ev, UnitKind::NixosConfiguration, vec![name.to_owned(), n], &x);
                }
                Ok(())
            }
            "hydraJobs" => {
                self.unit(ev, UnitKind::HydraJobs, vec![name.to_owned()], v);
                Ok(())
            }
            "defaultTemplate" => {
                self.template(ev, name, v);
                Ok(())
            }
            "templates" => {
                for (n, x, _) in self.attrs(ev, v)? {
                    self.template(ev, &format!("templates.{n}"), &x);
                }
                Ok(())
            }
            "defaultBundler" => self.per_system(ev, name, v, &mut |c, ev, p, sv| c.bundler(ev, &p.join("."), &sv)),
            "bundlers" => self.per_system(ev, name, v, &mut |c, ev, p, sv| match c.attrs(ev, &sv) {
                Ok(items) => {
                    for (n, x, _) in items {
                        c.bundler(ev, &format!("{}.{n}", p.join(".")), &x);
                    }
                }
                Err(e) => c.report(e, &format!("flake output '{}'", p.join("."))),
            }),
            _ => {
                self.warn(&format!("unknown flake output '{name}'"));
                Ok(())
            }
        }
    }
}

pub fn check(ev: &mut Eval, opts: &FlakeOpts, installable: &str) -> Result<u8> {
    if opts.pool.worker {
        return Ok(worker(ev, opts, installable));
    }
    let (r, _) = parse_installable(installable)?;
    let locked = lock(ev, opts, &r)?;
    let verbosity = nix_flake::progress::verbosity();
    if verbosity >= 0 {
        eprintln!("evaluating flake...");
    }
    if !opts.no_build {
        // 2.8 builds the checks after evaluating them; rnix-eval has no builder.
        eprintln!("note: rnix-eval evaluates the checks without building them (as with '--no-build')");
    }
    let outs = outputs(ev, &locked)?;
    let collect = opts.pool.jobs > 1 || opts.pool.shard.is_some();
    let mut c = Checker {
        errors: 0,
        show_trace: ev.settings.show_trace,
        error_format: opts.error_format,
        chatty: verbosity >= 2,
        segments: collect.then(Vec::new),
    };
    let mut items = c.attrs(ev, &outs)?;
    items.sort_by_key(|(n, _, _)| n != "hydraJobs");
    for (name, v, _) in items {
        if let Err(e) = c.output(ev, &name, &v) {
            c.report(e, &format!("flake output '{name}'"));
        }
    }
    if let Some(segments) = c.segments.take() {
        run_segments(ev, &mut c, opts, segments);
    }
    if c.errors > 0 {
        eprintln!("error: some errors were encountered during the evaluation");
        return Ok(1);
    }
    Ok(0)
}

/// Prints a collecting walk's text and checks its units (those of the shard), in place:
/// in this process with `-j 1`, else on worker processes.
fn run_segments(ev: &mut Eval, c: &mut Checker, opts: &FlakeOpts, segments: Vec<Segment>) {
    let mut paths: Vec<&[String]> =
        segments.iter().filter_map(|s| if let Segment::Unit(u) = s { Some(&u.path[..]) } else { None }).collect();
    paths.sort();
    let owned =
        |u: &Unit| opts.pool.shard.is_none_or(|sh: Shard| paths.binary_search(&&u.path[..]).is_ok_and(|i| sh.owns(i)));
    let owned: Vec<bool> = segments.iter().map(|s| if let Segment::Unit(u) = s { owned(u) } else { false }).collect();
    if opts.pool.jobs <= 1 {
        for (segment, owned) in segments.iter().zip(owned) {
            match segment {
                Segment::Text(t) => eprint!("{t}"),
                Segment::Unit(u) if owned => c.run_unit(ev, u.kind, &u.path.join("."), &u.value),
                Segment::Unit(_) => {}
            }
        }
        return;
    }
    // (segment index, unit) of the units this shard checks.
    let units: Vec<(usize, &Unit)> = segments
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match s {
            Segment::Unit(u) if owned[i] => Some((i, u)),
            _ => None,
        })
        .collect();
    let requests: Vec<String> =
        units.iter().map(|(_, u)| json!({ "kind": u.kind.name(), "path": u.path }).to_string()).collect();
    let spec = WorkerSpec { args: pool::worker_args(), capture_stderr: true };
    let mut printed = 0;
    let print_text_before = |end: usize, printed: &mut usize| {
        for s in &segments[*printed..end] {
            if let Segment::Text(t) = s {
                eprint!("{t}");
            }
        }
        *printed = end;
    };
    pool::map_ordered(&spec, opts.pool.jobs, &requests, |k, answer| {
        let (at, unit) = units[k];
        print_text_before(at, &mut printed);
        printed += 1;
        match answer {
            Answer::Reply(reply, err) => {
                eprint!("{err}");
                c.errors += reply.get("errors").and_then(Json::as_u64).unwrap_or(1) as usize;
            }
            Answer::Died(msg, err) => {
                eprint!("{err}");
                let e = EvalError::new(ErrorKind::Other, msg.trim_start_matches("error: ").to_owned());
                c.report(e, &format!("flake output '{}'", unit.path.join(".")));
            }
        }
    });
    print_text_before(segments.len(), &mut printed);
}

/// The value at `path` below `root`, not forced (as the walk hands it to a unit).
pub fn select_unforced(ev: &mut Eval, root: &Value, path: &[String]) -> Result<Option<Value>> {
    let Some((last, init)) = path.split_last() else { return Ok(Some(root.clone())) };
    match nix_flake::cli::installable::select(ev, root, init)? {
        Some(Value::Attrs(a)) => Ok(a.get(Symbol::new(last)).cloned()),
        _ => Ok(None),
    }
}

/// `flake check --worker`: answers `{"kind","path"}` requests by checking that unit,
/// printing what a single-process check prints for it on stderr; replies `{"errors": N}`.
fn worker(ev: &mut Eval, opts: &FlakeOpts, installable: &str) -> u8 {
    let opened = (|| {
        let (r, _) = parse_installable(installable)?;
        let flags = nix_flake::eval::LockFlags { write_lock_file: false, ..opts.lock.clone() };
        let locked = nix_flake::eval::lock_flake(ev, &r, &flags)?;
        outputs(ev, &locked)
    })();
    let show_trace = ev.settings.show_trace;
    let (outs, opened) = match opened {
        Ok(v) => (Some(v), Ok(())),
        Err(e) => (None, Err(nix_flake::cli::session::render_error(&e, show_trace, opts.error_format))),
    };
    let mut c = Checker {
        errors: 0,
        show_trace,
        error_format: opts.error_format,
        chatty: nix_flake::progress::verbosity() >= 2,
        segments: None,
    };
    pool::serve(opened, true, pool::DEFAULT_MAX_MEMORY_MIB, |request| {
        let Some(outs) = &outs else { return json!({ "errors": 1 }) };
        let kind = request.get("kind").and_then(Json::as_str).and_then(UnitKind::parse);
        let path: Option<Vec<String>> = request
            .get("path")
            .and_then(Json::as_array)
            .and_then(|a| a.iter().map(|s| s.as_str().map(String::from)).collect());
        let (Some(kind), Some(path)) = (kind, path) else {
            eprintln!("error: flake check worker: bad request '{request}'");
            return json!({ "errors": 1 });
        };
        let before = c.errors;
        match select_unforced(ev, outs, &path) {
            Ok(Some(v)) => c.run_unit(ev, kind, &path.join("."), &v),
            Ok(None) => c.report(
                EvalError::new(ErrorKind::MissingAttr, format!("attribute '{}' not found", path.join("."))),
                &format!("flake output '{}'", path.join(".")),
            ),
            Err(e) => c.report(e, &format!("flake output '{}'", path.join("."))),
        }
        let _ = nix_builtins::store::flush_store(ev);
        json!({ "errors": c.errors - before })
    })
}
