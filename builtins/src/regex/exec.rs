//! Executor: libstdc++'s DFS (`_Executor<..., __dfs_mode = true>`) for POSIX
//! grammars, made iterative (explicit stack, no native recursion per
//! character) and memoised so that ordinary patterns cannot blow up.
//!
//! Semantics reproduced exactly (see `regex_executor.tcc`, GCC 12):
//! * alternation: both sides are explored (left first); an accepting path
//!   replaces the current result only if it ends strictly further than the
//!   best one so far (POSIX "longest"), so among equally long matches the
//!   first one found in DFS order wins;
//! * greedy repeat: "once more" first, then the exit, but the exit is only
//!   explored if the "once more" branch found no solution at all;
//! * a repeat entered again at the position where its current run started
//!   may iterate at most twice there (`_M_rep_once_more`);
//! * captures keep the value of the last iteration that set them.
//!
//! Memoisation: a byte-consuming state `s` reached at position `p` always
//! explores the same subtree (it only depends on `(s, p)`: repeat counters
//! started at or before `p` can no longer matter once a byte was consumed,
//! and `has_sol` is always false when a state is entered). A second visit can
//! therefore never produce a strictly longer match than the first one did, so
//! it only needs to replay "did the subtree find a solution". The memo is
//! enabled lazily, once a call did noticeably more work than the input size.

use super::compile::{set_has, ByteSet, NOp, Nfa};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

/// Testing knob: memoise from the first step (exercises the memo paths).
pub(crate) static MEMO_ALWAYS: AtomicBool = AtomicBool::new(false);

const NONE: usize = usize::MAX;
const FAIL_PC: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
pub(crate) enum Inst {
    Byte {
        b: u8,
        next: u32,
        slot: u32,
    },
    Set {
        set: u32,
        next: u32,
        slot: u32,
    },
    /// `left` is `_M_alt` (explored first), `right` is `_M_next`.
    Alt {
        left: u32,
        right: u32,
    },
    /// Greedy repeat; `idx` indexes the repeat counters.
    Repeat {
        more: u32,
        exit: u32,
        idx: u32,
    },
    /// A greedy repeat whose body is the single byte-consuming state `more`
    /// (which loops straight back): `X*`, `X+`, `X{n,}` for a one-byte `X`.
    /// Behaves exactly like `Repeat`, but runs the loop without a frame per
    /// byte. `set` is the body's byte set, `slot` the body's memo slot.
    Loop {
        more: u32,
        exit: u32,
        idx: u32,
        set: u32,
        slot: u32,
    },
    SubBegin {
        k: u32,
        next: u32,
    },
    SubEnd {
        k: u32,
        next: u32,
    },
    LineBegin {
        next: u32,
    },
    LineEnd {
        next: u32,
    },
    Accept,
}

pub(crate) struct Prog {
    insts: Vec<Inst>,
    sets: Vec<ByteSet>,
    /// Number of groups including group 0.
    pub n_groups: usize,
    n_rep: usize,
    n_slots: usize,
    /// Bytes that can start a match, when the pattern cannot match empty.
    first: Option<ByteSet>,
}

impl Prog {
    pub(crate) fn new(nfa: &Nfa) -> Prog {
        // Renumber the states reachable from the start state.
        let n = nfa.states.len();
        let mut map = vec![FAIL_PC; n];
        let mut order = Vec::new();
        let mut work = vec![0usize];
        let lookup = |i: i32| -> Option<usize> {
            if i >= 0 && (i as usize) < n && nfa.states[i as usize].op != NOp::Dummy {
                Some(i as usize)
            } else {
                None
            }
        };
        while let Some(i) = work.pop() {
            if map[i] != FAIL_PC {
                continue;
            }
            map[i] = order.len() as u32;
            order.push(i);
            let st = &nfa.states[i];
            match st.op {
                NOp::Accept | NOp::Dummy => {}
                NOp::Alt | NOp::Repeat => {
                    for t in [st.next, st.alt] {
                        if let Some(t) = lookup(t) {
                            work.push(t);
                        }
                    }
                }
                _ => {
                    if let Some(t) = lookup(st.next) {
                        work.push(t);
                    }
                }
            }
        }
        let tr = |i: i32| -> u32 {
            match lookup(i) {
                Some(i) => map[i],
                None => FAIL_PC,
            }
        };
        let mut insts = Vec::with_capacity(order.len());
        let mut n_rep = 0u32;
        let mut n_slots = 0u32;
        for &i in &order {
            let st = &nfa.states[i];
            let inst = match st.op {
                NOp::Accept => Inst::Accept,
                NOp::Alt => Inst::Alt { left: tr(st.alt), right: tr(st.next) },
                NOp::Repeat => {
                    n_rep += 1;
                    let (more, exit, idx) = (tr(st.alt), tr(st.next), n_rep - 1);
                    match lookup(st.alt).map(|a| nfa.states[a]) {
                        Some(body) if tr(body.next) == map[i] => match body.op {
                            NOp::Match(set) => Inst::Loop { more, exit, idx, set, slot: u32::MAX },
                            _ => Inst::Repeat { more, exit, idx },
                        },
                        _ => Inst::Repeat { more, exit, idx },
                    }
                }
                NOp::SubBegin(k) => Inst::SubBegin { k, next: tr(st.next) },
                NOp::SubEnd(k) => Inst::SubEnd { k, next: tr(st.next) },
                NOp::LineBegin => Inst::LineBegin { next: tr(st.next) },
                NOp::LineEnd => Inst::LineEnd { next: tr(st.next) },
                NOp::Match(s) => {
                    n_slots += 1;
                    let set = &nfa.sets[s as usize];
                    let count: u32 = set.iter().map(|w| w.count_ones()).sum();
                    let next = tr(st.next);
                    let slot = n_slots - 1;
                    if count == 1 {
                        let b = (0..=255u8).find(|&b| set_has(set, b)).unwrap();
                        Inst::Byte { b, next, slot }
                    } else {
                        Inst::Set { set: s, next, slot }
                    }
                }
                NOp::Dummy => unreachable!(),
            };
            insts.push(inst);
        }
        // Loops share the memo slot of their body state.
        for k in 0..insts.len() {
            if let Inst::Loop { more, exit, idx, set, .. } = insts[k] {
                let slot = match insts[more as usize] {
                    Inst::Byte { slot, .. } | Inst::Set { slot, .. } => slot,
                    _ => unreachable!("loop body is a byte-consuming state"),
                };
                insts[k] = Inst::Loop { more, exit, idx, set, slot };
            }
        }
        let mut prog = Prog {
            insts,
            sets: nfa.sets.clone(),
            n_groups: nfa.sub_count as usize,
            n_rep: n_rep as usize,
            n_slots: n_slots as usize,
            first: None,
        };
        prog.first = prog.first_bytes();
        prog
    }

    /// Over-approximates the bytes a match can start with; `None` if the
    /// pattern may match without consuming anything.
    fn first_bytes(&self) -> Option<ByteSet> {
        if self.insts.is_empty() {
            return None;
        }
        let mut seen = vec![false; self.insts.len()];
        let mut work = vec![0u32];
        let mut set = [0u64; 4];
        while let Some(pc) = work.pop() {
            if pc == FAIL_PC || seen[pc as usize] {
                continue;
            }
            seen[pc as usize] = true;
            match self.insts[pc as usize] {
                Inst::Byte { b, .. } => set[(b >> 6) as usize] |= 1 << (b & 63),
                Inst::Set { set: s, .. } => {
                    for (w, x) in set.iter_mut().zip(self.sets[s as usize].iter()) {
                        *w |= *x;
                    }
                }
                Inst::Alt { left, right } => {
                    work.push(left);
                    work.push(right);
                }
                Inst::Repeat { more, exit, .. } | Inst::Loop { more, exit, .. } => {
                    work.push(more);
                    work.push(exit);
                }
                Inst::SubBegin { next, .. }
                | Inst::SubEnd { next, .. }
                | Inst::LineBegin { next }
                | Inst::LineEnd { next } => work.push(next),
                Inst::Accept => return None,
            }
        }
        Some(set)
    }

    /// Cheap necessary condition for a whole-string match.
    #[inline]
    pub(crate) fn may_match_full(&self, s: &[u8]) -> bool {
        match &self.first {
            None => true,
            Some(f) => !s.is_empty() && set_has(f, s[0]),
        }
    }
}

#[derive(Clone, Copy)]
enum Frame {
    Explore {
        pc: u32,
        pos: usize,
    },
    /// Left alternative done: save `has_sol`, reset it, explore the right one.
    AltRight {
        pc: u32,
        pos: usize,
    },
    AltEnd {
        h: bool,
    },
    /// "Once more" done: explore the exit unless a solution was found.
    RepExit {
        pc: u32,
        pos: usize,
    },
    RepSet0 {
        idx: u32,
    },
    RepSet1 {
        idx: u32,
        first: usize,
    },
    RepSet2 {
        idx: u32,
        first: usize,
    },
    RepDec {
        idx: u32,
    },
    CapFirst {
        k: u32,
        old: usize,
    },
    CapSecond {
        k: u32,
        old: usize,
    },
    MemoDone {
        slot: u32,
        pos: usize,
    },
    /// `Loop` instruction `pc` entered (fresh) at `p`: the body's subtree at
    /// `q` is complete; next comes the exit at `q`, unless a solution exists.
    LoopExit {
        pc: u32,
        p: usize,
        q: usize,
    },
    /// The exit at `q` of such a loop is done: the body's subtree at `q - 1`
    /// is complete.
    LoopAfter {
        pc: u32,
        p: usize,
        q: usize,
    },
}

enum Memo {
    Off,
    /// Two bits per (slot, pos): visited, found.
    Dense {
        bits: Vec<u64>,
        base: usize,
        span: usize,
    },
    Sparse {
        map: HashMap<(u32, usize), bool>,
        base: usize,
    },
}

#[derive(Default)]
pub(crate) struct Scratch {
    stack: Vec<Frame>,
    caps: Vec<usize>,
    results: Vec<usize>,
    rep: Vec<(usize, u8)>,
    bits: Vec<u64>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with a (reused, thread-local) scratch area.
pub(crate) fn with_scratch<T>(f: impl FnOnce(&mut Scratch) -> T) -> T {
    SCRATCH.with(|c| match c.try_borrow_mut() {
        Ok(mut s) => f(&mut s),
        Err(_) => f(&mut Scratch::default()),
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `regex_match`: the match must end at the end of the input.
    Exact,
    /// `regex_search`: longest (in libstdc++'s sense) match at a start.
    Prefix,
}

pub(crate) struct Flags {
    pub prev_avail: bool,
    pub not_null: bool,
    pub continuous: bool,
}

struct Exec<'a> {
    prog: &'a Prog,
    s: &'a [u8],
    mode: Mode,
    /// `_M_begin` of the current attempt.
    begin: usize,
    prev_avail: bool,
    not_null: bool,
    has_sol: bool,
    sol_pos: usize,
    steps: usize,
    memo_threshold: usize,
    memo: Memo,
    sc: &'a mut Scratch,
}

/// Runs a match; returns the spans of groups `first_group..n_groups`
/// (`None` for a group that did not participate).
pub(crate) fn execute(
    prog: &Prog,
    s: &[u8],
    start: usize,
    mode: Mode,
    flags: &Flags,
    first_group: usize,
    sc: &mut Scratch,
) -> Option<Vec<Option<(usize, usize)>>> {
    if start > s.len() || prog.insts.is_empty() {
        return None;
    }
    let span = s.len() - start + 1;
    let mut ex = Exec {
        prog,
        s,
        mode,
        begin: start,
        prev_avail: flags.prev_avail,
        not_null: flags.not_null,
        has_sol: false,
        sol_pos: NONE,
        steps: 0,
        memo_threshold: if MEMO_ALWAYS.load(Ordering::Relaxed) {
            0
        } else {
            256usize.saturating_add(span.saturating_mul(2))
        },
        memo: Memo::Off,
        sc,
    };
    // (Re)sized only; `run` initialises them.
    ex.sc.caps.resize(prog.n_groups * 2, NONE);
    ex.sc.results.resize(prog.n_groups * 2, NONE);
    ex.sc.rep.resize(prog.n_rep, (0, 0));
    let found = if mode == Mode::Exact {
        ex.run()
    } else {
        // _Executor::_M_search
        let skip = |b: usize| match &prog.first {
            Some(f) => b == s.len() || !set_has(f, s[b]),
            None => false,
        };
        let mut found = !skip(start) && ex.run();
        if !found && !flags.continuous {
            ex.prev_avail = true;
            while ex.begin < s.len() {
                ex.begin += 1;
                if skip(ex.begin) {
                    continue;
                }
                if ex.run() {
                    found = true;
                    break;
                }
            }
        }
        found
    };
    let out = if found {
        let r = &ex.sc.results[..prog.n_groups * 2];
        Some(
            r.chunks_exact(2)
                .skip(first_group)
                .map(|c| if c[0] == NONE || c[1] == NONE { None } else { Some((c[0], c[1])) })
                .collect(),
        )
    } else {
        None
    };
    if let Memo::Dense { bits, .. } = std::mem::replace(&mut ex.memo, Memo::Off) {
        ex.sc.bits = bits;
    }
    // Do not keep huge buffers alive in the thread-local scratch.
    const KEEP: usize = 1 << 16;
    if ex.sc.stack.capacity() > KEEP {
        ex.sc.stack = Vec::new();
    }
    if ex.sc.bits.capacity() > KEEP {
        ex.sc.bits = Vec::new();
    }
    out
}

impl<'a> Exec<'a> {
    #[inline]
    fn at_begin(&self, pos: usize) -> bool {
        pos == self.begin && !self.prev_avail
    }

    fn enable_memo(&mut self) {
        let base = self.begin;
        let span = self.s.len() - base + 1;
        let entries = (self.prog.n_slots as u128) * (span as u128);
        if entries <= (1u128 << 28) {
            let words = (entries * 2).div_ceil(64) as usize;
            let mut bits = std::mem::take(&mut self.sc.bits);
            bits.clear();
            bits.resize(words, 0);
            self.memo = Memo::Dense { bits, base, span };
        } else {
            self.memo = Memo::Sparse { map: HashMap::new(), base };
        }
    }

    /// Memo lookup for a byte-consuming state that matched at `pos`.
    /// Returns `Some(found)` if this (slot, pos) was explored before;
    /// otherwise marks it visited and returns `None`.
    #[inline]
    fn memo_visit(&mut self, slot: u32, pos: usize) -> Option<bool> {
        match &mut self.memo {
            Memo::Off => None,
            Memo::Dense { bits, base, span } => {
                if pos < *base {
                    return None;
                }
                let e = (slot as usize * *span + (pos - *base)) * 2;
                let w = &mut bits[e / 64];
                let sh = e % 64;
                if (*w >> sh) & 1 != 0 {
                    Some((*w >> (sh + 1)) & 1 != 0)
                } else {
                    *w |= 1 << sh;
                    None
                }
            }
            Memo::Sparse { map, base } => {
                if pos < *base {
                    return None;
                }
                match map.get(&(slot, pos)) {
                    Some(&f) => Some(f),
                    None => {
                        map.insert((slot, pos), false);
                        None
                    }
                }
            }
        }
    }

    fn memo_done(&mut self, slot: u32, pos: usize, found: bool) {
        if !found {
            return;
        }
        match &mut self.memo {
            Memo::Off => {}
            Memo::Dense { bits, base, span } => {
                if pos < *base {
                    return;
                }
                let e = (slot as usize * *span + (pos - *base)) * 2 + 1;
                bits[e / 64] |= 1 << (e % 64);
            }
            Memo::Sparse { map, .. } => {
                map.insert((slot, pos), true);
            }
        }
    }

    /// One `_M_main_dispatch(__dfs)` from `self.begin`. Returns `_M_has_sol`.
    fn run(&mut self) -> bool {
        let prog = self.prog;
        let insts = &prog.insts[..];
        let s = self.s;
        let end = s.len();
        let exact = self.mode == Mode::Exact;
        self.has_sol = false;
        self.sol_pos = NONE;
        // _M_cur_results = _M_results (all unmatched: no earlier solution).
        let ng = self.prog.n_groups * 2;
        self.sc.caps[..ng].fill(NONE);
        let nr = self.prog.n_rep;
        self.sc.rep[..nr].fill((0, 0));
        self.sc.stack.clear();
        self.sc.stack.push(Frame::Explore { pc: 0, pos: self.begin });
        while let Some(f) = self.sc.stack.pop() {
            let (mut pc, mut pos) = match f {
                Frame::Explore { pc, pos } => (pc, pos),
                Frame::AltRight { pc, pos } => {
                    let h = self.has_sol;
                    self.has_sol = false;
                    self.sc.stack.push(Frame::AltEnd { h });
                    (pc, pos)
                }
                Frame::AltEnd { h } => {
                    self.has_sol |= h;
                    continue;
                }
                Frame::RepExit { pc, pos } => {
                    if self.has_sol {
                        continue;
                    }
                    (pc, pos)
                }
                Frame::RepSet0 { idx } => {
                    self.sc.rep[idx as usize] = (0, 0);
                    continue;
                }
                Frame::RepSet1 { idx, first } => {
                    self.sc.rep[idx as usize] = (first, 1);
                    continue;
                }
                Frame::RepSet2 { idx, first } => {
                    self.sc.rep[idx as usize] = (first, 2);
                    continue;
                }
                Frame::RepDec { idx } => {
                    self.sc.rep[idx as usize].1 -= 1;
                    continue;
                }
                Frame::CapFirst { k, old } => {
                    self.sc.caps[2 * k as usize] = old;
                    continue;
                }
                Frame::CapSecond { k, old } => {
                    self.sc.caps[2 * k as usize + 1] = old;
                    continue;
                }
                Frame::MemoDone { slot, pos } => {
                    let found = self.has_sol;
                    self.memo_done(slot, pos, found);
                    continue;
                }
                Frame::LoopExit { pc, p, q } => match self.loop_exit(pc, p, q) {
                    Some(e) => e,
                    None => continue,
                },
                Frame::LoopAfter { pc, p, q } => {
                    if let Inst::Loop { slot, .. } = insts[pc as usize] {
                        let found = self.has_sol;
                        self.memo_done(slot, q - 1, found);
                    }
                    if q - 1 > p {
                        match self.loop_exit(pc, p, q - 1) {
                            Some(e) => e,
                            None => continue,
                        }
                    } else {
                        continue;
                    }
                }
            };
            // Follow the path from (pc, pos) until it dies or accepts,
            // pushing only the continuations that need to run afterwards.
            loop {
                if pc == FAIL_PC {
                    break;
                }
                self.steps += 1;
                match insts[pc as usize] {
                    Inst::Byte { b, next, slot } => {
                        if pos < end && s[pos] == b {
                            if !self.consume(slot, pos) {
                                break;
                            }
                            pc = next;
                            pos += 1;
                        } else {
                            break;
                        }
                    }
                    Inst::Set { set, next, slot } => {
                        if pos < end && set_has(&prog.sets[set as usize], s[pos]) {
                            if !self.consume(slot, pos) {
                                break;
                            }
                            pc = next;
                            pos += 1;
                        } else {
                            break;
                        }
                    }
                    Inst::Alt { left, right } => {
                        self.sc.stack.push(Frame::AltRight { pc: right, pos });
                        pc = left;
                    }
                    Inst::Repeat { more, exit, idx } => {
                        let rc = self.sc.rep[idx as usize];
                        if rc.1 == 0 || rc.0 != pos {
                            self.sc.stack.push(Frame::RepExit { pc: exit, pos });
                            self.sc.stack.push(match rc.1 {
                                0 => Frame::RepSet0 { idx },
                                1 => Frame::RepSet1 { idx, first: rc.0 },
                                _ => Frame::RepSet2 { idx, first: rc.0 },
                            });
                            self.sc.rep[idx as usize] = (pos, 1);
                            pc = more;
                        } else if rc.1 < 2 {
                            self.sc.stack.push(Frame::RepExit { pc: exit, pos });
                            self.sc.stack.push(Frame::RepDec { idx });
                            self.sc.rep[idx as usize].1 += 1;
                            pc = more;
                        } else {
                            // No "once more"; has_sol is false here.
                            pc = exit;
                        }
                    }
                    Inst::Loop { more, exit, idx, set, slot } => {
                        let rc = self.sc.rep[idx as usize];
                        if rc.1 != 0 && rc.0 == pos {
                            // Re-entered where its current run started.
                            if rc.1 < 2 {
                                self.sc.stack.push(Frame::RepExit { pc: exit, pos });
                                self.sc.stack.push(Frame::RepDec { idx });
                                self.sc.rep[idx as usize].1 += 1;
                                pc = more;
                            } else {
                                pc = exit;
                            }
                            continue;
                        }
                        self.sc.stack.push(Frame::RepExit { pc: exit, pos });
                        self.sc.stack.push(match rc.1 {
                            0 => Frame::RepSet0 { idx },
                            1 => Frame::RepSet1 { idx, first: rc.0 },
                            _ => Frame::RepSet2 { idx, first: rc.0 },
                        });
                        // Run the body as far as it goes: the DFS would nest
                        // one "once more" per byte, then unwind trying exits.
                        let set = &prog.sets[set as usize];
                        let mut j = pos;
                        let mut replay = false;
                        if matches!(self.memo, Memo::Off) && self.steps > self.memo_threshold {
                            self.enable_memo();
                        }
                        if let Memo::Off = self.memo {
                            while j < end && set_has(set, s[j]) {
                                j += 1;
                            }
                            self.steps += j - pos;
                        } else {
                            while j < end && set_has(set, s[j]) {
                                if let Some(f) = self.memo_visit(slot, j) {
                                    replay = f;
                                    break;
                                }
                                j += 1;
                            }
                            self.steps += j - pos;
                        }
                        // The body's subtree at j failed or was replayed.
                        self.has_sol = replay;
                        if j > pos {
                            self.sc.stack.push(Frame::LoopExit { pc, p: pos, q: j });
                        }
                        break;
                    }
                    Inst::SubBegin { k, next } => {
                        let i = 2 * k as usize;
                        let old = self.sc.caps[i];
                        self.sc.caps[i] = pos;
                        self.sc.stack.push(Frame::CapFirst { k, old });
                        pc = next;
                    }
                    Inst::SubEnd { k, next } => {
                        let i = 2 * k as usize + 1;
                        let old = self.sc.caps[i];
                        self.sc.caps[i] = pos;
                        self.sc.stack.push(Frame::CapSecond { k, old });
                        pc = next;
                    }
                    Inst::LineBegin { next } => {
                        if !self.at_begin(pos) {
                            break;
                        }
                        pc = next;
                    }
                    Inst::LineEnd { next } => {
                        if pos != end {
                            break;
                        }
                        pc = next;
                    }
                    Inst::Accept => {
                        // _M_handle_accept (has_sol is always false here)
                        let mut sol = if exact { pos == end } else { true };
                        if pos == self.begin && self.not_null {
                            sol = false;
                        }
                        self.has_sol = sol;
                        if sol && (self.sol_pos == NONE || self.sol_pos < pos) {
                            self.sol_pos = pos;
                            let ng = prog.n_groups * 2;
                            self.sc.results[..ng].copy_from_slice(&self.sc.caps[..ng]);
                            // Nothing found later can replace this one: in
                            // exact mode only strictly longer matches would,
                            // and in prefix mode none is longer than the
                            // rest of the input.
                            if exact || pos == end {
                                return true;
                            }
                        }
                        break;
                    }
                }
            }
        }
        self.has_sol
    }

    /// Unwinding a `Loop` entered at `p`: the body's subtree at `q` (> p) is
    /// complete. Returns the exit to explore at `q`, if any (after pushing
    /// what follows it).
    fn loop_exit(&mut self, pc: u32, p: usize, q: usize) -> Option<(u32, usize)> {
        let Inst::Loop { exit, idx, slot, .. } = self.prog.insts[pc as usize] else { unreachable!() };
        if !self.has_sol {
            self.sc.rep[idx as usize] = (q - 1, 1);
            self.sc.stack.push(Frame::LoopAfter { pc, p, q });
            return Some((exit, q));
        }
        // A solution was found: every remaining exit is skipped, and the
        // body's subtrees at q-1 down to p all found a solution.
        if !matches!(self.memo, Memo::Off) {
            for x in p..q {
                self.memo_done(slot, x, true);
            }
        }
        None
    }

    /// A byte-consuming state matched at `pos`. Returns whether to go on to
    /// its successor at `pos + 1`; `false` if the memo replayed the subtree.
    #[inline]
    fn consume(&mut self, slot: u32, pos: usize) -> bool {
        if let Memo::Off = self.memo {
            if self.steps <= self.memo_threshold {
                return true;
            }
            self.enable_memo();
        }
        match self.memo_visit(slot, pos) {
            Some(found) => {
                // has_sol is false on entry; the subtree's outcome replays.
                self.has_sol = found;
                false
            }
            None => {
                self.sc.stack.push(Frame::MemoDone { slot, pos });
                true
            }
        }
    }
}
