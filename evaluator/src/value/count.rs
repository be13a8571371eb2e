//! The reference count of the evaluator's thin shared handles (thunks, environments,
//! attribute sets, lists, closures, strings): 32 bits, not atomic (values never leave their
//! thread), kept in the header of the one allocation each handle points to.
//!
//! The low four bits belong to the cycle collector (`collect.rs`), so that no object grows
//! for it: whether the object sits in the candidate buffer, whether it is old, and its
//! colour during a collection (always black outside one); the count is the rest.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};

/// With the collector built in, the low bits are its flags and the count is the rest, in
/// units of [`ONE`]; without it, the word is a plain count (`n - 1 == 0` compiles to one
/// decrement and branch, where `n - 16 < 16` takes a load, subtract, store and compare: 2%
/// more instructions on `lib-evalModules-1000`). 2^28 handles to one object at most with
/// the collector (4 GiB of 16-byte values), 2^32 without.
const FLAG_BITS: u32 = if COLLECTOR { 4 } else { 0 };
const ONE: u32 = 1 << FLAG_BITS;
/// Set while the candidate buffer holds the object's address.
const BUFFERED: u32 = 1;
/// Set when the object survived a collection that traversed it, or was made while the
/// collector was off: a collection expands it only when its trial count reaches zero, and
/// it is not made a candidate again.
const OLD: u32 = 2;
const COLOUR_SHIFT: u32 = 2;
const COLOUR_MASK: u32 = 3 << COLOUR_SHIFT;

/// Whether the cycle collector is built in (the `cycle-collector` feature; unit tests
/// always). Without it, every object is old from the start, no release looks for a
/// candidate and no block is kept for the buffer: the code folds away.
pub const COLLECTOR: bool = cfg!(any(test, feature = "cycle-collector"));

/// The word of a new object: a count of one, and old while the collector is off, so that
/// a release then needs no candidate without looking anywhere but at the count.
static INITIAL: AtomicU32 = AtomicU32::new(ONE | OLD);

/// Whether objects made from now on are young (tracked by the collector) or old.
pub fn track_new_objects(on: bool) {
    INITIAL.store(if on { ONE } else { ONE | OLD }, Ordering::Relaxed);
}

/// The colour of an object during a collection (Bacon & Rajan 2001).
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum Colour {
    /// In use, or not visited (the state of every object outside a collection).
    Black = 0,
    /// Visited by the trial deletion: the counts of its children were decremented.
    Gray = 1,
    /// White once the scan is over: garbage unless a live object reaches it.
    White = 2,
    /// Freed while buffered: the contents are dropped, the block is left for the collector
    /// to release (the buffer still holds its address).
    Dead = 3,
}

pub struct RefCount(Cell<u32>);

impl RefCount {
    /// The count of a new allocation: its first handle.
    #[inline(always)]
    pub fn one() -> RefCount {
        RefCount(Cell::new(if COLLECTOR { INITIAL.load(Ordering::Relaxed) } else { ONE }))
    }

    /// The number of handles.
    #[inline(always)]
    pub fn get(&self) -> u32 {
        self.0.get() >> FLAG_BITS
    }

    /// One more handle (a clone).
    #[inline(always)]
    pub fn inc(&self) {
        match self.0.get().checked_add(ONE) {
            Some(n) => self.0.set(n),
            None => overflow(),
        }
    }

    /// One handle fewer (a drop); true when that was the last one and the allocation must
    /// be freed.
    #[inline(always)]
    pub fn dec(&self) -> bool {
        let n = self.0.get() - ONE;
        self.0.set(n);
        n < ONE
    }

    /// Whether the candidate buffer holds the object.
    #[inline(always)]
    pub fn buffered(&self) -> bool {
        COLLECTOR && self.0.get() & BUFFERED != 0
    }

    /// Whether a release of this object needs no candidate: it is buffered already, or old.
    #[inline(always)]
    pub fn no_candidate(&self) -> bool {
        !COLLECTOR || self.0.get() & (BUFFERED | OLD) != 0
    }

    /// Whether the object survived a collection that traversed it (or was made with the
    /// collector off).
    #[inline]
    pub fn old(&self) -> bool {
        self.0.get() & OLD != 0
    }

    /// Marks the object as having survived a collection.
    #[inline]
    pub fn set_old(&self) {
        self.0.set(self.0.get() | OLD);
    }

    /// Marks the object as held by the candidate buffer, or not.
    #[inline]
    pub fn set_buffered(&self, on: bool) {
        let n = self.0.get();
        self.0.set(if on { n | BUFFERED } else { n & !BUFFERED });
    }

    /// The colour (black outside a collection).
    #[inline]
    pub fn colour(&self) -> Colour {
        match (self.0.get() & COLOUR_MASK) >> COLOUR_SHIFT {
            0 => Colour::Black,
            1 => Colour::Gray,
            2 => Colour::White,
            _ => Colour::Dead,
        }
    }

    /// Paints the object.
    #[inline]
    pub fn set_colour(&self, c: Colour) {
        self.0.set((self.0.get() & !COLOUR_MASK) | ((c as u32) << COLOUR_SHIFT));
    }

    /// The trial decrement of the collector: one handle fewer, without freeing (the count
    /// may reach zero; the collector restores it or frees the object itself).
    #[inline]
    pub fn trial_dec(&self) {
        debug_assert!(self.get() > 0, "trial decrement of a zero count");
        self.0.set(self.0.get() - ONE);
    }

    /// The collector giving back a count it took (from zero, too).
    #[inline]
    pub fn trial_inc(&self) {
        self.inc();
    }
}

#[cold]
#[inline(never)]
fn overflow() -> ! {
    panic!("reference count overflow")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_count_do_not_mix() {
        const { assert!(COLLECTOR, "unit tests build the collector") };
        let c = RefCount(Cell::new(ONE));
        c.set_buffered(true);
        c.set_colour(Colour::White);
        c.inc();
        assert_eq!((c.get(), c.buffered(), c.colour(), c.old()), (2, true, Colour::White, false));
        c.set_old();
        assert!(c.old() && c.no_candidate());
        c.set_colour(Colour::Dead);
        assert_eq!((c.get(), c.colour()), (2, Colour::Dead));
        assert!(!c.dec());
        c.trial_dec();
        assert_eq!(c.get(), 0);
        c.trial_inc();
        c.trial_dec();
        c.set_colour(Colour::Black);
        c.set_buffered(false);
        c.trial_inc();
        assert_eq!((c.get(), c.0.get()), (1, ONE | OLD));
        c.inc();
        assert!(!c.dec(), "one handle left");
        assert!(c.dec(), "the last one");
        assert!(c.old() && c.colour() == Colour::Black, "the count leaves the flags");
    }

    #[test]
    #[should_panic(expected = "reference count overflow")]
    fn overflow_panics_before_reaching_the_flags() {
        // The largest count (2^28 - 1 handles), with the flags clear: one more is refused.
        let c = RefCount(Cell::new(!(ONE - 1)));
        assert!(!c.buffered() && !c.old());
        c.inc();
    }
}
