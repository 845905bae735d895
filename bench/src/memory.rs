//! Counting live heap bytes, to state what a structure costs per dispatcher from measurement
//! rather than from a guess at hash-map overheads.
//!
//! [`CountingAllocator`] wraps the system allocator and keeps the live byte count in an atomic.
//! A binary that wants the numbers installs it (`#[global_allocator]`; the `memory` bench and
//! `tests/memory.rs` do) and brackets the construction of a structure with [`live_bytes`]. The
//! counting costs one relaxed atomic add per allocation, so it is never installed in the main
//! binary whose timings matter.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator plus a count of live bytes, their high-water mark, and of allocations
/// made.
#[derive(Debug)]
pub struct CountingAllocator {
    live: AtomicUsize,
    peak: AtomicUsize,
    allocations: AtomicUsize,
}

impl CountingAllocator {
    /// A counter at zero; use it as a `static` with `#[global_allocator]`.
    pub const fn new() -> CountingAllocator {
        CountingAllocator {
            live: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            allocations: AtomicUsize::new(0),
        }
    }

    fn grew(&self, bytes: usize) {
        let live = self.live.fetch_add(bytes, Ordering::Relaxed) + bytes;
        self.peak.fetch_max(live, Ordering::Relaxed);
        self.allocations.fetch_add(1, Ordering::Relaxed);
    }

    /// Bytes currently allocated through this allocator.
    pub fn live_bytes(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// The most bytes live at once since the last [`CountingAllocator::reset_peak`].
    pub fn peak_bytes(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// Starts a new high-water mark at what is live now.
    pub fn reset_peak(&self) {
        self.peak.store(self.live_bytes(), Ordering::Relaxed);
    }

    /// Allocations made so far (reallocations count once more).
    pub fn allocations(&self) -> usize {
        self.allocations.load(Ordering::Relaxed)
    }
}

impl Default for CountingAllocator {
    fn default() -> Self {
        CountingAllocator::new()
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so `System`'s
// guarantees carry over; the counters never influence what is allocated.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout, which the caller guarantees is valid.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            self.grew(layout.size());
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            self.grew(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: the caller guarantees `pointer` came from this allocator with `layout`.
        unsafe { System.dealloc(pointer, layout) };
        self.live.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `pointer`/`layout` came from this allocator and that
        // `new_size` is valid for the layout's alignment.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            self.live.fetch_sub(layout.size(), Ordering::Relaxed);
            self.grew(new_size);
        }
        moved
    }
}

/// Builds a value and returns it with the live heap bytes its construction left behind (temporary
/// allocations freed during construction do not count). Only meaningful when `allocator` is the
/// global allocator and no other thread allocates meanwhile.
pub fn live_bytes<T>(allocator: &CountingAllocator, build: impl FnOnce() -> T) -> (T, usize) {
    let before = allocator.live_bytes();
    let value = build();
    let after = allocator.live_bytes();
    (value, after.saturating_sub(before))
}

/// Runs `run` and returns its result with the most heap bytes that were live at once meanwhile,
/// above what was live when it started. Same conditions as [`live_bytes`].
pub fn peak_bytes_during<R>(allocator: &CountingAllocator, run: impl FnOnce() -> R) -> (R, usize) {
    allocator.reset_peak();
    let before = allocator.live_bytes();
    let result = run();
    (result, allocator.peak_bytes().saturating_sub(before))
}
