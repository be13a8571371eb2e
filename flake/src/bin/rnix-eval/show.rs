//! `flake show [--json] [--legacy]`: the outputs as 2.8 draws them (spec §7).
//!
//! A tree with the reference's connectors and ANSI codes (2.8 emits them even to a pipe),
//! or one line of JSON with sorted keys. Which attribute paths are recursed into, shown as
//! derivations, apps, templates, overlays, modules or configurations is 2.8's table; all
//! systems are evaluated (2.8 has no `--all-systems`; the flag is accepted and ignored).

use std::io::Write;

use nix_eval::error::{ErrorKind, EvalError, Result};
use nix_eval::{CoerceOpts, Eval, Symbol, Value};
use serde_json::{Map, Value as Json};

use crate::args::FlakeOpts;
use crate::flake_cmd::{lock, outputs, parse_installable};

const GREEN: &str = "\x1b[32;1m";
const BOLD: &str = "\x1b[1m";
const NORMAL: &str = "\x1b[0m";
const MAGENTA: &str = "\x1b[35;1m";

struct Shower<'a> {
    json: bool,
    legacy: bool,
    out: &'a mut dyn Write,
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
        if !self.json {
            let _ = writeln!(self.out, "{s}");
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
        // 2.8 reports each attribute path it visits as an activity, on stderr.
        eprintln!("evaluating '{}'...", path.join("."));
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
                eprintln!("warning: {header}: {MAGENTA}omitted{NORMAL} (use '--legacy' to show)");
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
    let (r, _) = parse_installable(installable)?;
    let locked = lock(ev, opts, &r)?;
    let outs = outputs(ev, &locked)?;
    let header = format!("{BOLD}{}{NORMAL}", locked.flake.locked_ref);
    let mut s = Shower { json: opts.json, legacy: opts.legacy, out: stdout };
    let j = s.visit(ev, &outs, &[], &header, "")?;
    if opts.json {
        let _ = writeln!(stdout, "{}", nix_flake::json::to_compact(&Json::Object(j)));
    }
    Ok(0)
}
