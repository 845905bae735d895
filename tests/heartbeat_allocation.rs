//! A node's heartbeat allocates nothing (features `metrics` and `tracing` off, the default): one
//! `NodeChecksums::heartbeat` per changefeed and mode every 200 ms on every node must not touch
//! the allocator, MATCH or MISMATCH, with a log due or not. Counted by a global allocator that
//! counts this thread's allocations only while armed.
#![cfg(not(any(feature = "metrics", feature = "tracing")))]

use dispatcher_checksum::protocol::{
    ActualSet, ChecksumState, ChecksumUpdate, Mode, NodeChecksums, NodeId, VerifierConfig,
};
use dispatcher_checksum::{ComponentState, DispatcherId, Fingerprint};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

struct Counting;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call goes straight to `System`; the counter is a thread-local `Cell` touched
// without allocating.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ARMED.with(Cell::get) {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
        }
        // SAFETY: the caller's contract for `alloc` is passed through unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if ARMED.with(Cell::get) {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
        }
        // SAFETY: the caller's contract for `realloc` is passed through unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// Allocations `body` made on this thread.
fn allocations(body: impl FnOnce()) -> u64 {
    ALLOCATIONS.with(|n| n.set(0));
    ARMED.with(|armed| armed.set(true));
    body();
    ARMED.with(|armed| armed.set(false));
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn a_heartbeat_allocates_nothing_with_the_features_off() {
    let node = NodeId(3);
    let mut checksums: NodeChecksums = NodeChecksums::new(node, 1, true, VerifierConfig::default());
    for n in 0..1000u64 {
        let id = DispatcherId::new(n, !n);
        for mode in Mode::ALL {
            let actual = checksums.verifier_mut(mode).unwrap().actual_set_mut();
            actual.on_dispatcher_added(id, ComponentState::Working);
        }
    }
    let actual = checksums
        .verifier(Mode::Default)
        .unwrap()
        .actual_set()
        .actual_fingerprint();
    // Default mode matches; redo expects one dispatcher less, so it mismatches for minutes and
    // its rate-limited log comes due several times.
    for (mode, fingerprint) in [(Mode::Default, actual), (Mode::Redo, Fingerprint::EMPTY)] {
        let update = ChecksumUpdate {
            epoch: 1,
            mode,
            node,
            seq: 1,
            fingerprint,
        };
        checksums.apply_update(&update).unwrap();
    }
    let mut logs = 0;
    let mut states = Vec::with_capacity(2 * 1000);
    let counted = allocations(|| {
        for tick in 0..1000u64 {
            let now = Duration::from_millis(200 * tick);
            for mode in Mode::ALL {
                let (_, verdict) = checksums.heartbeat(mode, tick, now).unwrap();
                logs += u32::from(verdict.log.is_some());
                states.push(verdict.state);
            }
        }
    });
    assert_eq!(counted, 0, "allocations on the heartbeat path");
    assert!(states.contains(&ChecksumState::Match) && states.contains(&ChecksumState::Mismatch));
    assert_eq!(logs, 6, "a log at 30 s, then every 30 s, over 200 s");
}
