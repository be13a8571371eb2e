//! The fetch builtins and `getFlake`, with 2.8's pure-mode argument checks.
//!
//! `fetchTree` and `fetchGit` go through the flake fetchers (so a locked input whose store
//! path exists is not fetched again) and return source info; in pure mode the input must be
//! locked (`rev` or `narHash`). `fetchTarball` and `fetchurl` return a store path and need a
//! `sha256` in pure mode. `getFlake` locks and calls a flake; in pure mode its reference
//! must be locked, registries are off and inputs cannot be re-locked.

use nix_eval::error::{ErrorKind, EvalError, Result};
use nix_eval::source::Pos;
use nix_eval::{BuiltinDef, CoerceOpts, Eval, Value};
use nix_store_core::{FileIngestionMethod, Hash, HashAlgo};

use super::lock::{lock_flake, LockFlags};
use super::values::{nix_to_attrs, pos_string, source_info_value, store_path_value};
use super::{call_flake, fetch_cached, fetch_store, registries, FlakeState};
use crate::attrs::{Attr, Attrs};
use crate::flakeref::{FlakeRef, ParseOptions};
use crate::input::Input;
use crate::source_info::{SourceInfo, SourceInfoOptions};

/// Always present (`fetchTree` refuses to run unless the `flakes` feature is enabled).
pub(super) const FETCH_BUILTINS: &[BuiltinDef] = &[
    BuiltinDef { name: "fetchTree", arity: 1, global: true, func: fetch_tree },
    BuiltinDef { name: "fetchGit", arity: 1, global: true, func: fetch_git },
    BuiltinDef { name: "fetchTarball", arity: 1, global: true, func: fetch_tarball },
    BuiltinDef { name: "fetchurl", arity: 1, global: false, func: fetch_url },
];

/// Only with the `flakes` feature.
pub(super) const FLAKE_BUILTINS: &[BuiltinDef] =
    &[BuiltinDef { name: "getFlake", arity: 1, global: false, func: get_flake }];

fn err(pos: Pos, msg: String) -> Box<EvalError> {
    EvalError::at(ErrorKind::Other, pos, msg)
}

fn lib_err(pos: Pos) -> impl Fn(crate::Error) -> Box<EvalError> {
    move |e| err(pos, e.message().to_owned())
}

/// A string argument that must not refer to store paths (2.8's `forceStringNoCtx` for URLs,
/// hashes, names and flake references), as Rust text.
fn string_no_ctx(ev: &mut Eval, v: &Value, pos: Pos) -> Result<String> {
    Ok(ev.expect_string_no_ctx(v, pos)?.to_str_lossy().into_owned())
}

/// 2.8's `checkURI`: in restricted mode a fetch must name an `allowed-uris` prefix (or
/// something below one), or a path (plain or `file://`) restricted mode may read.
fn check_uri(ev: &mut Eval, uri: &str, pos: Pos) -> Result<()> {
    if !ev.settings.restrict {
        return Ok(());
    }
    let allowed = ev.ext::<FlakeState>().allowed_uris.iter().any(|prefix| {
        uri == prefix
            || (uri.len() > prefix.len()
                && !prefix.is_empty()
                && uri.starts_with(prefix.as_str())
                && (prefix.ends_with('/') || uri.as_bytes()[prefix.len()] == b'/'))
    });
    if allowed {
        return Ok(());
    }
    if let Some(path) = uri.strip_prefix("file://").or(uri.starts_with('/').then_some(uri)) {
        return ev
            .io
            .check_access(std::path::Path::new(path))
            .map_err(|msg| EvalError::at(ErrorKind::Restricted, pos, msg));
    }
    Err(EvalError::at(ErrorKind::Restricted, pos, format!("access to URI '{uri}' is forbidden in restricted mode")))
}

/// `fixURI`: a bare path becomes `file://<abs>`.
fn fix_uri(s: &str) -> String {
    if s.contains("://") {
        s.to_owned()
    } else {
        let abs = if s.starts_with('/') {
            s.to_owned()
        } else {
            let cwd = std::env::current_dir().unwrap_or_default();
            format!("{}/{s}", cwd.display())
        };
        format!("file://{}", nix_eval::canon_path(&abs))
    }
}

fn fetch_tree_impl(
    ev: &mut Eval,
    arg: &Value,
    pos: Pos,
    forced_type: Option<&str>,
    empty_rev_fallback: bool,
) -> Result<Value> {
    let v = ev.force(arg)?;
    let mut input = match &v {
        Value::Attrs(a) => {
            let mut attrs: Attrs = nix_to_attrs(ev, a, pos, "fetchTree")?;
            let ty = match (attrs.get("type"), forced_type) {
                (Some(Attr::Str(t)), None) => t.clone(),
                (Some(_), Some(_)) | (Some(_), None) => return Err(err(pos, "unexpected attribute 'type'".into())),
                (None, Some(t)) => t.to_owned(),
                (None, None) => return Err(err(pos, "attribute 'type' is missing in call to 'fetchTree'".into())),
            };
            attrs.insert("type".into(), ty.as_str().into());
            if let Some(Attr::Str(u)) = attrs.get("url").cloned() {
                check_uri(ev, &u, pos)?;
                attrs.insert("url".into(), fix_uri(&u).into());
            }
            if forced_type.is_none() && attrs.contains_key("name") {
                return Err(err(pos, "attribute 'name' isn’t supported in call to 'fetchTree'".into()));
            }
            Input::from_attrs(attrs).map_err(lib_err(pos))?
        }
        _ => {
            let url = ev.coerce_to_string(&v, pos, CoerceOpts::NO_COPY)?.to_str_lossy().into_owned();
            check_uri(ev, &url, pos)?;
            if forced_type == Some("git") {
                let mut a = Attrs::new();
                a.insert("type".into(), "git".into());
                a.insert("url".into(), fix_uri(&url).into());
                Input::from_attrs(a).map_err(lib_err(pos))?
            } else {
                let parsed = crate::url::parse_url(&fix_uri(&url)).map_err(lib_err(pos))?;
                Input::from_url(&parsed).map_err(lib_err(pos))?
            }
        }
    };
    if !ev.settings.pure && !input.is_direct() {
        let regs = registries(ev);
        input = regs.lookup(&input).map_err(lib_err(pos))?.0;
    }
    if ev.settings.pure && !input.is_locked() {
        return Err(EvalError::new(
            ErrorKind::Other,
            format!("in pure evaluation mode, 'fetchTree' requires a locked input, at {}", pos_string(pos)),
        ));
    }
    let f = fetch_cached(ev, &input).map_err(lib_err(pos))?;
    let opts = SourceInfoOptions { empty_rev_fallback, ..Default::default() };
    let si = SourceInfo::new(&f.input, &f.store_path, &opts).map_err(lib_err(pos))?;
    Ok(source_info_value(&si))
}

fn fetch_tree(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    if !ev.settings.experimental_features.iter().any(|f| f == "flakes") {
        return Err(err(
            pos,
            "experimental Nix feature 'flakes' is disabled; use '--extra-experimental-features flakes' to override"
                .into(),
        ));
    }
    fetch_tree_impl(ev, &args[0], pos, None, false)
}

fn fetch_git(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    fetch_tree_impl(ev, &args[0], pos, Some("git"), true)
}

/// `fetchTarball`/`fetchurl`: (url, expected sha256, name).
fn fetch_args(
    ev: &mut Eval,
    arg: &Value,
    pos: Pos,
    who: &str,
    default_name: &str,
) -> Result<(String, Option<Hash>, String)> {
    let v = ev.force(arg)?;
    let (mut url, mut hash, mut name) = (None, None, default_name.to_owned());
    if let Value::Attrs(a) = &v {
        for attr in a.sorted() {
            let n = attr.name.as_str();
            let value = attr.value.clone();
            match n {
                "url" => url = Some(string_no_ctx(ev, &value, attr.pos)?),
                "sha256" => {
                    let s = string_no_ctx(ev, &value, attr.pos)?;
                    hash = Some(if s.is_empty() {
                        Hash::zero(HashAlgo::Sha256)
                    } else {
                        Hash::parse_any(&s, Some(HashAlgo::Sha256)).map_err(|e| err(attr.pos, e.to_string()))?
                    });
                }
                "name" => name = string_no_ctx(ev, &value, attr.pos)?,
                _ => return Err(err(attr.pos, format!("unsupported argument '{n}' to '{who}'"))),
            }
        }
    } else {
        url = Some(string_no_ctx(ev, &v, pos)?);
    }
    let Some(url) = url else {
        return Err(err(pos, "'url' argument required".into()));
    };
    check_uri(ev, &url, pos)?;
    let name_passed = name != default_name;
    if name.is_empty() {
        name = url.trim_end_matches('/').rsplit('/').next().unwrap_or("").to_owned();
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+-._?=".contains(c);
    if let Some(c) = name.chars().find(|&c| !allowed(c)) {
        let resolution = if name_passed {
            format!("Please change the value for the 'name' attribute passed to '{who}', so that it can create a valid store path.")
        } else if matches!(v, Value::Attrs(_)) {
            format!("Please add a valid 'name' attribute to the argument for '{who}', so that it can create a valid store path.")
        } else {
            // (Two spaces, as the reference has them.)
            format!("Please pass an attribute set with 'url' and 'name' attributes to '{who}',  so that it can create a valid store path.")
        };
        return Err(err(
            pos,
            format!("invalid store path name when fetching URL '{url}': name '{name}' contains illegal character '{c}'. {resolution}"),
        ));
    }
    if ev.settings.pure && hash.is_none() {
        return Err(EvalError::new(
            ErrorKind::Other,
            format!("in pure evaluation mode, '{who}' requires a 'sha256' argument"),
        ));
    }
    Ok((url, hash, name))
}

fn allow_and_return(ev: &mut Eval, sp: &str) -> Value {
    let store = fetch_store(ev);
    let real = store.real_path(sp).unwrap_or_else(|| sp.into());
    ev.ext::<FlakeState>().allowed.allow(sp, real);
    store_path_value(sp)
}

fn fetch_tarball(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let (url, hash, name) = fetch_args(ev, &args[0], pos, "fetchTarball", "source")?;
    let mut a = Attrs::new();
    a.insert("type".into(), "tarball".into());
    a.insert("url".into(), fix_uri(&url).into());
    if name != "source" {
        a.insert("name".into(), name.as_str().into());
    }
    if let Some(h) = &hash {
        a.insert("narHash".into(), h.to_sri().into());
    }
    let input = Input::from_attrs(a).map_err(lib_err(pos))?;
    let f = fetch_cached(ev, &input).map_err(lib_err(pos))?;
    Ok(allow_and_return(ev, &f.store_path))
}

fn fetch_url(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let (url, hash, name) = fetch_args(ev, &args[0], pos, "fetchurl", "")?;
    let store = fetch_store(ev);
    if let Some(h) = &hash {
        let sp = nix_store_core::store_path::make_fixed_output_path(
            FileIngestionMethod::Flat,
            h,
            &name,
            &Default::default(),
        )
        .map_err(|e| err(pos, e.to_string()))?
        .to_absolute();
        if store.exists(&sp) {
            return Ok(allow_and_return(ev, &sp));
        }
    }
    let body = crate::fetch::tarball::download_file(&fix_uri(&url)).map_err(lib_err(pos))?;
    let got = Hash::digest(HashAlgo::Sha256, &body);
    if let Some(h) = &hash {
        if *h != got {
            return Err(err(
                pos,
                format!(
                    "hash mismatch in file downloaded from '{url}':\n  specified: sha256:{}\n  got:       sha256:{}",
                    h.to_nix32(),
                    got.to_nix32()
                ),
            ));
        }
    }
    let tmp = std::env::temp_dir().join(format!("rnix-fetchurl-{}-{name}", std::process::id()));
    std::fs::write(&tmp, &body).map_err(|e| err(pos, e.to_string()))?;
    let res = store.add_path(&name, &tmp, FileIngestionMethod::Flat, &mut |_, _| true);
    let _ = std::fs::remove_file(&tmp);
    let (sp, _) = res.map_err(|e| err(pos, e.to_string()))?;
    Ok(allow_and_return(ev, &sp))
}

fn get_flake(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let s = string_no_ctx(ev, &args[0], pos)?;
    let opts = ParseOptions { base_dir: None, allow_missing: true, is_flake: true };
    let r = FlakeRef::parse(&s, opts).map_err(lib_err(pos))?;
    let pure = ev.settings.pure;
    if pure && !r.input.is_locked() {
        return Err(err(
            pos,
            format!(
                "cannot call 'getFlake' on unlocked flake reference '{s}', at {} (use --impure to override)",
                pos_string(pos)
            ),
        ));
    }
    let flags =
        LockFlags { update_lock_file: false, use_registries: !pure, allow_mutable: !pure, ..Default::default() };
    let locked = lock_flake(ev, &r, &flags)?;
    call_flake(ev, &locked)
}
