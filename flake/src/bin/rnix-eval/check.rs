//! `flake check`: every output evaluated and checked against its schema (2.8 `CmdFlakeCheck`,
//! spec §8), without building.
//!
//! Unlike 2.8 without `--keep-going`, every failing output is reported (each error is
//! followed by the output it was found in, so failures are named even when the message
//! itself does not name them), and the exit status is 1 if any failed. Unknown outputs and
//! deprecated names are warnings. Outputs are visited `hydraJobs` first, then by name.

use nix_eval::error::{ErrorKind, EvalError, Result};
use nix_eval::source::Pos;
use nix_eval::{CoerceOpts, Eval, Symbol, Value};

use crate::args::FlakeOpts;
use crate::flake_cmd::{drv_path_of, lock, outputs, parse_installable};

struct Checker {
    errors: usize,
    show_trace: bool,
    error_format: nix_flake::cli::ErrorFormat,
}

fn fail(msg: String) -> Box<EvalError> {
    EvalError::new(ErrorKind::Other, msg)
}

fn pos_str(pos: Pos) -> String {
    nix_flake::eval::pos_string(pos)
}

impl Checker {
    fn report(&mut self, e: impl std::ops::Deref<Target = EvalError>, what: &str) {
        self.errors += 1;
        eprintln!(
            "{}",
            nix_flake::cli::session::render_error_with_context(
                &e,
                self.show_trace,
                self.error_format,
                &format!("while checking {what}")
            )
        );
    }

    fn attrs(&mut self, ev: &mut Eval, v: &Value) -> Result<Vec<(String, Value, Pos)>> {
        let v = ev.force(v)?;
        let Value::Attrs(a) = &v else {
            return Err(EvalError::new(
                ErrorKind::Type,
                format!("value is {} while a set was expected", v.ty().describe()),
            ));
        };
        Ok(a.sorted().iter().map(|x| (x.name.as_str().to_owned(), x.value.clone(), x.pos)).collect())
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

    fn per_system(
        &mut self,
        ev: &mut Eval,
        name: &str,
        v: &Value,
        each: &mut dyn FnMut(&mut Self, &mut Eval, String, Value),
    ) -> Result<()> {
        for (sys, sv, spos) in self.attrs(ev, v)? {
            self.system_name(&sys, spos);
            each(self, ev, format!("{name}.{sys}"), sv);
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
                    for x in a.sorted() {
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
                    Value::Attrs(xa) if ev.is_derivation(xa)? => self.derivation(ev, &p2, &xv),
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
            for x in a.sorted() {
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
        let deprecated = [
            ("defaultPackage", "packages.<system>.default"),
            ("defaultTemplate", "templates.default"),
            ("defaultBundler", "bundlers.<system>.default"),
            ("overlay", "overlays.default"),
            ("devShell", "devShells.<system>.default"),
            ("nixosModule", "nixosModules.default"),
        ];
        if let Some((_, new)) = deprecated.iter().find(|(o, _)| *o == name) {
            nix_flake::eval::warn(&format!("flake output attribute '{name}' is deprecated; use '{new}' instead"));
        }
        match name {
            "checks" | "packages" | "devShells" => {
                self.per_system(ev, name, v, &mut |c, ev, p, sv| match c.attrs(ev, &sv) {
                    Ok(items) => {
                        for (n, x, _) in items {
                            c.derivation(ev, &format!("{p}.{n}"), &x);
                        }
                    }
                    Err(e) => c.report(e, &format!("flake output '{p}'")),
                })
            }
            "apps" | "defaultApp" | "legacyPackages" | "formatter" => {
                self.per_system(ev, name, v, &mut |_, _, _, _| {})
            }
            "defaultPackage" | "devShell" => {
                self.per_system(ev, name, v, &mut |c, ev, p, sv| c.derivation(ev, &p, &sv))
            }
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
                    self.nixos_configuration(ev, &format!("nixosConfigurations.{n}"), &x);
                }
                Ok(())
            }
            "hydraJobs" => {
                self.hydra_jobs(ev, name, v);
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
            "defaultBundler" => self.per_system(ev, name, v, &mut |c, ev, p, sv| c.bundler(ev, &p, &sv)),
            "bundlers" => self.per_system(ev, name, v, &mut |c, ev, p, sv| match c.attrs(ev, &sv) {
                Ok(items) => {
                    for (n, x, _) in items {
                        c.bundler(ev, &format!("{p}.{n}"), &x);
                    }
                }
                Err(e) => c.report(e, &format!("flake output '{p}'")),
            }),
            _ => {
                nix_flake::eval::warn(&format!("unknown flake output '{name}'"));
                Ok(())
            }
        }
    }
}

pub fn check(ev: &mut Eval, opts: &FlakeOpts, installable: &str) -> Result<u8> {
    let (r, _) = parse_installable(installable)?;
    let locked = lock(ev, opts, &r)?;
    eprintln!("evaluating flake...");
    if !opts.no_build {
        // 2.8 builds the checks after evaluating them; rnix-eval has no builder.
        eprintln!("note: rnix-eval evaluates the checks without building them (as with '--no-build')");
    }
    let outs = outputs(ev, &locked)?;
    let mut c = Checker { errors: 0, show_trace: ev.settings.show_trace, error_format: opts.error_format };
    let mut items = c.attrs(ev, &outs)?;
    items.sort_by_key(|(n, _, _)| n != "hydraJobs");
    for (name, v, _) in items {
        if let Err(e) = c.output(ev, &name, &v) {
            c.report(e, &format!("flake output '{name}'"));
        }
    }
    if c.errors > 0 {
        eprintln!("error: some errors were encountered during the evaluation");
        return Ok(1);
    }
    Ok(0)
}
