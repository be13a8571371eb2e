//! Function application: lambdas (with formals), builtins (partial application), `__functor`.

use super::Eval;
use crate::error::{AddTrace, ErrorKind, EvalError, Result};
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
        self.call_depth += 1;
        if self.call_depth > self.settings.max_call_depth {
            self.call_depth -= 1;
            return Err(EvalError::at(ErrorKind::StackOverflow, pos, "stack overflow; max-call-depth exceeded"));
        }
        self.stats.calls += 1;
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
            Value::Lambda(c) => self.call_lambda(c, arg, pos).trace(pos, || "from call site".into()),
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
            format!("attempt to call something which is not a function but {}: {}", f.ty().describe(), print::short(f)),
        )
    }

    /// Call with several arguments in turn.
    pub fn call_n(&mut self, f: &Value, args: &[Value], pos: Pos) -> Result<Value> {
        let apply = |ev: &mut Self| {
            let mut f = f.clone();
            for a in args {
                f = ev.call_untraced(&f, a.clone(), pos)?;
            }
            Ok(f)
        };
        if self.settings.trace_function_calls {
            return self.traced(pos, apply);
        }
        apply(self)
    }

    /// The name in "function 'NAME' called with ..." messages.
    fn plain_lambda_name(lam: &crate::ast::LambdaExpr) -> String {
        match lam.name {
            Some(n) => n.to_string(),
            None => "anonymous lambda".into(),
        }
    }

    fn lambda_name(c: &Closure) -> String {
        match c.lambda.name {
            Some(n) => format!("'{}'", n),
            None => "anonymous lambda".into(),
        }
    }

    fn call_lambda(&mut self, c: &Closure, arg: Value, pos: Pos) -> Result<Value> {
        let lam = c.lambda;
        self.stats.envs += 1;
        let Some(formals) = &lam.formals else {
            let env = Env::one(c.env.clone(), arg);
            return self.eval(lam.body, &env).trace(lam.pos, || format!("while calling {}", Self::lambda_name(c)));
        };
        let set = self.force(&arg)?;
        let Value::Attrs(set) = set else {
            return Err(self.type_error("a set", &set, pos))
                .trace(lam.pos, || format!("while calling {}", Self::lambda_name(c)));
        };
        let n_formals = formals.entries.len();
        let base = usize::from(lam.arg.is_some());
        let env = Env::with_nulls(Some(c.env.clone()), base + n_formals);
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
        self.eval(lam.body, &env).trace(lam.pos, || format!("while calling {}", Self::lambda_name(c)))
    }
}
