//! Lists: map, filter, foldl', elem, elemAt, head, tail, length, genList, concatLists,
//! concatMap, all, any, sort, partition, genericClosure.
//!
//! `map` and `genList` elements are lazy applications; `foldl'` is a loop (a million elements
//! need no deep recursion); `sort` is the reference's peeksort, so that even comparators that
//! are not strict weak orders give the reference's result and call sequence. Lists of a known
//! length (`map`, `genList`, `tail`, concatenations) are written straight into the list block.

use crate::attrs::ctx;
use nix_eval::error::{ErrorKind, EvalError, Result};
use nix_eval::source::Pos;
use nix_eval::value::{List, ListHead, Thunk, Value};
use nix_eval::{print, sym, Attr, Attrs, BuiltinDef, Eval};
use std::cmp::Ordering;
use std::collections::{BTreeMap, VecDeque};

pub const BUILTINS: &[BuiltinDef] = &[
    BuiltinDef { name: "map", arity: 2, global: true, func: map },
    BuiltinDef { name: "filter", arity: 2, global: false, func: filter },
    BuiltinDef { name: "foldl'", arity: 3, global: false, func: foldl_strict },
    BuiltinDef { name: "elem", arity: 2, global: false, func: elem },
    BuiltinDef { name: "elemAt", arity: 2, global: false, func: elem_at },
    BuiltinDef { name: "head", arity: 1, global: false, func: head },
    BuiltinDef { name: "tail", arity: 1, global: false, func: tail },
    BuiltinDef { name: "length", arity: 1, global: false, func: length },
    BuiltinDef { name: "genList", arity: 2, global: false, func: gen_list },
    BuiltinDef { name: "concatLists", arity: 1, global: false, func: concat_lists },
    BuiltinDef { name: "concatMap", arity: 2, global: false, func: concat_map },
    BuiltinDef { name: "all", arity: 2, global: false, func: all },
    BuiltinDef { name: "any", arity: 2, global: false, func: any },
    BuiltinDef { name: "sort", arity: 2, global: false, func: sort },
    BuiltinDef { name: "partition", arity: 2, global: false, func: partition },
    BuiltinDef { name: "genericClosure", arity: 1, global: false, func: generic_closure },
];

/// Where a function value was defined (the reference's `determinePos`), else `pos`.
fn fn_pos(f: &Value, pos: Pos) -> Pos {
    match f {
        Value::Lambda(c) => c.pos(),
        _ => pos,
    }
}

fn map(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let l = ctx(ev.expect_list(&args[1], pos), pos, "while evaluating the second argument passed to builtins.map")?;
    if l.is_empty() {
        return Ok(Value::List(l));
    }
    let f = ctx(ev.expect_function(&args[0], pos), pos, "while evaluating the first argument passed to builtins.map")?;
    Ok(Value::List(List::from_iter_exact(ListHead, l.iter().map(|x| Thunk::apply(f.clone(), x.clone())))))
}

fn filter(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let l = ctx(ev.expect_list(&args[1], pos), pos, "while evaluating the second argument passed to builtins.filter")?;
    if l.is_empty() {
        return Ok(Value::List(l));
    }
    let f =
        ctx(ev.expect_function(&args[0], pos), pos, "while evaluating the first argument passed to builtins.filter")?;
    let mut out = Vec::new();
    let mut same = true;
    for x in l.iter() {
        let r = ev.call(&f, x.clone(), Pos::NONE)?;
        if ctx(
            ev.expect_bool(&r, pos),
            pos,
            "while evaluating the return value of the filtering function passed to builtins.filter",
        )? {
            out.push(x.clone());
        } else {
            same = false;
        }
    }
    if same {
        return Ok(Value::List(l));
    }
    Ok(Value::list(out))
}

fn foldl_strict(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let f = ctx(
        ev.expect_function(&args[0], pos),
        pos,
        "while evaluating the first argument passed to builtins.foldlStrict",
    )?;
    let l =
        ctx(ev.expect_list(&args[2], pos), pos, "while evaluating the third argument passed to builtins.foldlStrict")?;
    if l.is_empty() {
        return ev.force(&args[1]);
    }
    // Each step is one call with two arguments, as the reference's `callFunction(op, 2, …)`:
    // `acc: x: …` goes on to its inner lambda without allocating the closure of `op acc`,
    // and `--trace-function-calls` shows one call per element.
    let mut acc = args[1].clone();
    for x in l.iter() {
        acc = ev.call_n(&f, &[acc, x.clone()], pos)?;
    }
    Ok(acc)
}

fn elem(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let l = ctx(ev.expect_list(&args[1], pos), pos, "while evaluating the second argument passed to builtins.elem")?;
    for x in l.iter() {
        // (The reference's context "while searching for the presence of the given element in
        // the list" only applies to errors raised by the comparison itself, which ours has not.)
        if ev.values_equal(&args[0], x, false)? {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn elem_at(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let n = ctx(ev.expect_int(&args[1], pos), pos, "while evaluating the second argument passed to 'builtins.elemAt'")?;
    let l = ctx(ev.expect_list(&args[0], pos), pos, "while evaluating the first argument passed to 'builtins.elemAt'")?;
    if n < 0 || n as u64 >= l.len() as u64 {
        return Err(EvalError::at(
            ErrorKind::Other,
            pos,
            format!("'builtins.elemAt' called with index {} on a list of size {}", n, l.len()),
        ));
    }
    ev.force(&l[n as usize])
}

fn head(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let l = ctx(ev.expect_list(&args[0], pos), pos, "while evaluating the first argument passed to 'builtins.head'")?;
    match l.first() {
        Some(x) => ev.force(x),
        None => Err(EvalError::at(ErrorKind::Other, pos, "'builtins.head' called on an empty list")),
    }
}

fn tail(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let l = ctx(ev.expect_list(&args[0], pos), pos, "while evaluating the first argument passed to 'builtins.tail'")?;
    if l.is_empty() {
        return Err(EvalError::at(ErrorKind::Other, pos, "'builtins.tail' called on an empty list"));
    }
    Ok(Value::List(List::from_iter_exact(ListHead, l[1..].iter().cloned())))
}

fn length(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let l = ctx(ev.expect_list(&args[0], pos), pos, "while evaluating the first argument passed to builtins.length")?;
    Ok(Value::Int(l.len() as i64))
}

fn gen_list(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let n = ctx(ev.expect_int(&args[1], pos), pos, "while evaluating the second argument passed to builtins.genList")?;
    if n < 0 {
        return Err(EvalError::at(ErrorKind::Other, pos, format!("cannot create list of size {}", n)));
    }
    let f = ctx(
        ev.expect_function(&args[0], Pos::NONE),
        Pos::NONE,
        "while evaluating the first argument passed to builtins.genList",
    )?;
    let n = n as usize;
    if n > PROBE_ABOVE {
        // A size the allocator refuses is an evaluation error, not an abort: ask for the
        // block once and give it back before building the list.
        let mut probe: Vec<Value> = Vec::new();
        if probe.try_reserve_exact(n).is_err() {
            return Err(EvalError::at(ErrorKind::Other, pos, format!("cannot create list of size {}", n)));
        }
    }
    Ok(Value::List(List::from_iter_exact(ListHead, (0..n).map(|i| Thunk::apply(f.clone(), Value::Int(i as i64))))))
}

/// `genList` sizes up to this are built without first asking the allocator whether the
/// block can be had (16 MiB of list at most).
const PROBE_ABOVE: usize = 1 << 20;

/// An iterator whose number of items was counted beforehand (the concatenation of lists, the
/// merged names of `zipAttrsWith`), so that the result is written in place: building a `Vec`
/// first and moving it into the block would hold both (and fault in both) for a moment.
pub(crate) struct ExactLen<I> {
    pub(crate) it: I,
    pub(crate) left: usize,
}

impl<I: Iterator> Iterator for ExactLen<I> {
    type Item = I::Item;
    #[inline]
    fn next(&mut self) -> Option<I::Item> {
        let x = self.it.next()?;
        self.left = self.left.saturating_sub(1);
        Some(x)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<I: Iterator> ExactSizeIterator for ExactLen<I> {}

/// Concatenate lists, forcing each; a single non-empty list is returned as is.
fn concat(ev: &mut Eval, lists: &[Value], pos: Pos, msg: &'static str) -> Result<Value> {
    let mut forced: Vec<List> = Vec::with_capacity(lists.len());
    let mut len = 0;
    for x in lists {
        let l = ctx(ev.expect_list(x, pos), pos, msg)?;
        len += l.len();
        forced.push(l);
    }
    join(forced, len)
}

fn join(forced: Vec<List>, len: usize) -> Result<Value> {
    let mut nonempty = forced.iter().filter(|l| !l.is_empty());
    if let (Some(only), None) = (nonempty.next(), nonempty.next()) {
        return Ok(Value::List(only.clone()));
    }
    if len == 0 {
        return Ok(Value::list(Vec::new()));
    }
    Ok(Value::List(List::from_iter_exact(
        ListHead,
        ExactLen { it: forced.iter().flat_map(|l| l.iter().cloned()), left: len },
    )))
}

fn concat_lists(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let l =
        ctx(ev.expect_list(&args[0], pos), pos, "while evaluating the first argument passed to builtins.concatLists")?;
    concat(ev, &l, pos, "while evaluating a value of the list passed to builtins.concatLists")
}

fn concat_map(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let f = ctx(
        ev.expect_function(&args[0], pos),
        pos,
        "while evaluating the first argument passed to builtins.concatMap",
    )?;
    let l =
        ctx(ev.expect_list(&args[1], pos), pos, "while evaluating the second argument passed to builtins.concatMap")?;
    let fpos = fn_pos(&f, pos);
    let mut forced: Vec<List> = Vec::with_capacity(l.len());
    let mut len = 0;
    for x in l.iter() {
        let r = ev.call(&f, x.clone(), pos)?;
        let r = ctx(
            ev.expect_list(&r, fpos),
            fpos,
            "while evaluating the return value of the function passed to builtins.concatMap",
        )?;
        len += r.len();
        forced.push(r);
    }
    join(forced, len)
}

fn any_or_all(ev: &mut Eval, args: &[Value], pos: Pos, any: bool) -> Result<Value> {
    let (m0, m1, mr) = if any {
        (
            "while evaluating the first argument passed to builtins.any",
            "while evaluating the second argument passed to builtins.any",
            "while evaluating the return value of the function passed to builtins.any",
        )
    } else {
        (
            "while evaluating the first argument passed to builtins.all",
            "while evaluating the second argument passed to builtins.all",
            "while evaluating the return value of the function passed to builtins.all",
        )
    };
    let f = ctx(ev.expect_function(&args[0], pos), pos, m0)?;
    let l = ctx(ev.expect_list(&args[1], pos), pos, m1)?;
    for x in l.iter() {
        let r = ev.call(&f, x.clone(), pos)?;
        if ctx(ev.expect_bool(&r, pos), pos, mr)? == any {
            return Ok(Value::Bool(any));
        }
    }
    Ok(Value::Bool(!any))
}

fn any(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    any_or_all(ev, args, pos, true)
}

fn all(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    any_or_all(ev, args, pos, false)
}

fn is_less_than_builtin(f: &Value) -> bool {
    matches!(f, Value::Builtin(b) if b.args.is_empty() && b.def.name == "lessThan")
}

fn sort(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let l = ctx(ev.expect_list(&args[1], pos), pos, "while evaluating the second argument passed to builtins.sort")?;
    if l.is_empty() {
        return Ok(Value::List(l));
    }
    let f = ctx(ev.expect_function(&args[0], pos), pos, "while evaluating the first argument passed to builtins.sort")?;
    let mut v: Vec<Value> = Vec::with_capacity(l.len());
    for x in l.iter() {
        v.push(ev.force(x)?);
    }
    if is_less_than_builtin(&f) {
        peeksort(&mut v, &mut |a: &Value, b: &Value| {
            ctx(ev.compare(a, b, pos), Pos::NONE, "while evaluating the ordering function passed to builtins.sort")
                .map(|o| o == Ordering::Less)
        })?;
    } else {
        peeksort(&mut v, &mut |a: &Value, b: &Value| {
            // One call with both arguments, as the reference's `callFunction(comp, 2, …)`.
            let r = ev.call_n(&f, &[a.clone(), b.clone()], Pos::NONE)?;
            ctx(
                ev.expect_bool(&r, pos),
                pos,
                "while evaluating the return value of the sorting function passed to builtins.sort",
            )
        })?;
    }
    Ok(Value::list(v))
}

// ---- peeksort (the reference's `nix::peeksort`, after Munro & Wild) --------------------------

type Cmp<'a> = dyn FnMut(&Value, &Value) -> Result<bool> + 'a;

fn peeksort(v: &mut [Value], comp: &mut Cmp) -> Result<()> {
    let n = v.len();
    match n {
        0 | 1 => return Ok(()),
        2 => {
            if comp(&v[1], &v[0])? {
                v.swap(0, 1);
            }
            return Ok(());
        }
        _ => {}
    }
    let mut buf: Vec<Value> = Vec::with_capacity(n);
    peeksort_impl(v, 0, n, 0, n, &mut buf, comp)
}

/// Sorts `v[begin..end]`, knowing that `v[begin..left_run_end]` and `v[right_run_begin..end]`
/// are sorted.
fn peeksort_impl(
    v: &mut [Value],
    begin: usize,
    end: usize,
    left_run_end: usize,
    right_run_begin: usize,
    buf: &mut Vec<Value>,
    comp: &mut Cmp,
) -> Result<()> {
    if left_run_end == end || right_run_begin == begin {
        return Ok(());
    }
    let length = end - begin;
    if length <= 16 {
        return insertion_sort(v, begin, end, comp);
    }
    let middle = begin + length / 2;
    if middle <= left_run_end {
        peeksort_impl(v, left_run_end, end, left_run_end + 1, right_run_begin, buf, comp)?;
        return merge_runs(v, begin, left_run_end, end, buf, comp);
    } else if middle >= right_run_begin {
        peeksort_impl(v, begin, right_run_begin, left_run_end, right_run_begin - 1, buf, comp)?;
        return merge_runs(v, begin, right_run_begin, end, buf, comp);
    }
    let (i, j);
    if !comp(&v[middle], &v[middle - 1])? {
        i = decreasing_suffix(v, left_run_end, middle, comp, false)?;
        j = decreasing_prefix(v, middle - 1, right_run_begin, comp, false)?;
    } else {
        i = decreasing_suffix(v, left_run_end, middle, comp, true)?;
        j = decreasing_prefix(v, middle - 1, right_run_begin, comp, true)?;
        v[i..j].reverse();
    }
    if i == begin && j == end {
        return Ok(());
    }
    if middle - i < j - middle {
        peeksort_impl(v, begin, i, left_run_end, i.wrapping_sub(1), buf, comp)?;
        peeksort_impl(v, i, end, j, right_run_begin, buf, comp)?;
        merge_runs(v, begin, i, end, buf, comp)
    } else {
        peeksort_impl(v, begin, j, left_run_end, i, buf, comp)?;
        peeksort_impl(v, j, end, j + 1, right_run_begin, buf, comp)?;
        merge_runs(v, begin, j, end, buf, comp)
    }
}

/// `comp` or its negation (for the weakly increasing variants).
#[inline]
fn cmp_or_not(comp: &mut Cmp, a: &Value, b: &Value, strict: bool) -> Result<bool> {
    let r = comp(a, b)?;
    Ok(if strict { r } else { !r })
}

/// Maximal `i` such that `v[begin..i]` is strictly decreasing (or, with `strict` false, weakly
/// increasing).
fn decreasing_prefix(v: &[Value], mut begin: usize, end: usize, comp: &mut Cmp, strict: bool) -> Result<usize> {
    if begin == end {
        return Ok(begin);
    }
    while begin + 1 != end && cmp_or_not(comp, &v[begin + 1], &v[begin], strict)? {
        begin += 1;
    }
    Ok(begin + 1)
}

/// Minimal `i` such that `v[i..end]` is strictly decreasing (or weakly increasing).
fn decreasing_suffix(v: &[Value], begin: usize, mut end: usize, comp: &mut Cmp, strict: bool) -> Result<usize> {
    if begin == end {
        return Ok(end);
    }
    while end - 1 > begin && cmp_or_not(comp, &v[end - 1], &v[end - 2], strict)? {
        end -= 1;
    }
    Ok(end - 1)
}

fn insertion_sort(v: &mut [Value], begin: usize, end: usize, comp: &mut Cmp) -> Result<()> {
    if begin == end {
        return Ok(());
    }
    for current in begin + 1..end {
        let mut ip = current;
        while ip != begin && comp(&v[ip], &v[ip - 1])? {
            v.swap(ip, ip - 1);
            ip -= 1;
        }
    }
    Ok(())
}

fn merge_runs(
    v: &mut [Value],
    begin: usize,
    middle: usize,
    end: usize,
    buf: &mut Vec<Value>,
    comp: &mut Cmp,
) -> Result<()> {
    buf.clear();
    buf.extend_from_slice(&v[begin..end]);
    let mid = middle - begin;
    let total = end - begin;
    let (mut left, mut right, mut out) = (0, mid, begin);
    while left < mid && right < total {
        if !comp(&buf[right], &buf[left])? {
            v[out] = buf[left].clone();
            left += 1;
        } else {
            v[out] = buf[right].clone();
            right += 1;
        }
        out += 1;
    }
    for x in &buf[left..mid] {
        v[out] = x.clone();
        out += 1;
    }
    for x in &buf[right..total] {
        v[out] = x.clone();
        out += 1;
    }
    Ok(())
}

fn partition(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let f = ctx(
        ev.expect_function(&args[0], pos),
        pos,
        "while evaluating the first argument passed to builtins.partition",
    )?;
    let l =
        ctx(ev.expect_list(&args[1], pos), pos, "while evaluating the second argument passed to builtins.partition")?;
    let (mut right, mut wrong) = (Vec::new(), Vec::new());
    for x in l.iter() {
        ev.force(x)?;
        let r = ev.call(&f, x.clone(), pos)?;
        if ctx(
            ev.expect_bool(&r, pos),
            pos,
            "while evaluating the return value of the partition function passed to builtins.partition",
        )? {
            right.push(x.clone());
        } else {
            wrong.push(x.clone());
        }
    }
    Ok(Value::Attrs(Attrs::from_vec(vec![
        Attr { name: sym::RIGHT, pos: Pos::NONE, value: Value::list(right) },
        Attr { name: sym::WRONG, pos: Pos::NONE, value: Value::list(wrong) },
    ])))
}

// ---- genericClosure -------------------------------------------------------------------------

/// The keys seen so far, ordered as the reference's `std::set` ordered by `lessThan`.
/// Integer and string keys (nearly all uses) go in a B-tree; anything else falls back to a
/// sorted vector searched with the evaluator's (fallible) comparison.
enum KeySet {
    Ints(BTreeMap<i64, Value>),
    Strings(BTreeMap<Box<[u8]>, Value>),
    /// (key, element), sorted by key.
    General(Vec<(Value, Value)>),
}

impl KeySet {
    /// All (key, element) pairs in key order.
    fn entries(&self) -> Vec<(Value, Value)> {
        match self {
            KeySet::Ints(m) => m.iter().map(|(k, e)| (Value::Int(*k), e.clone())).collect(),
            KeySet::Strings(m) => m.iter().map(|(k, e)| (Value::string(k.to_vec()), e.clone())).collect(),
            KeySet::General(v) => v.clone(),
        }
    }
}

fn generic_closure(ev: &mut Eval, args: &[Value], _pos: Pos) -> Result<Value> {
    let a = ctx(
        ev.expect_attrs(&args[0], Pos::NONE),
        Pos::NONE,
        "while evaluating the first argument passed to builtins.genericClosure",
    )?;
    let missing = |name: &str| {
        ctx::<()>(
            Err(EvalError::at(ErrorKind::MissingAttr, Pos::NONE, format!("attribute '{}' missing", name))),
            Pos::NONE,
            "in the attrset passed as argument to builtins.genericClosure",
        )
        .unwrap_err()
    };
    let Some(start) = a.get(sym::STARTSET).cloned() else {
        return Err(missing("startSet"));
    };
    let start = ctx(
        ev.expect_list(&start, Pos::NONE),
        Pos::NONE,
        "while evaluating the 'startSet' attribute passed as argument to builtins.genericClosure",
    )?;
    if start.is_empty() {
        return Ok(Value::List(start));
    }
    let Some(op) = a.get(sym::OPERATOR).cloned() else {
        return Err(missing("operator"));
    };
    let op = ctx(
        ev.expect_function(&op, Pos::NONE),
        Pos::NONE,
        "while evaluating the 'operator' attribute passed as argument to builtins.genericClosure",
    )?;

    let mut work: VecDeque<Value> = start.iter().cloned().collect();
    let mut res: Vec<Value> = Vec::new();
    let mut keys = KeySet::Ints(BTreeMap::new());
    let mut first = true;
    while let Some(e) = work.pop_front() {
        let element_trace = |ev: &mut Eval, e: &Value| {
            let shown = ev.force(e).map(|v| print::short(&v)).unwrap_or_default();
            format!("in genericClosure element {}", shown)
        };
        let ea = match ev.expect_attrs(&e, Pos::NONE) {
            Ok(a) => a,
            Err(mut err) => {
                let msg = element_trace(ev, &e);
                err.trace.push(nix_eval::error::TraceFrame { pos: Pos::NONE, msg });
                return Err(err);
            }
        };
        let Some(key) = ea.get(sym::KEY).cloned() else {
            let mut err = EvalError::at(ErrorKind::MissingAttr, Pos::NONE, "attribute 'key' missing");
            err.trace.push(nix_eval::error::TraceFrame { pos: Pos::NONE, msg: element_trace(ev, &e) });
            return Err(err);
        };
        let key = ev.force(&key)?;
        let e = Value::Attrs(ea);
        if first {
            // The first key is inserted without any comparison (any type is accepted).
            first = false;
            keys = match &key {
                Value::Int(i) => KeySet::Ints(BTreeMap::from([(*i, e.clone())])),
                Value::String(s) => KeySet::Strings(BTreeMap::from([(s.as_bytes().into(), e.clone())])),
                _ => KeySet::General(vec![(key.clone(), e.clone())]),
            };
        } else if !insert_key(ev, &mut keys, key, &e)? {
            continue;
        }
        res.push(e.clone());

        let r = ev.call(&op, e.clone(), Pos::NONE).and_then(|r| {
            let l = ctx(
                ev.expect_list(&r, Pos::NONE),
                Pos::NONE,
                "while evaluating the return value of the `operator` passed to builtins.genericClosure",
            )?;
            for x in l.iter() {
                ev.force(x)?;
            }
            Ok(l)
        });
        match r {
            Ok(l) => work.extend(l.iter().cloned()),
            Err(mut err) => {
                err.trace.push(nix_eval::error::TraceFrame {
                    pos: Pos::NONE,
                    msg: format!("while calling operator on genericClosure element {}", print::short(&e)),
                });
                return Err(err);
            }
        }
    }
    Ok(Value::list(res))
}

/// Insert `key` unless an equivalent key is present; false if it was.
fn insert_key(ev: &mut Eval, keys: &mut KeySet, key: Value, e: &Value) -> Result<bool> {
    match (&mut *keys, &key) {
        (KeySet::Ints(m), Value::Int(i)) => {
            if m.contains_key(i) {
                return Ok(false);
            }
            m.insert(*i, e.clone());
            return Ok(true);
        }
        (KeySet::Strings(m), Value::String(s)) => {
            if m.contains_key(s.as_bytes()) {
                return Ok(false);
            }
            m.insert(s.as_bytes().into(), e.clone());
            return Ok(true);
        }
        (KeySet::General(_), _) => {}
        _ => {
            // A key of another kind: continue with the general representation.
            *keys = KeySet::General(keys.entries());
        }
    }
    let KeySet::General(v) = keys else { unreachable!() };
    // Binary search with the reference's `lessThan` semantics.
    let (mut lo, mut hi) = (0, v.len());
    let mut failed = None;
    while lo < hi {
        let mid = (lo + hi) / 2;
        match ev.compare(&key, &v[mid].0, Pos::NONE) {
            Ok(Ordering::Less) => hi = mid,
            Ok(Ordering::Greater) => lo = mid + 1,
            Ok(Ordering::Equal) => return Ok(false),
            Err(err) => {
                failed = Some(err);
                break;
            }
        }
    }
    if let Some(mut err) = failed {
        // Name the element whose key could not be compared, as the reference does: the first
        // one in key order (its error is reported; the reference's depends on the shape of its
        // red-black tree, and is the same one for all but large mixed sets).
        let mut other = None;
        for (k, el) in v.iter() {
            if let Err(e) = ev.compare(&key, k, Pos::NONE) {
                err = e;
                other = Some(el.clone());
                break;
            }
        }
        match other {
            Some(other) => {
                err.trace.push(nix_eval::error::TraceFrame {
                    pos: Pos::NONE,
                    msg: format!("with element {}", print::short(&other)),
                });
                err.trace.push(nix_eval::error::TraceFrame {
                    pos: Pos::NONE,
                    msg: format!("while comparing element {}", print::short(e)),
                });
            }
            None => err.trace.push(nix_eval::error::TraceFrame {
                pos: Pos::NONE,
                msg: format!("while checking key of element {}", print::short(e)),
            }),
        }
        return Err(err);
    }
    v.insert(lo, (key, e.clone()));
    Ok(true)
}
