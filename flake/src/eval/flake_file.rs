//! Fetching a flake and reading its `flake.nix` (2.8 `getFlake`, `parseFlakeInput`).
//!
//! The file is evaluated from the fetched copy in the store (so `./x` inside it are store
//! paths) and must be a set of `description`, `inputs`, `outputs` and `nixConfig` only.
//! Inputs become a tree of [`FlakeInput`]s: a reference (`url`, or attributes with a
//! `type`, or the input's name as an indirect id), `flake = false`, a `follows` path made
//! absolute by prefixing the path of the flake that declares it in the top lock file, and
//! nested overrides (`inputs.a.inputs.b.follows = "c"`). Every formal of `outputs` other
//! than `self` that is not declared is an implicit indirect input.

use std::collections::BTreeMap;
use std::path::Path;

use nix_eval::error::{ErrorKind, EvalError, Result};
use nix_eval::source::Pos;
use nix_eval::{Attrs as NixAttrs, CoerceOpts, Eval, Symbol, Value};

use super::values::{pos_string, value_to_attr};
use super::{fetch_cached, registries, to_eval_error};
use crate::attrs::Attrs;
use crate::fetch::Fetched;
use crate::flakeref::{FlakeRef, ParseOptions};
use crate::lockfile::InputPath;

/// One input declared in `flake.nix` (or implied by `outputs`' formals).
#[derive(Clone, Debug)]
pub struct FlakeInput {
    /// The reference; `None` only when `follows` is set.
    pub flake_ref: Option<FlakeRef>,
    /// False for `flake = false`.
    pub is_flake: bool,
    /// An absolute input path (from the top lock file's root).
    pub follows: Option<InputPath>,
    /// `inputs.<this>.inputs.<name>` overrides.
    pub overrides: FlakeInputs,
}

impl FlakeInput {
    pub(crate) fn of_ref(r: FlakeRef, is_flake: bool) -> FlakeInput {
        FlakeInput { flake_ref: Some(r), is_flake, follows: None, overrides: BTreeMap::new() }
    }
}

/// Inputs by name.
pub type FlakeInputs = BTreeMap<String, FlakeInput>;

/// A fetched flake and what its `flake.nix` declares.
#[derive(Clone, Debug)]
pub struct Flake {
    /// The reference as given.
    pub original_ref: FlakeRef,
    /// After registry lookup.
    pub resolved_ref: FlakeRef,
    /// After fetching (with `narHash`, `rev`, …).
    pub locked_ref: FlakeRef,
    /// The fetched tree.
    pub source: Fetched,
    /// `description`.
    pub description: Option<String>,
    /// `inputs` plus the implicit ones.
    pub inputs: FlakeInputs,
    /// `nixConfig` (name, value as text); read and reported, never applied.
    pub config: Vec<(String, String)>,
}

fn err(msg: String) -> Box<EvalError> {
    EvalError::new(ErrorKind::Other, msg)
}

fn expect_type(ev: &mut Eval, v: &Value, want: &str, pos: Pos) -> Result<Value> {
    let v = ev.force(v)?;
    let ok = matches!(
        (want, &v),
        ("a set", Value::Attrs(_))
            | ("a string", Value::String(_))
            | ("a Boolean", Value::Bool(_))
            | ("a function", Value::Lambda(_) | Value::Builtin(_))
    ) || (want == "a function" && matches!(&v, Value::Attrs(a) if a.contains(nix_eval::sym::FUNCTOR)));
    if !ok {
        return Err(EvalError::new(
            ErrorKind::Type,
            format!("expected {want} but got {} at {}", v.ty().describe(), pos_string(pos)),
        ));
    }
    Ok(v)
}

fn string_of(ev: &mut Eval, v: &Value, pos: Pos) -> Result<String> {
    let v = expect_type(ev, v, "a string", pos)?;
    Ok(ev.coerce_to_string(&v, pos, CoerceOpts::NO_COPY)?.to_str_lossy().into_owned())
}

/// Fetches `original` (resolving it through the registries when allowed) and reads its
/// `flake.nix`. `lock_root` prefixes the flake's `follows` paths.
pub fn get_flake(ev: &mut Eval, original: &FlakeRef, allow_lookup: bool, lock_root: &[String]) -> Result<Flake> {
    let resolved = if original.input.is_direct() {
        original.clone()
    } else if allow_lookup {
        let regs = registries(ev);
        original.resolve(&regs).map_err(to_eval_error)?
    } else {
        return Err(err(format!("'{original}' is an indirect flake reference, but registry lookups are not allowed")));
    };
    let source = fetch_cached(ev, &resolved.input).map_err(to_eval_error)?;
    let locked = FlakeRef { input: source.input.clone(), subdir: resolved.subdir.clone() };
    read_flake(ev, original.clone(), resolved, locked, source, lock_root)
}

/// Reads `flake.nix` of an already fetched flake.
pub(crate) fn read_flake(
    ev: &mut Eval,
    original_ref: FlakeRef,
    resolved_ref: FlakeRef,
    locked_ref: FlakeRef,
    source: Fetched,
    lock_root: &[String],
) -> Result<Flake> {
    let sub = if locked_ref.subdir.is_empty() { String::new() } else { format!("/{}", locked_ref.subdir) };
    let real_root = source.real_path.clone().unwrap_or_else(|| source.store_path.clone().into());
    let real_file = real_root.join(format!(".{sub}/flake.nix"));
    if let Ok(c) = std::fs::canonicalize(&real_file) {
        let root = std::fs::canonicalize(&real_root).unwrap_or(real_root.clone());
        if !c.starts_with(&root) {
            return Err(err(format!("'flake.nix' file of flake '{locked_ref}' escapes from '{}'", source.store_path)));
        }
    } else {
        return Err(err(format!(
            "source tree referenced by '{locked_ref}' does not contain a '{}/flake.nix' file",
            locked_ref.subdir
        )));
    }
    let flake_dir = nix_eval::canon_path(&format!("{}{sub}", source.store_path));
    let flake_file = format!("{flake_dir}/flake.nix");
    let file_pos = Pos::NONE;
    let v = ev.import(&flake_file, file_pos)?;
    let Value::Attrs(top) = expect_type(ev, &v, "a set", file_pos)? else {
        return Err(err("flake.nix is not a set".into()));
    };
    let mut flake = Flake {
        original_ref,
        resolved_ref,
        locked_ref,
        source,
        description: None,
        inputs: FlakeInputs::new(),
        config: vec![],
    };
    if let Some(d) = top.get_attr(Symbol::new("description")) {
        flake.description = Some(string_of(ev, &d.value.clone(), d.pos)?);
    }
    if let Some(i) = top.get_attr(Symbol::new("inputs")) {
        let (value, pos) = (i.value.clone(), i.pos);
        flake.inputs = parse_inputs(ev, &value, pos, &flake_dir, lock_root)?;
    }
    let Some(outputs) = top.get_attr(Symbol::new("outputs")) else {
        return Err(err(format!("flake '{}' lacks attribute 'outputs'", flake.locked_ref)));
    };
    let (ov, opos) = (outputs.value.clone(), outputs.pos);
    if let Value::Lambda(c) = expect_type(ev, &ov, "a function", opos)? {
        if let Some(formals) = c.formals() {
            for f in formals.iter() {
                let name = f.name.as_str();
                if name != "self" && !flake.inputs.contains_key(name) {
                    let r = FlakeRef::parse(name, ParseOptions::default()).map_err(to_eval_error)?;
                    flake.inputs.insert(name.to_owned(), FlakeInput::of_ref(r, true));
                }
            }
        }
    }
    if let Some(c) = top.get_attr(Symbol::new("nixConfig")) {
        let (cv, cpos) = (c.value.clone(), c.pos);
        flake.config = parse_config(ev, &cv, cpos)?;
    }
    for a in top.sorted() {
        let n = a.name.as_str();
        if !["description", "inputs", "outputs", "nixConfig"].contains(&n) {
            return Err(err(format!(
                "flake '{}' has an unsupported attribute '{n}', at {}",
                flake.locked_ref,
                pos_string(a.pos)
            )));
        }
    }
    Ok(flake)
}

fn parse_inputs(ev: &mut Eval, v: &Value, pos: Pos, base_dir: &str, lock_root: &[String]) -> Result<FlakeInputs> {
    let Value::Attrs(a) = expect_type(ev, v, "a set", pos)? else {
        return Ok(FlakeInputs::new());
    };
    let mut out = FlakeInputs::new();
    for attr in a.sorted() {
        let name = attr.name.as_str().to_owned();
        let input = parse_input(ev, &name, &attr.value.clone(), attr.pos, base_dir, lock_root)?;
        out.insert(name, input);
    }
    Ok(out)
}

fn parse_input(
    ev: &mut Eval,
    name: &str,
    v: &Value,
    pos: Pos,
    base_dir: &str,
    lock_root: &[String],
) -> Result<FlakeInput> {
    let Value::Attrs(a) = expect_type(ev, v, "a set", pos)? else {
        return Err(err("flake input is not a set".into()));
    };
    let mut input = FlakeInput { flake_ref: None, is_flake: true, follows: None, overrides: FlakeInputs::new() };
    let mut attrs = Attrs::new();
    let mut url = None;
    for attr in sorted_attrs(&a) {
        let n = attr.name.as_str();
        let (av, apos) = (attr.value.clone(), attr.pos);
        let r: Result<()> = (|| {
            match n {
                "url" => {
                    let s = string_of(ev, &av, apos)?;
                    attrs.insert("url".into(), s.as_str().into());
                    url = Some(s);
                }
                "flake" => {
                    expect_type(ev, &av, "a Boolean", apos)?;
                    input.is_flake = ev.expect_bool(&av, apos)?;
                }
                "inputs" => {
                    input.overrides = parse_inputs(ev, &av, apos, base_dir, lock_root)?;
                }
                "follows" => {
                    let s = string_of(ev, &av, apos)?;
                    let mut p: InputPath = lock_root.to_vec();
                    p.extend(s.split('/').filter(|x| !x.is_empty()).map(str::to_owned));
                    input.follows = Some(p);
                }
                _ => match value_to_attr(ev, &av, apos)? {
                    Some(x) => {
                        attrs.insert(n.to_owned(), x);
                    }
                    None => {
                        let forced = ev.force(&av)?;
                        return Err(EvalError::new(
                            ErrorKind::Type,
                            format!(
                                "flake input attribute '{n}' is {} while a string, Boolean, or integer is expected",
                                forced.ty().describe()
                            ),
                        ));
                    }
                },
            }
            Ok(())
        })();
        r.map_err(|mut e| {
            e.trace.push(nix_eval::error::TraceFrame { pos: apos, msg: format!("in flake attribute '{n}'") });
            e
        })?;
    }
    if attrs.contains_key("type") {
        input.flake_ref = Some(FlakeRef::from_attrs(&attrs).map_err(to_eval_error)?);
    } else {
        attrs.remove("url");
        if let Some(k) = attrs.keys().next() {
            return Err(err(format!("unexpected flake input attribute '{k}', at {}", pos_string(pos))));
        }
        if let Some(u) = url {
            let opts =
                ParseOptions { base_dir: Some(Path::new(base_dir)), allow_missing: true, is_flake: input.is_flake };
            input.flake_ref = Some(FlakeRef::parse(&u, opts).map_err(to_eval_error)?);
        }
    }
    if input.follows.is_none() && input.flake_ref.is_none() {
        let mut a = Attrs::new();
        a.insert("type".into(), "indirect".into());
        a.insert("id".into(), name.into());
        input.flake_ref = Some(FlakeRef::from_attrs(&a).map_err(to_eval_error)?);
    }
    Ok(input)
}

fn sorted_attrs(a: &NixAttrs) -> Vec<nix_eval::Attr> {
    a.sorted().into_iter().cloned().collect()
}

fn parse_config(ev: &mut Eval, v: &Value, pos: Pos) -> Result<Vec<(String, String)>> {
    let Value::Attrs(a) = expect_type(ev, v, "a set", pos)? else {
        return Ok(vec![]);
    };
    let mut out = vec![];
    for attr in sorted_attrs(&a) {
        let n = attr.name.as_str().to_owned();
        let x = ev.force(&attr.value)?;
        let s = match &x {
            Value::String(_) | Value::Path(_) => {
                ev.coerce_to_string(&x, attr.pos, CoerceOpts::NO_COPY)?.to_str_lossy().into_owned()
            }
            Value::Int(i) => i.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::List(l) => {
                let mut items = vec![];
                for e in l.iter() {
                    let e = ev.force(e)?;
                    match &e {
                        Value::String(s) => items.push(s.to_str_lossy().into_owned()),
                        _ => {
                            return Err(EvalError::new(
                                ErrorKind::Type,
                                format!(
                                "list element in flake configuration setting '{n}' is {} while a string is expected",
                                x.ty().describe()
                            ),
                            ))
                        }
                    }
                }
                items.join(" ")
            }
            _ => {
                return Err(EvalError::new(
                    ErrorKind::Type,
                    format!("flake configuration setting '{n}' is {}", x.ty().describe()),
                ))
            }
        };
        out.push((n, s));
    }
    Ok(out)
}
