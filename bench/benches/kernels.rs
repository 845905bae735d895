//! Every available kernel, the automatic choice and the memory-read ceiling, contiguous and masked,
//! at 1K..4M IDs, and 16M with `DCSUM_BENCH_SIZES=full` (a list there picks others). Ids: `kernels/<kernel>/<size>` and
//! `kernels-masked/<kernel>/<size>`; throughput in IDs and bytes (16 per ID, 17 masked). The
//! ceiling (`ceiling-1t`, `ceiling-all`) is a plain XOR read of the same bytes, on one thread and
//! on rayon's pool: the fraction kernel/ceiling is how close a kernel is to memory speed.

mod common;

use common::{label, Workload, INCLUDED};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use dispatcher_checksum::{choose, Fingerprint, Kernel};
use dispatcher_checksum_bench::ceiling;
use std::hint::black_box;

const DEFAULT_SIZES: &[usize] = &[1_000, 16_000, 256_000, 1_000_000, 4_000_000];
/// Under `DCSUM_BENCH_SIZES=full` only.
const LONG_SIZES: &[usize] = &[16_000_000];

fn available() -> impl Iterator<Item = Kernel> {
    Kernel::all().iter().copied().filter(|k| k.is_available())
}

fn contiguous(c: &mut Criterion) {
    let mut group = c.benchmark_group("kernels");
    for size in common::sizes("kernels", DEFAULT_SIZES, LONG_SIZES) {
        let workload = Workload::new(size);
        let words = workload.words();
        let ids = workload.ids.as_slice();
        let expected = workload.expected();
        group.throughput(Throughput::ElementsAndBytes {
            elements: size as u64,
            bytes: 16 * size as u64,
        });
        for kernel in available() {
            assert_eq!(kernel.fingerprint(words), Some(expected), "{kernel}");
            group.bench_with_input(
                BenchmarkId::new(kernel.name(), label(size)),
                words,
                |b, w| b.iter(|| kernel.fingerprint(black_box(w))),
            );
        }
        assert_eq!(choose::fingerprint(ids), Fingerprint::from(expected));
        group.bench_with_input(BenchmarkId::new("auto", label(size)), ids, |b, ids| {
            b.iter(|| choose::fingerprint(black_box(ids)))
        });
        let flat = workload.ids.words();
        let xor = flat.iter().fold(0, |a, w| a ^ w);
        assert_eq!(ceiling::read_words(flat), xor);
        assert_eq!(ceiling::read_words_parallel(flat), xor);
        group.bench_with_input(BenchmarkId::new("ceiling-1t", label(size)), flat, |b, f| {
            b.iter(|| ceiling::read_words(black_box(f)))
        });
        group.bench_with_input(
            BenchmarkId::new("ceiling-all", label(size)),
            flat,
            |b, f| b.iter(|| ceiling::read_words_parallel(black_box(f))),
        );
    }
    group.finish();
}

fn masked(c: &mut Criterion) {
    let mut group = c.benchmark_group("kernels-masked");
    for size in common::sizes("kernels-masked", DEFAULT_SIZES, LONG_SIZES) {
        let workload = Workload::new(size);
        let words = workload.words();
        let ids = workload.ids.as_slice();
        let states = workload.states.as_slice();
        let bits = INCLUDED.bits();
        let expected = workload.expected_masked();
        group.throughput(Throughput::ElementsAndBytes {
            elements: size as u64,
            bytes: 17 * size as u64,
        });
        for kernel in available() {
            assert_eq!(
                kernel.fingerprint_masked(words, states, bits),
                Some(expected),
                "{kernel}"
            );
            group.bench_with_input(
                BenchmarkId::new(kernel.name(), label(size)),
                words,
                |b, w| b.iter(|| kernel.fingerprint_masked(black_box(w), states, bits)),
            );
        }
        assert_eq!(
            choose::fingerprint_masked(ids, states, INCLUDED),
            Fingerprint::from(expected)
        );
        group.bench_with_input(BenchmarkId::new("auto", label(size)), ids, |b, ids| {
            b.iter(|| choose::fingerprint_masked(black_box(ids), states, INCLUDED))
        });
        let flat = workload.ids.words();
        assert_eq!(
            ceiling::read_columns(flat, states),
            ceiling::read_columns_parallel(flat, states)
        );
        group.bench_with_input(BenchmarkId::new("ceiling-1t", label(size)), flat, |b, f| {
            b.iter(|| ceiling::read_columns(black_box(f), states))
        });
        group.bench_with_input(
            BenchmarkId::new("ceiling-all", label(size)),
            flat,
            |b, f| b.iter(|| ceiling::read_columns_parallel(black_box(f), states)),
        );
    }
    group.finish();
}

criterion_group!(name = benches; config = common::criterion(); targets = contiguous, masked);
criterion_main!(benches);
