//! Part 1 of the diagnosis issue: what the plain fingerprint cannot see.
//!
//! The plain fingerprint (count, XOR and wrapping sum of each 64-bit half) is the reference
//! system's definition and must stay exactly as it is. These tests pin down, as facts about that
//! definition, families of *different* multisets that it maps to the *same* value. The keyed
//! fingerprint (`tests/keyed_fingerprint.rs`) separates every one of them.

mod support {
    pub mod collision_families;
}

use dispatcher_checksum::{DispatcherId, Fingerprint};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use support::collision_families::{
    all_pairs, dense_range_collisions, equal_xor_and_and, four_subsets, small_subset_key,
};

fn low(values: &[u64]) -> Vec<DispatcherId> {
    values.iter().map(|v| DispatcherId::new(0, *v)).collect()
}

#[test]
fn four_seven_and_five_six_have_equal_xor_and_and_so_equal_fingerprints() {
    assert_eq!(4 ^ 7, 5 ^ 6);
    assert_eq!(4 & 7, 5 & 6);
    assert_eq!(
        Fingerprint::of(&low(&[4, 7])),
        Fingerprint::of(&low(&[5, 6]))
    );
    let high = |values: &[u64]| -> Vec<DispatcherId> {
        values.iter().map(|v| DispatcherId::new(*v, 42)).collect()
    };
    assert_eq!(
        Fingerprint::of(&high(&[4, 7])),
        Fingerprint::of(&high(&[5, 6]))
    );
}

#[test]
fn any_two_pairs_with_equal_xor_and_equal_and_collide() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for _ in 0..10_000 {
        let (a, b, c, d) = equal_xor_and_and(&mut rng);
        let (left, right) = (low(&[a, b]), low(&[c, d]));
        assert_ne!(
            {
                let mut sorted = left.clone();
                sorted.sort();
                sorted
            },
            {
                let mut sorted = right.clone();
                sorted.sort();
                sorted
            }
        );
        assert_eq!(
            Fingerprint::of(&left),
            Fingerprint::of(&right),
            "{a} {b} {c} {d}"
        );
    }
}

#[test]
fn swapping_low_halves_between_two_ids_always_collides() {
    use rand::Rng;
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for _ in 0..10_000 {
        let (h1, h2, l1, l2): (u64, u64, u64, u64) =
            (rng.random(), rng.random(), rng.random(), rng.random());
        let left = [DispatcherId::new(h1, l1), DispatcherId::new(h2, l2)];
        let right = [DispatcherId::new(h1, l2), DispatcherId::new(h2, l1)];
        if l1 != l2 && h1 != h2 {
            assert_ne!(left[0], right[0]);
            assert_ne!(left[0], right[1]);
        }
        assert_eq!(Fingerprint::of(&left), Fingerprint::of(&right));
    }
}

#[test]
fn x_twice_and_x_plus_two_to_the_63_twice_collide_in_either_half() {
    for x in [0, 1, 12345, u64::MAX, 1 << 63, 0xdead_beef_0bad_f00d] {
        let shifted = x.wrapping_add(1 << 63);
        assert_ne!(x, shifted);
        let same_low = [DispatcherId::new(7, x); 2];
        let shifted_low = [DispatcherId::new(7, shifted); 2];
        assert_eq!(Fingerprint::of(&same_low), Fingerprint::of(&shifted_low));
        let same_high = [DispatcherId::new(x, 7); 2];
        let shifted_high = [DispatcherId::new(shifted, 7); 2];
        assert_eq!(Fingerprint::of(&same_high), Fingerprint::of(&shifted_high));
    }
}

/// The number of 4-subsets of `0..n` whose plain fingerprint some *other* 4-subset shares,
/// counted by enumeration: bucket every subset by its fingerprint.
fn sharing_by_enumeration(n: u64) -> (u64, u64, usize) {
    let mut buckets: HashMap<Fingerprint, u64> = HashMap::new();
    let mut total = 0;
    for subset in four_subsets(n) {
        *buckets.entry(Fingerprint::of(&low(&subset))).or_default() += 1;
        total += 1;
    }
    let sharing = buckets.values().filter(|size| **size >= 2).sum();
    (total, sharing, buckets.len())
}

/// The same count by an independent method: dynamic programming over the values, counting
/// subsets by `(size, xor, sum)` without ever listing one.
fn sharing_by_counting(n: u64) -> (u64, u64, usize) {
    let n = n as usize;
    let xor_values = n.next_power_of_two();
    let sum_values = 4 * n;
    let index = |size: usize, xor: usize, sum: usize| (size * xor_values + xor) * sum_values + sum;
    let mut ways = vec![0u64; 5 * xor_values * sum_values];
    ways[index(0, 0, 0)] = 1;
    for value in 0..n {
        for size in (0..4).rev() {
            for xor in 0..xor_values {
                for sum in 0..sum_values - value {
                    let here = ways[index(size, xor, sum)];
                    if here != 0 {
                        ways[index(size + 1, xor ^ value, sum + value)] += here;
                    }
                }
            }
        }
    }
    let mut total = 0;
    let mut sharing = 0;
    let mut distinct = 0;
    for xor in 0..xor_values {
        for sum in 0..sum_values {
            let bucket = ways[index(4, xor, sum)];
            total += bucket;
            distinct += usize::from(bucket > 0);
            if bucket >= 2 {
                sharing += bucket;
            }
        }
    }
    (total, sharing, distinct)
}

#[test]
fn most_four_subsets_of_a_dense_range_share_their_fingerprint() {
    let (total, sharing, distinct) = sharing_by_enumeration(64);
    println!(
        "4-subsets of 0..64: {total}; {sharing} share their plain fingerprint with another \
         subset; only {distinct} distinct fingerprints"
    );
    assert_eq!(total, 64 * 63 * 62 * 61 / 24);
    assert_eq!((total, sharing, distinct), sharing_by_counting(64));
    assert!(sharing > total / 2, "{sharing} of {total}");
    // A 4-subset of 0..64 has an XOR below 64 and a sum of at most 246, so there cannot be more
    // than 64 * 247 distinct fingerprints for 635,376 subsets: collisions are forced.
    assert!(distinct <= 64 * 247);
}

#[test]
fn counting_agrees_with_enumeration_on_small_ranges() {
    for n in 4..=20 {
        assert_eq!(sharing_by_enumeration(n), sharing_by_counting(n), "n = {n}");
    }
}

#[test]
fn every_family_pair_is_different_yet_collides() {
    let pairs = all_pairs(3, 200);
    assert!(pairs.len() > 800);
    for pair in &pairs {
        let mut left = pair.left.clone();
        let mut right = pair.right.clone();
        left.sort();
        right.sort();
        assert_ne!(
            left, right,
            "{}: the two multisets must differ",
            pair.family
        );
        assert_eq!(
            Fingerprint::of(&pair.left),
            Fingerprint::of(&pair.right),
            "{}",
            pair.family
        );
    }
    assert_eq!(dense_range_collisions(64, 10).len(), 10);
    for pair in dense_range_collisions(64, 10) {
        let key = |ids: &[DispatcherId]| {
            small_subset_key([ids[0].low, ids[1].low, ids[2].low, ids[3].low])
        };
        assert_eq!(key(&pair.left), key(&pair.right));
    }
}
