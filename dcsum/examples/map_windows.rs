//! What mapping a file costs by window size and alignment: the measurement behind the mapped
//! reader's 2 MiB-aligned windows (`dcsum/src/ingest/mapped.rs`). Writes the main job's 1M-line
//! `HIGH LOW` list to a temporary file, then maps it whole, window after window, each populated
//! (`MAP_POPULATE`, as the reader maps), touched once per page and unmapped; best of 15 passes
//! per layout. `cargo run --release -p dcsum --example map_windows [LINES]`.

use dcsum::ingest_measure::{lines_argument, workload_ids, Form, ListFile};
use memmap2::MmapOptions;
use std::time::Instant;

fn main() -> Result<(), String> {
    let lines = lines_argument()?;
    let list = ListFile::write("map-windows", &Form::HighLow.text(&workload_ids(lines)))?;
    let file = std::fs::File::open(list.path()).map_err(|error| error.to_string())?;
    let length = file.metadata().map_err(|error| error.to_string())?.len() as usize;
    const MIB: usize = 1 << 20;
    // Name, window, the gap left before each window after the first (so a nonzero gap moves
    // every later window off the alignment), bytes mapped past each window's end.
    let layouts = [
        ("8 MiB windows at multiples of 8 MiB", 8 * MIB, 0, 0),
        ("the same, each mapped 4098 bytes longer", 8 * MIB, 0, 4098),
        (
            "8 MiB windows one page off that alignment",
            8 * MIB,
            4096,
            0,
        ),
        ("2 MiB windows at multiples of 2 MiB", 2 * MIB, 0, 0),
        ("1 MiB windows at multiples of 1 MiB", MIB, 0, 0),
    ];
    for (name, window, gap, extension) in layouts {
        let mut best = f64::MAX;
        for _ in 0..15 {
            let start_time = Instant::now();
            let mut touched = 0u64;
            let mut start = 0;
            let mut first = true;
            while start < length {
                if !first {
                    start += gap;
                }
                first = false;
                if start >= length {
                    break;
                }
                let size = (window + extension).min(length - start);
                // SAFETY: the file is ours and nothing truncates it while it is mapped.
                let map = unsafe {
                    MmapOptions::new()
                        .offset(start as u64)
                        .len(size)
                        .populate()
                        .map(&file)
                }
                .map_err(|error| error.to_string())?;
                touched += map
                    .iter()
                    .step_by(4096)
                    .map(|&byte| u64::from(byte))
                    .sum::<u64>();
                drop(map);
                start += window.min(size);
            }
            std::hint::black_box(touched);
            best = best.min(start_time.elapsed().as_secs_f64());
        }
        println!(
            "{name}: {:.3} ms for {:.1} MB ({:.2} ns per line)",
            best * 1e3,
            length as f64 / 1e6,
            best * 1e9 / lines as f64
        );
    }
    Ok(())
}
