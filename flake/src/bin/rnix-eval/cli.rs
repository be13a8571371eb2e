//! The command line, declared once with `clap` (derive): the main command `rnix-eval
//! INSTALLABLE`, `instantiate` (nix-instantiate's options), `eval` (nix eval's), `flake
//! …`, `completions` and `eval-jobs`. Options marked global may come before or after the
//! command. [`parse`] turns argv into [`Cli`] plus the order of `--arg`/`--argstr`.

use clap::{ArgAction, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "rnix-eval",
    version,
    about = "A Nix evaluator: flake installables to .drv paths, nix-instantiate and nix eval",
    long_about = "A Nix evaluator.\n\n`rnix-eval INSTALLABLE` evaluates a flake output (as `nix build` would) and prints \
                  its .drv path. Exit status: 0 on success, 1 on an evaluation or usage error.",
    args_conflicts_with_subcommands = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(flatten)]
    pub build: BuildArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Instantiate store derivations (a drop-in for nix-instantiate)
    Instantiate(InstantiateArgs),
    /// Evaluate a flake output, a file or an expression and print it (as nix eval)
    Eval(EvalArgs),
    /// Evaluate a flake installable and print its .drv path (the main command)
    Build(BuildArgs),
    /// Flake commands: metadata, show, check, lock, update
    #[command(subcommand, arg_required_else_help = true)]
    Flake(FlakeCommand),
    /// Print a shell completion script
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Evaluate many jobs of a flake or file in parallel
    EvalJobs {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum ErrorFormatArg {
    /// The reference's text
    #[default]
    Text,
    /// One JSON object per error
    Json,
    /// Text with source snippets
    Rich,
}

/// Options every command accepts, before or after the command.
#[derive(Args, Debug, Default)]
pub struct GlobalArgs {
    /// The store to read and write (a directory, `auto`, `daemon`, `local?root=…`, `dummy://`)
    #[arg(long, global = true, value_name = "URL")]
    pub store: Option<String>,
    /// Set a Nix setting (known ones applied, unknown ones warned about)
    #[arg(long = "option", global = true, num_args = 2, value_names = ["NAME", "VALUE"], action = ArgAction::Append)]
    pub option: Vec<String>,
    /// More output on stderr (repeatable)
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
    /// Less output on stderr (repeatable)
    #[arg(long, global = true, action = ArgAction::Count)]
    pub quiet: u8,
    /// How errors are printed
    #[arg(long, global = true, value_enum, default_value_t = ErrorFormatArg::Text)]
    pub error_format: ErrorFormatArg,
    /// Show the full trace of an error
    #[arg(long, global = true, overrides_with = "no_show_trace")]
    pub show_trace: bool,
    /// Do not show the trace of an error (the default)
    #[arg(long, global = true, overrides_with = "show_trace")]
    pub no_show_trace: bool,
    /// Enable experimental features (space-separated)
    #[arg(long, global = true, value_name = "FEATURES", action = ArgAction::Append)]
    pub extra_experimental_features: Vec<String>,
    /// Enable experimental features (space-separated)
    #[arg(long, global = true, value_name = "FEATURES", action = ArgAction::Append)]
    pub experimental_features: Vec<String>,
    /// Compute .drv paths without writing them to the store
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Allow access to mutable paths and the environment (no pure evaluation)
    #[arg(long, global = true)]
    pub impure: bool,
    /// The system type (`builtins.currentSystem`, flake defaults)
    #[arg(long, global = true, value_name = "SYSTEM")]
    pub system: Option<String>,
    /// The global flake registry (a file or URL)
    #[arg(long, global = true, value_name = "FILE")]
    pub flake_registry: Option<String>,
    /// Apply the `nixConfig` of a flake instead of ignoring its untrusted settings
    #[arg(long, global = true)]
    pub accept_flake_config: bool,
}

/// Evaluation options shared by `instantiate` and `eval`.
#[derive(Args, Debug, Default)]
pub struct EvalCommonArgs {
    /// Add a search path entry for `<name>` (`-I name=path` or `-I path`)
    #[arg(short = 'I', long = "include", value_name = "PATH", action = ArgAction::Append)]
    pub include: Vec<String>,
    /// Pass the value of EXPR as argument NAME to the function called
    #[arg(long, num_args = 2, value_names = ["NAME", "EXPR"], action = ArgAction::Append)]
    pub arg: Vec<String>,
    /// Pass STRING as argument NAME to the function called
    #[arg(long, num_args = 2, value_names = ["NAME", "STRING"], action = ArgAction::Append)]
    pub argstr: Vec<String>,
    /// Pass the contents of PATH as the string argument NAME
    #[arg(long, num_args = 2, value_names = ["NAME", "PATH"], action = ArgAction::Append)]
    pub arg_from_file: Vec<String>,
    /// Select an attribute (`a.b."c.d".0`)
    #[arg(short = 'A', long = "attr", value_name = "ATTRPATH", action = ArgAction::Append)]
    pub attr: Vec<String>,
    /// Evaluate recursively (lists and attribute sets in full)
    #[arg(long)]
    pub strict: bool,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
    /// Print the result as XML
    #[arg(long)]
    pub xml: bool,
    /// Print a string result without quotes or escapes
    #[arg(long)]
    pub raw: bool,
    /// Pure evaluation (no NIX_PATH, no mutable paths)
    #[arg(long, overrides_with = "no_pure_eval")]
    pub pure_eval: bool,
    #[arg(long, hide = true, overrides_with = "pure_eval")]
    pub no_pure_eval: bool,
    /// Restricted evaluation (only the search path and allowed URIs)
    #[arg(long, overrides_with = "no_restrict_eval")]
    pub restrict_eval: bool,
    #[arg(long, hide = true, overrides_with = "restrict_eval")]
    pub no_restrict_eval: bool,
    /// URIs fetches may use in restricted or pure mode (space-separated)
    #[arg(long, value_name = "URIS")]
    pub allowed_uris: Option<String>,
    /// Limit on the depth of function calls
    #[arg(long, value_name = "N")]
    pub max_call_depth: Option<usize>,
    /// Log function calls and returns on stderr
    #[arg(long)]
    pub trace_function_calls: bool,
    /// Do not write to the store
    #[arg(long, overrides_with = "read_write_mode")]
    pub readonly_mode: bool,
    /// Write derivations to the store even with `--eval`
    #[arg(short = 'r', long, overrides_with = "readonly_mode")]
    pub read_write_mode: bool,
    /// Lint absolute and home path literals (warn|fatal)
    #[arg(long, value_name = "LEVEL")]
    pub lint_absolute_path_literals: Option<String>,
    /// Lint path literals without `./` (warn|fatal)
    #[arg(long, value_name = "LEVEL")]
    pub lint_short_path_literals: Option<String>,
    /// Lint unquoted URLs (warn|fatal)
    #[arg(long, value_name = "LEVEL")]
    pub lint_url_literals: Option<String>,
}

#[derive(Args, Debug, Default)]
pub struct InstantiateArgs {
    #[command(flatten)]
    pub common: EvalCommonArgs,
    /// Evaluate and print the value instead of instantiating derivations
    #[arg(long, visible_alias = "eval-only")]
    pub eval: bool,
    /// Parse only and print the syntax tree
    #[arg(long, visible_alias = "parse-only")]
    pub parse: bool,
    /// Look up FILES in the search path and print their paths
    #[arg(long)]
    pub find_file: bool,
    /// FILES are expressions
    #[arg(short = 'E', long = "expr")]
    pub expr: bool,
    /// Register each derivation printed as a GC root PATH (PATH-2, … for later ones)
    #[arg(long, value_name = "PATH")]
    pub add_root: Option<String>,
    /// Accepted for compatibility (roots are always indirect)
    #[arg(long)]
    pub indirect: bool,
    /// Omit source positions in XML output
    #[arg(long, overrides_with = "location")]
    pub no_location: bool,
    #[arg(long, hide = true, overrides_with = "no_location")]
    pub location: bool,
    /// Accepted and ignored
    #[arg(long, value_name = "SECONDS", hide = true)]
    pub timeout: Option<String>,
    /// Accepted and ignored
    #[arg(short = 'o', long, value_name = "PATH", hide = true)]
    pub out_link: Option<String>,
    /// Accepted and ignored
    #[arg(long, hide = true)]
    pub repair: bool,
    /// Accepted and ignored
    #[arg(short = 'Q', long, hide = true)]
    pub no_build_output: bool,
    /// Files to evaluate (`-` for stdin, `<name>` from the search path); expressions with -E
    #[arg(value_name = "FILES", allow_negative_numbers = true)]
    pub files: Vec<String>,
}

/// How a flake is locked (nix's lock flags).
#[derive(Args, Debug, Default, Clone)]
pub struct LockArgs {
    /// Use REF for input INPUT (`a/b` for nested inputs)
    #[arg(long, num_args = 2, value_names = ["INPUT", "REF"], action = ArgAction::Append)]
    pub override_input: Vec<String>,
    /// Update input INPUT in the lock file
    #[arg(long, value_name = "INPUT", action = ArgAction::Append)]
    pub update_input: Vec<String>,
    /// Ignore the existing lock file
    #[arg(long)]
    pub recreate_lock_file: bool,
    /// Fail instead of changing the lock file
    #[arg(long)]
    pub no_update_lock_file: bool,
    /// Do not write a changed lock file
    #[arg(long)]
    pub no_write_lock_file: bool,
    /// Commit a changed flake.lock (git)
    #[arg(long)]
    pub commit_lock_file: bool,
    /// Do not use flake registries
    #[arg(long)]
    pub no_registries: bool,
    /// Accepted: fetched inputs are not cached across runs
    #[arg(long)]
    pub refresh: bool,
    /// Accepted: no fetch happens unless an input is missing
    #[arg(long)]
    pub offline: bool,
    /// Evaluate even when the evaluation cache has the answer
    #[arg(long)]
    pub no_eval_cache: bool,
}

/// The main command's options (also `rnix-eval build`).
#[derive(Args, Debug, Default)]
pub struct BuildArgs {
    /// A flake output: FLAKEREF#ATTRPATH (`.#nixosConfigurations.demo`)
    #[arg(value_name = "INSTALLABLE")]
    pub installable: Option<String>,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Accepted and ignored (nothing is built)
    #[arg(short = 'o', long, value_name = "PATH", hide = true)]
    pub out_link: Option<String>,
    /// Accepted and ignored (nothing is built)
    #[arg(long, hide = true)]
    pub no_link: bool,
    /// Accepted and ignored (nothing is built)
    #[arg(short = 'L', long, hide = true)]
    pub print_build_logs: bool,
    /// Accepted and ignored (nothing is built)
    #[arg(long, hide = true)]
    pub keep_going: bool,
    /// Accepted and ignored
    #[arg(long, hide = true)]
    pub json: bool,
}

#[derive(Args, Debug, Default)]
pub struct EvalArgs {
    #[command(flatten)]
    pub common: EvalCommonArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Evaluate EXPR; installables are then attribute paths in it
    #[arg(short = 'E', long, value_name = "EXPR", action = ArgAction::Append)]
    pub expr: Vec<String>,
    /// Evaluate FILE; installables are then attribute paths in it
    #[arg(short = 'f', long, value_name = "FILE", action = ArgAction::Append)]
    pub file: Vec<String>,
    /// Apply the function EXPR to the result before printing
    #[arg(long, value_name = "EXPR")]
    pub apply: Option<String>,
    /// Do not write derivations to the store
    #[arg(long)]
    pub read_only: bool,
    /// Flake installables, or attribute paths with --expr/--file, or files
    #[arg(value_name = "INSTALLABLES", allow_negative_numbers = true)]
    pub installables: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum FlakeCommand {
    /// Show a flake's URLs, path, revision and inputs
    #[command(visible_alias = "info")]
    Metadata(FlakeArgs),
    /// Show a flake's outputs as a tree (or JSON)
    Show {
        #[command(flatten)]
        flake: FlakeArgs,
        /// Show the contents of legacyPackages
        #[arg(long)]
        legacy: bool,
        /// Accepted: every system is shown
        #[arg(long)]
        all_systems: bool,
        #[command(flatten)]
        pool: PoolArgs,
    },
    /// Evaluate every output and check it against its schema (nothing is built)
    Check {
        #[command(flatten)]
        flake: FlakeArgs,
        /// Do not build the checks (rnix-eval never builds)
        #[arg(long)]
        no_build: bool,
        /// Accepted: every system is checked
        #[arg(long)]
        all_systems: bool,
        /// Accepted: every failing output is reported
        #[arg(long)]
        keep_going: bool,
        #[command(flatten)]
        pool: PoolArgs,
        /// Check only shard I of N of the configurations and derivations (by attribute path)
        #[arg(long, value_name = "I/N")]
        shard: Option<nix_flake::eval_jobs::options::Shard>,
    },
    /// Write the flake's lock file, adding missing inputs
    Lock(FlakeArgs),
    /// Update inputs (all, or those named) and write the lock file of the flake in `.`
    Update {
        /// Inputs to update (all when none)
        #[arg(value_name = "INPUTS")]
        inputs: Vec<String>,
        #[command(flatten)]
        lock: LockArgs,
    },
}

/// Worker processes for `flake check` and `flake show`.
#[derive(Args, Debug, Default)]
pub struct PoolArgs {
    /// Evaluate independent outputs on N worker processes (1: in this process)
    #[arg(short = 'j', long = "max-jobs", value_name = "N")]
    pub jobs: Option<usize>,
    /// Internal: run as a worker of another `flake check`/`flake show`
    #[arg(long, hide = true)]
    pub worker: bool,
}

#[derive(Args, Debug, Default)]
pub struct FlakeArgs {
    /// The flake (default `.`)
    #[arg(value_name = "FLAKE")]
    pub flake: Option<String>,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// The parsed command line, and the `--arg`/`--argstr`/`--arg-from-file` values of the
/// subcommand in command-line order (later ones win, so order matters across the three).
pub struct Parsed {
    pub cli: Cli,
    pub auto_args_order: Vec<(usize, &'static str)>,
}

/// Parses `argv` (without the program name); usage errors are clap's.
pub fn parse(argv: Vec<String>) -> Result<Parsed, clap::Error> {
    let argv = crate::legacy_argv::rewrite(argv);
    let matches = command().try_get_matches_from(std::iter::once("rnix-eval".to_owned()).chain(argv))?;
    let cli = Cli::from_arg_matches(&matches)?;
    let mut auto_args_order = Vec::new();
    if let Some((_, sub)) = matches.subcommand() {
        for id in ["arg", "argstr", "arg_from_file"] {
            if let Some(indices) = sub.indices_of(id) {
                let indices: Vec<usize> = indices.collect();
                for pair in indices.chunks(2) {
                    auto_args_order.push((pair[0], id));
                }
            }
        }
    }
    auto_args_order.sort();
    Ok(Parsed { cli, auto_args_order })
}

/// The whole command line. `eval-jobs` parses its own options (`nix_flake::eval_jobs`, whose
/// workers get them again): its `--help` goes through to that parser, and `help eval-jobs`
/// lists them after the subcommand's usage.
fn command() -> clap::Command {
    let jobs_help = nix_flake::eval_jobs::options::Options::command().render_long_help();
    Cli::command()
        .mut_subcommand("eval-jobs", |c| c.disable_help_flag(true).after_long_help(jobs_help.ansi().to_string()))
}

/// The completion script for `shell` on stdout.
pub fn print_completions(shell: Shell) {
    let mut cmd = command();
    let mut out = std::io::stdout();
    let shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(shell, &mut cmd, "rnix-eval", &mut out);
}
