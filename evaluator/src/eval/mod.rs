//! The evaluator: forcing thunks, evaluating expressions, calling functions.
//!
//! A tree-walking interpreter over the lowered AST. It recurses on the native stack (the CLI
//! runs it on a thread with a large stack) and guards both the Nix call depth
//! (`max-call-depth`, as the reference) and the remaining native stack, so that deep recursion
//! is an error and never a crash.

mod attrs;
mod call;
mod coerce;
mod explain;
mod import;
mod ops;

pub use coerce::CoerceOpts;
pub use import::ImportCache;

use crate::ast::*;
use crate::builtin::BuiltinDef;
use crate::error::{error, give_pos, AddTrace, ErrorKind, EvalError, Result};
use crate::io::EvalIo;
use crate::print;
use crate::source::Pos;
use crate::symbol::{sym, Symbol};
use crate::value::*;
use rustc_hash::FxHashMap;
use std::any::{Any, TypeId};
use std::cell::Cell;

/// Options a user sets on the command line.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Pure evaluation: no environment, no search path, no files outside allowed roots.
    pub pure: bool,
    /// Restricted evaluation (`--restrict-eval`): no environment, files only below the search
    /// path and the store paths the evaluation made.
    pub restrict: bool,
    /// `-I` entries and `NIX_PATH`, in order: `prefix=path` or `path`.
    pub nix_path: Vec<String>,
    /// `max-call-depth`: nested calls allowed before "stack overflow".
    pub max_call_depth: usize,
    /// `--show-trace`: print every trace frame.
    pub show_trace: bool,
    /// The home directory that `~/` paths resolve against.
    pub home: Option<String>,
    /// Enabled experimental features (`flakes`, …).
    pub experimental_features: Vec<String>,
    /// The store directory paths are computed for (`/nix/store`).
    pub store_dir: String,
    /// `builtins.currentSystem`.
    pub system: String,
    /// `--lint-*` options: (name, level) with level "warn" or "fatal".
    pub lints: Vec<(String, String)>,
    /// `--trace-function-calls`: a line on stderr when every call starts and ends.
    pub trace_function_calls: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            pure: false,
            restrict: false,
            nix_path: Vec::new(),
            max_call_depth: 10_000,
            show_trace: false,
            home: std::env::var("HOME").ok(),
            experimental_features: Vec::new(),
            store_dir: "/nix/store".into(),
            system: "x86_64-linux".into(),
            lints: Vec::new(),
            trace_function_calls: false,
        }
    }
}

/// Counters for `NIX_SHOW_STATS`-style reports.
#[derive(Default, Debug, Clone)]
pub struct Stats {
    /// Thunks made.
    pub thunks: u64,
    /// Function calls.
    pub calls: u64,
    /// Attribute sets made.
    pub attrsets: u64,
    /// Environments made.
    pub envs: u64,
    /// Files (and expression texts) parsed, and the time spent parsing and lowering them.
    pub files_parsed: u64,
    /// Time spent parsing and lowering.
    pub parse_time: std::time::Duration,
}

thread_local! {
    /// Lowest stack address evaluation may reach on this thread (0 = unchecked).
    static STACK_LIMIT: Cell<usize> = const { Cell::new(0) };
}

/// Whether the current thread has used up the stack budget of [`set_stack_budget`]: for
/// recursive walks that have no `Eval` at hand (the value printer).
#[inline]
pub fn stack_exhausted() -> bool {
    let here = 0u8;
    let addr = &here as *const u8 as usize;
    addr < STACK_LIMIT.with(|l| l.get())
}

/// Declare how much native stack the current thread may use for evaluation from here on.
pub fn set_stack_budget(bytes: usize) {
    let here = 0u8;
    let addr = &here as *const u8 as usize;
    STACK_LIMIT.with(|l| l.set(addr.saturating_sub(bytes)));
}

/// An evaluator: settings, I/O, the globals and the import cache; made by `EvalBuilder`.
pub struct Eval {
    /// The settings it was built with.
    pub settings: Settings,
    /// All file access.
    pub io: Box<dyn EvalIo>,
    pub(crate) globals: Vec<Value>,
    pub(crate) global_index: FxHashMap<Symbol, u32>,
    pub(crate) builtins_set: Value,
    pub(crate) imports: ImportCache,
    call_depth: usize,
    /// Lowest stack address evaluation may reach (see [`set_stack_budget`]; 0 = unchecked),
    /// read once from the thread's setting.
    stack_limit: usize,
    /// Counters.
    pub stats: Stats,
    ext: FxHashMap<TypeId, Box<dyn Any>>,
    /// Hook that copies a path into the store when it is interpolated into a string.
    pub(crate) path_to_store: Option<PathToStore>,
    /// Files that exist only in memory (the reference's corepkgs, `<nix/fetchurl.nix>`).
    pub(crate) virtual_files: FxHashMap<String, &'static str>,
}

/// Copies a source path into the store, returning the store path.
pub type PathToStore = fn(&mut Eval, &str) -> Result<String>;

impl Eval {
    pub(crate) fn new(settings: Settings, io: Box<dyn EvalIo>) -> Eval {
        crate::value::configure_collector();
        Eval {
            settings,
            io,
            globals: Vec::new(),
            global_index: FxHashMap::default(),
            builtins_set: Value::Null,
            imports: ImportCache::default(),
            call_depth: 0,
            stack_limit: STACK_LIMIT.with(|l| l.get()),
            stats: Stats::default(),
            ext: FxHashMap::default(),
            path_to_store: None,
            virtual_files: FxHashMap::default(),
        }
    }

    /// State a builtin module keeps across calls (regex cache, store handle, ...).
    pub fn ext<T: Any + Default>(&mut self) -> &mut T {
        self.ext
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(T::default()))
            .downcast_mut::<T>()
            .expect("extension type")
    }

    /// The in-memory file at `path`, if there is one.
    pub fn virtual_file(&self, path: &str) -> Option<&'static str> {
        self.virtual_files.get(path).copied()
    }

    /// The `builtins` set.
    pub fn builtins(&self) -> &Value {
        &self.builtins_set
    }

    /// The value of a global name (`map`, `builtins`, `__add`, …).
    pub fn global(&self, name: &str) -> Option<Value> {
        let s = Symbol::lookup(name)?;
        self.global_index.get(&s).map(|&i| self.globals[i as usize].clone())
    }

    // ---- forcing -------------------------------------------------------------------------

    /// `v` in weak head normal form (forcing a thunk evaluates it once).
    #[inline]
    pub fn force(&mut self, v: &Value) -> Result<Value> {
        match v {
            Value::Thunk(t) => self.force_thunk(t),
            _ => Ok(v.clone()),
        }
    }

    /// The value of `t`, evaluating it if it was not yet (a thunk being evaluated is infinite recursion).
    pub fn force_thunk(&mut self, t: &Thunk) -> Result<Value> {
        if let Some(v) = t.value() {
            return Ok(v);
        }
        // The thunks of the evaluator itself (an expression and its environment): the
        // common case, without a whole `ThunkState` moved out and back.
        if let Some((e, env)) = t.take_pending() {
            // A safe point for the cycle collector: what this thunk held is on the stack.
            crate::value::safe_point();
            return match self.eval(e, &env) {
                Ok(v) => {
                    debug_assert!(!v.is_thunk());
                    t.finish(v.clone());
                    Ok(v)
                }
                Err(err) => {
                    t.restore(ThunkState::Pending(e, env));
                    Err(err)
                }
            };
        }
        self.force_other_thunk(t)
    }

    /// [`Eval::force_thunk`] for the states but an evaluated or pending expression.
    #[inline(never)]
    fn force_other_thunk(&mut self, t: &Thunk) -> Result<Value> {
        let state = t.take();
        let result = match &state {
            ThunkState::Pending(e, env) => self.eval(e, env),
            // The state stays whole (it is put back if the call fails): the function and
            // arguments are cloned once, as the call consumes them.
            ThunkState::Apply(fa) => self.call(&fa.0, fa.1.clone(), Pos::NONE),
            ThunkState::Apply2(fab) => {
                if self.settings.trace_function_calls {
                    // The two calls, each traced, as for the nested thunks.
                    self.call(&Thunk::apply(fab.0.clone(), fab.1.clone()), fab.2.clone(), Pos::NONE)
                } else if let Some(r) = self.apply2_lambda(&fab.0, &fab.1, &fab.2) {
                    r
                } else {
                    let args = [&fab.1, &fab.2];
                    self.apply_n(fab.0.clone(), 2, |_, i| args[i].clone(), Pos::NONE)
                }
            }
            ThunkState::Native(_) => {
                let ThunkState::Native(f) = state else { unreachable!() };
                let r = f(self);
                match &r {
                    Ok(v) => t.restore(ThunkState::Done(v.clone())),
                    Err(e) => t.restore(ThunkState::Failed(e.clone())),
                }
                return r;
            }
            ThunkState::Blackhole => return Err(error(ErrorKind::InfiniteRecursion, "infinite recursion encountered")),
            ThunkState::Failed(e) => {
                let e = e.clone();
                t.restore(state);
                return Err(e);
            }
            ThunkState::Done(v) => {
                let v = v.clone();
                t.restore(state);
                return Ok(v);
            }
        };
        match result {
            Ok(v) => {
                // A thunk may evaluate to another thunk's value only in WHNF.
                debug_assert!(!v.is_thunk());
                // Still the blackhole `take` left (forcing it meanwhile was an error).
                t.finish(v.clone());
                Ok(v)
            }
            Err(e) => {
                t.restore(state);
                Err(e)
            }
        }
    }

    /// Force deeply (`--strict`, `deepSeq`): every list element and attribute value.
    pub fn force_deep(&mut self, v: &Value) -> Result<Value> {
        let v = self.force(v)?;
        self.force_deep_inner(&v, &mut rustc_hash::FxHashSet::default())?;
        Ok(v)
    }

    /// Run `f` one level deeper in the call-depth budget (`max-call-depth`), as the reference
    /// counts deep forcing, JSON conversion and other recursive walks.
    pub fn nested<T>(&mut self, pos: Pos, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        self.check_stack()?;
        self.call_depth += 1;
        if self.call_depth > self.settings.max_call_depth {
            self.call_depth -= 1;
            return Err(EvalError::at(ErrorKind::StackOverflow, pos, "stack overflow; max-call-depth exceeded"));
        }
        let r = f(self);
        self.call_depth -= 1;
        r
    }

    fn force_deep_inner(&mut self, v: &Value, seen: &mut rustc_hash::FxHashSet<*const ()>) -> Result<()> {
        self.nested(Pos::NONE, |ev| ev.force_deep_step(v, seen))
    }

    fn force_deep_step(&mut self, v: &Value, seen: &mut rustc_hash::FxHashSet<*const ()>) -> Result<()> {
        match v {
            Value::Attrs(a) => {
                if !seen.insert(a.as_ptr()) {
                    return Ok(());
                }
                // The frames cover what is inside the value too, as the reference's.
                for attr in a.iter() {
                    self.force(&attr.value)
                        .and_then(|x| self.force_deep_inner(&x, seen))
                        .trace(attr.pos, || format!("while evaluating the attribute '{}'", attr.name))?;
                }
            }
            Value::List(l) => {
                if !seen.insert(l.as_ptr()) {
                    return Ok(());
                }
                for (i, x) in l.iter().enumerate() {
                    self.force(x)
                        .and_then(|x| self.force_deep_inner(&x, seen))
                        .trace(Pos::NONE, || format!("while evaluating list element at index {}", i))?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    #[inline]
    pub(crate) fn check_stack(&self) -> Result<()> {
        let here = 0u8;
        let addr = &here as *const u8 as usize;
        if addr < self.stack_limit {
            return Err(error(ErrorKind::StackOverflow, "stack overflow (possible infinite recursion)"));
        }
        Ok(())
    }

    // ---- laziness ------------------------------------------------------------------------

    /// The value of `e` in `env` without evaluating it: constants, variables and lambdas
    /// directly, everything else as a thunk.
    #[inline]
    pub(crate) fn thunk(&mut self, e: ExprRef, env: &Env) -> Value {
        match e {
            Expr::Const(v) => v.clone(),
            Expr::Var(Var::Local { depth, slot, .. }) => env.ancestor(*depth).get_resolved(*slot as usize),
            Expr::Var(Var::Global { index, .. }) => self.globals[*index as usize].clone(),
            Expr::Lambda(l) => Value::Lambda(ThinRc::new(Closure { lambda: l, env: env.clone() })),
            _ => {
                self.stats.thunks += 1;
                Thunk::pending(e, env.clone())
            }
        }
    }

    /// Like [`Eval::thunk`] for a slot of an environment still being filled (rec, let,
    /// formal defaults), whose slots below `filled` are set. A variable of that same
    /// environment names the slot's value itself when the slot is set, else it must stay a
    /// thunk: the reference fills the slots in symbol order and its `maybeThunk` shares an
    /// already set variable's value, so `let f = x: x; g = f; in [ f ] == [ g ]` is true while
    /// `let g = f; f = x: x; …` is false (`==` treats the very same value as equal).
    #[inline]
    pub(crate) fn thunk_in_new_env(&mut self, e: ExprRef, env: &Env, filled: usize) -> Value {
        match e {
            Expr::Var(Var::Local { depth: 0, slot, .. }) => {
                if (*slot as usize) < filled {
                    return env.get(*slot as usize);
                }
                self.stats.thunks += 1;
                Thunk::pending(e, env.clone())
            }
            _ => self.thunk(e, env),
        }
    }

    // ---- evaluation ----------------------------------------------------------------------

    /// [`Eval::eval`] with the cheapest cases (constants, already evaluated variables)
    /// handled without a recursive call.
    #[inline(always)]
    pub(crate) fn eval_operand(&mut self, e: ExprRef, env: &Env) -> Result<Value> {
        match e {
            Expr::Const(v) => Ok(v.clone()),
            Expr::Var(Var::Local { depth, slot, .. }) => {
                let v = env.ancestor(*depth).get_resolved(*slot as usize);
                match v {
                    Value::Thunk(t) => match t.value() {
                        Some(v) => Ok(v),
                        None => match self.force_thunk(&t) {
                            Ok(v) => Ok(v),
                            Err(err) => Err(give_pos(err, e.pos())),
                        },
                    },
                    v => Ok(v),
                }
            }
            _ => self.eval(e, env),
        }
    }

    /// The condition of an `if`: as [`Eval::eval_operand`], and a comparison or arithmetic
    /// (`n < 2`, `i == 0`) evaluated here, without a recursive [`Eval::eval`] (whose stack
    /// check the operands' own evaluation does).
    #[inline(always)]
    fn eval_condition(&mut self, e: ExprRef, env: &Env) -> Result<Value> {
        match e {
            Expr::BinOp { pos, op, lhs, rhs, .. }
                if !self.settings.trace_function_calls
                    && matches!(op, BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge | BinOp::Eq | BinOp::NEq) =>
            {
                let l = self.eval_operand(lhs, env)?;
                let r = self.eval_operand(rhs, env)?;
                self.binop_forced(*pos, *op, l, r)
            }
            _ => self.eval_operand(e, env),
        }
    }

    /// Evaluate `e` in `env` to weak head normal form.
    ///
    /// Every evaluation that recurses comes through here, so this function is kept small:
    /// the cases of the hot path (variables, calls, `if`, operators, lambdas) inline, every
    /// other case in a function of its own that is not inlined. A case inlined here makes
    /// every level of the recursion pay for its locals (the frame was 632 bytes with all of
    /// them, touched by every call of a Nix function two or three times over).
    pub(crate) fn eval(&mut self, e: ExprRef, env: &Env) -> Result<Value> {
        self.check_stack()?;
        match e {
            Expr::Const(v) => Ok(v.clone()),
            Expr::Var(v) => {
                let val = match v {
                    Var::Local { depth, slot, .. } => env.ancestor(*depth).get_resolved(*slot as usize),
                    Var::Global { index, .. } => self.globals[*index as usize].clone(),
                    Var::With { name, levels, pos } => self.lookup_with(*name, levels, *pos, env)?,
                };
                match val {
                    Value::Thunk(t) => match self.force_thunk(&t) {
                        Ok(v) => Ok(v),
                        Err(err) => Err(give_pos(err, v.pos())),
                    },
                    v => Ok(v),
                }
            }
            Expr::Select { pos, expr, path, default } => self.eval_select(*pos, expr, path, *default, env),
            Expr::Apply { pos, func, args } => {
                let f = self.eval_operand(func, env)?;
                if !self.settings.trace_function_calls {
                    return self.apply_args(f, args, env, *pos);
                }
                self.apply_traced(f, args, env, *pos)
            }
            Expr::If { pos, cond, then, else_ } => {
                let c = match self.eval_condition(cond, env)? {
                    Value::Bool(b) => b,
                    c => self.expect_bool(&c, *pos).trace(*pos, || "while evaluating a branch condition".into())?,
                };
                let branch = if c { then } else { else_ };
                match branch {
                    Expr::Const(v) => Ok(v.clone()),
                    _ => self.eval(branch, env),
                }
            }
            Expr::BinOp { pos, op, lhs, rhs, rhs_pos } => {
                // The reference's parser turns these operators into calls of `__sub`,
                // `__mul`, `__div` and `__lessThan`, which its call trace shows.
                if self.settings.trace_function_calls
                    && matches!(
                        op,
                        BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge
                    )
                {
                    return self.binop_traced(*pos, *op, lhs, rhs, *rhs_pos, env);
                }
                self.eval_binop(*pos, *op, lhs, rhs, *rhs_pos, env)
            }
            Expr::Lambda(l) => Ok(Value::Lambda(ThinRc::new(Closure { lambda: l, env: env.clone() }))),
            Expr::Let(l) => {
                let env = self.let_env(l, env);
                self.eval(l.body, &env)
            }
            Expr::With { namespace, body, .. } => {
                let ns = self.thunk(namespace, env);
                let env = Env::one(env.clone(), ns);
                self.eval(body, &env)
            }
            Expr::Attrs(a) => self.eval_attrs(a, env),
            Expr::List(items) => Ok(self.eval_list(items, env)),
            Expr::HasAttr { expr, path, .. } => self.eval_has_attr(expr, path, env),
            Expr::Assert { pos, cond, body } => self.eval_assert(*pos, cond, body, env),
            Expr::Not { pos, expr } => {
                let v = self.eval(expr, env)?;
                Ok(Value::Bool(!self.expect_bool(&v, *pos)?))
            }
            Expr::Interp { pos, parts, is_path } => self.eval_interp(*pos, parts, *is_path, env),
            Expr::CurPos(pos) => Ok(self.pos_to_value(*pos)),
        }
    }

    #[inline(never)]
    fn eval_list(&mut self, items: &'static [ExprRef], env: &Env) -> Value {
        // Written into the list block in place (no `Vec` allocated, moved and freed).
        Value::List(List::from_iter_exact(ListHead, items.iter().map(|i| self.thunk(i, env))))
    }

    /// `f a1 … an` with `--trace-function-calls`: each argument step traced.
    #[inline(never)]
    fn apply_traced(&mut self, mut f: Value, args: &'static [ExprRef], env: &Env, pos: Pos) -> Result<Value> {
        self.traced(pos, |ev| {
            for a in args.iter() {
                let arg = ev.thunk(a, env);
                f = ev.call_untraced(&f, arg, pos)?;
            }
            Ok(f)
        })
    }

    /// An operator the reference calls as a builtin, with `--trace-function-calls`.
    #[inline(never)]
    fn binop_traced(
        &mut self,
        pos: Pos,
        op: BinOp,
        lhs: ExprRef,
        rhs: ExprRef,
        rhs_pos: Pos,
        env: &Env,
    ) -> Result<Value> {
        self.traced(pos, |ev| ev.eval_binop(pos, op, lhs, rhs, rhs_pos, env))
    }

    #[inline(never)]
    fn eval_assert(&mut self, pos: Pos, cond: ExprRef, body: ExprRef, env: &Env) -> Result<Value> {
        let c = self.eval(cond, env)?;
        let c = self.expect_bool(&c, pos).trace(pos, || "while evaluating the condition of the assertion".into())?;
        if !c {
            // `assert a == b`: say why the two sides differ, as the reference does.
            if let Expr::BinOp { pos: eq_pos, op: BinOp::Eq, lhs, rhs, .. } = cond {
                let l = self.eval(lhs, env)?;
                let r = self.eval(rhs, env)?;
                if let Some(e) = self.explain_unequal(&l, &r, explain::eq_operator_pos(*eq_pos), true)? {
                    return Err(e).trace(pos, || {
                        format!("while evaluating the condition of the assertion '{}'", explain::show_expr(cond))
                    });
                }
            }
            return Err(EvalError::at(ErrorKind::Assert, pos, format!("assertion '{}' failed", source_text(cond))));
        }
        self.eval(body, env)
    }

    /// `{ file, line, column }` of a position (`__curPos`, `unsafeGetAttrPos`), or `null`.
    pub fn pos_to_value(&mut self, pos: Pos) -> Value {
        match pos.resolve() {
            Some(loc) => Value::Attrs(Attrs::from_vec(vec![
                Attr { name: sym::FILE, pos: Pos::NONE, value: Value::string(loc.file.name()) },
                Attr { name: sym::LINE, pos: Pos::NONE, value: Value::Int(loc.line as i64) },
                Attr { name: sym::COLUMN, pos: Pos::NONE, value: Value::Int(loc.column as i64) },
            ])),
            None => Value::Null,
        }
    }

    /// The value of a variable bound by `with` (the innermost namespace that has it).
    ///
    /// The levels are innermost first, so the environment chain is walked once, upwards,
    /// from one `with` to the next. Each namespace has its own hint, which also answers a
    /// repeated miss in one comparison pair (see [`Attrs::get_attr_hinted`]); the namespace
    /// itself is only looked at, its known variant dropped without the general `Value` drop.
    #[inline(never)]
    fn lookup_with(&mut self, name: Symbol, levels: &'static [WithLevel], pos: Pos, env: &Env) -> Result<Value> {
        let mut wenv = env;
        let mut at = 0;
        for level in levels {
            debug_assert!(level.depth >= at, "with levels are innermost first");
            wenv = wenv.ancestor(level.depth - at);
            at = level.depth;
            let ns = match wenv.get(0) {
                Value::Attrs(a) => a,
                Value::Thunk(t) => {
                    let v = self.force_thunk(&t)?;
                    wenv.set(0, v.clone());
                    match v {
                        Value::Attrs(a) => a,
                        v => return Err(self.type_error("a set", &v, pos)),
                    }
                }
                v => return Err(self.type_error("a set", &v, pos)),
            };
            if let Some(at) = ns.get_attr_hinted(name, &level.hint) {
                return Ok(at.value.clone());
            }
        }
        Err(EvalError::at(ErrorKind::UndefinedVar, pos, format!("undefined variable '{}'", name)))
    }

    fn eval_binop(
        &mut self,
        pos: Pos,
        op: BinOp,
        lhs: ExprRef,
        rhs: ExprRef,
        rhs_pos: Pos,
        env: &Env,
    ) -> Result<Value> {
        match op {
            BinOp::And => {
                let l = self.eval_operand(lhs, env)?;
                if !self.expect_bool(&l, pos).trace(pos, || "in the left operand of the AND (&&) operator".into())? {
                    return Ok(Value::Bool(false));
                }
                let r = self.eval_operand(rhs, env)?;
                Ok(Value::Bool(
                    self.expect_bool(&r, pos).trace(pos, || "in the right operand of the AND (&&) operator".into())?,
                ))
            }
            BinOp::Or => {
                let l = self.eval_operand(lhs, env)?;
                if self.expect_bool(&l, pos).trace(pos, || "in the left operand of the OR (||) operator".into())? {
                    return Ok(Value::Bool(true));
                }
                let r = self.eval_operand(rhs, env)?;
                Ok(Value::Bool(
                    self.expect_bool(&r, pos).trace(pos, || "in the right operand of the OR (||) operator".into())?,
                ))
            }
            BinOp::Impl => {
                let l = self.eval_operand(lhs, env)?;
                if !self.expect_bool(&l, pos).trace(pos, || "in the left operand of the IMPL (->) operator".into())? {
                    return Ok(Value::Bool(true));
                }
                let r = self.eval_operand(rhs, env)?;
                Ok(Value::Bool(
                    self.expect_bool(&r, pos).trace(pos, || "in the right operand of the IMPL (->) operator".into())?,
                ))
            }
            BinOp::Add => {
                let l = self.eval_operand(lhs, env)?;
                if let Value::Int(a) = l {
                    // Two integers, the common case, inline; the rest as `add_values` does.
                    // (Integers own nothing: no drop is needed, see `binop_forced`.)
                    std::mem::forget(l);
                    let r = self.eval_operand(rhs, env)?;
                    if let Value::Int(b) = r {
                        std::mem::forget(r);
                        if let Some(sum) = a.checked_add(b) {
                            return Ok(Value::Int(sum));
                        }
                        return self.add_ints_failed(pos, rhs_pos, a, b);
                    }
                    return self.arith_forced(if rhs_pos.is_none() { pos } else { rhs_pos }, op, &Value::Int(a), &r);
                }
                self.add_other_values(pos, l, rhs, rhs_pos, env)
            }
            BinOp::Concat => self.eval_concat_chain(pos, lhs, rhs, env),
            _ => {
                let l = self.eval_operand(lhs, env)?;
                let r = self.eval_operand(rhs, env)?;
                self.binop_forced(pos, op, l, r)
            }
        }
    }

    /// The operators of [`Eval::eval_binop`] that evaluate both operands first, on their
    /// values; two integers (`n - 1`, `i < n`) without a further call.
    #[inline(always)]
    fn binop_forced(&mut self, pos: Pos, op: BinOp, l: Value, r: Value) -> Result<Value> {
        if let Some((a, b)) = int_operands(&l, &r) {
            // Integers own nothing: no drop (an out-of-line call for a `Value`) is needed.
            std::mem::forget(l);
            std::mem::forget(r);
            let done = match op {
                BinOp::Sub => a.checked_sub(b).map(Value::Int),
                BinOp::Mul => a.checked_mul(b).map(Value::Int),
                BinOp::Lt => Some(Value::Bool(a < b)),
                BinOp::Gt => Some(Value::Bool(a > b)),
                BinOp::Le => Some(Value::Bool(a <= b)),
                BinOp::Ge => Some(Value::Bool(a >= b)),
                _ => None,
            };
            return match done {
                Some(v) => Ok(v),
                None => self.binop_values(pos, op, Value::Int(a), Value::Int(b)),
            };
        }
        self.binop_values(pos, op, l, r)
    }

    /// [`Eval::binop_forced`] but for its integer shortcuts.
    #[inline(never)]
    fn binop_values(&mut self, pos: Pos, op: BinOp, l: Value, r: Value) -> Result<Value> {
        match op {
            BinOp::Sub | BinOp::Mul | BinOp::Div => self.arith_forced(pos, op, &l, &r),
            // Two sets, moved and dropped as sets.
            BinOp::Update => match (l, r) {
                (Value::Attrs(a), Value::Attrs(b)) => Ok(Value::Attrs(a.update(&b))),
                (l, r) => self.update_values(pos, l, r),
            },
            BinOp::Eq => Ok(Value::Bool(self.values_equal(&l, &r, true)?)),
            BinOp::NEq => Ok(Value::Bool(!self.values_equal(&l, &r, true)?)),
            BinOp::Lt => Ok(Value::Bool(self.less_than(&l, &r, pos)?)),
            BinOp::Gt => Ok(Value::Bool(self.less_than(&r, &l, pos)?)),
            BinOp::Le => Ok(Value::Bool(!self.less_than(&r, &l, pos)?)),
            BinOp::Ge => Ok(Value::Bool(!self.less_than(&l, &r, pos)?)),
            _ => unreachable!(),
        }
    }

    /// `l // r` when an operand is not a set (a thunk is forced first): the value or the
    /// reference's error.
    #[cold]
    fn update_values(&mut self, pos: Pos, l: Value, r: Value) -> Result<Value> {
        let a = self.expect_attrs(&l, pos).trace(pos, || "in the left operand of the update (//) operator".into())?;
        let b = self.expect_attrs(&r, pos).trace(pos, || "in the right operand of the update (//) operator".into())?;
        Ok(Value::Attrs(a.update(&b)))
    }

    /// The overflow error of `a + b`, as [`Eval::arith_forced`] words it.
    #[cold]
    #[inline(never)]
    fn add_ints_failed(&mut self, pos: Pos, rhs_pos: Pos, a: i64, b: i64) -> Result<Value> {
        self.arith_forced(if rhs_pos.is_none() { pos } else { rhs_pos }, BinOp::Add, &Value::Int(a), &Value::Int(b))
    }

    /// `+` of anything but an integer on the left (strings, paths, floats): out of line, so
    /// that [`Eval::eval_binop`]'s frame stays small.
    #[inline(never)]
    fn add_other_values(&mut self, pos: Pos, l: Value, rhs: ExprRef, rhs_pos: Pos, env: &Env) -> Result<Value> {
        self.add_values(pos, l, rhs, rhs_pos, env)
    }

    /// `a ++ b ++ … ++ z` (right-associative) as one concatenation: each list is copied once
    /// instead of once per operator to its left, and a long chain does not recurse. Operands
    /// are evaluated left to right and their types checked in the order the nested
    /// operators would check them (innermost pair first), so errors are the same.
    #[inline(never)]
    fn eval_concat_chain(&mut self, pos: Pos, lhs: ExprRef, rhs: ExprRef, env: &Env) -> Result<Value> {
        const LEFT: &str = "in the left operand of the list concatenation (++) operator";
        const RIGHT: &str = "in the right operand of the list concatenation (++) operator";
        let mut lefts: Vec<(Pos, Value)> = vec![(pos, self.eval_operand(lhs, env)?)];
        let mut last = rhs;
        while let Expr::BinOp { pos, op: BinOp::Concat, lhs, rhs, .. } = last {
            lefts.push((*pos, self.eval_operand(lhs, env)?));
            last = rhs;
        }
        let last = self.eval_operand(last, env)?;
        // Checked innermost pair first (its left, then its right), then outwards.
        let mut lists = Vec::with_capacity(lefts.len() + 1);
        let (inner_pos, inner_left) = lefts.pop().expect("at least one left operand");
        let inner_left = self.expect_list(&inner_left, inner_pos).trace(inner_pos, || LEFT.into())?;
        lists.push(self.expect_list(&last, inner_pos).trace(inner_pos, || RIGHT.into())?);
        lists.push(inner_left);
        for (pos, v) in lefts.iter().rev() {
            lists.push(self.expect_list(v, *pos).trace(*pos, || LEFT.into())?);
        }
        // `lists` is in reverse source order.
        let mut non_empty = lists.iter().filter(|l| !l.is_empty());
        match (non_empty.next(), non_empty.next()) {
            (None, _) => return Ok(Value::List(lists.swap_remove(0))),
            (Some(only), None) => return Ok(Value::List(only.clone())),
            _ => {}
        }
        let mut out = Vec::with_capacity(lists.iter().map(|l| l.len()).sum());
        for l in lists.iter().rev() {
            out.extend(l.iter().cloned());
        }
        Ok(Value::list(out))
    }

    // ---- typed access used by the evaluator and the builtins -------------------------------

    /// The reference's "expected … but found …" error.
    pub fn type_error(&self, expected: &str, v: &Value, pos: Pos) -> Box<EvalError> {
        EvalError::at(
            ErrorKind::Type,
            pos,
            format!("expected {} but found {}: {}", expected, explain::show_type(v), print::short(v)),
        )
    }

    /// A Boolean, forced, else a type error.
    #[inline]
    pub fn expect_bool(&mut self, v: &Value, pos: Pos) -> Result<bool> {
        if let Value::Bool(b) = v {
            return Ok(*b);
        }
        match self.force(v)? {
            Value::Bool(b) => Ok(b),
            v => Err(self.type_error("a Boolean", &v, pos)),
        }
    }
    /// An integer, forced, else a type error.
    pub fn expect_int(&mut self, v: &Value, pos: Pos) -> Result<i64> {
        match self.force(v)? {
            Value::Int(i) => Ok(i),
            v => Err(self.type_error("an integer", &v, pos)),
        }
    }
    /// A float, or an integer converted to float.
    pub fn expect_float(&mut self, v: &Value, pos: Pos) -> Result<f64> {
        match self.force(v)? {
            Value::Float(f) => Ok(f),
            Value::Int(i) => Ok(i as f64),
            v => Err(self.type_error("a float", &v, pos)),
        }
    }
    /// A list, forced, else a type error.
    pub fn expect_list(&mut self, v: &Value, pos: Pos) -> Result<List> {
        match self.force(v)? {
            Value::List(l) => Ok(l),
            v => Err(self.type_error("a list", &v, pos)),
        }
    }
    /// A set, forced, else a type error.
    pub fn expect_attrs(&mut self, v: &Value, pos: Pos) -> Result<Attrs> {
        match self.force(v)? {
            Value::Attrs(a) => Ok(a),
            v => Err(self.type_error("a set", &v, pos)),
        }
    }
    /// A string value (not coerced); its context is kept.
    pub fn expect_string(&mut self, v: &Value, pos: Pos) -> Result<NixString> {
        match self.force(v)? {
            Value::String(s) => Ok(s),
            v => Err(self.type_error("a string", &v, pos)),
        }
    }
    /// Something callable (a lambda, a builtin or a set with `__functor`), forced, else a type error.
    pub fn expect_function(&mut self, v: &Value, pos: Pos) -> Result<Value> {
        match self.force(v)? {
            f @ (Value::Lambda(_) | Value::Builtin(_)) => Ok(f),
            Value::Attrs(a) if a.contains(sym::FUNCTOR) => Ok(Value::Attrs(a)),
            v => Err(self.type_error("a function", &v, pos)),
        }
    }

    /// Look up an attribute of an already forced set, with the reference's message.
    pub fn get_attr(&mut self, a: &Attrs, name: Symbol, pos: Pos) -> Result<Value> {
        match a.get(name) {
            Some(v) => Ok(v.clone()),
            None => Err(EvalError::at(ErrorKind::MissingAttr, pos, format!("attribute '{}' missing", name))),
        }
    }

    /// The name of a builtin.
    pub fn builtin_def_name(def: &BuiltinDef) -> &'static str {
        def.name
    }
}

/// Both values as integers, when they are.
#[inline(always)]
fn int_operands(l: &Value, r: &Value) -> Option<(i64, i64)> {
    match (l, r) {
        (Value::Int(a), Value::Int(b)) => Some((*a, *b)),
        _ => None,
    }
}

/// A short rendering of an expression for messages (`assertion '(arg == "y")' failed`).
fn source_text(e: ExprRef) -> String {
    crate::print::expr_summary(e)
}
