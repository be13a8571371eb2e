//! Input attributes: the `{ type = "git"; url = …; }` maps that every flake
//! reference, lock entry and registry entry is made of.
//!
//! CppNix keeps them as `std::map<std::string, variant<string, uint64, bool>>`,
//! so iteration (and therefore JSON output and URL queries) is in byte order of
//! the names; a `BTreeMap<String, _>` gives exactly that. Values are only
//! strings, unsigned integers and Booleans: anything else in a lock file is an
//! error, as in the reference.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::{bail, Error, Result};

/// One attribute value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Attr {
    /// A string (`url`, `rev`, `narHash`, …).
    Str(String),
    /// An unsigned integer (`lastModified`, `revCount`).
    Int(u64),
    /// A Boolean (`flake`, `submodules`, `shallow`).
    Bool(bool),
}

impl From<&str> for Attr {
    fn from(s: &str) -> Attr {
        Attr::Str(s.to_owned())
    }
}

impl From<String> for Attr {
    fn from(s: String) -> Attr {
        Attr::Str(s)
    }
}

impl From<u64> for Attr {
    fn from(n: u64) -> Attr {
        Attr::Int(n)
    }
}

impl From<bool> for Attr {
    fn from(b: bool) -> Attr {
        Attr::Bool(b)
    }
}

/// Attributes sorted by name, as CppNix's `fetchers::Attrs`.
pub type Attrs = BTreeMap<String, Attr>;

/// The attributes as a JSON object (keys in sorted order).
pub fn attrs_to_json(attrs: &Attrs) -> Map<String, Value> {
    attrs
        .iter()
        .map(|(k, v)| {
            let v = match v {
                Attr::Str(s) => Value::String(s.clone()),
                Attr::Int(n) => Value::from(*n),
                Attr::Bool(b) => Value::Bool(*b),
            };
            (k.clone(), v)
        })
        .collect()
}

/// Reads attributes from a JSON object (a lock file's `locked`/`original`, a registry entry).
pub fn json_to_attrs(json: &Value) -> Result<Attrs> {
    let Some(obj) = json.as_object() else {
        bail!("unsupported input attribute type in lock file");
    };
    let mut attrs = Attrs::new();
    for (k, v) in obj {
        let a = match v {
            Value::String(s) => Attr::Str(s.clone()),
            Value::Bool(b) => Attr::Bool(*b),
            Value::Number(n) => match n.as_u64() {
                Some(n) => Attr::Int(n),
                None => bail!("unsupported input attribute type in lock file"),
            },
            _ => bail!("unsupported input attribute type in lock file"),
        };
        attrs.insert(k.clone(), a);
    }
    Ok(attrs)
}

/// The compact JSON text of the attributes, as CppNix's `attrsToJSON(...).dump()`.
pub fn attrs_to_json_string(attrs: &Attrs) -> String {
    crate::json::to_compact(&Value::Object(attrs_to_json(attrs)))
}

/// A string attribute if present; a non-string is an error.
pub fn maybe_get_str<'a>(attrs: &'a Attrs, name: &str) -> Result<Option<&'a str>> {
    match attrs.get(name) {
        None => Ok(None),
        Some(Attr::Str(s)) => Ok(Some(s)),
        Some(_) => Err(Error::new(format!("input attribute '{name}' is not a string {}", attrs_to_json_string(attrs)))),
    }
}

/// A required string attribute.
pub fn get_str<'a>(attrs: &'a Attrs, name: &str) -> Result<&'a str> {
    maybe_get_str(attrs, name)?.ok_or_else(|| Error::new(format!("input attribute '{name}' is missing")))
}

/// An integer attribute if present; a non-integer is an error.
pub fn maybe_get_int(attrs: &Attrs, name: &str) -> Result<Option<u64>> {
    match attrs.get(name) {
        None => Ok(None),
        Some(Attr::Int(n)) => Ok(Some(*n)),
        Some(_) => bail!("input attribute '{name}' is not an integer"),
    }
}

/// A Boolean attribute if present; a non-Boolean is an error.
pub fn maybe_get_bool(attrs: &Attrs, name: &str) -> Result<Option<bool>> {
    match attrs.get(name) {
        None => Ok(None),
        Some(Attr::Bool(b)) => Ok(Some(*b)),
        Some(_) => bail!("input attribute '{name}' is not a Boolean"),
    }
}

/// The attributes as URL query parameters (integers in decimal, Booleans `1`/`0`).
pub(crate) fn attrs_to_query(attrs: &Attrs) -> BTreeMap<String, String> {
    attrs
        .iter()
        .map(|(k, v)| {
            let v = match v {
                Attr::Str(s) => s.clone(),
                Attr::Int(n) => n.to_string(),
                Attr::Bool(b) => if *b { "1" } else { "0" }.to_owned(),
            };
            (k.clone(), v)
        })
        .collect()
}
