//! Command-line parsing. `instantiate` follows `nix-instantiate`'s options exactly (they are
//! positional-insensitive flags with arguments, hence parsed by hand).

#[derive(Default, Debug)]
pub struct Options {
    pub command: Command,
    pub eval_only: bool,
    pub parse_only: bool,
    pub strict: bool,
    pub json: bool,
    pub xml: bool,
    pub raw: bool,
    pub no_location: bool,
    pub exprs: Vec<String>,
    pub files: Vec<String>,
    pub attr_paths: Vec<String>,
    pub auto_args: Vec<(String, AutoArg)>,
    pub include: Vec<String>,
    pub show_trace: bool,
    pub readonly: bool,
    pub read_write: bool,
    pub pure: bool,
    pub restrict: bool,
    pub allowed_uris: Vec<String>,
    pub max_call_depth: Option<usize>,
    pub experimental: Vec<String>,
    pub lints: Vec<(String, String)>,
    pub trace_function_calls: bool,
    /// `--store URL` / `--option store URL` (the last wins); `NIX_REMOTE` otherwise.
    pub store: Option<String>,
    /// `--add-root PATH`: a GC root for each derivation printed.
    pub add_root: Option<String>,
    pub dry_run: bool,
    /// `--option allow-import-from-derivation false`.
    pub forbid_ifd: bool,
}

#[derive(Default, Debug, PartialEq, Eq, Clone, Copy)]
pub enum Command {
    #[default]
    Instantiate,
    Eval,
}

#[derive(Debug, Clone)]
pub enum AutoArg {
    Expr(String),
    Str(String),
}

pub fn usage() -> &'static str {
    "usage: rnix-eval instantiate [--eval] [--strict] [--json|--xml] [--parse] [-E EXPR | FILE...] [-A PATH] [--arg N EXPR] [--argstr N S] [-I PATH]\n       rnix-eval eval (--expr E | --file F | F) [--strict] [--json] [--raw] [-A PATH] [--arg N EXPR] [--argstr N S] [-I PATH]"
}

pub fn parse(argv: Vec<String>) -> Result<Options, String> {
    let mut o = Options::default();
    let mut it = argv.into_iter().peekable();
    match it.peek().map(|s| s.as_str()) {
        Some("instantiate") => {
            it.next();
        }
        Some("eval") => {
            it.next();
            o.command = Command::Eval;
            o.eval_only = true;
        }
        Some("--help") | Some("-h") | None => return Err(usage().into()),
        _ => {}
    }
    let mut expr_mode = false;
    let mut impure = false;
    // `eval`'s installables: attribute paths with `--file`/`--expr`, else files.
    let mut file_flag = false;
    let mut positionals: Vec<String> = Vec::new();
    let need = |it: &mut std::iter::Peekable<std::vec::IntoIter<String>>, flag: &str| -> Result<String, String> {
        it.next().ok_or_else(|| format!("flag '{}' requires an argument", flag))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--eval" | "--eval-only" => o.eval_only = true,
            "--parse" | "--parse-only" => o.parse_only = true,
            "--strict" => o.strict = true,
            "--json" => o.json = true,
            "--xml" => o.xml = true,
            "--raw" => o.raw = true,
            "--no-location" => o.no_location = true,
            "--location" => o.no_location = false,
            "-E" | "--expr" => {
                if o.command == Command::Eval {
                    o.exprs.push(need(&mut it, &a)?);
                } else {
                    expr_mode = true;
                }
            }
            "--file" | "-f" => {
                o.files.push(need(&mut it, &a)?);
                file_flag = true;
            }
            "-A" | "--attr" => o.attr_paths.push(need(&mut it, &a)?),
            "--arg" => {
                let n = need(&mut it, &a)?;
                let v = need(&mut it, &a)?;
                o.auto_args.push((n, AutoArg::Expr(v)));
            }
            "--argstr" => {
                let n = need(&mut it, &a)?;
                let v = need(&mut it, &a)?;
                o.auto_args.push((n, AutoArg::Str(v)));
            }
            "-I" | "--include" => o.include.push(need(&mut it, &a)?),
            "--show-trace" => o.show_trace = true,
            "--trace-function-calls" => o.trace_function_calls = true,
            "--no-show-trace" => o.show_trace = false,
            "--readonly-mode" => o.readonly = true,
            "--read-write-mode" => {
                o.readonly = false;
                o.read_write = true;
            }
            "--dry-run" => o.dry_run = true,
            "--impure" => {
                o.pure = false;
                impure = true;
            }
            "--pure-eval" => o.pure = true,
            "--no-pure-eval" => {
                o.pure = false;
                impure = true;
            }
            "--restrict-eval" => o.restrict = true,
            "--no-restrict-eval" => o.restrict = false,
            "--store" => o.store = Some(need(&mut it, &a)?),
            "--max-call-depth" => {
                let n = need(&mut it, &a)?;
                o.max_call_depth = Some(n.parse().map_err(|_| format!("invalid value '{}' for --max-call-depth", n))?);
            }
            "--extra-experimental-features" | "--experimental-features" => {
                let v = need(&mut it, &a)?;
                o.experimental.extend(v.split_whitespace().map(String::from));
            }
            "--add-root" => o.add_root = Some(need(&mut it, &a)?),
            "--timeout" | "--out-link" | "-o" => {
                need(&mut it, &a)?;
            }
            "--option" => {
                let k = need(&mut it, &a)?;
                let v = need(&mut it, &a)?;
                apply_option(&mut o, &k, &v);
            }
            "--indirect" | "--quiet" | "-v" | "--verbose" | "--no-build-output" | "-Q" | "--repair" => {}
            s if s.starts_with("--lint-") => {
                let level = need(&mut it, &a)?;
                o.lints.push((s.trim_start_matches("--lint-").to_string(), level));
            }
            s if s.starts_with("--") => {
                // `--name value` for settings, as `nix` accepts them.
                let k = s.trim_start_matches("--").to_string();
                match it.peek() {
                    Some(v) if !v.starts_with('-') && is_known_setting(&k) => {
                        let v = it.next().unwrap();
                        apply_option(&mut o, &k, &v);
                    }
                    _ => return Err(format!("unrecognised flag '{}'", s)),
                }
            }
            _ => {
                if expr_mode {
                    o.exprs.push(a);
                } else if o.command == Command::Eval {
                    positionals.push(a);
                } else {
                    o.files.push(a);
                }
            }
        }
    }
    if file_flag || !o.exprs.is_empty() {
        o.attr_paths.extend(positionals);
    } else {
        o.files.extend(positionals);
    }
    if o.command == Command::Eval {
        // `nix eval`: flakes are on (as for the flake commands), and `--expr` is evaluated
        // purely unless `--impure`, while `--file` is not (2.8).
        if !o.experimental.iter().any(|f| f == "flakes") {
            o.experimental.push("flakes".into());
        }
        if o.files.is_empty() && !impure {
            o.pure = true;
        }
    }
    Ok(o)
}

fn is_known_setting(k: &str) -> bool {
    matches!(
        k,
        "pure-eval"
            | "restrict-eval"
            | "allowed-uris"
            | "max-call-depth"
            | "eval-cache"
            | "system"
            | "store"
            | "allow-import-from-derivation"
    )
}

fn apply_option(o: &mut Options, k: &str, v: &str) {
    match k {
        "pure-eval" => o.pure = v == "true",
        "restrict-eval" => o.restrict = v == "true",
        "allowed-uris" => o.allowed_uris = v.split_whitespace().map(String::from).collect(),
        "max-call-depth" => o.max_call_depth = v.parse().ok(),
        "store" => o.store = Some(v.to_owned()),
        "allow-import-from-derivation" => o.forbid_ifd = v == "false",
        "experimental-features" | "extra-experimental-features" => {
            o.experimental.extend(v.split_whitespace().map(String::from))
        }
        _ => {}
    }
}
