//! The cycle collector: frees values kept alive only by reference cycles.
//!
//! Values are reference counted, and the evaluator makes cycles all the time: a `let`/`rec`
//! or call environment holds the thunks of its bindings, each of which holds the
//! environment until it is forced; a closure stored in its own `let` holds its environment.
//! When the last reference from outside such a group goes, the counts inside stay above
//! zero and the group is never freed (issue #15: ~330 MiB at the end of a NixOS desktop).
//!
//! This is the synchronous trial deletion of Bacon & Rajan ("Concurrent Cycle Collection in
//! Reference Counted Systems", 2001), over the objects that can be part of a cycle:
//! environments, thunk cells, closures, attribute sets and lists (`Kind`). Strings, paths
//! and scalars are never traced, nor are the opaque owners: a builtin's partial
//! application (`Rc<BuiltinApp>`), a `Native` thunk's closure, an error. Not tracing an
//! owned reference is safe — its target looks referenced from outside and is kept — but
//! tracing a reference that does not own a count, or missing one, would free live memory;
//! so each kind's `children_at` lists exactly the handles the object owns.
//!
//! - **Candidates.** When a handle of one of these kinds is dropped and others are left,
//!   the object may have just become garbage held only by a cycle: its address goes into
//!   the candidate buffer (once: a "buffered" bit in its count). The buffer holds no count;
//!   an object freed while buffered drops its contents at once but leaves its block, marked
//!   `Dead`, for the next collection to release.
//! - **Collection** (`collect_cycles`), at a safe point only: when the buffer is full, from
//!   `Eval::force_thunk` before it evaluates a pending thunk, where no Rust code holds a
//!   pointer into an object without a count of it or of what holds it. MarkGray subtracts
//!   every traced reference from the counts of the objects reachable from the candidates;
//!   Scan paints black (restoring the counts) everything reachable from an object whose
//!   count stayed above zero — it is referenced from outside: the Rust stack, the
//!   evaluator's caches, an untraced owner — and white the rest; the white objects are
//!   freed without touching the counts of what they reference (already subtracted).
//!   Colours live in spare bits of the count (`count.rs`), so no object grows.
//! - **Generations.** An object that survives a collection which traversed it is *old*:
//!   later collections walk into it only if its count reaches zero, and it is not made a
//!   candidate again. Without this every collection walks the live heap (the nixpkgs
//!   fixpoint, millions of objects): 2.4 s of collection on a NixOS desktop instead of 0.6 s.
//!   The price: a cycle that becomes garbage after it survived a collection is not found.
//! - **When.** The buffer's threshold is the number of objects the last collection
//!   traversed, at least `MIN_THRESHOLD`, so the collector's work stays proportional to the
//!   candidates made.
//!
//! **Not built by default** (measured in README, "Memory (issue #15)"): on a NixOS desktop
//! it costs about a third more CPU for a 7% lower peak, as the cycles that die during such
//! an evaluation are few (49 MiB); long evaluations that make cyclic garbage at every step
//! stay flat with it instead of growing. Built in (the `cycle-collector` feature of
//! nix-eval; unit tests always) but switched off it still costs 4% more instructions, so
//! without the feature `count::COLLECTOR` folds every hook away. `RNIX_GC=1` turns it on
//! (read when an evaluator is made; off, objects are made old, which no release makes a
//! candidate); `RNIX_GC_STATS=1`
//! prints one line per collection and the totals to stderr; for experiments,
//! `RNIX_GC_THRESHOLD=N` sets the smallest threshold, `RNIX_GC_KINDS=MASK` the kinds made
//! candidates (bits in `Kind` order: 1 environments only, 31 all) and `RNIX_GC_OLD=0` turns
//! generations off.

use super::count::{track_new_objects, Colour, RefCount};
use super::thin::{Only, ThinBlock};
use super::{Attrs, Closure, Env, List, ListHead, Thunk, Value};
use std::cell::{Cell, UnsafeCell};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU8, Ordering};

/// The kinds of object that can be part of a cycle.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum Kind {
    /// An environment (`Env`): its enclosing environment and its slots.
    Env,
    /// A thunk cell: a pending thunk's environment, an evaluated thunk's value, the function
    /// and arguments of a lazy application.
    Thunk,
    /// A closure: its environment.
    Closure,
    /// An attribute set: the values, or a layer's base, overlay and flat copy.
    Attrs,
    /// A list: the elements.
    List,
}

/// A traced object: its kind and the address of its allocation.
#[derive(Copy, Clone)]
pub struct Obj {
    kind: Kind,
    ptr: NonNull<u8>,
}

type ClosureBlock = ThinBlock<Only<Closure>, ()>;

impl Obj {
    /// The object of `kind` at `ptr`.
    #[inline]
    pub(super) fn new(kind: Kind, ptr: NonNull<u8>) -> Obj {
        Obj { kind, ptr }
    }

    /// The object a value refers to, when it is of a traced kind.
    #[inline]
    pub(super) fn of_value(v: &Value) -> Option<Obj> {
        Some(match v {
            Value::Thunk(t) => Obj::new(Kind::Thunk, t.raw()),
            Value::Attrs(a) => Obj::new(Kind::Attrs, a.raw()),
            Value::List(l) => Obj::new(Kind::List, l.raw()),
            Value::Lambda(c) => Obj::new(Kind::Closure, c.0.raw()),
            _ => return None,
        })
    }

    /// The object's count (and colour).
    ///
    /// # Safety
    /// The object is live.
    #[inline]
    unsafe fn rc<'a>(self) -> &'a RefCount {
        // SAFETY: by the caller.
        unsafe {
            match self.kind {
                Kind::Env => Env::count_at(self.ptr),
                Kind::Thunk => Thunk::count_at(self.ptr),
                Kind::Closure => ClosureBlock::count_at(self.ptr),
                Kind::Attrs => Attrs::count_at(self.ptr),
                Kind::List => List::count_at(self.ptr),
            }
        }
    }

    /// Calls `f` with each object this one holds a counted (traced) reference to.
    ///
    /// # Safety
    /// The object is live and not being written.
    unsafe fn for_each_child(self, mut f: impl FnMut(Obj)) {
        // SAFETY: by the caller.
        unsafe {
            match self.kind {
                Kind::Env => Env::children_at(self.ptr, &mut f),
                Kind::Thunk => Thunk::children_at(self.ptr, &mut f),
                Kind::Closure => {
                    let b = ClosureBlock::from_raw(self.ptr);
                    f(Obj::new(Kind::Env, b.head().0.env.raw()));
                }
                Kind::Attrs => Attrs::children_at(self.ptr, &mut f),
                Kind::List => {
                    for v in List::from_raw(self.ptr).as_slice() {
                        if let Some(o) = Obj::of_value(v) {
                            f(o);
                        }
                    }
                }
            }
        }
    }

    /// Whether the object is a thunk being evaluated.
    ///
    /// # Safety
    /// The object is live.
    unsafe fn is_blackhole(self) -> bool {
        // SAFETY: by the caller.
        self.kind == Kind::Thunk && unsafe { Thunk::is_blackhole_at(self.ptr) }
    }

    /// Frees a garbage object: its traced references are forgotten (their counts were
    /// taken by the trial deletion), the others dropped.
    ///
    /// # Safety
    /// The collector found the object white: only other white objects refer to it, and
    /// none of them is used again but to be freed the same way.
    unsafe fn free_garbage(self) -> usize {
        #[cfg(test)]
        tests::freed(self.kind);
        // SAFETY: by the caller.
        unsafe {
            match self.kind {
                Kind::Env => Env::free_garbage_at(self.ptr),
                Kind::Thunk => Thunk::free_garbage_at(self.ptr),
                Kind::Closure => ClosureBlock::free_garbage(self.ptr, |()| {}, |Only(c)| std::mem::forget(c.env)),
                Kind::Attrs => Attrs::free_garbage_at(self.ptr),
                Kind::List => ThinBlock::<ListHead, Value>::free_garbage(self.ptr, forget_traced, |_| {}),
            }
        }
    }

    /// Releases the block of an object freed while buffered.
    ///
    /// # Safety
    /// The object is [`Colour::Dead`], released once.
    unsafe fn dealloc_dead(self) -> usize {
        // SAFETY: by the caller.
        unsafe {
            match self.kind {
                Kind::Env => Env::dealloc_dead(self.ptr),
                Kind::Thunk => Thunk::dealloc_dead(self.ptr),
                Kind::Closure => ClosureBlock::dealloc_dead(self.ptr),
                Kind::Attrs => Attrs::dealloc_dead(self.ptr),
                Kind::List => List::dealloc_dead(self.ptr),
            }
        }
    }
}

/// Drops `v`, except a traced handle, which is forgotten: the collector already took its
/// count (the inside of a garbage object being freed).
#[inline]
pub(super) fn forget_traced(v: Value) {
    if Obj::of_value(&v).is_some() {
        std::mem::forget(v);
    } else {
        drop(v);
    }
}

/// The smallest number of candidates that starts a collection.
const MIN_THRESHOLD: usize = 30_000;

/// What the collector did (totals for this thread).
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct CollectorStats {
    /// Collections run.
    pub collections: u64,
    /// Candidates examined.
    pub candidates: u64,
    /// Candidates freed (by their count) while buffered, whose blocks were released.
    pub released: u64,
    /// Objects visited by the trial deletion.
    pub traversed: u64,
    /// Objects freed as garbage cycles.
    pub freed: u64,
    /// Bytes of the objects freed as garbage cycles (blocks only: not the strings and
    /// other untraced contents they dropped).
    pub bytes: u64,
    /// Time spent collecting, in nanoseconds.
    pub nanos: u64,
}

/// The collector of one thread.
struct State {
    /// The candidates' addresses (not counted: see `Colour::Dead`).
    roots: UnsafeCell<Vec<Obj>>,
    /// Candidates that make a collection due.
    threshold: Cell<usize>,
    stats: Cell<CollectorStats>,
}

impl Drop for State {
    /// The totals, when asked for. (The candidates' counts are not given back: the thread
    /// is ending, and dropping values now could reach thread locals already gone.)
    fn drop(&mut self) {
        if print_stats() {
            let s = self.stats.get();
            eprintln!(
                "gc: total {} collections, {} candidates, {} released, {} traversed, {} freed ({:.1} MiB), {:.1} ms",
                s.collections,
                s.candidates,
                s.released,
                s.traversed,
                s.freed,
                s.bytes as f64 / 1048576.0,
                s.nanos as f64 / 1e6
            );
            let _ = KIND_STATS.try_with(|k| {
                eprintln!("gc: candidates (examined, garbage) by kind Env/Thunk/Closure/Attrs/List: {:?}", k.get())
            });
        }
    }
}

thread_local! {
    static STATE: State = const {
        State {
            roots: UnsafeCell::new(Vec::new()),
            threshold: Cell::new(0),
            stats: Cell::new(CollectorStats {
                collections: 0, candidates: 0, released: 0, traversed: 0, freed: 0, bytes: 0, nanos: 0,
            }),
        }
    };
    /// Per kind: candidates examined, and candidates found garbage (`RNIX_GC_STATS`).
    static KIND_STATS: Cell<[(u64, u64); 5]> = const { Cell::new([(0, 0); 5]) };
    /// Set when the candidate buffer passed its threshold (checked by `safe_point`; kept
    /// apart from `STATE` so that the check is one load, without a destructor's guard).
    static DUE: Cell<bool> = const { Cell::new(false) };
}

/// 0: not read yet, 1: print (`RNIX_GC_STATS=1`), 2: quiet.
static STATS_MODE: AtomicU8 = AtomicU8::new(0);

fn env_flag(cell: &AtomicU8, read: impl FnOnce() -> bool) -> bool {
    match cell.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => {
            let on = read();
            cell.store(if on { 1 } else { 2 }, Ordering::Relaxed);
            on
        }
    }
}

/// Turns the collector on when the environment asks for it (`RNIX_GC=1`); called when an
/// evaluator is made. (It never turns it off: a test may have turned it on.)
pub fn configure_collector() {
    if std::env::var_os("RNIX_GC").is_some_and(|v| v != "0") {
        if !super::count::COLLECTOR {
            static WARNED: std::sync::Once = std::sync::Once::new();
            WARNED.call_once(|| {
                eprintln!(
                    "warning: RNIX_GC is set, but this build has no cycle collector (feature nix-eval/cycle-collector)"
                )
            });
        }
        set_collector(true);
    }
}

/// Turns the collector on or off for the objects made from now on (in every thread): with
/// it off they are made old, which no release makes a candidate — so off, the collector
/// costs nothing but the test of a flag in the count a release has just written.
pub fn set_collector(on: bool) {
    track_new_objects(on);
}

/// The kinds made candidates (`RNIX_GC_KINDS`, a bit mask in `Kind` order; all by default).
fn kind_mask() -> u8 {
    static MASK: AtomicU8 = AtomicU8::new(0);
    match MASK.load(Ordering::Relaxed) {
        0 => {
            let m = std::env::var("RNIX_GC_KINDS").ok().and_then(|s| s.parse::<u8>().ok()).unwrap_or(31) | 32;
            MASK.store(m, Ordering::Relaxed);
            m
        }
        m => m,
    }
}

/// Whether survivors become old (`RNIX_GC_OLD=0`: every collection traverses all it reaches).
fn generational() -> bool {
    static GEN: AtomicU8 = AtomicU8::new(0);
    env_flag(&GEN, || std::env::var_os("RNIX_GC_OLD").is_none_or(|v| v != "0"))
}

fn print_stats() -> bool {
    env_flag(&STATS_MODE, || std::env::var_os("RNIX_GC_STATS").is_some_and(|v| v != "0"))
}

fn min_threshold() -> usize {
    std::env::var("RNIX_GC_THRESHOLD").ok().and_then(|s| s.parse().ok()).unwrap_or(MIN_THRESHOLD).max(1)
}

/// A handle to the object at `ptr` was dropped and others are left: records it as a
/// candidate (the caller checked that it is not buffered yet).
#[inline(never)]
pub(super) fn possible_root(kind: Kind, ptr: NonNull<u8>) {
    if kind_mask() & (1 << kind as u8) == 0 {
        return;
    }
    // During the thread's teardown the buffer is gone: the candidate is just not recorded.
    let _ = STATE.try_with(|s| {
        let obj = Obj::new(kind, ptr);
        // SAFETY: the object is live (a handle to it is left). The buffer keeps its address
        // without a count: if the object is freed meanwhile, its block is kept (`Dead`).
        let rc = unsafe { obj.rc() };
        rc.set_buffered(true);
        // SAFETY: no other reference to the buffer is alive (`collect_cycles` takes it out
        // before it drops anything).
        let roots = unsafe { &mut *s.roots.get() };
        roots.push(obj);
        let mut threshold = s.threshold.get();
        if threshold == 0 {
            threshold = min_threshold();
            s.threshold.set(threshold);
        }
        if roots.len() >= threshold {
            DUE.set(true);
        }
    });
}

/// Runs a collection if one is due. Call only where no Rust code holds a reference into a
/// value without owning a count of it (or of what holds it), e.g. before a thunk is
/// evaluated.
#[inline(always)]
pub fn safe_point() {
    if super::count::COLLECTOR && DUE.get() {
        collect_cycles();
    }
}

/// Frees the garbage cycles among the candidates recorded so far and returns this thread's
/// totals. The same condition as [`safe_point`] applies.
#[inline(never)]
pub fn collect_cycles() -> CollectorStats {
    DUE.set(false);
    // SAFETY: no other reference to the buffer is alive; it is taken whole.
    let Ok(roots) = STATE.try_with(|s| std::mem::take(unsafe { &mut *s.roots.get() })) else {
        return CollectorStats::default();
    };
    let start = std::time::Instant::now();
    let mut run = CollectorStats { collections: 1, candidates: roots.len() as u64, ..Default::default() };
    // SAFETY: every candidate is live or dead-but-buffered (its block kept for the buffer);
    // nothing is dropped or freed until the white objects at the end, and the caller is at
    // a safe point, so every object reached through a traced reference is live.
    unsafe {
        let mut cands = Vec::with_capacity(roots.len());
        for obj in roots {
            let rc = obj.rc();
            if rc.colour() == Colour::Dead {
                run.released += 1;
                obj.dealloc_dead();
            } else {
                cands.push(obj);
            }
        }
        let mut stack = Vec::new();
        for &obj in &cands {
            mark_gray(obj, &mut stack, &mut run);
        }
        let mut black_stack = Vec::new();
        for &obj in &cands {
            scan(obj, &mut stack, &mut black_stack);
        }
        // From here a candidate freed by a drop is freed at once (no longer buffered).
        for &obj in &cands {
            obj.rc().set_buffered(false);
        }
        let mut white = Vec::new();
        for &obj in &cands {
            if print_stats() {
                let k = obj.kind as usize;
                KIND_STATS.with(|ks| {
                    let mut a = ks.get();
                    a[k].0 += 1;
                    if obj.rc().colour() == Colour::White {
                        a[k].1 += 1;
                    }
                    ks.set(a);
                });
            }
            collect_white(obj, &mut stack, &mut white);
        }
        run.freed = white.len() as u64;
        // Untraced contents are dropped as usual; they never reach a white object (whose
        // every reference is a traced one from another white object).
        for obj in white {
            run.bytes += obj.free_garbage() as u64;
        }
    }
    run.nanos = start.elapsed().as_nanos() as u64;
    STATE
        .try_with(|s| {
            let mut t = s.stats.get();
            t.collections += 1;
            t.candidates += run.candidates;
            t.released += run.released;
            t.traversed += run.traversed;
            t.freed += run.freed;
            t.bytes += run.bytes;
            t.nanos += run.nanos;
            s.stats.set(t);
            s.threshold.set(min_threshold().max(run.traversed as usize));
            if print_stats() {
                eprintln!(
                    "gc: {} candidates, {} released, {} traversed, {} freed ({:.1} MiB), {:.1} ms",
                    run.candidates,
                    run.released,
                    run.traversed,
                    run.freed,
                    run.bytes as f64 / 1048576.0,
                    run.nanos as f64 / 1e6
                );
            }
            t
        })
        .unwrap_or_default()
}

/// MarkGray: takes from each count the references from gray objects (each reference once:
/// an object's references are taken when it turns gray). Everything reachable from `root`
/// turns gray, except old objects (survivors of an earlier collection), which turn gray
/// only when their count reaches zero: the live heap is not walked again and again.
///
/// # Safety
/// Everything reachable from `root` is live.
unsafe fn mark_gray(root: Obj, stack: &mut Vec<Obj>, run: &mut CollectorStats) {
    // SAFETY: by the caller, for `root` and everything reached from it.
    unsafe {
        if root.rc().colour() == Colour::Gray {
            return;
        }
        root.rc().set_colour(Colour::Gray);
        run.traversed += 1;
        stack.push(root);
        while let Some(x) = stack.pop() {
            x.for_each_child(|c| {
                let rc = c.rc();
                rc.trial_dec();
                if rc.colour() != Colour::Gray && (!rc.old() || rc.get() == 0) {
                    rc.set_colour(Colour::Gray);
                    run.traversed += 1;
                    stack.push(c);
                }
            });
        }
    }
}

/// Scan: a gray object whose count stayed above zero is referenced from outside: it and
/// everything it reaches are live (black, counts restored); a gray object at zero is white
/// for now (a later black one may still reach it). A thunk being evaluated is always live.
///
/// # Safety
/// As [`mark_gray`], after it.
unsafe fn scan(root: Obj, stack: &mut Vec<Obj>, black_stack: &mut Vec<Obj>) {
    // SAFETY: by the caller.
    unsafe {
        stack.push(root);
        while let Some(x) = stack.pop() {
            let rc = x.rc();
            if rc.colour() != Colour::Gray {
                continue;
            }
            if rc.get() > 0 || x.is_blackhole() {
                scan_black(x, black_stack);
            } else {
                rc.set_colour(Colour::White);
                x.for_each_child(|c| {
                    if c.rc().colour() == Colour::Gray {
                        stack.push(c);
                    }
                });
            }
        }
    }
}

/// ScanBlack: `root` and everything it reaches that is not black yet are live; the counts
/// MarkGray took for their references are given back. What turns black here survived a
/// collection: it is old from now on.
///
/// # Safety
/// As [`scan`]; `root` is gray or white (its references were taken).
unsafe fn scan_black(root: Obj, stack: &mut Vec<Obj>) {
    // SAFETY: by the caller.
    unsafe {
        let gen = generational();
        root.rc().set_colour(Colour::Black);
        if gen {
            root.rc().set_old();
        }
        stack.push(root);
        while let Some(x) = stack.pop() {
            x.for_each_child(|c| {
                let rc = c.rc();
                rc.trial_inc();
                if rc.colour() != Colour::Black {
                    rc.set_colour(Colour::Black);
                    if gen {
                        rc.set_old();
                    }
                    stack.push(c);
                }
            });
        }
    }
}

/// CollectWhite: gathers the white objects reachable from `root` (painting them black so
/// that each is gathered once). They are freed after every root has been gathered.
///
/// # Safety
/// As [`scan`], after it.
unsafe fn collect_white(root: Obj, stack: &mut Vec<Obj>, white: &mut Vec<Obj>) {
    // SAFETY: by the caller.
    unsafe {
        if root.rc().colour() != Colour::White {
            return;
        }
        root.rc().set_colour(Colour::Black);
        white.push(root);
        stack.push(root);
        while let Some(x) = stack.pop() {
            x.for_each_child(|c| {
                let rc = c.rc();
                if rc.colour() == Colour::White {
                    rc.set_colour(Colour::Black);
                    white.push(c);
                    stack.push(c);
                }
            });
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::ast::{Expr, ExprRef};
    use crate::source::Pos;
    use crate::symbol::Symbol;
    use crate::value::{Attr, ThunkState};
    use std::rc::Rc;

    thread_local! {
        /// Blocks allocated minus blocks released, by kind (test builds count them).
        static LIVE: Cell<[i64; 5]> = const { Cell::new([0; 5]) };
        static FREED: Cell<[u64; 5]> = const { Cell::new([0; 5]) };
    }

    fn bump(cell: &'static std::thread::LocalKey<Cell<[i64; 5]>>, kind: Kind, by: i64) {
        let _ = cell.try_with(|c| {
            let mut a = c.get();
            a[kind as usize] += by;
            c.set(a);
        });
    }

    /// A block of `kind` was allocated.
    pub(in crate::value) fn allocated(kind: Kind) {
        bump(&LIVE, kind, 1);
    }

    /// A block of `kind` was released.
    pub(in crate::value) fn released(kind: Kind) {
        bump(&LIVE, kind, -1);
    }

    /// An object freed by the collector.
    pub(in crate::value) fn freed(kind: Kind) {
        let _ = FREED.try_with(|f| {
            let mut a = f.get();
            a[kind as usize] += 1;
            f.set(a);
        });
    }

    /// The collector's switch is global: its tests run one at a time.
    fn serial() -> std::sync::MutexGuard<'static, ()> {
        static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
        LOCK.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn live() -> [i64; 5] {
        LIVE.with(|c| c.get())
    }

    fn freed_so_far() -> [u64; 5] {
        FREED.with(|c| c.get())
    }

    fn expr() -> ExprRef {
        Box::leak(Box::new(Expr::Const(Value::Int(7))))
    }

    /// An environment whose only slot is a pending thunk of that same environment: garbage
    /// as soon as the outside handle goes, which counting alone never frees.
    fn self_cycle() -> Env {
        let env = Env::with_nulls(None, 1);
        env.set(0, Thunk::pending(expr(), env.clone()));
        env
    }

    #[test]
    fn a_cycle_of_an_environment_and_its_thunk_is_freed() {
        let _serial = serial();
        set_collector(true);
        collect_cycles();
        let before = live();
        let f0 = freed_so_far();
        drop(self_cycle());
        assert_eq!(live()[Kind::Env as usize], before[Kind::Env as usize] + 1, "the cycle outlives its handle");
        collect_cycles();
        assert_eq!(live(), before, "the cycle was freed");
        let f1 = freed_so_far();
        assert_eq!((f1[0] - f0[0], f1[1] - f0[1]), (1, 1), "one environment and one thunk");
    }

    #[test]
    fn a_cycle_referenced_from_outside_is_kept_whole() {
        let _serial = serial();
        set_collector(true);
        collect_cycles();
        let before = live();
        let env = self_cycle();
        let Value::Thunk(t) = env.get(0) else { panic!("thunk") };
        drop(env);
        collect_cycles();
        collect_cycles();
        assert_eq!(live()[Kind::Env as usize], before[Kind::Env as usize] + 1, "kept: the thunk is held");
        // The counts were restored: the cycle is intact and its values usable.
        let (e, env) = t.take_pending().expect("still pending");
        assert!(matches!(env.get(0), Value::Thunk(ref x) if Thunk::ptr_eq(x, &t)));
        t.restore(ThunkState::Pending(e, env));
        // Both survived a collection: they are old, and an old object is not made a
        // candidate again (what keeps collections off the live heap). So this cycle, garbage
        // from here, is not collected: the known limit of the generational scheme.
        drop(t);
        collect_cycles();
        assert_eq!(live()[Kind::Env as usize], before[Kind::Env as usize] + 1);
    }

    #[test]
    fn untraced_contents_are_dropped_and_what_they_hold_kept() {
        let _serial = serial();
        set_collector(true);
        collect_cycles();
        let before = live();
        let probe = Rc::new(());
        let outside = Value::Thunk(Thunk::new(ThunkState::Done(Value::Int(1))));
        let Value::Thunk(outside_t) = &outside else { unreachable!() };
        {
            // env -> thunk (done) -> list [string, native thunk, outside, closure-free set]
            //   -> set { a = pending thunk of env } -> env
            let env = Env::with_nulls(None, 1);
            let p = probe.clone();
            let kept = outside.clone();
            let native = Thunk::native(move |_| {
                let _ = (&p, &kept);
                Ok(Value::Null)
            });
            let set = Attrs::from_vec(vec![Attr {
                name: Symbol::new("a"),
                pos: Pos::NONE,
                value: Thunk::pending(expr(), env.clone()),
            }]);
            let list = Value::list(vec![Value::string("text"), native, outside.clone(), Value::Attrs(set)]);
            env.set(0, Value::Thunk(Thunk::new(ThunkState::Done(list))));
        }
        assert_eq!(Rc::strong_count(&probe), 2);
        collect_cycles();
        assert_eq!(Rc::strong_count(&probe), 1, "the native closure was dropped");
        assert_eq!(outside_t.cell().rc.get(), 1, "the outside thunk lost its two references, no more");
        assert!(matches!(outside_t.value(), Some(Value::Int(1))));
        drop(outside);
        collect_cycles();
        assert_eq!(live(), before);
    }

    #[test]
    fn layered_sets_and_closures_in_cycles_are_freed() {
        let _serial = serial();
        set_collector(true);
        collect_cycles();
        drop(Attrs::empty()); // the thread's shared empty set, made once
        let before = live();
        {
            let env = Env::with_nulls(None, 2);
            let big = Attrs::from_vec(
                (0..2000)
                    .map(|i| Attr { name: Symbol::new(&format!("n{i}")), pos: Pos::NONE, value: Value::Int(i) })
                    .collect(),
            );
            let small = Attrs::from_vec(vec![Attr {
                name: Symbol::new("back"),
                pos: Pos::NONE,
                value: Thunk::pending(expr(), env.clone()),
            }]);
            let layered = big.update(&small);
            let _ = layered.as_slice(); // the flat copy, also traced
            env.set(0, Value::Attrs(layered));
            env.set(1, Thunk::pending(expr(), Env::one(env.clone(), Value::Int(0))));
        }
        collect_cycles();
        assert_eq!(live(), before);
    }

    #[test]
    fn a_candidate_freed_while_buffered_is_released_by_the_next_collection() {
        let _serial = serial();
        set_collector(true);
        collect_cycles();
        let before = live();
        let env = Env::new(None, vec![Value::Int(1)]);
        let other = env.clone();
        drop(other); // a candidate
        drop(env); // freed while buffered: its block waits for the collector
        assert_eq!(live()[Kind::Env as usize], before[Kind::Env as usize] + 1);
        let s0 = collect_cycles();
        assert_eq!(live(), before);
        assert!(s0.released >= 1);
    }

    /// The leak of issue #15 through the evaluator: a loop whose every step leaves a `let`
    /// whose closure and unforced thunk hold its environment. With the collector, the blocks
    /// left after the evaluation do not grow with the number of steps; without it they do
    /// (so this test can fail).
    #[test]
    fn the_evaluator_leaves_no_cycle_behind() {
        fn run(n: u32, on: bool) -> i64 {
            set_collector(on);
            STATE.with(|s| s.threshold.set(1000));
            collect_cycles();
            let before = live();
            {
                let mut ev = crate::EvalBuilder::new(crate::Settings::default()).build();
                let src = format!(
                    "let loop = n: if n == 0 then 0 else (let f = k: if k == 0 then 0 else f (k - 1); \
                     xs = [ f ]; r = rec {{ a = n; b = a; }}; in f 3 + r.b) + loop (n - 1); in loop {n}"
                );
                let v = ev.eval_expr(&src, std::path::Path::new("/")).and_then(|v| ev.force(&v)).expect("evaluates");
                assert!(matches!(v, Value::Int(x) if x == (n as i64) * (n as i64 + 1) / 2));
            }
            collect_cycles();
            let after = live();
            set_collector(true);
            collect_cycles();
            (0..5).map(|k| after[k] - before[k]).sum()
        }
        let _serial = serial();
        let (small, large) = (run(50, true), run(500, true));
        assert!(large <= small, "with the collector: {small} blocks left after 50 steps, {large} after 500");
        let (small, large) = (run(50, false), run(500, false));
        assert!(large >= small + 450 * 3, "without it: {small} blocks left after 50 steps, {large} after 500");
    }
}
