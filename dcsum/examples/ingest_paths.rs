//! The streaming reader's decoders side by side on one file: the portable (SWAR) path, AVX2 and
//! AVX-512 where this CPU has them (mapped; AVX-512 reads `HIGH LOW` lines, and with VBMI
//! canonical UUID lines too), and AVX-512 through the buffered reader, timed
//! interleaved (medians of 15 batches) through
//! `dcsum::ingest::fingerprint_path_with`, as `dcsum fingerprint FILE` reads it. With
//! `RAYON_NUM_THREADS=1` the parse runs on one thread: the decoders' own cost per line.
//! `cargo run --release -p dcsum --example ingest_paths FILE`.

use dcsum::ingest::{fingerprint_path_with, Fold, Options};
use dispatcher_checksum::StateSet;
use dispatcher_checksum_bench::measure::{measure_interleaved, MeasureConfig};
use std::time::Duration;

fn main() -> Result<(), String> {
    let path = std::env::args().nth(1).ok_or("usage: ingest_paths FILE")?;
    let lines = std::fs::read(&path)
        .map_err(|error| format!("{path}: {error}"))?
        .iter()
        .filter(|&&byte| byte == b'\n')
        .count();
    // Name, vector paths, AVX-512, mapped (or read through buffers).
    let paths = [
        ("portable", false, false, true),
        ("avx2", true, false, true),
        ("avx512", true, true, true),
        ("avx512, read", true, true, false),
    ];
    let run = |vector: bool, avx512: bool, mapped: bool| {
        let options = Options {
            vector,
            avx512,
            window_bytes: if mapped {
                Options::default().window_bytes
            } else {
                0
            },
            ..Options::default()
        };
        fingerprint_path_with(&path, StateSet::ALL, Fold::AUTO, options)
    };
    let expected = run(false, false, true).map_err(|error| error.to_string())?;
    for (name, vector, avx512, mapped) in paths {
        let got = run(vector, avx512, mapped).map_err(|error| error.to_string())?;
        assert_eq!(got, expected, "{name} disagrees with the portable path");
    }
    let mut routines: Vec<Box<dyn FnMut()>> = paths
        .iter()
        .map(|&(_, vector, avx512, mapped)| {
            Box::new(move || {
                let _ = std::hint::black_box(run(vector, avx512, mapped));
            }) as Box<dyn FnMut()>
        })
        .collect();
    let mut handles: Vec<&mut dyn FnMut()> = routines
        .iter_mut()
        .map(|routine| routine.as_mut() as &mut dyn FnMut())
        .collect();
    let config = MeasureConfig {
        warm_up: Duration::from_millis(100),
        batch_time: Duration::from_millis(50),
        repetitions: 15,
    };
    let timed = measure_interleaved(&config, &mut handles);
    for ((name, ..), measurement) in paths.iter().zip(timed) {
        println!(
            "{name:>12}: median {:.2} ms, {:.2} ns per line (fastest batch {:.2})",
            measurement.median * 1e3,
            measurement.median * 1e9 / lines as f64,
            measurement.min * 1e9 / lines as f64,
        );
    }
    Ok(())
}
