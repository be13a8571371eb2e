//! Function application: lambdas (with formals), builtins (partial application), `__functor`.

use super::Eval;
use crate::ast::{Expr, ExprRef, LambdaExpr};
use crate::error::{push_frame, AddTrace, ErrorKind, EvalError, Result};
use crate::print;
use crate::source::Pos;
use crate::symbol::sym;
use crate::value::*;
use std::rc::Rc;

impl Eval {
    /// Apply `f` to one argument; the result is in weak head normal form.
    pub fn call(&mut self, f: &Value, arg: Value, pos: Pos) -> Result<Value> {
        if self.settings.trace_function_calls {
            return self.traced(pos, |ev| ev.call_untraced(f, arg, pos));
        }
        self.call_untraced(f, arg, pos)
    }

    /// [`Eval::call`] without the `--trace-function-calls` lines, for the argument steps of
    /// one application (the reference traces a call with several arguments once).
    pub(crate) fn call_untraced(&mut self, f: &Value, arg: Value, pos: Pos) -> Result<Value> {
        self.enter_call(pos)?;
        let r = self.call_inner(f, arg, pos);
        self.call_depth -= 1;
        r
    }

    /// `--trace-function-calls`: the reference's `function-trace entered/exited POS at NS`
    /// lines (nanoseconds since the epoch) around one function call; `f` does the call.
    #[cold]
    pub(crate) fn traced<T>(&mut self, pos: Pos, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let at = match pos.resolve() {
            Some(l) => format!("{}:{}:{}", l.file.name(), l.line, l.column),
            None => "undefined position".to_string(),
        };
        let now = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        eprintln!("function-trace entered {} at {}", at, now());
        let r = f(self);
        eprintln!("function-trace exited {} at {}", at, now());
        r
    }

    fn call_inner(&mut self, f: &Value, arg: Value, pos: Pos) -> Result<Value> {
        match f {
            Value::Lambda(c) => self.call_lambda(c.lambda, &c.env, arg, pos),
            Value::Builtin(b) => {
                let def = b.def;
                if b.args.len() + 1 < def.arity {
                    let mut args = b.args.clone();
                    args.push(arg);
                    return Ok(Value::Builtin(Rc::new(BuiltinApp { def, args })));
                }
                // The full argument list, on the stack for the usual arities.
                let r = match b.args.as_slice() {
                    [] => (def.func)(self, std::slice::from_ref(&arg), pos),
                    [a] => (def.func)(self, &[a.clone(), arg], pos),
                    [a, b] => (def.func)(self, &[a.clone(), b.clone(), arg], pos),
                    more => {
                        let mut args = more.to_vec();
                        args.push(arg);
                        (def.func)(self, &args, pos)
                    }
                };
                let r = r.trace(pos, || format!("while calling the '{}' builtin", def.name))?;
                self.force(&r)
            }
            Value::Attrs(a) => match a.get(sym::FUNCTOR) {
                Some(functor) => {
                    let functor = self.force(&functor.clone())?;
                    let inner = self.call(&functor, f.clone(), pos)?;
                    self.call(&inner, arg, pos)
                }
                None => Err(self.not_a_function(f, pos)),
            },
            Value::Thunk(t) => {
                let f = self.force_thunk(t)?;
                self.call_inner(&f, arg, pos)
            }
            _ => Err(self.not_a_function(f, pos)),
        }
    }

    fn not_a_function(&self, f: &Value, pos: Pos) -> Box<EvalError> {
        EvalError::at(
            ErrorKind::Type,
            pos,
            format!(
                "attempt to call something which is not a function but {}: {}",
                super::explain::show_type(f),
                print::short(f)
            ),
        )
    }

    /// Call with several arguments in turn.
    pub fn call_n(&mut self, f: &Value, args: &[Value], pos: Pos) -> Result<Value> {
        if !self.settings.trace_function_calls {
            return self.apply_n(f.clone(), args.len(), |_, i| args[i].clone(), pos);
        }
        self.traced(pos, |ev| {
            let mut f = f.clone();
            for a in args {
                f = ev.call_untraced(&f, a.clone(), pos)?;
            }
            Ok(f)
        })
    }

    /// The name in "function 'NAME' called with ..." messages.
    fn plain_lambda_name(lam: &crate::ast::LambdaExpr) -> String {
        match lam.name {
            Some(n) => n.to_string(),
            None => "anonymous lambda".into(),
        }
    }

    fn lambda_name(lam: &crate::ast::LambdaExpr) -> String {
        match lam.name {
            Some(n) => format!("'{}'", n),
            None => "anonymous lambda".into(),
        }
    }

    /// The call of the lambda `lam` closed over `up` with `arg`, at `pos`, the call already
    /// counted and one level deeper ([`Eval::enter_call`]): every lambda call of the
    /// evaluator ends here (one argument or several, [`Eval::call`] or [`Eval::apply_args`]).
    /// An error gets the reference's frames, "while calling" the lambda (errors of its body)
    /// and "from call site", both added on the error path only ([`call_frames`]).
    #[inline]
    fn call_lambda(&mut self, lam: &'static LambdaExpr, up: &Env, arg: Value, pos: Pos) -> Result<Value> {
        let env = match self.bind_lambda_args(lam, up, arg, pos) {
            Ok(env) => env,
            Err(e) => return Err(push_frame(e, pos, from_call_site)),
        };
        match self.eval(lam.body, &env) {
            Ok(v) => Ok(v),
            Err(e) => Err(call_frames(e, lam, pos)),
        }
    }

    /// The environment of a call of `lam` (closed over `up`) with `arg`: the argument, or
    /// the formals taken from the set with their defaults. Errors as [`Eval::call_lambda`]
    /// reports them.
    #[inline]
    fn bind_lambda_args(&mut self, lam: &'static LambdaExpr, up: &Env, arg: Value, pos: Pos) -> Result<Env> {
        self.stats.envs += 1;
        match &lam.formals {
            None => Ok(Env::one(up.clone(), arg)),
            Some(formals) => self.bind_formals(lam, formals, up, arg, pos),
        }
    }

    /// [`Eval::bind_lambda_args`] for a lambda with formals (`{ a, b ? 1, ... }@args:`).
    fn bind_formals(
        &mut self,
        lam: &'static LambdaExpr,
        formals: &'static crate::ast::Formals,
        up: &Env,
        arg: Value,
        pos: Pos,
    ) -> Result<Env> {
        let set = self.force(&arg)?;
        let Value::Attrs(set) = set else {
            return Err(self.type_error("a set", &set, pos))
                .trace(lam.pos, || format!("while calling {}", Self::lambda_name(lam)));
        };
        let n_formals = formals.entries.len();
        let base = usize::from(lam.arg.is_some());
        let env = Env::with_nulls(Some(up.clone()), base + n_formals);
        if lam.arg.is_some() {
            env.set(0, Value::Attrs(set.clone()));
        }
        let mut used = 0;
        let mut missing_defaults = false;
        for (i, f) in formals.entries.iter().enumerate() {
            match set.get(f.name) {
                Some(v) => {
                    env.set(base + i, v.clone());
                    used += 1;
                }
                None if f.default.is_some() => missing_defaults = true,
                None => {
                    let name = Self::plain_lambda_name(lam);
                    // As the reference: at the lambda, the call site comes from the caller's frame.
                    return Err(EvalError::at(
                        ErrorKind::Type,
                        lam.pos,
                        format!("function '{}' called without required argument '{}'", name, f.name),
                    ));
                }
            }
        }
        if !formals.ellipsis && set.len() > used {
            for a in set.sorted() {
                if !formals.entries.iter().any(|f| f.name == a.name) {
                    let name = Self::plain_lambda_name(lam);
                    return Err(EvalError::at(
                        ErrorKind::Type,
                        lam.pos,
                        format!("function '{}' called with unexpected argument '{}'", name, a.name),
                    )
                    .suggest(a.name.as_str(), formals.entries.iter().map(|f| f.name.as_str())));
                }
            }
        }
        if missing_defaults {
            // Defaults see the whole environment (other formals, the `@` name). A default that
            // names the `@` set or a formal of a lower symbol shares its value, as in the
            // reference, which fills the formals in symbol order (`{ a, b ? a }`: `[ a ] == [ b ]`);
            // those are set last, in that order.
            let mut aliases: Vec<(crate::symbol::Symbol, usize, usize)> = Vec::new();
            for (i, f) in formals.entries.iter().enumerate() {
                if let Some(d) = f.default {
                    if !set.contains(f.name) {
                        if let crate::ast::Expr::Var(crate::ast::Var::Local { depth: 0, slot, .. }) = d {
                            let from = *slot as usize;
                            if from < base || formals.entries[from - base].name < f.name {
                                aliases.push((f.name, base + i, from));
                                continue;
                            }
                        }
                        let v = self.thunk_in_new_env(d, &env, 0);
                        env.set(base + i, v);
                    }
                }
            }
            aliases.sort_unstable_by_key(|a| a.0);
            for (_, to, from) in aliases {
                env.set(to, env.get(from));
            }
        }
        Ok(env)
    }

    /// `f a1 … an` of the AST (`f` already evaluated): the same calls, one argument at a
    /// time, as [`Eval::call_untraced`] makes them. A lambda (the common case, one argument
    /// or several) is called here directly: one depth check, the closure's environment
    /// borrowed rather than cloned, the error frames added only on the error path. Two
    /// shortcuts change nothing but the allocations:
    /// - a lambda whose body is again a lambda (`a: b: …`) given a further argument goes
    ///   on to that inner lambda with the new environment, instead of allocating the
    ///   closure the call would return only to call it at once;
    /// - a builtin given all its remaining arguments is called with them, instead of
    ///   allocating one partial application per argument.
    ///
    /// Both keep the call depth (each step is one level deeper, as the calls would be),
    /// the call count, the evaluation order and every error and trace.
    #[inline(never)]
    pub(crate) fn apply_args(&mut self, f: Value, args: &[ExprRef], env: &Env, pos: Pos) -> Result<Value> {
        // `f x` of a lambda, the commonest call, straight to the lambda (what the loop of
        // `apply_n` does for it, without the loop's bookkeeping).
        if let ([arg], Value::Lambda(_)) = (args, &f) {
            // The closure is dropped as what it is (inline), not as an unknown `Value`.
            let Value::Lambda(c) = f else { unreachable!() };
            let arg = self.thunk(arg, env);
            self.enter_call(pos)?;
            let r = self.call_lambda(c.lambda, &c.env, arg, pos);
            self.call_depth -= 1;
            return r;
        }
        self.apply_n(f, args.len(), |ev, i| ev.thunk(args[i], env), pos)
    }

    /// `f a b` of a lazy application a builtin made (`ThunkState::Apply2`: `mapAttrs`,
    /// `zipAttrsWith`), when `f` is a lambda whose body is a lambda (`name: value: …`):
    /// the two calls [`Eval::apply_n`] makes for it (the inner lambda called in the outer
    /// one's environment, each call one level deeper and counted), without its loop, its
    /// argument closure or a drop of the function. `None` for any other function.
    #[inline]
    pub(super) fn apply2_lambda(&mut self, f: &Value, a: &Value, b: &Value) -> Option<Result<Value>> {
        let Value::Lambda(c) = f else { return None };
        let Expr::Lambda(inner) = c.lambda.body else { return None };
        Some(self.call_curried2(c.lambda, inner, &c.env, a.clone(), b.clone()))
    }

    /// The calls of [`Eval::apply2_lambda`]: `lam` (closed over `up`, whose body is
    /// `inner`) with `a`, then `inner` with `b`, at no position.
    fn call_curried2(
        &mut self,
        lam: &'static LambdaExpr,
        inner: &'static LambdaExpr,
        up: &Env,
        a: Value,
        b: Value,
    ) -> Result<Value> {
        let pos = Pos::NONE;
        self.enter_call(pos)?;
        let env = self.bind_lambda_args(lam, up, a, pos);
        self.call_depth -= 1;
        let env = env.map_err(|e| push_frame(e, pos, from_call_site))?;
        self.enter_call(pos)?;
        let r = self.call_lambda(inner, &env, b, pos);
        self.call_depth -= 1;
        r
    }

    /// [`Eval::apply_args`] for `n` arguments, the `i`th made by `arg(i)` when it is needed.
    #[inline]
    pub(super) fn apply_n(
        &mut self,
        mut f: Value,
        n: usize,
        mut arg_at: impl FnMut(&mut Self, usize) -> Value,
        pos: Pos,
    ) -> Result<Value> {
        // An inner lambda and its environment, when the previous step returned it.
        let mut pending: Option<(&'static LambdaExpr, Env)> = None;
        let mut i = 0;
        while i < n {
            if pending.is_none() {
                if let Value::Builtin(b) = &f {
                    if b.def.arity <= 3 && b.args.len() + 2 <= b.def.arity && n - i + b.args.len() >= b.def.arity {
                        // At most three arguments, all of them on the stack.
                        let def = b.def;
                        let missing = def.arity - b.args.len();
                        let r = match b.args.as_slice() {
                            [] if def.arity == 2 => {
                                let all = [arg_at(self, i), arg_at(self, i + 1)];
                                self.call_builtin_saturated(def, &all, 2, pos)
                            }
                            [] => {
                                let all = [arg_at(self, i), arg_at(self, i + 1), arg_at(self, i + 2)];
                                self.call_builtin_saturated(def, &all, 3, pos)
                            }
                            [a, ..] => {
                                let all = [a.clone(), arg_at(self, i), arg_at(self, i + 1)];
                                self.call_builtin_saturated(def, &all, 2, pos)
                            }
                        };
                        i += missing;
                        f = r?;
                        continue;
                    }
                }
            }
            // The lambda called at this step and the environment it closes over: borrowed
            // from `f` (which lives until the step's result replaces it) or the pending one.
            let held: Env;
            let (lam, up) = match pending.take() {
                Some((lam, env)) => {
                    held = env;
                    (lam, &held)
                }
                None => match &f {
                    Value::Lambda(c) => (c.lambda, &c.env),
                    _ => {
                        let arg = arg_at(self, i);
                        i += 1;
                        f = self.call_untraced(&f, arg, pos)?;
                        continue;
                    }
                },
            };
            let arg = arg_at(self, i);
            i += 1;
            self.enter_call(pos)?;
            let r = match lam.body {
                Expr::Lambda(inner) if i < n => match self.bind_lambda_args(lam, up, arg, pos) {
                    Ok(env) => {
                        self.call_depth -= 1;
                        pending = Some((inner, env));
                        continue;
                    }
                    Err(e) => Err(push_frame(e, pos, from_call_site)),
                },
                _ => self.call_lambda(lam, up, arg, pos),
            };
            self.call_depth -= 1;
            f = r?;
        }
        Ok(f)
    }

    /// One level deeper in the call depth, as [`Eval::call_untraced`] goes, and one call
    /// more in the statistics.
    #[inline(always)]
    fn enter_call(&mut self, pos: Pos) -> Result<()> {
        self.call_depth += 1;
        if self.call_depth > self.settings.max_call_depth {
            self.call_depth -= 1;
            return Err(EvalError::at(ErrorKind::StackOverflow, pos, "stack overflow; max-call-depth exceeded"));
        }
        self.stats.calls += 1;
        Ok(())
    }

    /// The builtin `def` called with `all` its arguments, the last `given` of them in this
    /// application: what the calls with one argument each would do (the partial
    /// applications cannot fail, and each returns at once, so only the last one's depth
    /// counts).
    fn call_builtin_saturated(
        &mut self,
        def: &'static crate::builtin::BuiltinDef,
        all: &[Value],
        given: usize,
        pos: Pos,
    ) -> Result<Value> {
        self.enter_call(pos)?;
        self.stats.calls += given as u64 - 1;
        let r = (def.func)(self, all, pos)
            .trace(pos, || format!("while calling the '{}' builtin", def.name))
            .and_then(|r| self.force(&r));
        self.call_depth -= 1;
        r
    }
}

/// The frame a call's error gets at the call site.
fn from_call_site() -> String {
    "from call site".into()
}

/// The frames an error in the body of the lambda `lam` called at `pos` gets, innermost
/// first: "while calling" at the lambda, "from call site" at the call.
#[cold]
#[inline(never)]
fn call_frames(e: Box<EvalError>, lam: &'static LambdaExpr, pos: Pos) -> Box<EvalError> {
    let e = push_frame(e, lam.pos, || format!("while calling {}", Eval::lambda_name(lam)));
    push_frame(e, pos, from_call_site)
}
