//! The IBLT difference sketch against minisketch on the same differences: bytes per side, time
//! to encode a node's set, and time to decode, for 1, 16 and 64 differences over a shared base of
//! 100,000 IDs.
//!
//! minisketch holds elements of at most 64 bits, so it sketches a 64-bit keyed hash of each ID
//! (the low word of the keyed mixing); each side then maps decoded short IDs back to its own full
//! IDs. The IBLT carries the full 128-bit IDs, so the side that decodes learns IDs it never held.
//! Both are sized for 64 differences: minisketch with capacity 64 (64 x 8 bytes), the IBLT at
//! 4 KiB (the size that decodes 64 differences with at least 99.9% success).

use dispatcher_checksum::keyed::FingerprintKey;
use dispatcher_checksum::sketch::{DifferenceSketch, SketchShape, DEFAULT_BYTE_BUDGET};
use dispatcher_checksum::store::IdStream;
use dispatcher_checksum::DispatcherId;
use minisketch_rs::Minisketch;
use std::time::{Duration, Instant};

const BASE: usize = 100_000;
const CAPACITY: usize = 64;
const REPEATS: u32 = 20;

/// The median of `REPEATS` runs of `work`.
fn median<T>(mut work: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..REPEATS {
        let start = Instant::now();
        let value = work();
        times.push(start.elapsed());
        last = Some(value);
    }
    times.sort();
    (times[times.len() / 2], last.expect("at least one run"))
}

/// The fastest minisketch implementation this CPU supports for 64-bit elements (the highest
/// number: 1 and 2 use carry-less multiplication; 0 is the generic one).
fn implementation() -> u32 {
    (0..=Minisketch::implementation_max())
        .rev()
        .find(|i| Minisketch::try_new(64, *i, CAPACITY).is_ok())
        .expect("implementation 0 always exists")
}

fn minisketch_of(key: &FingerprintKey, ids: &[DispatcherId]) -> Minisketch {
    let mut sketch =
        Minisketch::try_new(64, implementation(), CAPACITY).expect("64-bit elements are supported");
    for id in ids {
        sketch.add(key.mix(*id).low);
    }
    sketch
}

fn main() {
    let key = FingerprintKey::new(0xc0ffee);
    let shape = SketchShape::with_byte_budget(DEFAULT_BYTE_BUDGET).expect("4 KiB");
    let base: Vec<DispatcherId> = IdStream::new(1).take(BASE).collect();
    println!("| differences | sketch | bytes per side | encode {BASE} IDs | per ID | decode |");
    println!("|---:|---|---:|---:|---:|---:|");
    for differences in [1usize, 16, 64] {
        let planted: Vec<DispatcherId> = IdStream::new(2).take(differences).collect();
        let (missing, extra) = planted.split_at(differences.div_ceil(2));
        let expected_ids = [&base[..], missing].concat();
        let actual_ids = [&base[..], extra].concat();

        // The IBLT.
        let expected = DifferenceSketch::of(&key, shape, &expected_ids);
        let (encode, actual) = median(|| DifferenceSketch::of(&key, shape, &actual_ids));
        let bytes = actual.to_bytes();
        let (decode, difference) = median(|| {
            let received = DifferenceSketch::from_bytes(&key, &bytes).expect("own bytes");
            DifferenceSketch::decode(&expected, &received).expect("decodes")
        });
        assert_eq!(
            difference.missing.len() + difference.extra.len(),
            differences
        );
        println!(
            "| {differences} | IBLT (k = 4) | {} | {:.2?} | {:.1} ns | {:.2?} |",
            bytes.len(),
            encode,
            encode.as_nanos() as f64 / actual_ids.len() as f64,
            decode
        );

        // minisketch, on the same IDs and the same differences.
        let expected_short = minisketch_of(&key, &expected_ids);
        let (encode, actual_short) = median(|| minisketch_of(&key, &actual_ids));
        let mut wire = vec![0u8; actual_short.serialized_size()];
        actual_short.serialize(&mut wire).expect("serialize");
        let (decode, decoded) = median(|| {
            let mut received = Minisketch::try_new(64, implementation(), CAPACITY).expect("sketch");
            received.deserialize(&wire);
            let mut merged = expected_short.clone();
            merged.merge(&received).expect("same parameters");
            let mut elements = vec![0u64; CAPACITY];
            let count = merged.decode(&mut elements).expect("decodes");
            elements.truncate(count);
            elements
        });
        let mut planted_short: Vec<u64> = planted.iter().map(|id| key.mix(*id).low).collect();
        let mut decoded = decoded;
        planted_short.sort_unstable();
        decoded.sort_unstable();
        assert_eq!(decoded, planted_short);
        println!(
            "| {differences} | minisketch (64-bit, capacity {CAPACITY}, implementation {}) | {} | {:.2?} | {:.1} ns | {:.2?} |",
            implementation(),
            wire.len(),
            encode,
            encode.as_nanos() as f64 / actual_ids.len() as f64,
            decode
        );
    }
}
