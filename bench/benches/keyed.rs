//! The keyed fingerprint against the plain one and against the `setsum` crate, side by side.
//!
//! - `keyed/<routine>/<size>`: at 16K and 1M IDs (`DCSUM_BENCH_SIZES` overrides): the plain
//!   automatic choice (`plain-auto`), the keyed automatic choice (`keyed-auto`), every available
//!   keyed kernel (`keyed-<kernel>`), and, at sizes up to 64K (it is about a thousand times slower
//!   per ID), `setsum`: the `setsum` crate's order-agnostic SHA3-based checksum over the same IDs'
//!   16 bytes. Throughput is in IDs, so criterion's per-element rates compare directly. Targets:
//!   keyed within 2x of plain at 1M; keyed at least 100x faster per ID than setsum.
//! - `keyed_parallel_threshold/<single|parallel>/<size>`: the widest single-thread keyed kernel
//!   against the keyed rayon split forced on, around the threshold `keyed::parallel` uses.
//!
//! Every routine's answer is asserted outside the timed loop: keyed ones against the keyed
//! oracle, plain ones against the plain oracle, setsum against itself over the reversed order.

mod common;

use common::{label, Workload};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use dispatcher_checksum::kernels::keyed::{self, parallel};
use dispatcher_checksum::keyed::{FingerprintKey, KeyedFingerprint};
use dispatcher_checksum::{DispatcherId, Fingerprint, Kernel};
use std::hint::black_box;

const DEFAULT_SIZES: &[usize] = &[16_000, 1_000_000];
/// setsum runs only up to this size: at ~1 µs per ID a 1M run would take seconds per sample.
const SETSUM_MAX_IDS: usize = 64_000;
const KEY: FingerprintKey = FingerprintKey::new(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210);

fn setsum_of<'a>(ids: impl Iterator<Item = &'a DispatcherId>) -> [u8; 32] {
    let mut sum = setsum::Setsum::default();
    for id in ids {
        sum.insert(&id.to_uuid_bytes());
    }
    sum.digest()
}

fn keyed_vs_plain_vs_setsum(c: &mut Criterion) {
    let mut group = c.benchmark_group("keyed");
    for size in common::sizes("keyed", DEFAULT_SIZES, &[]) {
        let workload = Workload::new(size);
        let ids = workload.ids.as_slice();
        let words = workload.words();
        let keyed_expected = keyed::naive::fingerprint(KEY.schedule(), words);
        group.throughput(Throughput::ElementsAndBytes {
            elements: size as u64,
            bytes: 16 * size as u64,
        });

        assert_eq!(Fingerprint::of(ids), Fingerprint::from(workload.expected()));
        group.bench_with_input(
            BenchmarkId::new("plain-auto", label(size)),
            ids,
            |b, ids| b.iter(|| Fingerprint::of(black_box(ids))),
        );

        assert_eq!(
            KeyedFingerprint::of(&KEY, ids).wire(),
            Fingerprint::from(keyed_expected)
        );
        group.bench_with_input(
            BenchmarkId::new("keyed-auto", label(size)),
            ids,
            |b, ids| b.iter(|| KeyedFingerprint::of(&KEY, black_box(ids))),
        );

        for kernel in Kernel::all()
            .iter()
            .copied()
            .filter(|k| *k != Kernel::Naive)
        {
            let Some(function) = kernel.keyed_function() else {
                continue;
            };
            assert_eq!(function(KEY.schedule(), words), keyed_expected, "{kernel}");
            group.bench_with_input(
                BenchmarkId::new(format!("keyed-{kernel}"), label(size)),
                words,
                |b, words| b.iter(|| function(KEY.schedule(), black_box(words))),
            );
        }

        if size <= SETSUM_MAX_IDS {
            assert_eq!(setsum_of(ids.iter()), setsum_of(ids.iter().rev()));
            group.bench_with_input(BenchmarkId::new("setsum", label(size)), ids, |b, ids| {
                b.iter(|| setsum_of(black_box(ids).iter()))
            });
        }
    }
    group.finish();
}

fn keyed_parallel_threshold(c: &mut Criterion) {
    let mut group = c.benchmark_group("keyed_parallel_threshold");
    let sizes = [32_000, 64_000, 128_000, 256_000, 512_000];
    let (single, _) = keyed::widest_single_thread_functions();
    for size in sizes {
        let workload = Workload::new(size);
        let words = workload.words();
        let expected = keyed::naive::fingerprint(KEY.schedule(), words);
        group.throughput(Throughput::Elements(size as u64));
        assert_eq!(single(KEY.schedule(), words), expected);
        assert_eq!(
            parallel::fingerprint_with(KEY.schedule(), words, single, 1),
            expected
        );
        group.bench_with_input(BenchmarkId::new("single", label(size)), words, |b, w| {
            b.iter(|| single(KEY.schedule(), black_box(w)))
        });
        group.bench_with_input(BenchmarkId::new("parallel", label(size)), words, |b, w| {
            b.iter(|| parallel::fingerprint_with(KEY.schedule(), black_box(w), single, 1))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = keyed_vs_plain_vs_setsum, keyed_parallel_threshold
}
criterion_main!(benches);
