//! The reference count of the evaluator's thin shared handles (thunks, environments,
//! attribute sets, strings): 32 bits, not atomic (values never leave their thread), kept
//! in the header of the one allocation each handle points to.

use std::cell::Cell;

pub struct RefCount(Cell<u32>);

impl RefCount {
    /// The count of a new allocation: its first handle.
    pub fn one() -> RefCount {
        RefCount(Cell::new(1))
    }

    /// The number of handles (for tests).
    #[cfg(test)]
    pub fn get(&self) -> u32 {
        self.0.get()
    }

    /// One more handle (a clone).
    #[inline(always)]
    pub fn inc(&self) {
        self.0.set(self.0.get().checked_add(1).expect("reference count overflow"));
    }

    /// One handle fewer (a drop); true when that was the last one and the allocation must
    /// be freed.
    #[inline(always)]
    pub fn dec(&self) -> bool {
        let n = self.0.get() - 1;
        self.0.set(n);
        n == 0
    }
}
