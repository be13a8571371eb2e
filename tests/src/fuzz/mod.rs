//! A fuzzer for `rnix-eval` that runs on stable Rust.
//!
//! cargo-fuzz needs nightly and in-process instrumentation; this one treats
//! the binary as a black box, as a user would meet it, so it runs in CI with
//! the same toolchain as everything else. Each case is a Nix program from one
//! of five sources, chosen by the case's own PRNG ([`rng::Rng::for_case`]),
//! so a run is reproducible from `--seed` whatever `-j` is:
//!
//! * [`grammar`]: a random program over the whole language;
//! * [`typed`]: a type-directed program, which mostly evaluates, to reach
//!   the builtins' inner paths;
//! * [`mutate`] of a file of the language corpus or of `nix-test-corpus/`;
//! * [`mutate`] of a nixpkgs file (`../shared/nixpkgs/**/*.nix`);
//! * a generated program, then mutated.
//!
//! The case is written to a private temporary directory and run through
//! `rnix-eval instantiate --parse` and, if it parses, `--eval --strict`
//! (sometimes with `--json`, `--xml` or `--pure-eval`), always with
//! `--readonly-mode`, proxies pointing nowhere and a minimal environment,
//! under a time and a resident-memory limit ([`exec`]). A finding is a panic,
//! a signal (stack overflow), an exit status other than 0/1, a timeout or the
//! memory limit; a timeout or memory limit is not counted when the reference
//! `nix-instantiate` (if installed) runs out of time or memory on the same
//! input too. The first input of each distinct finding is shrunk
//! ([`minimize`]) and written to `--out`.

pub mod exec;
pub mod grammar;
pub mod known;
pub mod minimize;
pub mod mutate;
pub mod rng;
pub mod typed;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use exec::{run_child, ChildRun, Limits, Outcome};
use rng::Rng;

/// Settings of a fuzz run.
#[derive(Clone, Debug)]
pub struct Config {
    pub bin: PathBuf,
    /// The reference, to forgive timeouts and memory blow-ups it shares.
    pub reference: Option<PathBuf>,
    pub seed: u64,
    /// Stop after this many cases …
    pub cases: Option<u64>,
    /// … or after this long (whichever comes first; at least one must be set).
    pub duration: Option<Duration>,
    pub jobs: usize,
    pub limits: Limits,
    /// Where minimised findings go (created if missing).
    pub out: Option<PathBuf>,
    pub minimize: bool,
    /// Known findings ([`known`]): reported, but not minimised.
    pub known: Vec<known::Known>,
    /// Print progress to stderr every this often.
    pub progress: Option<Duration>,
}

/// Which evaluation a case gets.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    Parse,
    /// `rnix`: with a `--lint-*` option, which makes `rnix-eval` parse
    /// with rnix instead of its fast parser, so that front end is fuzzed on
    /// valid programs too (it otherwise only sees files the fast one declines).
    Eval {
        json: bool,
        xml: bool,
        pure: bool,
        rnix: bool,
    },
}

/// Longest input passed with `-E` (one argument may be at most 128 KiB).
const MAX_EXPR_ARG: usize = 100_000;

impl Mode {
    /// The arguments for `input` in `file`. Pure evaluation forbids reading
    /// the file itself (an absolute path), so there the text is passed with
    /// `-E` when it fits in an argument; otherwise the file is evaluated
    /// impurely.
    fn args_for(&self, file: &str, input: &[u8]) -> Vec<OsString> {
        use std::os::unix::ffi::OsStrExt;
        let mut a = self.args(file);
        if matches!(self, Mode::Eval { pure: true, .. }) {
            a.pop();
            if input.len() <= MAX_EXPR_ARG && !input.contains(&0) {
                a.push("-E".into());
                a.push(std::ffi::OsStr::from_bytes(input).to_os_string());
            } else {
                a.retain(|x| x != "--pure-eval");
                a.push(file.into());
            }
        }
        a
    }

    fn args(&self, file: &str) -> Vec<OsString> {
        let mut a: Vec<OsString> = vec!["instantiate".into()];
        match self {
            Mode::Parse => a.push("--parse".into()),
            Mode::Eval { json, xml, pure, rnix } => {
                if *rnix {
                    a.extend(["--lint-url-literals".into(), "warn".into()]);
                }
                a.extend(["--eval".into(), "--strict".into()]);
                if *json {
                    a.push("--json".into());
                }
                if *xml {
                    a.push("--xml".into());
                }
                if *pure {
                    a.push("--pure-eval".into());
                }
            }
        }
        a.push("--readonly-mode".into());
        a.push(file.into());
        a
    }

    /// For reports; with `--pure-eval`, `-E "$(cat FILE)"` stands for the text.
    pub fn command_line(&self, file: &str) -> String {
        let mut a: Vec<String> = self.args(file).iter().map(|a| a.to_string_lossy().into_owned()).collect();
        if matches!(self, Mode::Eval { pure: true, .. }) {
            a.pop();
            a.push(format!("-E \"$(cat {file})\""));
        }
        a.join(" ")
    }
}

/// One generated input.
#[derive(Clone, Debug)]
pub struct Case {
    pub index: u64,
    /// Where the input came from, for the report.
    pub origin: String,
    pub input: Vec<u8>,
    pub eval_mode: Mode,
}

/// A distinct finding (same mode kind and signature) and how often it occurred.
#[derive(Clone, Debug)]
pub struct Finding {
    pub signature: String,
    pub mode: Mode,
    pub first_case: u64,
    pub origin: String,
    pub count: u64,
    pub detail: String,
    pub original: Vec<u8>,
    pub minimized: Vec<u8>,
    /// Files written for it under `--out`.
    pub written: Option<PathBuf>,
}

impl Finding {
    /// One line: signature, mode and the reproducer (shortened).
    pub fn summary(&self) -> String {
        let repro = String::from_utf8_lossy(&self.minimized);
        format!(
            "{} [{}] x{} (first: case {}, {}): {}",
            self.signature,
            self.mode.command_line("case.nix"),
            self.count,
            self.first_case,
            self.origin,
            crate::process::truncate(&crate::process::one_line(&repro), 200)
        )
    }
}

/// Totals of a run.
#[derive(Debug, Default)]
pub struct Stats {
    pub cases: u64,
    pub by_source: BTreeMap<&'static str, u64>,
    pub parse_ok: u64,
    pub parse_err: u64,
    pub eval_ok: u64,
    pub eval_err: u64,
    /// Timeouts / memory limits the reference shares (not findings).
    pub shared_with_reference: u64,
    pub child_runs: u64,
}

#[derive(Debug)]
pub struct Report {
    pub seed: u64,
    pub elapsed: Duration,
    pub stats: Stats,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn render(&self) -> String {
        let s = &self.stats;
        let mut out = format!(
            "fuzz: seed {}, {} cases in {:.0}s ({} child runs); sources: {}\n\
             parse: {} ok / {} error; eval: {} ok / {} error; timeouts or memory limits shared with the reference: {}\n\
             {} distinct finding(s)\n",
            self.seed,
            s.cases,
            self.elapsed.as_secs_f64(),
            s.child_runs,
            s.by_source.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", "),
            s.parse_ok,
            s.parse_err,
            s.eval_ok,
            s.eval_err,
            s.shared_with_reference,
            self.findings.len()
        );
        for f in &self.findings {
            out.push_str(&format!("  {}\n", f.summary()));
            if let Some(w) = &f.written {
                out.push_str(&format!("    written: {}\n", w.display()));
            }
        }
        out
    }
}

/// The seed files mutations start from.
pub struct Seeds {
    pub corpus: Vec<PathBuf>,
    pub nixpkgs: Vec<PathBuf>,
}

impl Seeds {
    /// The language corpus and `nix-test-corpus/` (top level `.nix` files),
    /// and every `.nix` file under `../shared/nixpkgs`; sorted, so a seed
    /// picks the same files on every machine with the same data.
    pub fn discover() -> Seeds {
        let mut corpus = Vec::new();
        if let Some(dir) = crate::paths::conformance_dir() {
            list_nix(&dir.join("lang"), false, &mut corpus);
        }
        list_nix(&crate::paths::nix_test_corpus_dir(), false, &mut corpus);
        let mut nixpkgs = Vec::new();
        let shared = crate::paths::shared_dir();
        list_nix(&shared.canonicalize().unwrap_or(shared).join("nixpkgs"), true, &mut nixpkgs);
        corpus.sort();
        nixpkgs.sort();
        Seeds { corpus, nixpkgs }
    }
}

fn list_nix(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.filter_map(Result::ok) {
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() && recursive {
            list_nix(&p, true, out);
        } else if ft.is_file() && p.extension().is_some_and(|x| x == "nix") {
            out.push(p);
        }
    }
}

/// The builtin names of the binary under test (`builtins.attrNames
/// builtins`), without the ones that reach the network; the built-in list
/// if the binary cannot say.
pub fn builtin_names(bin: &Path) -> Vec<String> {
    let dir = std::env::temp_dir();
    let args: Vec<OsString> =
        ["instantiate", "--eval", "--json", "-E", "builtins.attrNames builtins"].iter().map(Into::into).collect();
    let out = std::process::Command::new(bin).args(&args).current_dir(&dir).output();
    let names: Vec<String> = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split(',')
            .map(|s| s.trim().trim_matches('"').to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        _ => Vec::new(),
    };
    let names =
        if names.is_empty() { grammar::DEFAULT_BUILTINS.iter().map(|s| s.to_string()).collect() } else { names };
    names.into_iter().filter(|n| grammar::allowed_builtin(n)).collect()
}

/// Build case `index` of a run with `seed`.
pub fn make_case(seed: u64, index: u64, seeds: &Seeds, builtins: &[String]) -> Case {
    let mut rng = Rng::for_case(seed, index);
    let have_corpus = !seeds.corpus.is_empty();
    let have_nixpkgs = !seeds.nixpkgs.is_empty();
    let source = rng.weighted(&[35, if have_corpus { 15 } else { 0 }, if have_nixpkgs { 20 } else { 0 }, 10, 20]);
    let (origin, input) = match source {
        1 | 2 => {
            let list = if source == 1 { &seeds.corpus } else { &seeds.nixpkgs };
            let path = &list[rng.below(list.len())];
            let other = &seeds.corpus.get(rng.below(seeds.corpus.len())).and_then(|p| std::fs::read(p).ok());
            let src = std::fs::read(path).unwrap_or_default();
            let input = mutate::mutate(&src, other.as_deref().unwrap_or(b""), &mut rng);
            let shared = crate::paths::shared_dir();
            let shared = shared.canonicalize().unwrap_or(shared);
            let shown = path.strip_prefix(&shared).unwrap_or(path);
            (format!("mutated {}", shown.display()), input)
        }
        4 => ("typed".to_string(), typed::Typed::new(&mut rng).program().into_bytes()),
        3 => {
            let program = grammar::Generator::new(&mut rng, builtins).program();
            let other = grammar::Generator::new(&mut rng, builtins).program();
            ("generated+mutated".to_string(), mutate::mutate(program.as_bytes(), other.as_bytes(), &mut rng))
        }
        _ => ("generated".to_string(), grammar::Generator::new(&mut rng, builtins).program().into_bytes()),
    };
    let eval_mode = Mode::Eval { json: rng.one_in(6), xml: rng.one_in(8), pure: rng.one_in(4), rnix: rng.one_in(4) };
    Case { index, origin, input, eval_mode }
}

fn source_name(origin: &str) -> &'static str {
    if origin == "generated" {
        "generated"
    } else if origin == "typed" {
        "typed"
    } else if origin == "generated+mutated" {
        "generated+mutated"
    } else if origin.contains("nixpkgs/") {
        "mutated nixpkgs"
    } else {
        "mutated corpus"
    }
}

/// A worker's private directory: the case file and a few neighbours that
/// relative paths and imports in generated programs can find.
struct Workdir {
    dir: PathBuf,
    env: Vec<(String, String)>,
}

impl Workdir {
    fn new(tag: &str) -> std::io::Result<Workdir> {
        let dir = exec::temp_dir(tag)?;
        std::fs::write(dir.join("a.nix"), "{ x ? 1 }: { inherit x; y = [ x ]; }\n")?;
        std::fs::create_dir_all(dir.join("a/b"))?;
        std::fs::write(dir.join("a/b/c"), "text\n")?;
        std::fs::create_dir_all(dir.join("home"))?;
        let d = dir.to_string_lossy().into_owned();
        let nowhere = "http://127.0.0.1:9".to_string();
        let env = vec![
            ("HOME".to_string(), format!("{d}/home")),
            ("TMPDIR".to_string(), d.clone()),
            ("NIX_PATH".to_string(), format!("x={d}/a")),
            ("http_proxy".to_string(), nowhere.clone()),
            ("https_proxy".to_string(), nowhere.clone()),
            ("HTTP_PROXY".to_string(), nowhere.clone()),
            ("HTTPS_PROXY".to_string(), nowhere.clone()),
            ("ALL_PROXY".to_string(), nowhere),
        ];
        Ok(Workdir { dir, env })
    }

    fn run(&self, program: &Path, mode: &Mode, input: &[u8], limits: &Limits) -> ChildRun {
        let file = self.dir.join("case.nix");
        if let Err(e) = std::fs::write(&file, input) {
            return ChildRun {
                outcome: Outcome::SpawnError(format!("writing {}: {e}", file.display())),
                stderr: vec![],
                duration: Duration::ZERO,
                peak_rss: 0,
            };
        }
        run_child(program, &mode.args_for("case.nix", input), &self.dir, &self.env, limits)
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Shared<'a> {
    cfg: &'a Config,
    seeds: &'a Seeds,
    builtins: &'a [String],
    start: Instant,
    next: AtomicU64,
    stats: Mutex<Stats>,
    findings: Mutex<Vec<Finding>>,
}

/// Run the fuzzer as configured.
pub fn run(cfg: &Config) -> Report {
    let seeds = Seeds::discover();
    let builtins = builtin_names(&cfg.bin);
    if let Some(out) = &cfg.out {
        let _ = std::fs::create_dir_all(out);
    }
    let shared = Shared {
        cfg,
        seeds: &seeds,
        builtins: &builtins,
        start: Instant::now(),
        next: AtomicU64::new(0),
        stats: Mutex::new(Stats::default()),
        findings: Mutex::new(Vec::new()),
    };
    std::thread::scope(|s| {
        for w in 0..cfg.jobs.max(1) {
            let shared = &shared;
            s.spawn(move || worker(shared, w));
        }
        if let Some(every) = cfg.progress {
            let shared = &shared;
            s.spawn(move || progress(shared, every));
        }
    });
    let mut findings = shared.findings.into_inner().unwrap_or_else(|e| e.into_inner());
    findings.sort_by_key(|f| f.first_case);
    Report {
        seed: cfg.seed,
        elapsed: shared.start.elapsed(),
        stats: shared.stats.into_inner().unwrap_or_else(|e| e.into_inner()),
        findings,
    }
}

fn finished(shared: &Shared, index: u64) -> bool {
    shared.cfg.cases.is_some_and(|n| index >= n) || shared.cfg.duration.is_some_and(|d| shared.start.elapsed() >= d)
}

fn progress(shared: &Shared, every: Duration) {
    let mut last = Instant::now();
    while !finished(shared, shared.next.load(Ordering::Relaxed)) {
        std::thread::sleep(Duration::from_millis(200));
        if last.elapsed() >= every {
            last = Instant::now();
            let cases = shared.stats.lock().map(|s| s.cases).unwrap_or(0);
            let findings = shared.findings.lock().map(|f| f.len()).unwrap_or(0);
            eprintln!(
                "fuzz: {:.0}s, {cases} cases, {findings} distinct finding(s)",
                shared.start.elapsed().as_secs_f64()
            );
        }
    }
}

fn worker(shared: &Shared, id: usize) {
    let work = match Workdir::new(&format!("w{id}")) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("fuzz: cannot create a temporary directory: {e}");
            return;
        }
    };
    loop {
        let index = shared.next.fetch_add(1, Ordering::Relaxed);
        if finished(shared, index) {
            break;
        }
        let case = make_case(shared.cfg.seed, index, shared.seeds, shared.builtins);
        run_case(shared, &work, &case);
    }
}

fn run_case(shared: &Shared, work: &Workdir, case: &Case) {
    let cfg = shared.cfg;
    let parse = work.run(&cfg.bin, &Mode::Parse, &case.input, &cfg.limits);
    let parsed = parse.outcome == Outcome::Exit(0);
    let mut runs = 1;
    let mut results = vec![(Mode::Parse, parse)];
    if parsed {
        let eval = work.run(&cfg.bin, &case.eval_mode, &case.input, &cfg.limits);
        runs += 1;
        results.push((case.eval_mode.clone(), eval));
    }
    {
        let mut st = shared.stats.lock().unwrap_or_else(|e| e.into_inner());
        st.cases += 1;
        st.child_runs += runs;
        *st.by_source.entry(source_name(&case.origin)).or_default() += 1;
        if parsed {
            st.parse_ok += 1;
        } else {
            st.parse_err += 1;
        }
        if let Some((_, e)) = results.get(1) {
            if e.outcome == Outcome::Exit(0) {
                st.eval_ok += 1;
            } else {
                st.eval_err += 1;
            }
        }
    }
    for (mode, r) in results {
        let Some(sig) = r.signature() else { continue };
        if matches!(r.outcome, Outcome::Timeout | Outcome::MemoryLimit) && reference_shares(shared, work, &mode, case) {
            shared.stats.lock().unwrap_or_else(|e| e.into_inner()).shared_with_reference += 1;
            continue;
        }
        record(shared, work, case, mode, sig, &r);
    }
}

/// Whether the reference also runs out of time or memory on this input.
fn reference_shares(shared: &Shared, work: &Workdir, mode: &Mode, case: &Case) -> bool {
    let Some(reference) = &shared.cfg.reference else { return false };
    // nix-instantiate has no `instantiate` subcommand: use the same
    // arguments after it, without the rnix-only lint option.
    let file = work.dir.join("case.nix");
    if std::fs::write(&file, &case.input).is_err() {
        return false;
    }
    let mut args: Vec<OsString> = mode.args_for("case.nix", &case.input).into_iter().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--lint-url-literals") {
        args.drain(i..i + 2);
    }
    let r = run_child(reference, &args, &work.dir, &work.env, &shared.cfg.limits);
    matches!(r.outcome, Outcome::Timeout | Outcome::MemoryLimit)
}

/// What findings are grouped by besides the signature: the kind of run
/// for crashes (whose signature names the code location), the exact mode
/// for timeouts and memory blow-ups (whose signature cannot).
fn group(m: &Mode, sig: &str) -> String {
    match m {
        Mode::Parse => "parse".into(),
        Mode::Eval { .. } if sig == "timeout" || sig == "memory limit" => m.command_line("case.nix"),
        Mode::Eval { .. } => "eval".into(),
    }
}

/// Inputs kept per timeout or memory finding besides the first: those
/// cannot be told apart by their signature, so a few more are written
/// (unminimised) to look at.
const MORE_SLOW_INPUTS: u64 = 20;

fn record(shared: &Shared, work: &Workdir, case: &Case, mode: Mode, sig: String, r: &ChildRun) {
    {
        let mut f = shared.findings.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) =
            f.iter_mut().find(|k| k.signature == sig && group(&k.mode, &k.signature) == group(&mode, &sig))
        {
            known.count += 1;
            let slow = matches!(r.outcome, Outcome::Timeout | Outcome::MemoryLimit);
            if let (true, true, Some(out)) = (slow, known.count <= MORE_SLOW_INPUTS + 1, &shared.cfg.out) {
                let _ = std::fs::write(out.join(format!("more-{}-{}.nix", shared.cfg.seed, case.index)), &case.input);
            }
            return;
        }
        // Claim it before the (slow) minimisation, so other workers count
        // into this entry.
        f.push(Finding {
            signature: sig.clone(),
            mode: mode.clone(),
            first_case: case.index,
            origin: case.origin.clone(),
            count: 1,
            detail: r.describe(),
            original: case.input.clone(),
            minimized: case.input.clone(),
            written: None,
        });
    }
    eprintln!("fuzz: case {} ({}): NEW {sig}: {}", case.index, case.origin, r.describe());
    let cfg = shared.cfg;
    let is_known = {
        let f = shared.findings.lock().unwrap_or_else(|e| e.into_inner());
        f.iter().any(|k| k.first_case == case.index && cfg.known.iter().any(|kn| kn.matches(k)))
    };
    let minimized = if cfg.minimize && !is_known {
        let slow = matches!(r.outcome, Outcome::Timeout | Outcome::MemoryLimit);
        let (tries, secs) = if slow { (12, 150) } else { (600, 180) };
        minimize::minimize(&case.input, tries, Instant::now() + Duration::from_secs(secs), |candidate| {
            work.run(&cfg.bin, &mode, candidate, &cfg.limits).signature().as_deref() == Some(sig.as_str())
        })
    } else {
        case.input.clone()
    };
    let mut f = shared.findings.lock().unwrap_or_else(|e| e.into_inner());
    let Some(entry) = f.iter_mut().find(|k| k.signature == sig && group(&k.mode, &k.signature) == group(&mode, &sig))
    else {
        return;
    };
    entry.minimized = minimized;
    if let Some(out) = &cfg.out {
        entry.written = write_finding(out, shared.cfg.seed, entry).ok();
    }
}

/// `finding-SEED-CASE.nix` (the minimised input), `.orig.nix` and `.txt`.
fn write_finding(out: &Path, seed: u64, f: &Finding) -> std::io::Result<PathBuf> {
    let stem = out.join(format!("finding-{seed}-{}", f.first_case));
    let nix = stem.with_extension("nix");
    std::fs::write(&nix, &f.minimized)?;
    std::fs::write(stem.with_extension("orig.nix"), &f.original)?;
    let text = format!(
        "signature: {}\ncommand: cd DIR && rnix-eval {}\norigin: {} (seed {seed}, case {})\nfirst run: {}\n",
        f.signature,
        f.mode.command_line(&nix.file_name().unwrap_or_default().to_string_lossy()),
        f.origin,
        f.first_case,
        f.detail
    );
    std::fs::write(stem.with_extension("txt"), text)?;
    Ok(nix)
}
