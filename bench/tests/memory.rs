//! The counting allocator behind `cargo bench --bench memory` counts what it should: exact bytes
//! for a known allocation, nothing left after a drop, and plausible per-dispatcher costs for the
//! tracker and the incremental verifier (the structures the memory bench reports).

use dispatcher_checksum::protocol::tracker::{ExpectedSetTracker, TrackerConfig};
use dispatcher_checksum::protocol::verifier::{ActualSet, DispatcherSetVerifier, VerifierConfig};
use dispatcher_checksum::protocol::{ChangefeedId, Mode, NodeId};
use dispatcher_checksum::{ComponentState, DispatcherId};
use dispatcher_checksum_bench::fixtures::IdStream;
use dispatcher_checksum_bench::memory::{live_bytes, CountingAllocator};
use std::time::Duration;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator::new();

// One test function: the counter is process-wide, and parallel tests would allocate into it.
#[test]
fn the_counting_allocator_measures_live_bytes() {
    let (vector, bytes) = live_bytes(&ALLOCATOR, || Vec::<u64>::with_capacity(1000));
    assert_eq!(bytes, 8000);
    let before_drop = ALLOCATOR.live_bytes();
    drop(vector);
    assert_eq!(before_drop - ALLOCATOR.live_bytes(), 8000);

    // Growth through realloc leaves exactly the final capacity counted.
    let (grown, bytes) = live_bytes(&ALLOCATOR, || {
        let mut v = Vec::<u8>::new();
        v.extend(0..=255u8);
        v.shrink_to_fit();
        v
    });
    assert_eq!(bytes, grown.capacity());

    // Temporaries freed during construction do not count.
    let (_, bytes) = live_bytes(&ALLOCATOR, || vec![0u8; 1 << 20].len());
    assert_eq!(bytes, 0);

    let n = 50_000;
    let ids: Vec<DispatcherId> = IdStream::new(9).take(n).collect();
    let nodes: Vec<NodeId> = (0..8).map(NodeId).collect();
    let per_node: Vec<(NodeId, Vec<DispatcherId>)> = nodes
        .iter()
        .map(|&node| {
            let owned = ids
                .iter()
                .enumerate()
                .filter(|(i, _)| *i % 8 == node.0 as usize)
                .map(|(_, id)| *id)
                .collect();
            (node, owned)
        })
        .collect();
    let (tracker, bytes) = live_bytes(&ALLOCATOR, || {
        let mut tracker = ExpectedSetTracker::new(
            ChangefeedId::new(1, 2, "test", "default"),
            Mode::Default,
            TrackerConfig::REFERENCE,
        );
        tracker.reset_full(
            1,
            &nodes,
            per_node.iter().map(|(node, ids)| (*node, ids.as_slice())),
            Duration::ZERO,
        );
        tracker
    });
    assert_eq!(tracker.dispatcher_count(), n);
    let per_dispatcher = bytes as f64 / n as f64;
    // At least the 16-byte ID and the owner must be stored somewhere; a hash map never needs
    // more than a few times its entry size.
    assert!(
        (20.0..200.0).contains(&per_dispatcher),
        "tracker: {per_dispatcher} bytes per dispatcher"
    );

    let (verifier, bytes) = live_bytes(&ALLOCATOR, || {
        let mut verifier = DispatcherSetVerifier::new(Mode::Default, VerifierConfig::REFERENCE);
        for id in &ids {
            verifier
                .actual_set_mut()
                .on_dispatcher_added(*id, ComponentState::Working);
        }
        verifier
    });
    assert_eq!(verifier.actual_set().len(), n);
    let per_dispatcher = bytes as f64 / n as f64;
    assert!(
        (16.0..200.0).contains(&per_dispatcher),
        "verifier: {per_dispatcher} bytes per dispatcher"
    );
}
