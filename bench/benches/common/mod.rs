//! Shared helpers of the criterion benches (`kernels`, `heartbeat`, `maintainer`, `memory`).
//!
//! - sizes: each bench has default sizes; `DCSUM_BENCH_SIZES=1K,1M,100M` replaces them (any bench)
//!   so a big machine can run 100M without editing code;
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
use dispatcher_checksum_bench::measure::{format_count, parse_counts};
use std::time::Duration;

/// The environment variable that replaces every bench's default sizes.
pub const SIZES_VARIABLE: &str = "DCSUM_BENCH_SIZES";

/// The sizes to run: `DCSUM_BENCH_SIZES` when set, else `defaults`.
///
/// # Panics
/// When the variable is set but malformed, naming it and what was expected (a bench has no other
/// way to refuse its input).
pub fn sizes(defaults: &[usize]) -> Vec<usize> {
    match std::env::var(SIZES_VARIABLE) {
        Ok(text) => match parse_counts(&text) {
            Ok(sizes) if !sizes.is_empty() => sizes,
            Ok(_) => panic!("{SIZES_VARIABLE}={text:?}: expected at least one size, such as 1K,1M"),
            Err(error) => panic!("{SIZES_VARIABLE}: {error}"),
        },
        Err(_) => defaults.to_vec(),
    }
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
