//! The main job's "Reading ID lists" rows alone, printed (not written to `reports/`): the same
//! routine (`dcsum::ingest_measure::ingest_rows`), lines and timing as `cargo run --release`, in
//! a few seconds instead of minutes. `cargo run --release -p dcsum --example ingest_rows [LINES]`.

use dcsum::ingest_measure::{ingest_rows, lines_argument};
use dispatcher_checksum_bench::measure::MeasureConfig;

fn main() -> Result<(), String> {
    let lines = lines_argument()?;
    // The main job's setting for these rows: the default batches, at most 7 of them.
    let config = MeasureConfig {
        repetitions: MeasureConfig::DEFAULT.repetitions.min(7),
        ..MeasureConfig::DEFAULT
    };
    for row in ingest_rows(&config, lines, &mut |_| {})? {
        let plain = row.gigabytes_per_second(&row.plain_read);
        let streaming = row.gigabytes_per_second(&row.streaming);
        println!(
            "{:>8} {} lines: plain read {plain:.2} GB/s, streaming {streaming:.2} GB/s \
             ({:.0}% of the plain read), simple {:.2} GB/s",
            row.form,
            row.lines,
            100.0 * streaming / plain,
            row.gigabytes_per_second(&row.simple),
        );
    }
    Ok(())
}
