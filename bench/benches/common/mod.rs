//! Shared helpers of the criterion benches (`kernels`, `heartbeat`, `maintainer`, `memory`).
//!
//! - sizes: each group has default sizes (the default `cargo bench` of a group takes about five
//!   minutes on 2 cores) and long ones (10M-100M IDs, 10M-dispatcher maintainers) that
//!   `DCSUM_BENCH_SIZES=full` adds; `DCSUM_BENCH_SIZES=1K,1M,100M` replaces them (any bench) so a
//!   big machine can run 100M without editing code;
//! - [`criterion`]: short warm-up and measurement times so `cargo bench` stays a few minutes on
//!   2 cores (pass `--measurement-time` for more), with the flamegraph profiler for
//!   `--profile-time` ([`profiler`]);
//! - [`Workload`]: deterministic IDs and states, pinned to cache-line-aligned buffers so results
//!   do not move with the allocator (simdutf8's benches do the same);
//! - every bench asserts its routine's answer against the naive oracle before timing it.

#![allow(dead_code)] // Each bench file uses its own subset of these helpers.

pub mod profiler;

use criterion::Criterion;
use dispatcher_checksum::kernels::{naive, IdWords, RawFingerprint};
use dispatcher_checksum::{DispatcherId, StateSet};
use dispatcher_checksum_bench::aligned::{AlignedBytes, AlignedIds};
use dispatcher_checksum_bench::fixtures::{synthetic_state, IdStream};
use dispatcher_checksum_bench::measure::format_count;
use std::time::Duration;

/// The sizes a group runs: its `default` sizes, with the `long` ones too under
/// `DCSUM_BENCH_SIZES=full`, or the variable's list; prints one line saying which and how to get
/// the rest ([`dispatcher_checksum_bench::config::bench_sizes`]).
pub fn sizes(group: &str, default: &[usize], long: &[usize]) -> Vec<usize> {
    dispatcher_checksum_bench::config::bench_sizes(group, default, long)
}

/// `1K`, `16M`: the size part of a benchmark id.
pub fn label(size: usize) -> String {
    format_count(size)
}

/// The Criterion every group uses: 0.3 s warm-up, 1.5 s measurement, 20 samples, and the
/// flamegraph profiler (active only under `--profile-time`).
pub fn criterion() -> Criterion {
    profiler::criterion_config()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(20)
}

/// The included-state rule of the reference node.
pub const INCLUDED: StateSet = StateSet::DEFAULT_INCLUDED;

/// IDs and states for the kernel benches, aligned.
pub struct Workload {
    /// The IDs.
    pub ids: AlignedIds,
    /// Their lifecycle states (wire numbers), about 3% excluded.
    pub states: AlignedBytes,
}

impl Workload {
    /// `size` IDs and states, the same for every run.
    pub fn new(size: usize) -> Workload {
        let ids: Vec<DispatcherId> = IdStream::new(3).take(size).collect();
        let states: Vec<u8> = (0..size as u64)
            .map(|i| synthetic_state(i).number())
            .collect();
        Workload {
            ids: AlignedIds::new(&ids),
            states: AlignedBytes::new(&states),
        }
    }

    /// The IDs as the kernels take them.
    pub fn words(&self) -> &[IdWords] {
        DispatcherId::slice_words(self.ids.as_slice())
    }

    /// The oracle's answer for the contiguous form.
    pub fn expected(&self) -> RawFingerprint {
        naive::fingerprint(self.words())
    }

    /// The oracle's answer for the masked form.
    pub fn expected_masked(&self) -> RawFingerprint {
        naive::fingerprint_masked(self.words(), self.states.as_slice(), INCLUDED.bits())
    }
}
