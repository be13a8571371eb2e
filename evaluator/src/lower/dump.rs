//! A complete, deterministic text dump of a lowered AST.
//!
//! Exists so that the two front ends (the hand-written parser of [`crate::parse`] and the rnix
//! fallback) can be compared node for node: every node kind, position (as a byte offset in its
//! file), symbol name, variable resolution, lambda name and constant is written out.

use crate::ast::*;
use crate::source::Pos;
use crate::value::Value;
use std::fmt::Write;

/// The dump of `e` and everything below it.
pub fn dump(e: ExprRef) -> String {
    let mut out = String::new();
    expr(&mut out, e);
    out
}

fn pos(out: &mut String, p: Pos) {
    match p.split() {
        Some((_, off)) => write!(out, "@{}", off).unwrap(),
        None => out.push_str("@-"),
    }
}

fn konst(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => write!(out, "{}", b).unwrap(),
        Value::Int(i) => write!(out, "int {}", i).unwrap(),
        Value::Float(f) => write!(out, "float {:x}", f.to_bits()).unwrap(),
        Value::String(s) => write!(out, "str {:?} ctx={}", s.as_bytes(), s.has_context()).unwrap(),
        Value::Path(s) => write!(out, "path {:?}", s.as_bytes()).unwrap(),
        _ => out.push_str("<non-literal constant>"),
    }
}

fn keys(out: &mut String, path: &[AttrKey]) {
    out.push('[');
    for k in path {
        match k {
            AttrKey::Static(s, _) => write!(out, "{:?} ", s.as_str()).unwrap(),
            AttrKey::Dynamic(e) => {
                out.push_str("dyn(");
                expr(out, e);
                out.push_str(") ");
            }
        }
    }
    out.push(']');
}

fn list(out: &mut String, items: &[ExprRef]) {
    out.push('[');
    for it in items {
        expr(out, it);
        out.push(' ');
    }
    out.push(']');
}

fn bindings(out: &mut String, bs: &[Binding]) {
    for b in bs {
        write!(out, "{:?}", b.name.as_str()).unwrap();
        pos(out, b.pos);
        if b.inherited {
            out.push_str(" inherited");
        }
        out.push_str(" = ");
        expr(out, b.value);
        out.push_str("; ");
    }
}

fn expr(out: &mut String, e: ExprRef) {
    out.push('(');
    match e {
        Expr::Const(v) => konst(out, v),
        Expr::Var(v) => {
            match v {
                Var::Local { name, depth, slot, .. } => write!(out, "local {:?} {} {}", name.as_str(), depth, slot),
                Var::Global { name, index, .. } => write!(out, "global {:?} {}", name.as_str(), index),
                Var::With { name, levels, .. } => {
                    let depths: Vec<u32> = levels.iter().map(|l| l.depth).collect();
                    write!(out, "with {:?} {:?}", name.as_str(), depths)
                }
            }
            .unwrap();
            pos(out, v.pos());
        }
        Expr::Select { pos: p, expr: x, path, default } => {
            out.push_str("select");
            pos(out, *p);
            expr(out, x);
            keys(out, path);
            if let Some(d) = default {
                out.push_str(" or ");
                expr(out, d);
            }
        }
        Expr::HasAttr { pos: p, expr: x, path } => {
            out.push_str("has");
            pos(out, *p);
            expr(out, x);
            keys(out, path);
        }
        Expr::Attrs(a) => {
            write!(out, "attrs rec={} env={}", a.rec, a.has_env).unwrap();
            pos(out, a.pos);
            out.push_str(" from=");
            list(out, a.inherit_from);
            out.push(' ');
            bindings(out, a.bindings);
            for d in a.dynamic {
                out.push_str("dyn");
                pos(out, d.pos);
                expr(out, d.key);
                out.push_str(" = ");
                expr(out, d.value);
                out.push_str("; ");
            }
        }
        Expr::Let(l) => {
            out.push_str("let");
            pos(out, l.pos);
            out.push_str(" from=");
            list(out, l.inherit_from);
            out.push(' ');
            bindings(out, l.bindings);
            out.push_str("in ");
            expr(out, l.body);
        }
        Expr::List(items) => {
            out.push_str("list ");
            list(out, items);
        }
        Expr::Lambda(l) => {
            out.push_str("lambda");
            pos(out, l.pos);
            write!(out, " name={:?} arg={:?}", l.name.map(|s| s.as_str()), l.arg.map(|s| s.as_str())).unwrap();
            if let Some(f) = &l.formals {
                write!(out, " formals ellipsis={} {{", f.ellipsis).unwrap();
                for fm in f.entries {
                    write!(out, "{:?}", fm.name.as_str()).unwrap();
                    pos(out, fm.pos);
                    if let Some(d) = fm.default {
                        out.push_str(" ? ");
                        expr(out, d);
                    }
                    out.push_str(", ");
                }
                out.push('}');
            }
            out.push_str(": ");
            expr(out, l.body);
        }
        Expr::Apply { pos: p, func, args } => {
            out.push_str("apply");
            pos(out, *p);
            expr(out, func);
            list(out, args);
        }
        Expr::If { pos: p, cond, then, else_ } => {
            out.push_str("if");
            pos(out, *p);
            expr(out, cond);
            expr(out, then);
            expr(out, else_);
        }
        Expr::Assert { pos: p, cond, body } => {
            out.push_str("assert");
            pos(out, *p);
            expr(out, cond);
            expr(out, body);
        }
        Expr::With { pos: p, namespace, body } => {
            out.push_str("with");
            pos(out, *p);
            expr(out, namespace);
            expr(out, body);
        }
        Expr::BinOp { pos: p, op, lhs, rhs, .. } => {
            write!(out, "{:?}", op).unwrap();
            pos(out, *p);
            expr(out, lhs);
            expr(out, rhs);
        }
        Expr::Not { pos: p, expr: x } => {
            out.push_str("not");
            pos(out, *p);
            expr(out, x);
        }
        Expr::Interp { pos: p, parts, is_path } => {
            write!(out, "interp path={}", is_path).unwrap();
            pos(out, *p);
            list(out, parts);
        }
        Expr::CurPos(p) => {
            out.push_str("curpos");
            pos(out, *p);
        }
    }
    out.push(')');
}
