//! Computing a flake's lock file (2.8 `lockFlake`, spec §3.2–3.3).
//!
//! Inputs are walked depth first in name order. An input whose `original` still equals
//! what `flake.nix` says (and that is neither overridden nor named by `--update-input`)
//! keeps its old entry and its old sub-inputs without fetching; anything else is fetched
//! and locked, a new flake input taking its own inputs from its own `flake.lock`.
//! `follows` edges are absolute paths resolved afterwards. The new lock is written only
//! when it differs from the old one (JSON equality), only for a local source, atomically;
//! with `--no-write-lock-file` the root is treated as dirty instead.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::rc::Rc;

use nix_eval::error::{ErrorKind, EvalError, Result, TraceFrame};
use nix_eval::Eval;

use super::flake_file::{get_flake, Flake, FlakeInput, FlakeInputs};
use super::{fetch_cached, forget, registries, to_eval_error, warn};
use crate::flakeref::FlakeRef;
use crate::lockfile::{Edge, InputPath, LockFile, LockedNode, NodeId};

/// How locking behaves (the reference's `LockFlags`).
#[derive(Clone, Debug)]
pub struct LockFlags {
    /// Ignore the old lock file (`--recreate-lock-file`, `flake update`).
    pub recreate_lock_file: bool,
    /// Allow changes at all (`--no-update-lock-file` clears it).
    pub update_lock_file: bool,
    /// Write a changed lock file (`--no-write-lock-file` clears it).
    pub write_lock_file: bool,
    /// Resolve indirect references through the registries.
    pub use_registries: bool,
    /// Allow locking unlocked references (false for pure `getFlake`).
    pub allow_mutable: bool,
    /// `--override-input PATH REF`.
    pub input_overrides: BTreeMap<InputPath, FlakeRef>,
    /// `--update-input PATH` (and `flake update INPUT`).
    pub input_updates: BTreeSet<InputPath>,
    /// `--commit-lock-file`: commit a written lock file of a local Git flake.
    pub commit_lock_file: bool,
    /// The `commit-lockfile-summary` setting: the commit's first line (empty: `flake.lock:
    /// Add` or `flake.lock: Update`).
    pub commit_lock_file_summary: String,
}

impl Default for LockFlags {
    fn default() -> Self {
        LockFlags {
            recreate_lock_file: false,
            update_lock_file: true,
            write_lock_file: true,
            use_registries: true,
            allow_mutable: true,
            input_overrides: BTreeMap::new(),
            input_updates: BTreeSet::new(),
            commit_lock_file: false,
            commit_lock_file_summary: String::new(),
        }
    }
}

/// A flake with its (new) lock file.
#[derive(Clone, Debug)]
pub struct LockedFlake {
    /// The flake (re-read after its lock file was written).
    pub flake: Flake,
    /// The lock file.
    pub lock_file: LockFile,
    /// The lock changed but was not written: `self` has no `rev`.
    pub force_dirty: bool,
}

fn err(msg: String) -> Box<EvalError> {
    EvalError::new(ErrorKind::Other, msg)
}

type OldNode = Option<(Rc<LockFile>, NodeId)>;

struct Locker<'a> {
    flags: &'a LockFlags,
    overrides: BTreeMap<InputPath, FlakeInput>,
    overrides_used: BTreeSet<InputPath>,
    updates_used: BTreeSet<InputPath>,
    parents: Vec<FlakeRef>,
    new: LockFile,
}

fn read_lock_of(flake: &Flake) -> Result<LockFile> {
    let real = flake.source.real_path.clone().unwrap_or_else(|| PathBuf::from(&flake.source.store_path));
    let sub = &flake.locked_ref.subdir;
    let p = if sub.is_empty() { real.join("flake.lock") } else { real.join(sub).join("flake.lock") };
    let text = match std::fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(LockFile::new()),
        Err(e) => return Err(err(format!("reading '{}': {e}", p.display()))),
    };
    let logical = format!("{}/{sub}/flake.lock", flake.source.store_path);
    LockFile::parse(&text, &logical).map_err(to_eval_error)
}

fn show_path(p: &[String]) -> String {
    p.join("/")
}

impl Locker<'_> {
    // The reference's computeLocks takes the same eight things; a struct for them would only
    // be unpacked again in the one recursive call.
    #[allow(clippy::too_many_arguments)]
    fn compute(
        &mut self,
        ev: &mut Eval,
        inputs: &FlakeInputs,
        node: NodeId,
        prefix: &[String],
        old: OldNode,
        lock_root: &[String],
        trust_lock: bool,
    ) -> Result<()> {
        for (id, input) in inputs {
            for (oid, o) in &input.overrides {
                let mut p = prefix.to_vec();
                p.push(id.clone());
                p.push(oid.clone());
                self.overrides.insert(p, o.clone());
            }
        }
        for (id, input2) in inputs {
            let mut path = prefix.to_vec();
            path.push(id.clone());
            let r = self.compute_one(ev, id, input2, node, &path, &old, lock_root, trust_lock);
            r.map_err(|mut e| {
                e.trace.push(TraceFrame {
                    pos: nix_eval::source::Pos::NONE,
                    msg: format!("while updating the flake input '{}'", show_path(&path)),
                });
                e
            })?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn compute_one(
        &mut self,
        ev: &mut Eval,
        id: &str,
        input2: &FlakeInput,
        node: NodeId,
        path: &InputPath,
        old: &OldNode,
        lock_root: &[String],
        trust_lock: bool,
    ) -> Result<()> {
        let over = self.overrides.get(path).cloned();
        let has_override = over.is_some();
        let input = match over {
            Some(mut o) => {
                self.overrides_used.insert(path.clone());
                o.is_flake = input2.is_flake;
                o
            }
            None => input2.clone(),
        };
        if let Some(f) = &input.follows {
            self.new.set_input(node, id, Edge::Follows(f.clone()));
            return Ok(());
        }
        let Some(input_ref) = input.flake_ref.clone() else {
            return Err(err(format!("input '{}' has no reference", show_path(path))));
        };
        self.updates_used.insert(path.clone());
        let old_lock = match old {
            Some((lf, n)) if !self.flags.input_updates.contains(path) => match lf.node(*n).inputs.get(id) {
                Some(Edge::Node(c)) => Some((lf.clone(), *c)),
                _ => None,
            },
            _ => None,
        };
        let old_entry = old_lock.as_ref().and_then(|(lf, c)| lf.node(*c).locked.clone());
        if let (Some((old_lf, old_id)), Some(entry)) = (&old_lock, &old_entry) {
            if entry.original == input_ref && !has_override {
                let child = self.new.add_node(entry.clone());
                self.new.set_input(node, id, Edge::Node(child));
                let mut must_refetch =
                    self.flags.input_updates.iter().any(|u| u.len() > path.len() && u.starts_with(path));
                let mut fake = FlakeInputs::new();
                if !must_refetch {
                    for (name, edge) in &old_lf.node(*old_id).inputs {
                        match edge {
                            Edge::Node(n) => {
                                if let Some(l) = &old_lf.node(*n).locked {
                                    fake.insert(name.clone(), FlakeInput::of_ref(l.original.clone(), l.is_flake));
                                }
                            }
                            Edge::Follows(f) => {
                                if !trust_lock {
                                    let mut op = path.clone();
                                    op.push(name.clone());
                                    if !self.overrides.contains_key(&op) {
                                        must_refetch = true;
                                        break;
                                    }
                                }
                                fake.insert(
                                    name.clone(),
                                    FlakeInput {
                                        flake_ref: None,
                                        is_flake: true,
                                        follows: Some(f.clone()),
                                        overrides: FlakeInputs::new(),
                                    },
                                );
                            }
                        }
                    }
                }
                let sub_inputs = if must_refetch { get_flake(ev, &entry.locked, false, path)?.inputs } else { fake };
                let old_here = Some((old_lf.clone(), *old_id));
                return self.compute(ev, &sub_inputs, child, path, old_here, lock_root, !must_refetch);
            }
        }
        if !self.flags.allow_mutable && !input_ref.input.is_locked() {
            return Err(err(format!("cannot update flake input '{}' in pure mode", show_path(path))));
        }
        // An override keeps the declared reference as `original` (overrides are sticky).
        let original = input2.flake_ref.clone().unwrap_or_else(|| input_ref.clone());
        if input.is_flake {
            let inner = get_flake(ev, &input_ref, self.flags.use_registries, path)?;
            let child = self.new.add_node(LockedNode { locked: inner.locked_ref.clone(), original, is_flake: true });
            self.new.set_input(node, id, Edge::Node(child));
            if let Some(p) = self.parents.iter().find(|p| **p == input_ref) {
                return Err(err(format!("found circular import of flake '{p}'")));
            }
            self.parents.push(input_ref);
            let (old_sub, root): (OldNode, &[String]) = match old_lock {
                Some(o) => (Some(o), lock_root),
                None => (Some((Rc::new(read_lock_of(&inner)?), LockFile::ROOT)), path),
            };
            let root = root.to_vec();
            let r = self.compute(ev, &inner.inputs, child, path, old_sub, &root, false);
            self.parents.pop();
            r
        } else {
            let (_, locked) = fetch_ref(ev, &input_ref, self.flags.use_registries)?;
            let child = self.new.add_node(LockedNode { locked, original, is_flake: false });
            self.new.set_input(node, id, Edge::Node(child));
            Ok(())
        }
    }
}

/// Fetches a (possibly indirect) reference: (resolved, locked).
pub(crate) fn fetch_ref(ev: &mut Eval, r: &FlakeRef, allow_lookup: bool) -> Result<(FlakeRef, FlakeRef)> {
    let resolved = if r.input.is_direct() {
        r.clone()
    } else if allow_lookup {
        let regs = registries(ev);
        r.resolve(&regs).map_err(to_eval_error)?
    } else {
        return Err(err(format!("'{r}' is an indirect flake reference, but registry lookups are not allowed")));
    };
    let f = fetch_cached(ev, &resolved.input).map_err(to_eval_error)?;
    let locked = FlakeRef { input: f.input, subdir: resolved.subdir.clone() };
    Ok((resolved, locked))
}

/// The message 2.8 commits a lock file with: the summary (`flake.lock: Add`/`Update` unless
/// `commit-lockfile-summary` is set), then the changes without colour.
fn commit_message(flags: &LockFlags, rel: &str, lock_file_existed: bool, diff: &str) -> String {
    let mut m = if flags.commit_lock_file_summary.is_empty() {
        format!("{rel}: {}", if lock_file_existed { "Update" } else { "Add" })
    } else {
        flags.commit_lock_file_summary.clone()
    };
    m.push_str("\n\nFlake lock file updates:\n\n");
    m.push_str(diff);
    m
}

/// Runs `git ARGS`, failing as 2.8's `runProgram` does.
fn run_git(args: &[&str]) -> Result<()> {
    let status = std::process::Command::new("git")
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| err(format!("cannot run git: {e}")))?;
    match status.code() {
        Some(0) => Ok(()),
        Some(c) => Err(err(format!("program 'git' failed with exit code {c}"))),
        None => Err(err("program 'git' was killed by a signal".to_owned())),
    }
}

/// The local directory a reference's lock file can be written to (2.8 `getSourcePath`).
fn source_path(r: &FlakeRef) -> Option<String> {
    let a = r.input.attrs();
    match r.input.input_type() {
        "path" => crate::attrs::maybe_get_str(a, "path").ok().flatten().map(str::to_owned),
        "git" => {
            if r.input.get_ref().ok().flatten().is_some() || a.contains_key("rev") {
                return None;
            }
            let url = crate::url::parse_url(crate::attrs::maybe_get_str(a, "url").ok()??).ok()?;
            (url.scheme == "file").then_some(url.path)
        }
        _ => None,
    }
}

/// Locks `top_ref` (reading, computing and maybe writing its lock file).
pub fn lock_flake(ev: &mut Eval, top_ref: &FlakeRef, flags: &LockFlags) -> Result<LockedFlake> {
    let mut flake = get_flake(ev, top_ref, flags.use_registries, &[])?;
    let old = read_lock_of(&flake)?;
    let mut locker = Locker {
        flags,
        overrides: flags
            .input_overrides
            .iter()
            .map(|(p, r)| (p.clone(), FlakeInput::of_ref(r.clone(), true)))
            .collect(),
        overrides_used: BTreeSet::new(),
        updates_used: BTreeSet::new(),
        parents: vec![],
        new: LockFile::new(),
    };
    let old_rc = Rc::new(old.clone());
    let old_root = (!flags.recreate_lock_file).then_some((old_rc, LockFile::ROOT));
    let inputs = flake.inputs.clone();
    locker.compute(ev, &inputs, LockFile::ROOT, &[], old_root, &[], false)?;
    for (p, r) in &flags.input_overrides {
        if !locker.overrides_used.contains(p) {
            warn(&format!("the flag '--override-input {} {r}' does not match any input", show_path(p)));
        }
    }
    for p in &flags.input_updates {
        if !locker.updates_used.contains(p) {
            warn(&format!("the flag '--update-input {}' does not match any input", show_path(p)));
        }
    }
    let new = locker.new;
    for (p, e) in new.all_inputs() {
        if let Edge::Follows(f) = e {
            if new.find_input(&f).is_none() {
                return Err(err(format!("input '{}' follows a non-existent input '{}'", show_path(&p), show_path(&f))));
            }
        }
    }
    let mut force_dirty = false;
    if new != old {
        let color = std::io::stderr().is_terminal();
        let diff = LockFile::diff(&old, &new, color);
        let diff = diff.trim_end_matches('\n');
        if flags.write_lock_file {
            let Some(src) = source_path(top_ref) else {
                return Err(err(format!(
                    "cannot write modified lock file of flake '{top_ref}' (use '--no-write-lock-file' to ignore)"
                )));
            };
            if !new.is_immutable() {
                warn(&format!("will not write lock file of flake '{top_ref}' because it has a mutable input"));
            } else {
                if !flags.update_lock_file {
                    return Err(err(format!("flake '{top_ref}' requires lock file changes but they're not allowed due to '--no-update-lock-file'")));
                }
                let rel = if top_ref.subdir.is_empty() {
                    "flake.lock".to_owned()
                } else {
                    format!("{}/flake.lock", top_ref.subdir)
                };
                let path = format!("{src}/{rel}");
                let lock_file_exists = std::path::Path::new(&path).exists();
                if lock_file_exists {
                    if diff.is_empty() {
                        warn(&format!("updating lock file '{path}'"));
                    } else {
                        warn(&format!("updating lock file '{path}':\n{diff}"));
                    }
                } else {
                    warn(&format!("creating lock file '{path}'"));
                }
                new.write(std::path::Path::new(&path)).map_err(to_eval_error)?;
                if top_ref.input.input_type() == "git" {
                    let _ = std::process::Command::new("git")
                        .args(["-C", &src, "add", "--force", "--intent-to-add", "--", &rel])
                        .status();
                    if flags.commit_lock_file {
                        let message = commit_message(flags, &rel, lock_file_exists, &LockFile::diff(&old, &new, false));
                        run_git(&["-C", &src, "commit", &rel, "-m", &message])?;
                    }
                }
                let prev_rev = flake.locked_ref.input.get_rev().ok().flatten();
                forget(ev, &flake.resolved_ref.input);
                flake = get_flake(ev, top_ref, flags.use_registries, &[])?;
                let rev = flake.locked_ref.input.get_rev().ok().flatten();
                if let (true, Some(rev)) = (flags.commit_lock_file, &rev) {
                    if prev_rev.as_ref() != Some(rev) {
                        warn(&format!("committed new revision '{rev}'"));
                    }
                }
            }
        } else {
            warn(&format!("not writing modified lock file of flake '{top_ref}':\n{diff}"));
            force_dirty = true;
        }
    }
    Ok(LockedFlake { flake, lock_file: new, force_dirty })
}
