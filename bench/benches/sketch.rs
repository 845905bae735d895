//! The difference sketch: encode (bulk and one ID at a time) and decode, for the 4 KiB sketch
//! the protocol uses.
//!
//! - `sketch_encode/<bulk|insert>/<size>`: building a 4 KiB sketch of 1K, 64K and 1M IDs
//!   (`DCSUM_BENCH_SIZES` overrides); throughput in IDs. Target: at most 10 ns per ID in bulk.
//! - `sketch_decode/<differences>`: subtracting two 4 KiB sketches whose sets differ by 1, 16 and
//!   64 IDs (half missing, half extra) and peeling them, including every verification. Target:
//!   under 100 µs for 64 differences.
//!
//! The minisketch comparison (bytes sent and time for the same differences) is a separate
//! program, `comparisons/minisketch`, because `minisketch-rs` needs libclang at build time (see
//! `docs/diagnosis.md`); it is not a dependency of this workspace.
//!
//! Every routine's answer is asserted outside the timed loop against the planted lists.

mod common;

use common::label;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use dispatcher_checksum::keyed::FingerprintKey;
use dispatcher_checksum::sketch::{DifferenceSketch, SketchShape, DEFAULT_BYTE_BUDGET};
use dispatcher_checksum::DispatcherId;
use dispatcher_checksum_bench::fixtures::IdStream;
use std::hint::black_box;

const DEFAULT_SIZES: &[usize] = &[1_000, 64_000, 1_000_000];
const KEY: FingerprintKey = FingerprintKey::new(0x5ce7_c4ed);

fn shape() -> SketchShape {
    SketchShape::with_byte_budget(DEFAULT_BYTE_BUDGET).expect("4 KiB is a valid budget")
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("sketch_encode");
    for size in common::sizes("sketch_encode", DEFAULT_SIZES, &[]) {
        let ids: Vec<DispatcherId> = IdStream::new(5).take(size).collect();
        let bulk = DifferenceSketch::of(&KEY, shape(), &ids);
        let mut one_by_one = DifferenceSketch::new(&KEY, shape());
        for id in &ids {
            one_by_one.insert(*id);
        }
        assert_eq!(bulk, one_by_one);
        assert_eq!(bulk.fingerprint().count(), size as u64);
        group.throughput(Throughput::Elements(size as u64));
        group.bench_with_input(BenchmarkId::new("bulk", label(size)), &ids, |b, ids| {
            b.iter(|| DifferenceSketch::of(&KEY, shape(), black_box(ids)))
        });
        group.bench_with_input(BenchmarkId::new("insert", label(size)), &ids, |b, ids| {
            b.iter(|| {
                let mut sketch = DifferenceSketch::new(&KEY, shape());
                for id in black_box(ids) {
                    sketch.insert(*id);
                }
                sketch
            })
        });
    }
    group.finish();
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("sketch_decode");
    let base: Vec<DispatcherId> = IdStream::new(6).take(10_000).collect();
    for differences in [1usize, 16, 64] {
        let planted: Vec<DispatcherId> = IdStream::new(7).take(differences).collect();
        let (missing, extra) = planted.split_at(differences.div_ceil(2));
        let expected = DifferenceSketch::of(&KEY, shape(), &[&base[..], missing].concat());
        let actual = DifferenceSketch::of(&KEY, shape(), &[&base[..], extra].concat());
        let decoded = DifferenceSketch::decode(&expected, &actual).expect("decodes");
        let (mut missing, mut extra) = (missing.to_vec(), extra.to_vec());
        missing.sort();
        extra.sort();
        assert_eq!((decoded.missing, decoded.extra), (missing, extra));
        group.throughput(Throughput::Elements(differences as u64));
        group.bench_function(BenchmarkId::from_parameter(differences), |b| {
            b.iter(|| DifferenceSketch::decode(black_box(&expected), black_box(&actual)))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = encode, decode
}
criterion_main!(benches);
