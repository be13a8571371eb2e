//! Files and paths: import, readFile, readDir, pathExists, baseNameOf, dirOf, the search path.

use crate::{make_attrs, Args};
use nix_eval::error::{AddTrace, ErrorKind, EvalError, Result};
use nix_eval::source::Pos;
use nix_eval::value::NixString;
use nix_eval::{Attr, Attrs, BuiltinDef, CoerceOpts, ConstantDef, Eval, Symbol, Value};
use std::path::Path;

pub const BUILTINS: &[BuiltinDef] = &[
    BuiltinDef { name: "import", arity: 1, global: true, func: import },
    BuiltinDef { name: "scopedImport", arity: 2, global: true, func: scoped_import },
    BuiltinDef { name: "readFile", arity: 1, global: false, func: read_file },
    BuiltinDef { name: "readDir", arity: 1, global: false, func: read_dir },
    BuiltinDef { name: "readFileType", arity: 1, global: false, func: read_file_type },
    BuiltinDef { name: "pathExists", arity: 1, global: false, func: path_exists },
    BuiltinDef { name: "baseNameOf", arity: 1, global: true, func: base_name_of },
    BuiltinDef { name: "dirOf", arity: 1, global: true, func: dir_of },
    BuiltinDef { name: "toPath", arity: 1, global: false, func: to_path },
    BuiltinDef { name: "findFile", arity: 2, global: false, func: find_file },
];

pub const CONSTANTS: &[ConstantDef] = &[ConstantDef { name: "nixPath", global: false, value: nix_path }];

/// `builtins.nixPath`: `[ { prefix; path; } ]` from `-I` and `NIX_PATH`.
fn nix_path(ev: &mut Eval) -> Value {
    let items = ev
        .settings
        .nix_path
        .iter()
        .map(|e| {
            let (prefix, path) = match e.split_once('=') {
                Some((p, v)) => (p.to_string(), v.to_string()),
                None => (String::new(), e.clone()),
            };
            make_attrs(vec![("prefix", Value::string(prefix)), ("path", Value::string(path))])
        })
        .collect();
    Value::list(items)
}

/// The path a value denotes, for reading: a path, or a string that is an absolute path
/// (derivation outputs in its context built first: import from derivation).
fn real_path(ev: &mut Eval, a: &Args, i: usize) -> Result<String> {
    realise_context_of(ev, a, i)?;
    let p = a.path(ev, i)?;
    if let Err(msg) = ev.io.check_access(Path::new(&p)) {
        return Err(EvalError::at(ErrorKind::Restricted, a.pos, msg));
    }
    Ok(p)
}

/// Builds the derivation outputs a string argument refers to (see `store::realise_context`);
/// coercion errors are left to the caller's own coercion.
fn realise_context_of(ev: &mut Eval, a: &Args, i: usize) -> Result<()> {
    let v = a.value(ev, i)?;
    crate::store::realise_value_context(ev, &v, a.pos)
}

fn import(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a = Args::new("import", args, pos);
    let p = real_path(ev, &a, 0)?;
    ev.import(&p, pos).trace(pos, || format!("while importing '{}'", p))
}

fn scoped_import(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a = Args::new("scopedImport", args, pos);
    let scope = a.attrs(ev, 0)?;
    let p = real_path(ev, &a, 1)?;
    ev.scoped_import(&scope, &p, pos)
}

fn io_error(pos: Pos, path: &str, e: std::io::Error) -> Box<EvalError> {
    if e.kind() == std::io::ErrorKind::NotFound {
        EvalError::at(ErrorKind::Other, pos, format!("path '{}' does not exist", path))
    } else {
        EvalError::at(ErrorKind::Other, pos, format!("reading '{}': {}", path, e))
    }
}

fn read_file(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a = Args::new("readFile", args, pos);
    let p = real_path(ev, &a, 0)?;
    let bytes = ev.io.read_file(Path::new(&p)).map_err(|e| io_error(pos, &p, e))?;
    Ok(Value::String(NixString::new(bytes)))
}

fn read_dir(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a = Args::new("readDir", args, pos);
    let p = real_path(ev, &a, 0)?;
    let entries = ev.io.read_dir(Path::new(&p)).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotADirectory {
            EvalError::at(ErrorKind::Other, pos, format!("'{}' is not a directory", p))
        } else {
            io_error(pos, &p, e)
        }
    })?;
    let attrs: Vec<Attr> = entries
        .into_iter()
        .map(|(n, t)| Attr { name: Symbol::new(&n), pos: Pos::NONE, value: Value::string(t.as_nix()) })
        .collect();
    Ok(Value::Attrs(Attrs::from_vec(attrs)))
}

fn read_file_type(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a = Args::new("readFileType", args, pos);
    let p = real_path(ev, &a, 0)?;
    let t = ev.io.file_type(Path::new(&p)).map_err(|e| io_error(pos, &p, e))?;
    Ok(Value::string(t.as_nix()))
}

fn path_exists(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a = Args::new("pathExists", args, pos);
    realise_context_of(ev, &a, 0)?;
    let v = a.value(ev, 0)?;
    // A trailing slash (from a string) means "exists and is a directory".
    let must_be_dir = matches!(&v, Value::String(s)
        if s.len() > 1 && (s.as_bytes().ends_with(b"/") || s.as_bytes().ends_with(b"/.")));
    let p = a.path(ev, 0)?;
    // Outside the allowed roots (pure mode) a path simply does not exist, as in the reference.
    if ev.io.check_access(Path::new(&p)).is_err() {
        return Ok(Value::Bool(false));
    }
    let exists = match std::fs::metadata(&p) {
        Ok(m) => !must_be_dir || m.is_dir(),
        Err(_) => ev.io.file_type(Path::new(&p)).is_ok() && !must_be_dir,
    };
    Ok(Value::Bool(exists))
}

fn base_name_of(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a = Args::new("baseNameOf", args, pos);
    let s = a.coerce(ev, 0, CoerceOpts::NO_COPY)?;
    let b = s.as_bytes();
    let b = b.strip_suffix(b"/").unwrap_or(b);
    let start = b.iter().rposition(|&c| c == b'/').map(|i| i + 1).unwrap_or(0);
    let ctx = s.context().cloned().unwrap_or_default();
    Ok(Value::String(NixString::with_context(&b[start..], ctx)))
}

fn dir_of(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a = Args::new("dirOf", args, pos);
    let v = a.value(ev, 0)?;
    let is_path = matches!(v, Value::Path(_));
    let s = a.coerce(ev, 0, CoerceOpts::NO_COPY)?;
    let b = s.as_bytes();
    let dir: &[u8] = match b.iter().rposition(|&c| c == b'/') {
        None => b".",
        Some(0) => b"/",
        Some(i) => &b[..i],
    };
    if is_path {
        return Ok(Value::Path(NixString::new(dir)));
    }
    let ctx = s.context().cloned().unwrap_or_default();
    Ok(Value::String(NixString::with_context(dir, ctx)))
}

fn to_path(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a = Args::new("toPath", args, pos);
    let v = a.args[0].clone();
    let p = ev.coerce_to_path_with_context(&v, pos).trace(pos, || crate::arg_ctx("toPath", 0))?;
    Ok(Value::String(p))
}

/// `findFile searchPath "nixpkgs/lib"`: the first entry whose prefix matches and whose path
/// exists.
fn find_file(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let a = Args::new("findFile", args, pos);
    let list = a.list(ev, 0)?;
    let wanted = a.string(ev, 1)?.to_str_lossy().into_owned();
    // The reference's built-in files (`<nix/fetchurl.nix>`), found whatever the search path.
    if let Some(rest) = wanted.strip_prefix("nix/") {
        let p = format!("/__corepkgs__/{}", rest);
        if ev.virtual_file(&p).is_some() {
            return Ok(Value::Path(NixString::from(p)));
        }
    }
    for item in list.iter() {
        let item = ev.expect_attrs(item, pos)?;
        let prefix = match item.get(Symbol::new("prefix")) {
            Some(p) => ev.expect_string(&p.clone(), pos)?.to_str_lossy().into_owned(),
            None => String::new(),
        };
        let Some(path) = item.get(Symbol::new("path")).cloned() else {
            return Err(EvalError::at(ErrorKind::MissingAttr, pos, "attribute 'path' missing"));
        };
        // 2.8 builds the derivation outputs an entry refers to before looking in it.
        let path = ev.force(&path)?;
        crate::store::realise_value_context(ev, &path, pos)?;
        let path = ev.coerce_to_string(&path, pos, CoerceOpts::NO_COPY)?.to_str_lossy().into_owned();
        let rest = if prefix.is_empty() {
            Some(wanted.as_str())
        } else if wanted == prefix {
            Some("")
        } else {
            wanted.strip_prefix(&prefix).and_then(|r| r.strip_prefix('/'))
        };
        let Some(rest) = rest else { continue };
        let candidate = if rest.is_empty() { path.clone() } else { format!("{}/{}", path, rest) };
        let candidate = if candidate.starts_with('/') {
            candidate
        } else {
            format!("{}/{}", std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default(), candidate)
        };
        let candidate = nix_eval::canon_path(&candidate);
        if ev.settings.pure {
            continue;
        }
        if Path::new(&candidate).exists() {
            return Ok(Value::Path(NixString::from(candidate)));
        }
    }
    // Both are the reference's ThrownError, which tryEval catches (nixpkgs probes
    // `<nixpkgs-overlays>` that way, also in pure mode).
    if ev.settings.pure {
        return Err(EvalError::at(
            ErrorKind::Throw,
            pos,
            format!("cannot look up '<{}>' in pure evaluation mode (use '--impure' to override)", wanted),
        ));
    }
    Err(EvalError::at(
        ErrorKind::Throw,
        pos,
        format!("file '{}' was not found in the Nix search path (add it using $NIX_PATH or -I)", wanted),
    ))
}
