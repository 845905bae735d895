//! Scratch (not committed): cold batched adds/removes at 1M.
use dispatcher_checksum::protocol::tracker::{ExpectedSetTracker, TrackerConfig};
use dispatcher_checksum::protocol::{ChangefeedId, Mode, NodeId};
use dispatcher_checksum::DispatcherId;
use dispatcher_checksum_bench::fixtures::IdStream;
use std::collections::VecDeque;
use std::time::Instant;

fn main() {
    let b: usize = std::env::args().nth(1).map_or(64, |s| s.parse().unwrap());
    let n = 1_000_000usize;
    let mut t = ExpectedSetTracker::new(
        ChangefeedId::new(1, 2, "x", "y"),
        Mode::Default,
        TrackerConfig::REFERENCE,
    );
    t.reserve(n + 10 * b);
    let mut s = IdStream::new(7);
    let mut ring: VecDeque<(NodeId, Vec<DispatcherId>)> = VecDeque::new();
    for k in 0..n / b {
        let batch: Vec<DispatcherId> = (&mut s).take(b).collect();
        let node = NodeId((k % 64) as u32);
        t.apply_delta(node, &batch, &[]);
        ring.push_back((node, batch));
    }
    let mut k = 0usize;
    let (mut adds, mut rems) = (vec![], vec![]);
    for _ in 0..15 {
        let (mut ta, mut tr) = (0u128, 0u128);
        let calls = 300;
        for _ in 0..calls {
            let batch: Vec<DispatcherId> = (&mut s).take(b).collect();
            let node = NodeId((k % 64) as u32);
            k += 1;
            let st = Instant::now();
            std::hint::black_box(t.apply_delta(node, &batch, &[]));
            ta += st.elapsed().as_nanos();
            ring.push_back((node, batch));
            let (on, old) = ring.pop_front().unwrap();
            let st = Instant::now();
            std::hint::black_box(t.apply_delta(on, &[], &old));
            tr += st.elapsed().as_nanos();
        }
        adds.push(ta as f64 / (calls * b) as f64);
        rems.push(tr as f64 / (calls * b) as f64);
    }
    adds.sort_by(f64::total_cmp);
    rems.sort_by(f64::total_cmp);
    println!(
        "batch {b}: add {:.1} remove {:.1} ns/ID (len {})",
        adds[7],
        rems[7],
        t.dispatcher_count()
    );
}
