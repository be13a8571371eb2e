//! Why `a == b` is false: the explanation of a failed `assert a == b`, as the reference
//! gives it (`assertEqValues`), and the rendering of the asserted expression.

use super::ops::same_value;
use super::Eval;
use crate::ast::{AttrKey, BinOp, Expr, ExprRef, Var};
use crate::error::{ErrorKind, EvalError, Result, TraceFrame};
use crate::print;
use crate::source::Pos;
use crate::symbol::sym;
use crate::value::*;

impl Eval {
    /// Why `a == b` is false, for a failed `assert a == b` (the reference's `assertEqValues`):
    /// the first difference `values_equal` would find, as an assertion error whose trace says
    /// where in the two values it is. `None` if no difference is found. Follows `values_equal`
    /// step by step (which stays the fast path); `pos` is that of the `==`.
    pub(crate) fn explain_unequal(
        &mut self,
        a: &Value,
        b: &Value,
        pos: Pos,
        top: bool,
    ) -> Result<Option<Box<EvalError>>> {
        if !top && same_value(a, b) {
            return Ok(None);
        }
        self.check_stack()?;
        let a = self.force(a)?;
        let b = self.force(b)?;
        let fail = |msg: String| Ok(Some(EvalError::new(ErrorKind::Assert, msg)));
        match (&a, &b) {
            (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
                if self.values_equal(&a, &b, true)? {
                    return Ok(None);
                }
                fail(format!(
                    "{} with value '{}' is not equal to {} with value '{}'",
                    show_type(&a),
                    self.show_value(&a),
                    show_type(&b),
                    self.show_value(&b)
                ))
            }
            _ if a.ty() != b.ty() => fail(format!(
                "{} of value '{}' is not equal to {} of value '{}'",
                show_type(&a),
                self.show_value(&a),
                show_type(&b),
                self.show_value(&b)
            )),
            (Value::Bool(x), Value::Bool(y)) => {
                if x == y {
                    return Ok(None);
                }
                fail(format!("boolean '{}' is not equal to boolean '{}'", self.show_value(&a), self.show_value(&b)))
            }
            (Value::String(x), Value::String(y)) => {
                if x.as_bytes() == y.as_bytes() {
                    return Ok(None);
                }
                fail(format!("string '{}' is not equal to string '{}'", self.show_value(&a), self.show_value(&b)))
            }
            (Value::Path(x), Value::Path(y)) => {
                if x.as_bytes() == y.as_bytes() {
                    return Ok(None);
                }
                fail(format!("path '{}' is not equal to path '{}'", self.show_value(&a), self.show_value(&b)))
            }
            (Value::Null, Value::Null) => Ok(None),
            (Value::List(x), Value::List(y)) => {
                if x.len() != y.len() {
                    return fail(format!(
                        "list of size '{}' is not equal to list of size '{}', left hand side is '{}', right hand side is '{}'",
                        x.len(),
                        y.len(),
                        self.show_value(&a),
                        self.show_value(&b)
                    ));
                }
                if List::ptr_eq(x, y) {
                    return Ok(None);
                }
                for (n, (p, q)) in x.iter().zip(y.iter()).enumerate() {
                    if let Some(mut e) = self.explain_unequal(p, q, pos, false)? {
                        e.trace.push(TraceFrame { pos, msg: format!("while comparing list element {}", n) });
                        return Ok(Some(e));
                    }
                }
                Ok(None)
            }
            (Value::Attrs(x), Value::Attrs(y)) => {
                if Attrs::ptr_eq(x, y) {
                    return Ok(None);
                }
                if self.is_derivation(x)? && self.is_derivation(y)? {
                    if let (Some(p), Some(q)) = (x.get(sym::OUT_PATH), y.get(sym::OUT_PATH)) {
                        let (p, q) = (p.clone(), q.clone());
                        let mut r = self.explain_unequal(&p, &q, pos, false)?;
                        if let Some(e) = &mut r {
                            e.trace.push(TraceFrame {
                                pos,
                                msg: "while comparing a derivation by its 'outPath' attribute".into(),
                            });
                        }
                        return Ok(r);
                    }
                }
                if x.len() != y.len() {
                    return fail(format!(
                        "attribute names of attribute set '{}' differs from attribute set '{}'",
                        self.show_value(&a),
                        self.show_value(&b)
                    ));
                }
                for (p, q) in x.iter().zip(y.iter()) {
                    if p.name != q.name {
                        if !y.contains(p.name) {
                            return fail(format!(
                                "attribute name '{}' is contained in '{}', but not in '{}'",
                                p.name.as_str(),
                                self.show_value(&a),
                                self.show_value(&b)
                            ));
                        }
                        return fail(format!(
                            "attribute name '{}' is missing in '{}', but is contained in '{}'",
                            q.name.as_str(),
                            self.show_value(&a),
                            self.show_value(&b)
                        ));
                    }
                }
                let items: Vec<_> = x
                    .iter()
                    .zip(y.iter())
                    .map(|(p, q)| (p.name, p.pos, q.pos, p.value.clone(), q.value.clone()))
                    .collect();
                for (name, lpos, rpos, p, q) in items {
                    if let Some(mut e) = self.explain_unequal(&p, &q, pos, false)? {
                        if !rpos.is_none() {
                            e.trace.push(TraceFrame { pos: rpos, msg: "where right hand side is".into() });
                        }
                        if !lpos.is_none() {
                            e.trace.push(TraceFrame { pos: lpos, msg: "where left hand side is".into() });
                        }
                        e.trace.push(TraceFrame { pos, msg: format!("while comparing attribute '{}'", name.as_str()) });
                        return Ok(Some(e));
                    }
                }
                Ok(None)
            }
            (Value::Lambda(_) | Value::Builtin(_), _) => {
                fail("distinct functions and immediate comparisons of identical functions compare as unequal".into())
            }
            _ => Ok(None),
        }
    }

    /// Force the builtin constants (`true`, `null`...) met in `v` (at most 10 levels deep), so
    /// that messages print them as the reference does, where they are never lazy.
    fn force_constants(&mut self, v: &Value, depth: usize, budget: &mut usize) {
        if depth > 10 || *budget == 0 {
            return;
        }
        *budget -= 1;
        match v {
            Value::Thunk(t) => match t.value() {
                Some(x) => self.force_constants(&x, depth, budget),
                None => {
                    if self.globals.iter().any(|g| matches!(g, Value::Thunk(h) if Thunk::ptr_eq(t, h))) {
                        let _ = self.force(v);
                    }
                }
            },
            Value::Attrs(a) => {
                for attr in a.iter() {
                    self.force_constants(&attr.value, depth + 1, budget);
                }
            }
            Value::List(l) => {
                for x in l.iter() {
                    self.force_constants(x, depth + 1, budget);
                }
            }
            _ => {}
        }
    }

    /// A value as the reference prints it in error messages (nested up to depth 10).
    fn show_value(&mut self, v: &Value) -> String {
        self.force_constants(v, 0, &mut 10_000);
        print::short(v)
    }
}

/// Where the `==` of a comparison whose node starts at `pos` is (the reference reports the
/// operator's position, the AST keeps the start of the left operand): the first `==` after
/// `pos` outside brackets, strings and comments. `pos` itself if none is found.
pub(crate) fn eq_operator_pos(pos: Pos) -> Pos {
    let Some((id, off)) = pos.split() else { return pos };
    let Some(file) = crate::source::source(id) else { return pos };
    let t = file.text.as_bytes();
    enum Ctx {
        Code(u32),
        Str,
        Ind,
    }
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'\'' || c == b'-';
    let mut stack = vec![Ctx::Code(0)];
    let mut i = off as usize;
    while i < t.len() {
        let c = t[i];
        let next = t.get(i + 1).copied();
        let top = stack.len() == 1;
        match stack.last_mut().unwrap() {
            Ctx::Code(depth) => match c {
                b'#' => {
                    while i < t.len() && t[i] != b'\n' {
                        i += 1;
                    }
                    continue;
                }
                b'/' if next == Some(b'*') => {
                    i += 2;
                    while i < t.len() && !(t[i] == b'*' && t.get(i + 1) == Some(&b'/')) {
                        i += 1;
                    }
                    i += 2;
                    continue;
                }
                b'"' => stack.push(Ctx::Str),
                b'\'' if next == Some(b'\'') && !(i > 0 && is_ident(t[i - 1])) => {
                    stack.push(Ctx::Ind);
                    i += 2;
                    continue;
                }
                b'(' | b'[' | b'{' => *depth += 1,
                b')' | b']' | b'}' => {
                    if *depth == 0 {
                        if top {
                            return pos;
                        }
                        stack.pop();
                    } else {
                        *depth -= 1;
                    }
                }
                b'=' if next == Some(b'=') && *depth == 0 && top => return pos.shifted(i as u32 - off),
                _ => {}
            },
            Ctx::Str => match c {
                b'\\' => {
                    i += 2;
                    continue;
                }
                b'"' => {
                    stack.pop();
                }
                b'$' if next == Some(b'$') => {
                    i += 2;
                    continue;
                }
                b'$' if next == Some(b'{') => {
                    stack.push(Ctx::Code(0));
                    i += 2;
                    continue;
                }
                _ => {}
            },
            Ctx::Ind => {
                if c == b'\'' && next == Some(b'\'') {
                    match t.get(i + 2) {
                        Some(b'\'') | Some(b'$') => i += 3,
                        Some(b'\\') => i += 4,
                        _ => {
                            stack.pop();
                            i += 2;
                        }
                    }
                    continue;
                }
                if c == b'$' && next == Some(b'$') {
                    i += 2;
                    continue;
                }
                if c == b'$' && next == Some(b'{') {
                    stack.push(Ctx::Code(0));
                    i += 2;
                    continue;
                }
            }
        }
        i += 1;
    }
    pos
}

/// The reference's `showType` of a value (2.36): `a string with context`, `the built-in
/// function 'NAME'`, `the partially applied built-in function 'NAME'`, else the type's
/// description — as type errors, coercion errors and assertion explanations use it.
pub(crate) fn show_type(v: &Value) -> String {
    match v {
        Value::String(s) if s.has_context() => "a string with context".into(),
        Value::Builtin(b) if b.args.is_empty() => format!("the built-in function '{}'", b.def.name),
        Value::Builtin(b) => format!("the partially applied built-in function '{}'", b.def.name),
        _ => v.ty().describe().into(),
    }
}

/// An expression as the reference's `Expr::show` writes it (`({ a = 1; } == [ (1) ])`), for
/// the trace of a failed assertion.
pub(crate) fn show_expr(e: ExprRef) -> String {
    let mut out = String::new();
    show_expr_into(&mut out, e);
    out
}

fn show_attr_path(out: &mut String, path: &[AttrKey]) {
    for (i, k) in path.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        match k {
            AttrKey::Static(s, _) => out.push_str(s.as_str()),
            AttrKey::Dynamic(d) => {
                out.push_str("\"${");
                show_expr_into(out, d);
                out.push_str("}\"");
            }
        }
    }
}

fn show_bindings(out: &mut String, bindings: &[crate::ast::Binding], dynamic: &[crate::ast::DynamicBinding]) {
    let mut sorted: Vec<&crate::ast::Binding> = bindings.iter().collect();
    sorted.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
    let inherits: Vec<&str> = sorted.iter().filter(|b| b.inherited).map(|b| b.name.as_str()).collect();
    if !inherits.is_empty() {
        out.push_str("inherit");
        for n in inherits {
            out.push(' ');
            out.push_str(n);
        }
        out.push_str("; ");
    }
    for b in sorted.iter().filter(|b| !b.inherited) {
        out.push_str(b.name.as_str());
        out.push_str(" = ");
        show_expr_into(out, b.value);
        out.push_str("; ");
    }
    for d in dynamic {
        out.push_str("\"${");
        show_expr_into(out, d.key);
        out.push_str("}\" = ");
        show_expr_into(out, d.value);
        out.push_str("; ");
    }
}

fn show_expr_into(out: &mut String, e: ExprRef) {
    match e {
        Expr::Const(v) => out.push_str(&print::to_string(v)),
        Expr::Var(v) => out.push_str(match v {
            Var::Local { name, .. } | Var::Global { name, .. } | Var::With { name, .. } => name.as_str(),
        }),
        Expr::Select { expr, path, default, .. } => {
            out.push('(');
            show_expr_into(out, expr);
            out.push_str(").");
            show_attr_path(out, path);
            if let Some(d) = default {
                out.push_str(" or (");
                show_expr_into(out, d);
                out.push(')');
            }
        }
        Expr::HasAttr { expr, path, .. } => {
            out.push_str("((");
            show_expr_into(out, expr);
            out.push_str(") ? ");
            show_attr_path(out, path);
            out.push(')');
        }
        Expr::Attrs(a) => {
            if a.rec {
                out.push_str("rec ");
            }
            out.push_str("{ ");
            show_bindings(out, a.bindings, a.dynamic);
            out.push('}');
        }
        Expr::Let(l) => {
            out.push_str("(let ");
            show_bindings(out, l.bindings, &[]);
            out.push_str("in ");
            show_expr_into(out, l.body);
            out.push(')');
        }
        Expr::List(items) => {
            out.push_str("[ ");
            for i in items.iter() {
                out.push('(');
                show_expr_into(out, i);
                out.push_str(") ");
            }
            out.push(']');
        }
        Expr::Lambda(l) => {
            out.push('(');
            if let Some(f) = &l.formals {
                out.push_str("{ ");
                let mut entries: Vec<_> = f.entries.iter().collect();
                entries.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
                let mut first = true;
                for i in entries {
                    if !first {
                        out.push_str(", ");
                    }
                    first = false;
                    out.push_str(i.name.as_str());
                    if let Some(d) = i.default {
                        out.push_str(" ? ");
                        show_expr_into(out, d);
                    }
                }
                if f.ellipsis {
                    if !first {
                        out.push_str(", ");
                    }
                    out.push_str("...");
                }
                out.push_str(" }");
                if l.arg.is_some() {
                    out.push_str(" @ ");
                }
            }
            if let Some(a) = l.arg {
                out.push_str(a.as_str());
            }
            out.push_str(": ");
            show_expr_into(out, l.body);
            out.push(')');
        }
        Expr::Apply { func, args, .. } => {
            out.push('(');
            show_expr_into(out, func);
            for a in args.iter() {
                out.push(' ');
                show_expr_into(out, a);
            }
            out.push(')');
        }
        Expr::If { cond, then, else_, .. } => {
            out.push_str("(if ");
            show_expr_into(out, cond);
            out.push_str(" then ");
            show_expr_into(out, then);
            out.push_str(" else ");
            show_expr_into(out, else_);
            out.push(')');
        }
        Expr::Assert { cond, body, .. } => {
            out.push_str("assert ");
            show_expr_into(out, cond);
            out.push_str("; ");
            show_expr_into(out, body);
        }
        Expr::With { namespace, body, .. } => {
            out.push_str("(with ");
            show_expr_into(out, namespace);
            out.push_str("; ");
            show_expr_into(out, body);
            out.push(')');
        }
        Expr::BinOp { op, lhs, rhs, .. } => {
            // The reference parses `- * / < > <= >=` into calls of `__sub` ... `__lessThan`.
            let call = |out: &mut String, f: &str, x: ExprRef, y: ExprRef| {
                out.push('(');
                out.push_str(f);
                out.push(' ');
                show_expr_into(out, x);
                out.push(' ');
                show_expr_into(out, y);
                out.push(')');
            };
            match op {
                BinOp::Sub => call(out, "__sub", lhs, rhs),
                BinOp::Mul => call(out, "__mul", lhs, rhs),
                BinOp::Div => call(out, "__div", lhs, rhs),
                BinOp::Lt => call(out, "__lessThan", lhs, rhs),
                BinOp::Gt => call(out, "__lessThan", rhs, lhs),
                BinOp::Le => {
                    out.push_str("(! ");
                    call(out, "__lessThan", rhs, lhs);
                    out.push(')');
                }
                BinOp::Ge => {
                    out.push_str("(! ");
                    call(out, "__lessThan", lhs, rhs);
                    out.push(')');
                }
                _ => {
                    out.push('(');
                    show_expr_into(out, lhs);
                    out.push(' ');
                    out.push_str(op.symbol());
                    out.push(' ');
                    show_expr_into(out, rhs);
                    out.push(')');
                }
            }
        }
        Expr::Not { expr, .. } => {
            out.push_str("(! ");
            show_expr_into(out, expr);
            out.push(')');
        }
        Expr::Interp { parts, .. } => {
            out.push('(');
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    out.push_str(" + ");
                }
                show_expr_into(out, p);
            }
            out.push(')');
        }
        Expr::CurPos(_) => out.push_str("__curPos"),
    }
}
