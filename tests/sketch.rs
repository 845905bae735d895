//! The difference sketch names exactly the missing and extra IDs, or says it cannot: never a
//! wrong list.

use dispatcher_checksum::keyed::FingerprintKey;
use dispatcher_checksum::sketch::{
    DecodeError, DifferenceSketch, SketchDifference, SketchError, SketchShape, DEFAULT_BYTE_BUDGET,
};
use dispatcher_checksum::DispatcherId;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random_ids(rng: &mut ChaCha8Rng, n: usize) -> Vec<DispatcherId> {
    (0..n)
        .map(|_| DispatcherId::new(rng.random(), rng.random()))
        .collect()
}

fn four_kib() -> SketchShape {
    SketchShape::with_byte_budget(DEFAULT_BYTE_BUDGET).unwrap()
}

/// Expected = base + missing, actual = base + extra; returns the decode and the truth.
fn trial(
    key: &FingerprintKey,
    shape: SketchShape,
    base: &[DispatcherId],
    missing: &[DispatcherId],
    extra: &[DispatcherId],
) -> (Result<SketchDifference, DecodeError>, SketchDifference) {
    let expected = DifferenceSketch::of(key, shape, &[base, missing].concat());
    let actual = DifferenceSketch::of(key, shape, &[base, extra].concat());
    let mut truth = SketchDifference {
        missing: missing.to_vec(),
        extra: extra.to_vec(),
    };
    truth.missing.sort();
    truth.extra.sort();
    (DifferenceSketch::decode(&expected, &actual), truth)
}

#[test]
fn four_kib_is_168_cells_within_budget() {
    let shape = four_kib();
    assert_eq!(shape.cells, 168);
    assert!(shape.byte_len() <= 4096);
    let sketch = DifferenceSketch::new(&FingerprintKey::new(1), shape);
    assert_eq!(sketch.to_bytes().len(), shape.byte_len());
}

#[test]
fn equal_sets_decode_to_nothing() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let key = FingerprintKey::new(2);
    let base = random_ids(&mut rng, 5000);
    let (decoded, truth) = trial(&key, four_kib(), &base, &[], &[]);
    assert_eq!(decoded.unwrap(), truth);
    assert!(truth.is_empty());
}

#[test]
fn names_small_differences_exactly() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let key = FingerprintKey::new(3);
    let base = random_ids(&mut rng, 2000);
    for (missing, extra) in [(1, 0), (0, 1), (1, 1), (5, 3), (20, 20), (0, 40), (32, 32)] {
        let m = random_ids(&mut rng, missing);
        let e = random_ids(&mut rng, extra);
        let (decoded, truth) = trial(&key, four_kib(), &base, &m, &e);
        assert_eq!(decoded.unwrap(), truth, "{missing} missing, {extra} extra");
    }
}

#[test]
fn structured_ids_decode_like_random_ones() {
    let key = FingerprintKey::new(4);
    let base: Vec<DispatcherId> = (0..1000).map(|v| DispatcherId::new(0, v)).collect();
    let missing: Vec<DispatcherId> = (1000..1030).map(|v| DispatcherId::new(0, v)).collect();
    let extra: Vec<DispatcherId> = (0..30).map(|bit| DispatcherId::new(1 << bit, 0)).collect();
    let (decoded, truth) = trial(&key, four_kib(), &base, &missing, &extra);
    assert_eq!(decoded.unwrap(), truth);
}

#[test]
fn too_many_differences_is_an_error_never_a_wrong_list() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let key = FingerprintKey::new(5);
    let base = random_ids(&mut rng, 100);
    let missing = random_ids(&mut rng, 400);
    let (decoded, _) = trial(&key, four_kib(), &base, &missing, &[]);
    match decoded {
        Err(DecodeError::TooManyDifferences {
            count_difference, ..
        }) => assert_eq!(count_difference, 400),
        other => panic!("expected TooManyDifferences, got {other:?}"),
    }
}

#[test]
fn random_trials_are_exact_or_refused() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let shape = SketchShape::new(64, 4).unwrap();
    let mut decoded_count = 0;
    let mut refused = 0;
    for round in 0..1500 {
        let key = FingerprintKey::new(round);
        let differences = rng.random_range(1..=60);
        let missing_count = rng.random_range(0..=differences);
        let base = random_ids(&mut rng, 50);
        let missing = random_ids(&mut rng, missing_count);
        let extra = random_ids(&mut rng, differences - missing_count);
        let (decoded, truth) = trial(&key, shape, &base, &missing, &extra);
        match decoded {
            Ok(difference) => {
                assert_eq!(difference, truth, "round {round}");
                decoded_count += 1;
            }
            Err(DecodeError::TooManyDifferences { .. }) => refused += 1,
            Err(other) => panic!("round {round}: {other}"),
        }
    }
    // A 64-cell table decodes the small differences and refuses the large ones.
    assert!(
        decoded_count > 500 && refused > 100,
        "{decoded_count} {refused}"
    );
}

#[test]
fn an_id_held_twice_is_refused_not_misreported() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let key = FingerprintKey::new(6);
    let base = random_ids(&mut rng, 10);
    let twice = random_ids(&mut rng, 1)[0];
    let (decoded, _) = trial(&key, four_kib(), &base, &[], &[twice, twice]);
    assert!(
        matches!(decoded, Err(DecodeError::TooManyDifferences { .. })),
        "{decoded:?}"
    );
    // Held twice where once was expected: a difference of one extra copy, which is nameable.
    let (decoded, _) = trial(
        &key,
        four_kib(),
        &[&base[..], &[twice]].concat(),
        &[],
        &[twice],
    );
    assert_eq!(decoded.unwrap().extra, vec![twice]);
}

#[test]
fn incremental_insert_and_remove_equal_the_bulk_sketch() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let key = FingerprintKey::new(7);
    let ids = random_ids(&mut rng, 3000);
    let bulk = DifferenceSketch::of(&key, four_kib(), &ids[..2000]);
    let mut incremental = DifferenceSketch::new(&key, four_kib());
    for id in &ids {
        incremental.insert(*id);
    }
    for id in &ids[2000..] {
        incremental.remove(*id);
    }
    assert_eq!(incremental, bulk);
    assert_eq!(incremental.fingerprint().count(), 2000);
}

#[test]
fn sketches_of_different_shapes_or_keys_are_incompatible() {
    let key = FingerprintKey::new(8);
    let a = DifferenceSketch::new(&key, four_kib());
    let b = DifferenceSketch::new(&key, SketchShape::new(100, 4).unwrap());
    let c = DifferenceSketch::new(&FingerprintKey::new(9), four_kib());
    assert!(matches!(
        DifferenceSketch::decode(&a, &b),
        Err(DecodeError::Incompatible(_))
    ));
    assert!(matches!(
        DifferenceSketch::decode(&a, &c),
        Err(DecodeError::Incompatible(_))
    ));
}

#[test]
fn wire_form_round_trips_and_rejects_bad_bytes() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let key = FingerprintKey::new(10);
    let sketch = DifferenceSketch::of(&key, four_kib(), &random_ids(&mut rng, 500));
    let bytes = sketch.to_bytes();
    assert_eq!(DifferenceSketch::from_bytes(&key, &bytes).unwrap(), sketch);
    assert!(matches!(
        DifferenceSketch::from_bytes(&key, &bytes[..10]),
        Err(SketchError::Malformed(_))
    ));
    assert!(matches!(
        DifferenceSketch::from_bytes(&key, &bytes[..bytes.len() - 1]),
        Err(SketchError::Malformed(_))
    ));
    let mut bad_shape = bytes.clone();
    bad_shape[4] = 9;
    assert!(matches!(
        DifferenceSketch::from_bytes(&key, &bad_shape),
        Err(SketchError::BadShape { .. })
    ));
    let mut reserved = bytes.clone();
    reserved[6] = 1;
    assert!(DifferenceSketch::from_bytes(&key, &reserved).is_err());
    assert!(SketchShape::new(3, 4).is_err());
    assert!(SketchShape::new(100, 5).is_err());
}

#[test]
fn a_corrupted_sketch_never_yields_a_list_that_misses_the_check() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let key = FingerprintKey::new(11);
    let base = random_ids(&mut rng, 300);
    let expected = DifferenceSketch::of(&key, four_kib(), &base);
    for trial in 0..200 {
        let actual = DifferenceSketch::of(&key, four_kib(), &base[1..]);
        let mut bytes = actual.to_bytes();
        // Flip one bit of one cell's ID words.
        let cell = rng.random_range(0..168);
        let bit = rng.random_range(0..128);
        bytes[48 + cell * 24 + bit / 8] ^= 1 << (bit % 8);
        let corrupted = DifferenceSketch::from_bytes(&key, &bytes).unwrap();
        match DifferenceSketch::decode(&expected, &corrupted) {
            Ok(difference) => panic!("trial {trial}: decoded {difference} from a corrupted sketch"),
            Err(DecodeError::TooManyDifferences { .. } | DecodeError::Inconsistent) => {}
            Err(other) => panic!("trial {trial}: {other}"),
        }
    }
}

#[test]
fn exact_difference_counts_multiplicity() {
    let a = DispatcherId::new(0, 1);
    let b = DispatcherId::new(0, 2);
    let difference = SketchDifference::exact(&[a, a, b], &[a, b, b]);
    assert_eq!(difference.missing, vec![a]);
    assert_eq!(difference.extra, vec![b]);
    let twice = SketchDifference::exact(&[a, a, a], &[]);
    assert_eq!(twice.missing, vec![a, a, a]);
    assert!(SketchDifference::exact(&[a, b], &[b, a]).is_empty());
}

#[test]
fn diff_lists_grows_the_sketch_until_it_decodes() {
    use dispatcher_checksum::sketch::diff_lists;
    let expected: Vec<DispatcherId> = (0..2_000).map(|n| DispatcherId::new(n, !n)).collect();
    let actual: Vec<DispatcherId> = expected[300..].to_vec();
    let key = FingerprintKey::random();
    let mut retries = Vec::new();
    let (difference, bytes) = diff_lists(&key, &expected, &actual, 1024, 1 << 20, |bytes, _| {
        retries.push(bytes)
    })
    .expect("a large enough sketch decodes 300 differences");
    assert_eq!(difference, SketchDifference::exact(&expected, &actual));
    assert!(!retries.is_empty() && bytes > 1024, "{retries:?} {bytes}");
    let too_small = diff_lists(&key, &expected, &actual, 1024, 1024, |_, _| {});
    assert!(too_small.is_err());
}
