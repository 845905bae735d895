//! Reading ID lists as `dcsum fingerprint` does, in bytes of text per second, on the same work
//! as the main job's reading rows (`dcsum::ingest_measure`): 1M lines written to a temporary file
//! and read back from the page cache by the streaming reader (`dcsum::ingest::fingerprint_path`,
//! what `dcsum fingerprint FILE` runs), beside a plain read of the same file into a page-aligned
//! block (the ceiling, where `cat` reads), the simple reader it replaced, and the buffered reader
//! over the same text in memory (`fingerprint_reader`: what standard input and pipes take). Ids:
//! `ingest/<form>/<lines>` for the streaming reader, `ingest/<form>-read/<lines>`,
//! `ingest/<form>-simple/<lines>` and `ingest/<form>-buffered/<lines>`, with `<form>` `uuid` or
//! `high-low`; `DCSUM_BENCH_SIZES=full` adds 10M lines, `DCSUM_BENCH_SIZES=100K,10M` replaces the
//! line counts. Every routine's fingerprint is checked against the naive oracle before it is
//! timed.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use dcsum::ingest::{self, fingerprint_reader, Fold, Options};
use dcsum::ingest_measure::{
    oracle, plain_read, workload_ids, Form, ListFile, ReadBuffer, MAIN_JOB_LINES,
};
use dcsum::input::{read_records_from_path, IdColumns};
use dispatcher_checksum::StateSet;
use dispatcher_checksum_bench::config::bench_sizes;
use dispatcher_checksum_bench::measure::format_count;
use std::hint::black_box;
use std::time::Duration;

const DEFAULT_LINES: &[usize] = &[MAIN_JOB_LINES];
/// Under `DCSUM_BENCH_SIZES=full` only (370 MB of text).
const LONG_LINES: &[usize] = &[10_000_000];

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
            let file = ListFile::write(form.name(), &text).expect("a writable temporary file");
            group.throughput(Throughput::Bytes(text.len() as u64));
            let streaming =
                || ingest::fingerprint_path(file.name(), StateSet::ALL, Fold::AUTO).expect("valid");
            let buffered = |text: &[u8]| {
                fingerprint_reader(text, "bench", StateSet::ALL, Fold::AUTO, Options::default())
                    .expect("valid")
            };
            let simple = || {
                read_records_from_path(file.name())
                    .map(|records| IdColumns::from_records(&records).fingerprint(StateSet::ALL))
                    .expect("valid")
            };
            for (what, got) in [
                ("streaming", streaming()),
                ("buffered", buffered(&text)),
                ("simple", simple()),
            ] {
                assert_eq!(got, expected, "{what}, {}", form.name());
            }
            let mut buffer = ReadBuffer::new();
            assert_eq!(
                plain_read(file.path(), buffer.block()).expect("readable"),
                text.len()
            );

            group.bench_function(BenchmarkId::new(form.name(), &label), |b| {
                b.iter(&streaming)
            });
            group.bench_function(
                BenchmarkId::new(format!("{}-read", form.name()), &label),
                |b| b.iter(|| plain_read(black_box(file.path()), buffer.block())),
            );
            group.bench_function(
                BenchmarkId::new(format!("{}-simple", form.name()), &label),
                |b| b.iter(&simple),
            );
            group.bench_with_input(
                BenchmarkId::new(format!("{}-buffered", form.name()), &label),
                &text,
                |b, text| b.iter(|| buffered(black_box(text))),
            );
        }
    }
    group.finish();
}

criterion_group!(benches, ingestion);
criterion_main!(benches);
