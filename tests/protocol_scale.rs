//! Memory per dispatcher of the tracker and the incremental verifier, measured with a counting
//! allocator (one test, so no other test allocates meanwhile), and an ignored timing run:
//! `cargo test --release --test protocol_scale -- --ignored --nocapture`.

use dispatcher_checksum::protocol::{
    ActualSet, ChangefeedId, DispatcherSetVerifier, ExpectedSetTracker, IncrementalActualSet, Mode,
    NodeId, TrackerConfig, VerifierConfig,
};
use dispatcher_checksum::{ComponentState, DispatcherId, Fingerprint};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Counts live heap bytes.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call forwards to `System` with the caller's layout and only adds bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller upholds `alloc`'s contract, which we pass on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn ids(n: usize) -> Vec<DispatcherId> {
    // splitmix64: distinct, well-spread IDs.
    let mut state = 0x1234_5678_u64;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    (0..n).map(|_| DispatcherId::new(next(), next())).collect()
}

fn tracker() -> ExpectedSetTracker {
    ExpectedSetTracker::new(
        ChangefeedId::default(),
        Mode::Default,
        TrackerConfig::default(),
    )
}

#[test]
fn bytes_per_dispatcher_of_tracker_and_incremental_verifier() {
    const N: usize = 100_000;
    let ids = ids(N);

    let before = LIVE.load(Ordering::Relaxed);
    let mut tracker = tracker();
    let nodes: Vec<NodeId> = (0..16).map(NodeId).collect();
    let expected = nodes
        .iter()
        .enumerate()
        .map(|(i, node)| (*node, &ids[i * N / 16..(i + 1) * N / 16]));
    tracker.reset_full(1, &nodes, expected, Duration::ZERO);
    let tracker_bytes = (LIVE.load(Ordering::Relaxed) - before) as f64 / N as f64;
    assert_eq!(tracker.dispatcher_count(), N);

    let before = LIVE.load(Ordering::Relaxed);
    let mut actual = IncrementalActualSet::new();
    actual.reserve(N);
    for id in &ids {
        actual.on_dispatcher_added(*id, ComponentState::Working);
    }
    let verifier_bytes = (LIVE.load(Ordering::Relaxed) - before) as f64 / N as f64;
    assert_eq!(actual.actual_fingerprint(), Fingerprint::of(&ids));

    println!("tracker {tracker_bytes:.1} B/dispatcher, verifier {verifier_bytes:.1} B/dispatcher");
    // 100K entries in 2^17 buckets: 21 B (tracker) and 18 B (verifier) per bucket, 131072/100000
    // buckets per dispatcher, so about 27.5 and 23.6 bytes; a padded 24-byte entry would be 33.
    assert!(tracker_bytes < 30.0, "tracker {tracker_bytes}");
    assert!(verifier_bytes < 26.0, "verifier {verifier_bytes}");
}

#[test]
#[ignore = "timing run: cargo test --release --test protocol_scale -- --ignored --nocapture"]
fn timing_at_1m_and_10m() {
    for n in [1_000_000usize, 10_000_000] {
        let ids = ids(n + 1000);
        let (tracked, extra) = ids.split_at(n);
        let nodes: Vec<NodeId> = (0..64).map(NodeId).collect();
        let mut tracker = tracker();
        let start = Instant::now();
        let expected = nodes
            .iter()
            .enumerate()
            .map(|(i, node)| (*node, &tracked[i * n / 64..(i + 1) * n / 64]));
        tracker.reset_full(1, &nodes, expected, Duration::ZERO);
        println!("n={n}: reset_full {:?}", start.elapsed());

        let per_id = |label: &str, f: &mut dyn FnMut()| {
            let start = Instant::now();
            f();
            println!(
                "n={n}: {label} {:.1} ns/id",
                start.elapsed().as_nanos() as f64 / 1000.0
            );
        };
        per_id("apply_delta add", &mut || {
            for id in extra {
                tracker.apply_delta(NodeId(3), std::slice::from_ref(id), &[]);
            }
        });
        per_id("apply_delta move", &mut || {
            for id in &tracked[..1000] {
                tracker.apply_delta(NodeId(5), std::slice::from_ref(id), &[]);
            }
        });
        per_id("apply_delta remove", &mut || {
            for id in extra {
                tracker.apply_delta(NodeId(3), &[], std::slice::from_ref(id));
            }
        });

        let mut verifier = DispatcherSetVerifier::new(Mode::Default, VerifierConfig::default());
        verifier.actual_set_mut().reserve(n);
        for id in tracked {
            verifier
                .actual_set_mut()
                .on_dispatcher_added(*id, ComponentState::Working);
        }
        verifier.apply_update(1, 1, Fingerprint::of(tracked));
        per_id("on_state_changed", &mut || {
            for id in &tracked[..1000] {
                verifier
                    .actual_set_mut()
                    .on_state_changed(*id, ComponentState::Stopped);
            }
        });
        let start = Instant::now();
        for t in 0..1000 {
            std::hint::black_box(verifier.verify(Duration::from_secs(t)));
        }
        println!(
            "n={n}: verify {:.1} ns",
            start.elapsed().as_nanos() as f64 / 1000.0
        );
    }
}
