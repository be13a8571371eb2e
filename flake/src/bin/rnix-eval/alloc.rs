//! The global allocator: mimalloc, called the cheap way.
//!
//! The `mimalloc` crate routes every allocation through `mi_malloc_aligned`, whose checks
//! cost about twice the plain fast path; the evaluator allocates millions of 8-aligned
//! thunks, environments and attribute vectors, so those go to `mi_malloc` (whose blocks
//! are always at least 8-aligned) and only stricter alignments take the aligned path.
//! Freed memory stays in the process (see [`tune`]).

use crate::prefault;
use libmimalloc_sys as mi;
use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

/// Every mimalloc block is aligned to at least this.
const MIN_ALIGN: usize = 8;

/// `mi_option_purge_delay` and `mi_option_allow_thp` in mimalloc.h (v3, the version
/// libmimalloc-sys builds by default; not exported by the crate).
const MI_OPTION_PURGE_DELAY: mi::mi_option_t = 15;

pub struct Allocator;

// SAFETY: every path returns mimalloc memory of at least `layout.size()` bytes aligned to
// `layout.align()`, and every block is freed by `mi_free`, which accepts all of them.
unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= MIN_ALIGN {
            prefault::note(mi::mi_malloc(layout.size()) as *mut u8, layout.size())
        } else {
            prefault::note(mi::mi_malloc_aligned(layout.size(), layout.align()) as *mut u8, layout.size())
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= MIN_ALIGN {
            prefault::note(mi::mi_zalloc(layout.size()) as *mut u8, layout.size())
        } else {
            prefault::note(mi::mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8, layout.size())
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        mi::mi_free(ptr as *mut c_void)
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= MIN_ALIGN {
            prefault::note(mi::mi_realloc(ptr as *mut c_void, new_size) as *mut u8, new_size)
        } else {
            prefault::note(mi::mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align()) as *mut u8, new_size)
        }
    }
}

/// Two settings, both measured on the NixOS desktop evaluation:
/// - An evaluation frees and reallocates millions of small objects in waves. By default
///   mimalloc hands freed pages back to the kernel after 10 ms, and the next wave faults
///   them in again as zeroed pages: that was a quarter of the run time. Keep freed memory
///   in the process instead; peak RSS is unchanged.
/// - Transparent huge pages: every first touch of a 2 MiB page makes the kernel find and
///   zero a whole huge page (compaction included), which cost 0.7–1.5 s of system time
///   against 0.4 s with normal pages, and 48 MiB more peak RSS, for no gain in user time.
pub fn tune() {
    // SAFETY: setting an option is a plain store into mimalloc's option table, done
    // before any other thread exists.
    unsafe { mi::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    // mimalloc mapped (and advised huge pages for) its first arena before `main`, so its
    // own `allow_thp` option comes too late; the process-wide switch applies at fault
    // time, to mappings old and new. Failure (an old kernel) only costs speed.
    // SAFETY: prctl with integer arguments has no memory effects on this process.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `.cargo/config.toml` builds mimalloc with 8-byte granularity: a 24-byte block (a
    /// thunk cell) must not take 32 bytes. Fails if that setting is lost.
    #[test]
    fn small_blocks_are_word_granular() {
        // SAFETY: plain allocation and release of a block of mimalloc's own.
        unsafe {
            let p = mi::mi_malloc(24);
            assert!(!p.is_null());
            assert_eq!(mi::mi_usable_size(p), 24, "mimalloc rounds 24-byte blocks up: MI_MAX_ALIGN_SIZE=8 missing");
            mi::mi_free(p);
        }
    }

    /// Stricter alignments still take the aligned path.
    #[test]
    fn over_aligned_layouts_are_honoured() {
        for align in [16usize, 32, 64] {
            let l = Layout::from_size_align(24, align).expect("layout");
            // SAFETY: a non-zero-size layout; the block is freed with the same layout.
            unsafe {
                let p = Allocator.alloc(l);
                assert_eq!(p as usize % align, 0);
                Allocator.dealloc(p, l);
            }
        }
    }
}
