//! Flake registries: how `nixpkgs` or `flake:dep2` becomes a fetchable input.
//!
//! Same file format (version 2) and search order as CppNix 2.8: `--override-flake`
//! entries, then the user registry (`$XDG_CONFIG_HOME/nix/registry.json`), the
//! system one (`$NIX_CONF_DIR/registry.json`, default `/etc/nix`), then the global
//! one. The reference downloads the global registry; this crate never contacts
//! the network for it, so the global registry is a file named by
//! `RNIX_FLAKE_REGISTRY` or, by default, a built-in single entry mapping
//! `nixpkgs` to `github:NixOS/nixpkgs/nixpkgs-unstable`. Unreadable files are
//! skipped with the reference's warning (returned, not printed).

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::attrs::{attrs_to_json, json_to_attrs, Attrs};
use crate::error::{bail, Result};
use crate::input::Input;

/// One `from` → `to` mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryEntry {
    /// The indirect input matched.
    pub from: Input,
    /// What it resolves to (without `dir`).
    pub to: Input,
    /// `dir` (and nothing else, in practice) split off `to`.
    pub extra_attrs: Attrs,
    /// Match all attributes, instead of ignoring the caller's `ref`/`rev`.
    pub exact: bool,
}

/// One registry file (or the flag / built-in registry).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Registry {
    /// Entries, first match wins.
    pub entries: Vec<RegistryEntry>,
}

impl Registry {
    /// Parses registry JSON (version 2).
    pub fn parse(text: &str, path: &str) -> Result<Registry> {
        let json: Value = serde_json::from_str(text)
            .map_err(|e| crate::error::Error::new(format!("cannot parse flake registry '{path}': {e}")))?;
        let version = json.get("version").and_then(Value::as_i64).unwrap_or(0);
        if version != 2 {
            bail!("flake registry '{path}' has unsupported version {version}");
        }
        let mut reg = Registry::default();
        let flakes = json.get("flakes").and_then(Value::as_array).cloned().unwrap_or_default();
        for i in flakes {
            let mut to = json_to_attrs(i.get("to").unwrap_or(&Value::Null))?;
            let mut extra_attrs = Attrs::new();
            if let Some(d) = to.remove("dir") {
                extra_attrs.insert("dir".into(), d);
            }
            reg.entries.push(RegistryEntry {
                from: Input::from_attrs(json_to_attrs(i.get("from").unwrap_or(&Value::Null))?)?,
                to: Input::from_attrs(to)?,
                extra_attrs,
                exact: i.get("exact").and_then(Value::as_bool).unwrap_or(false),
            });
        }
        Ok(reg)
    }

    /// Reads a registry file; a missing file is an empty registry, an unreadable one is
    /// empty plus the reference's warning text.
    pub fn read(path: &Path) -> (Registry, Option<String>) {
        let p = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Registry::default(), None),
            Err(e) => {
                return (
                    Registry::default(),
                    Some(format!("cannot read flake registry '{p}': {}", crate::error::Error::from(e))),
                )
            }
        };
        match Registry::parse(&text, &p) {
            Ok(r) => (r, None),
            Err(e) if e.message().starts_with("cannot parse") => (Registry::default(), Some(e.message().to_owned())),
            Err(e) => (Registry::default(), Some(format!("cannot read flake registry '{p}': {e}"))),
        }
    }

    /// The JSON text CppNix writes (`dump(2)`, keys sorted, no trailing newline).
    pub fn to_json_string(&self) -> String {
        let flakes: Vec<Value> = self
            .entries
            .iter()
            .map(|e| {
                let mut to = attrs_to_json(e.to.attrs());
                to.extend(attrs_to_json(&e.extra_attrs));
                let mut obj = json!({ "from": attrs_to_json(e.from.attrs()), "to": to });
                if e.exact {
                    obj["exact"] = Value::Bool(true);
                }
                obj
            })
            .collect();
        crate::json::to_pretty(&json!({ "version": 2, "flakes": flakes }), 2)
    }

    /// Appends a mapping.
    pub fn add(&mut self, from: Input, to: Input, extra_attrs: Attrs) {
        self.entries.push(RegistryEntry { from, to, extra_attrs, exact: false });
    }

    /// Removes every entry whose `from` equals `input`.
    pub fn remove(&mut self, input: &Input) {
        self.entries.retain(|e| &e.from != input);
    }
}

/// The built-in global registry: `nixpkgs` → `github:NixOS/nixpkgs/nixpkgs-unstable`.
pub fn builtin_global_registry() -> Registry {
    let text = r#"{"version":2,"flakes":[{"from":{"type":"indirect","id":"nixpkgs"},"to":{"type":"github","owner":"NixOS","repo":"nixpkgs","ref":"nixpkgs-unstable"}}]}"#;
    Registry::parse(text, "<built-in>").unwrap_or_default()
}

/// The registries in lookup order.
#[derive(Clone, Debug, Default)]
pub struct Registries {
    /// Flag, user, system, global (any may be empty).
    pub list: Vec<Registry>,
}

impl Registries {
    /// The standard set: `flag` (from `--override-flake`), then the user, system and global
    /// registries found from the environment; `global` (the `flake-registry` setting) names
    /// the global one's file. Returns warnings for unreadable files.
    pub fn load(flag: Registry, global: Option<&Path>) -> (Registries, Vec<String>) {
        let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        let config = env("XDG_CONFIG_HOME").or_else(|| env("HOME").map(|h| h.join(".config")));
        let conf_dir = env("NIX_CONF_DIR").unwrap_or_else(|| PathBuf::from("/etc/nix"));
        let mut warnings = vec![];
        let mut list = vec![flag];
        let mut files = vec![];
        if let Some(c) = config {
            files.push(c.join("nix/registry.json"));
        }
        files.push(conf_dir.join("registry.json"));
        for f in files {
            let (r, w) = Registry::read(&f);
            warnings.extend(w);
            list.push(r);
        }
        match global.map(Path::to_path_buf).or_else(|| env("RNIX_FLAKE_REGISTRY")) {
            Some(p) => {
                let (r, w) = Registry::read(&p);
                warnings.extend(w);
                list.push(r);
            }
            None => list.push(builtin_global_registry()),
        }
        (Registries { list }, warnings)
    }

    /// Resolves an input (2.8 `lookupInRegistries`): returns the direct input and the
    /// entry's extra attributes (`dir`).
    pub fn lookup(&self, input: &Input) -> Result<(Input, Attrs)> {
        let mut input = input.clone();
        let mut extra = Attrs::new();
        'restart: for _ in 0..100 {
            for entry in self.list.iter().flat_map(|r| &r.entries) {
                if entry.exact {
                    if entry.from == input {
                        input = entry.to.clone();
                        extra = entry.extra_attrs.clone();
                        continue 'restart;
                    }
                } else if entry.from.contains(&input) {
                    let r = if entry.from.get_ref()?.is_none() { input.get_ref()?.map(str::to_owned) } else { None };
                    let rev = if entry.from.get_rev()?.is_none() { input.get_rev()? } else { None };
                    input = entry.to.apply_overrides(r.as_deref(), rev.as_deref())?;
                    extra = entry.extra_attrs.clone();
                    continue 'restart;
                }
            }
            if !input.is_direct() {
                bail!("cannot find flake '{input}' in the flake registries");
            }
            return Ok((input, extra));
        }
        bail!("cycle detected in flake registry for '{input}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flakeref::{FlakeRef, ParseOptions};

    fn parse(s: &str) -> FlakeRef {
        FlakeRef::parse(s, ParseOptions::default()).unwrap()
    }

    #[test]
    fn builtin_nixpkgs_keeps_callers_ref() {
        let regs = Registries { list: vec![builtin_global_registry()] };
        let r = parse("nixpkgs/nixos-20.09").resolve(&regs).unwrap();
        assert_eq!(r.to_string(), "github:NixOS/nixpkgs/nixos-20.09");
        let r = parse("nixpkgs").resolve(&regs).unwrap();
        assert_eq!(r.to_string(), "github:NixOS/nixpkgs/nixpkgs-unstable");
        assert_eq!(
            parse("flake:x").resolve(&regs).unwrap_err().message(),
            "cannot find flake 'flake:x' in the flake registries"
        );
    }

    #[test]
    fn file_format_and_dir_and_cycles() {
        // Written by `nix registry add dep2 git+file:///tmp/ex/dep2?dir=sub` (2.8).
        let text = "{\n  \"flakes\": [\n    {\n      \"from\": {\n        \"id\": \"dep2\",\n        \"type\": \"indirect\"\n      },\n      \"to\": {\n        \"dir\": \"sub\",\n        \"type\": \"git\",\n        \"url\": \"file:///tmp/ex/dep2?dir=sub\"\n      }\n    }\n  ],\n  \"version\": 2\n}";
        let reg = Registry::parse(text, "r").unwrap();
        assert_eq!(reg.to_json_string(), text);
        let regs = Registries { list: vec![reg] };
        let r = parse("dep2").resolve(&regs).unwrap();
        assert_eq!(r.subdir, "sub");
        assert_eq!(r.to_string(), "git+file:///tmp/ex/dep2?dir=sub");
        let cyc = r#"{"version":2,"flakes":[{"from":{"type":"indirect","id":"a"},"to":{"type":"indirect","id":"b"}},{"from":{"type":"indirect","id":"b"},"to":{"type":"indirect","id":"a"}}]}"#;
        let regs = Registries { list: vec![Registry::parse(cyc, "c").unwrap()] };
        let e = parse("a").resolve(&regs).unwrap_err();
        assert!(e.message().starts_with("cycle detected in flake registry for 'flake:"), "{e}");
        assert_eq!(
            Registry::parse(r#"{"version":1}"#, "/x").unwrap_err().message(),
            "flake registry '/x' has unsupported version 1"
        );
    }
}
