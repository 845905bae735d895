//! Measures how often a difference sketch decodes, against the number of differences, for a few
//! sketch sizes: the success-rate table in `docs/diagnosis.md`.
//!
//! ```text
//! cargo run --release --example sketch_calibration -- [TRIALS] [HASH_COUNT]
//! ```
//!
//! Each trial draws a fresh random key and random IDs, splits `d` differences at random between
//! missing and extra over a shared base of 100 IDs, and decodes. A decode counts as a success
//! only when it returns exactly the planted lists; it counts as a failure when it refuses. A
//! wrong list aborts the run (the sketch promises never to return one).

use dispatcher_checksum::keyed::FingerprintKey;
use dispatcher_checksum::sketch::{DifferenceSketch, SketchShape};
use dispatcher_checksum::DispatcherId;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

const BUDGETS: [usize; 4] = [1024, 2048, 4096, 8192];
const DIFFERENCES: [usize; 12] = [1, 8, 16, 24, 32, 48, 64, 80, 96, 128, 160, 200];

fn random_ids(rng: &mut ChaCha8Rng, n: usize) -> Vec<DispatcherId> {
    (0..n)
        .map(|_| DispatcherId::new(rng.random(), rng.random()))
        .collect()
}

/// Whether one trial decodes; panics on a wrong list.
fn trial(shape: SketchShape, differences: usize, seed: u64) -> bool {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let key = FingerprintKey::from_words([rng.random(), rng.random()]);
    let base = random_ids(&mut rng, 100);
    let missing_count = rng.random_range(0..=differences);
    let mut missing = random_ids(&mut rng, missing_count);
    let mut extra = random_ids(&mut rng, differences - missing_count);
    let expected = DifferenceSketch::of(&key, shape, &[&base[..], &missing].concat());
    let actual = DifferenceSketch::of(&key, shape, &[&base[..], &extra].concat());
    match DifferenceSketch::decode(&expected, &actual) {
        Ok(difference) => {
            missing.sort();
            extra.sort();
            assert!(
                difference.missing == missing && difference.extra == extra,
                "wrong list decoded (seed {seed})"
            );
            true
        }
        Err(_) => false,
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let trials: u64 = args
        .next()
        .map(|text| text.parse().expect("TRIALS must be a number"))
        .unwrap_or(10_000);
    let hash_count: usize = args
        .next()
        .map(|text| text.parse().expect("HASH_COUNT must be 2, 3 or 4"))
        .unwrap_or(dispatcher_checksum::sketch::DEFAULT_HASH_COUNT);
    let shapes: Vec<SketchShape> = BUDGETS
        .iter()
        .map(|bytes| {
            let cells = SketchShape::with_byte_budget(*bytes).expect("budget").cells;
            SketchShape::new(cells, hash_count).expect("shape")
        })
        .collect();
    println!("Success rate over {trials} trials per cell (k = {hash_count} cells per ID):\n");
    let header: Vec<String> = shapes
        .iter()
        .map(|shape| format!("{} B ({} cells)", shape.byte_len(), shape.cells))
        .collect();
    println!("| differences | {} |", header.join(" | "));
    println!("|---:|{}", "---:|".repeat(shapes.len()));
    for differences in DIFFERENCES {
        let rates: Vec<String> = shapes
            .iter()
            .map(|shape| {
                let successes = (0..trials)
                    .into_par_iter()
                    .filter(|t| trial(*shape, differences, t * 1_000_003 + differences as u64))
                    .count();
                format!("{:.2}%", 100.0 * successes as f64 / trials as f64)
            })
            .collect();
        println!("| {differences} | {} |", rates.join(" | "));
    }
}
