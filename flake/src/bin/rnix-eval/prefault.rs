//! Faulting in the heap's fresh pages in bulk, a little ahead of the allocator.
//!
//! The desktop evaluation grows its heap to about 500 MiB (24.11: 1.7 GiB), and the first
//! touch of each 4 KiB page is a page fault in which the kernel zeroes the page: 128,000
//! traps on the 20.09 desktop, each costing more than the zeroing itself. mimalloc hands out
//! fresh memory from each of its arenas (1 GiB reservations) in increasing address order, so
//! the pages just past the highest block of a region are the next to be touched.
//!
//! [`note`] runs on every allocation (one load and one compare, inlined into every allocation
//! site). When a block ends past the mark of its 1 GiB region's slot, the allocating thread
//! populates the next [`AHEAD`] bytes with one `MADV_POPULATE_WRITE`, which maps the pages
//! writable without touching their contents (so it is safe on memory in use): one system call
//! per 128 KiB instead of 32 traps.
//!
//! This replaced a helper thread that populated the same frontier plus the pages ahead of
//! every size class, polling every 100 µs and asking `mincore` 165,000 times a run. Measured
//! on the 20.09 desktop (medians of 5 alternating runs, user+sys CPU): helper thread 2.85 s,
//! frontier-only helper 2.42 s, none 2.25 s, this 2.17 s; traps on the evaluation thread
//! 31,000 / 36,000 / 126,000 / 37,000. On the 24.11 desktop the helper cost 1.9 s of CPU
//! (8.13 s against 6.22 s without it). The helper's wall-time gain (zeroing on the second
//! core) vanished whenever that core was busy, while its CPU cost did not.
//!
//! `RNIX_PREFAULT=0` turns it off (for measuring). Where the call is unsupported (Linux <
//! 5.14, other systems) it is off after the first try.

use std::sync::atomic::{AtomicUsize, Ordering};

const PAGE: usize = 4096;
/// How far past the end of the latest block fresh pages are populated ...
///
/// Whatever is populated past the last block mimalloc ever hands out in that stretch stays
/// resident without being used; the frontier jumps (a new mimalloc page, a large block
/// elsewhere) hundreds of times a run. With 1 MiB this cost peak RSS (alternated runs,
/// `/usr/bin/time`): 20.09 desktop 412.4 MiB against 404.1 MiB with 128 KiB, server 391.3 /
/// 383.3, container 201.9 / 192.8 (189.7 without populating); user+sys time did not move
/// beyond the noise. 128 KiB is still 32 pages per system call.
const AHEAD: usize = 128 << 10;
/// ... again once a block ends within this distance of what was populated.
const SLACK: usize = AHEAD / 2;
/// At most this much of one large block (a growing vector, a file's text) is populated.
const LARGE_MAX: usize = 1 << 20;
/// Address regions tracked apart: mimalloc's arenas are 1 GiB reservations, placed by mmap
/// wherever the kernel chooses.
const REGION_SHIFT: u32 = 30;
const REGIONS: usize = 8;

/// Per region slot: a block that ends above `MARK` takes the slow path. `usize::MAX` means off.
static MARK: [AtomicUsize; REGIONS] = [const { AtomicUsize::new(0) }; REGIONS];
/// Per region slot: the base of the region the slot tracks (read by the slow path only).
static LOW: [AtomicUsize; REGIONS] = [const { AtomicUsize::new(0) }; REGIONS];
/// Per region slot: the end of what was populated, in the region `LOW` starts.
static END: [AtomicUsize; REGIONS] = [const { AtomicUsize::new(0) }; REGIONS];
/// Set once populating is off; the slow path then turns the slot off.
static OFF: AtomicUsize = AtomicUsize::new(0);

/// Record the block `p` of `size` bytes the allocator just handed out.
///
/// Only the mark is checked here: a block of another region sharing the slot (8 GiB apart)
/// that ends below the mark is not populated ahead, which costs only its page faults. The
/// check on the slot's region base that caught it took four more instructions (a load, a
/// compare, a branch, an address) at every allocation: 12 -> 8 in the inlined fast path.
#[inline(always)]
pub fn note(p: *mut u8, size: usize) -> *mut u8 {
    let a = p as usize;
    let i = (a >> REGION_SHIFT) % REGIONS;
    if a.wrapping_add(size) > MARK[i].load(Ordering::Relaxed) {
        populate_ahead(a, size);
    }
    p
}

/// The slow path of [`note`]. Relaxed atomics suffice: the evaluation thread does nearly all
/// allocations, and a race with another thread only populates a needless range or skips one.
#[inline(never)]
fn populate_ahead(a: usize, size: usize) {
    let region = a >> REGION_SHIFT;
    let i = region % REGIONS;
    let base = region << REGION_SHIFT;
    let region_last = base | ((1 << REGION_SHIFT) - 1);
    if a == 0 {
        // A failed allocation: nothing to populate.
        return;
    }
    if OFF.load(Ordering::Relaxed) != 0 {
        MARK[i].store(usize::MAX, Ordering::Relaxed);
        LOW[i].store(0, Ordering::Relaxed);
        return;
    }
    let mut end = END[i].load(Ordering::Relaxed);
    if LOW[i].load(Ordering::Relaxed) != base || end < base {
        // A region new to this slot: nothing of it is known to be populated.
        LOW[i].store(base, Ordering::Relaxed);
        end = base;
    }
    let top = a.saturating_add(size);
    let start = end.max(a & !(PAGE - 1));
    let new_end = top.saturating_add(AHEAD).min(start.saturating_add(LARGE_MAX + AHEAD)) & !(PAGE - 1);
    if new_end > start && !populate(start, new_end) {
        OFF.store(1, Ordering::Relaxed);
        MARK[i].store(usize::MAX, Ordering::Relaxed);
        LOW[i].store(0, Ordering::Relaxed);
        return;
    }
    let end = new_end.max(end);
    END[i].store(end, Ordering::Relaxed);
    MARK[i].store((end - SLACK).min(region_last), Ordering::Relaxed);
}

/// Fault in the pages of `[start, end)` as writable without changing their contents; false
/// where the system cannot.
#[cfg(target_os = "linux")]
fn populate(start: usize, end: usize) -> bool {
    const MADV_POPULATE_WRITE: libc::c_int = 23;
    // SAFETY: populating page tables changes no memory contents of the process; a range that
    // is not mapped writable (past the arena) makes the call fail, which changes nothing.
    let r = unsafe { libc::madvise(start as *mut libc::c_void, end - start, MADV_POPULATE_WRITE) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::EINVAL)
}

#[cfg(not(target_os = "linux"))]
fn populate(_start: usize, _end: usize) -> bool {
    false
}

/// Read `RNIX_PREFAULT` (`0` turns populating off); call before the evaluation starts.
pub fn start() {
    if std::env::var_os("RNIX_PREFAULT").is_some_and(|v| v == "0") {
        OFF.store(1, Ordering::Relaxed);
    }
}
