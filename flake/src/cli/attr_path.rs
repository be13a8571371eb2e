//! Selecting a value by an attribute path as `nix-instantiate -A` and `nix eval` do:
//! `a.b."c.d".0` (quoted names keep their dots, numbers index lists), calling functions
//! met on the way with the `--arg`/`--argstr` auto-arguments.

use nix_eval::error::{ErrorKind, EvalError, Result};
use nix_eval::source::{Origin, Pos};
use nix_eval::{Attr, Attrs, Eval, Symbol, Value};
use std::path::Path;

/// One `--arg NAME EXPR` (an expression) or `--argstr NAME STRING` (a string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutoArg {
    /// `--arg NAME EXPR`: the expression, evaluated when the arguments are built.
    Expr(String),
    /// `--argstr NAME STRING`: the string as is.
    Str(String),
}

/// `a.b."c.d".e` -> ["a", "b", "c.d", "e"].
pub fn split_attr_path(p: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in p.chars() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// The auto-arguments as a set (expressions evaluated relative to `dir`); a later
/// argument of the same name wins, as in the reference.
pub fn auto_args(ev: &mut Eval, args: &[(String, AutoArg)], dir: &Path) -> Result<Attrs> {
    let mut attrs = Vec::new();
    for (name, a) in args {
        let v = match a {
            AutoArg::Str(s) => Value::string(s.as_str()),
            AutoArg::Expr(e) => ev.eval_text(e, Origin::String, dir)?,
        };
        attrs.push(Attr { name: Symbol::new(name), pos: Pos::NONE, value: v });
    }
    attrs.reverse();
    Ok(Attrs::from_vec(attrs))
}

/// Calls a function whose arguments are all named with the auto-arguments it accepts
/// (and a functor with itself first); other values are returned forced.
pub fn auto_call(ev: &mut Eval, v: &Value, args: &Attrs) -> Result<Value> {
    let v = ev.force(v)?;
    match &v {
        Value::Lambda(c) if c.formals().is_some() => {
            let formals = c.formals().unwrap();
            let mut given = Vec::new();
            for a in args.iter() {
                if formals.ellipsis || formals.contains(a.name) {
                    given.push(a.clone());
                }
            }
            ev.call(&v, Value::Attrs(Attrs::from_vec(given)), Pos::NONE)
        }
        Value::Attrs(a) if a.contains(nix_eval::sym::FUNCTOR) => {
            let f = ev.force(&a.get(nix_eval::sym::FUNCTOR).unwrap().clone())?;
            let inner = ev.call(&f, v.clone(), Pos::NONE)?;
            auto_call(ev, &inner, args)
        }
        _ => Ok(v),
    }
}

/// The value at `path` under `root` (2.8's `findAlongAttrPath`), auto-calling `root`
/// and each value selected; an empty path is `root` itself.
pub fn find_along_attr_path(ev: &mut Eval, root: &Value, path: &str, args: &Attrs) -> Result<Value> {
    let mut v = auto_call(ev, root, args)?;
    if path.is_empty() {
        return Ok(v);
    }
    for key in split_attr_path(path) {
        v = ev.force(&v)?;
        if let Ok(i) = key.parse::<usize>() {
            if let Value::List(l) = &v {
                let Some(x) = l.get(i) else {
                    return Err(EvalError::new(
                        ErrorKind::Other,
                        format!("list index {} in selection path '{}' is out of range", i, path),
                    ));
                };
                v = auto_call(ev, &x.clone(), args)?;
                continue;
            }
        }
        let Value::Attrs(a) = &v else {
            return Err(EvalError::new(
                ErrorKind::Type,
                format!(
                    "the expression selected by the selection path '{}' should be a set but is {}",
                    path,
                    v.ty().describe()
                ),
            ));
        };
        let Some(x) = a.get(Symbol::new(&key)) else {
            return Err(EvalError::new(
                ErrorKind::MissingAttr,
                format!("attribute '{}' in selection path '{}' not found", key, path),
            ));
        };
        v = auto_call(ev, &x.clone(), args)?;
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::split_attr_path;

    #[test]
    fn quoted_names_keep_their_dots() {
        assert_eq!(split_attr_path(r#"a.b."c.d".0"#), ["a", "b", "c.d", "0"]);
        assert_eq!(split_attr_path(""), [""]);
    }
}
