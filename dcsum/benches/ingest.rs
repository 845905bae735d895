//! Reading ID lists as `dcsum fingerprint` does, in bytes of text per second: the streaming
//! reader (`dcsum::ingest::fingerprint_reader`, the function `dcsum fingerprint` runs) over 1M
//! lines held in memory, beside a plain copy of the same bytes through a block-sized buffer (the
//! ceiling: what reading them costs at all) and the simple reader it replaced. Ids:
//! `ingest/<form>/<lines>` for the streaming reader, `ingest/<form>-read/<lines>` and
//! `ingest/<form>-simple/<lines>`, with `<form>` `uuid` or `high-low`; `DCSUM_BENCH_SIZES=full` adds
//! 10M lines, `DCSUM_BENCH_SIZES=100K,10M` replaces the line counts. Every routine's fingerprint is checked against the naive oracle
//! before it is timed.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use dcsum::ingest::{self, fingerprint_reader, Fold, Options};
use dcsum::ingest_measure::{oracle, workload_ids, Form};
use dcsum::input::{read_records, IdColumns};
use dispatcher_checksum::StateSet;
use dispatcher_checksum_bench::config::bench_sizes;
use dispatcher_checksum_bench::measure::format_count;
use std::hint::black_box;
use std::io::Read;
use std::time::Duration;

const DEFAULT_LINES: &[usize] = &[1_000_000];
/// Under `DCSUM_BENCH_SIZES=full` only (370 MB of text).
const LONG_LINES: &[usize] = &[10_000_000];

/// Copies `text` through a block-sized buffer, as a reader of it must at least.
fn plain_read(mut text: &[u8], buffer: &mut [u8]) -> usize {
    let mut total = 0;
    loop {
        match text.read(buffer).expect("reading a slice cannot fail") {
            0 => return total,
            read => total += read,
        }
    }
}

fn ingestion(c: &mut Criterion) {
    let mut group = c.benchmark_group("ingest");
    // The simple reader takes about half a second per 1M lines: few, long samples (5 s, so ten
    // of its calls fit without criterion asking for more time).
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    for lines in bench_sizes("ingest", DEFAULT_LINES, LONG_LINES) {
        let ids = workload_ids(lines);
        let expected = oracle(&ids);
        let label = format_count(lines);
        for form in Form::ALL {
            let text = form.text(&ids);
            group.throughput(Throughput::Bytes(text.len() as u64));
            let streaming = |text: &[u8]| {
                fingerprint_reader(text, "bench", StateSet::ALL, Fold::AUTO, Options::default())
            };
            let simple = |text: &[u8]| {
                read_records(text, "bench")
                    .map(|records| IdColumns::from_records(&records).fingerprint(StateSet::ALL))
            };
            assert_eq!(
                streaming(&text).expect("valid"),
                expected,
                "{}",
                form.name()
            );
            assert_eq!(simple(&text).expect("valid"), expected, "{}", form.name());
            // Page-aligned, as the reader's own blocks (`ingest::page_aligned_offset`).
            let mut storage = vec![0u8; ingest::PAGE_BYTES + ingest::DEFAULT_BLOCK_BYTES];
            let offset = ingest::page_aligned_offset(&storage, 0);
            let buffer = &mut storage[offset..offset + ingest::DEFAULT_BLOCK_BYTES];
            assert_eq!(plain_read(&text, buffer), text.len());

            group.bench_with_input(BenchmarkId::new(form.name(), &label), &text, |b, text| {
                b.iter(|| streaming(black_box(text)))
            });
            group.bench_with_input(
                BenchmarkId::new(format!("{}-read", form.name()), &label),
                &text,
                |b, text| b.iter(|| plain_read(black_box(text), buffer)),
            );
            group.bench_with_input(
                BenchmarkId::new(format!("{}-simple", form.name()), &label),
                &text,
                |b, text| b.iter(|| simple(black_box(text))),
            );
        }
    }
    group.finish();
}

criterion_group!(benches, ingestion);
criterion_main!(benches);
