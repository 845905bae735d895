//! How fast the kernel copies a file out of the page cache into a buffer at different offsets
//! from a page boundary: the measurement behind `dcsum::ingest::page_aligned_offset`. Writes the
//! main job's 1M-line `HIGH LOW` list to a temporary file, then reads it whole in 1 MiB reads into
//! a buffer that starts 0, 16, 32, 48, 64, 8 and 1 bytes after a page boundary, twice round, best
//! of 20 reads each. `cargo run --release -p dcsum --example read_alignment [LINES]`.

use dcsum::ingest::{page_aligned_offset, PAGE_BYTES};
use dcsum::ingest_measure::{lines_argument, plain_read, workload_ids, Form, ListFile};
use std::time::Instant;

fn main() -> Result<(), String> {
    let lines = lines_argument()?;
    let list = ListFile::write("read-alignment", &Form::HighLow.text(&workload_ids(lines)))?;
    const BLOCK: usize = 1 << 20;
    let mut storage = vec![0u8; BLOCK + 2 * PAGE_BYTES];
    let page = page_aligned_offset(&storage, 0);
    for round in 1..=2 {
        for offset in [0, 16, 32, 48, 64, 8, 1] {
            let buffer = &mut storage[page + offset..page + offset + BLOCK];
            let mut best = f64::MAX;
            let mut bytes = 0;
            for _ in 0..20 {
                let start = Instant::now();
                bytes = plain_read(list.path(), buffer).map_err(|error| error.to_string())?;
                best = best.min(start.elapsed().as_secs_f64());
            }
            println!(
                "round {round}: buffer {offset:>2} bytes after a page boundary: {:.1} GB/s",
                bytes as f64 / best / 1e9
            );
        }
    }
    Ok(())
}
