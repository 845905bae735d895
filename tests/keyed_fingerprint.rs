//! The keyed fingerprint separates what the plain one cannot (Part 2 of the diagnosis issue).
//!
//! - every colliding pair of `tests/plain_collisions.rs` has different keyed fingerprints;
//! - a statistical test over structured families (dense ranges, one-bit-apart IDs, lane swaps,
//!   `{x, x}` against `{x + 2^63, x + 2^63}`, equal XOR and AND) computes the keyed fingerprint of
//!   well over a million distinct multisets and finds them all distinct: no collision among more
//!   than 10^7 (in fact about 10^12) pairs, where the plain fingerprint collides on hundreds of
//!   thousands of them.

mod support {
    pub mod collision_families;
}

use dispatcher_checksum::keyed::{FingerprintKey, KeyedFingerprint};
use dispatcher_checksum::{DispatcherId, Fingerprint};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use support::collision_families::{all_pairs, dense_range_collisions, equal_xor_and_and};

const KEYS: [u128; 3] = [
    0x0123_4567_89ab_cdef_fedc_ba98_7654_3210,
    1,
    0xdead_beef_0bad_f00d_0000_0000_0000_0000,
];

#[test]
fn every_plain_collision_family_is_separated_under_every_key() {
    let pairs = all_pairs(3, 500);
    for key in KEYS
        .map(FingerprintKey::new)
        .into_iter()
        .chain([FingerprintKey::random()])
    {
        for pair in &pairs {
            assert_eq!(Fingerprint::of(&pair.left), Fingerprint::of(&pair.right));
            assert_ne!(
                KeyedFingerprint::of(&key, &pair.left),
                KeyedFingerprint::of(&key, &pair.right),
                "{} (key {:#x})",
                pair.family,
                key.to_u128()
            );
        }
    }
}

#[test]
fn every_colliding_pair_of_four_subsets_of_0_to_64_is_separated() {
    let key = FingerprintKey::new(KEYS[0]);
    let pairs = dense_range_collisions(64, usize::MAX);
    assert!(pairs.len() > 600_000, "{}", pairs.len());
    for pair in &pairs {
        assert_ne!(
            KeyedFingerprint::from_ids(&key, pair.left.iter().copied()),
            KeyedFingerprint::from_ids(&key, pair.right.iter().copied()),
        );
    }
}

/// The single-ID keyed fingerprints of `ids`, for building sets by merging.
fn singles(key: &FingerprintKey, ids: &[DispatcherId]) -> Vec<KeyedFingerprint> {
    ids.iter()
        .map(|id| KeyedFingerprint::of(key, std::slice::from_ref(id)))
        .collect()
}

/// Plain and keyed fingerprints of many distinct multisets drawn from structured families.
struct Sample {
    plain: Vec<Fingerprint>,
    keyed: Vec<KeyedFingerprint>,
}

impl Sample {
    fn push(&mut self, key: &FingerprintKey, set: &[DispatcherId]) {
        self.plain.push(Fingerprint::of(set));
        self.keyed.push(KeyedFingerprint::of(key, set));
    }
}

fn merged(parts: &[KeyedFingerprint]) -> KeyedFingerprint {
    parts
        .iter()
        .fold(KeyedFingerprint::EMPTY, |acc, part| acc.merge(*part))
}

/// Every multiset is distinct from every other by construction: each family tags its IDs with a
/// high half no other family uses (or is random), and within a family the sets are distinct
/// subsets or distinct random draws.
fn structured_sample(key: &FingerprintKey) -> Sample {
    let mut sample = Sample {
        plain: Vec::new(),
        keyed: Vec::new(),
    };
    let mut rng = ChaCha8Rng::seed_from_u64(10);

    // Dense ranges: every 4-subset of 0..64 in the low half (high 0) and in the high half
    // (low 0x5a5a): 2 x 635,376 sets. Built by merging precomputed single-ID fingerprints.
    for in_high_half in [false, true] {
        let ids: Vec<DispatcherId> = (0..64)
            .map(|v| {
                if in_high_half {
                    DispatcherId::new(v, 0x5a5a)
                } else {
                    DispatcherId::new(0, v)
                }
            })
            .collect();
        let plain_singles: Vec<Fingerprint> = ids
            .iter()
            .map(|id| Fingerprint::of(std::slice::from_ref(id)))
            .collect();
        let keyed_singles = singles(key, &ids);
        for a in 0..64 {
            for b in a + 1..64 {
                for c in b + 1..64 {
                    for d in c + 1..64 {
                        let plain = [a, b, c, d]
                            .iter()
                            .fold(Fingerprint::EMPTY, |acc, i| acc.merge(plain_singles[*i]));
                        sample.plain.push(plain);
                        sample.keyed.push(merged(&[
                            keyed_singles[a],
                            keyed_singles[b],
                            keyed_singles[c],
                            keyed_singles[d],
                        ]));
                    }
                }
            }
        }
    }

    // One-bit-apart IDs: every 3-subset of {base ^ 2^b : b in 0..128} for a random base:
    // 341,376 sets whose IDs differ pairwise in two bits.
    let base = DispatcherId::new(rng.random::<u64>() | 1 << 62, rng.random());
    let flipped: Vec<DispatcherId> = (0..128)
        .map(|bit| {
            if bit < 64 {
                DispatcherId::new(base.high, base.low ^ (1 << bit))
            } else {
                DispatcherId::new(base.high ^ (1 << (bit - 64)), base.low)
            }
        })
        .collect();
    let plain_flipped: Vec<Fingerprint> = flipped
        .iter()
        .map(|id| Fingerprint::of(std::slice::from_ref(id)))
        .collect();
    let keyed_flipped = singles(key, &flipped);
    for a in 0..128 {
        for b in a + 1..128 {
            for c in b + 1..128 {
                sample.plain.push(
                    plain_flipped[a]
                        .merge(plain_flipped[b])
                        .merge(plain_flipped[c]),
                );
                sample.keyed.push(merged(&[
                    keyed_flipped[a],
                    keyed_flipped[b],
                    keyed_flipped[c],
                ]));
            }
        }
    }

    // Lane swaps: {(h1, l1), (h2, l2)} and {(h1, l2), (h2, l1)} for random and for small
    // sequential halves (high tags 1_000_000 + i keep these sets apart from the others).
    for i in 0..50_000u64 {
        let (h1, h2) = (1_000_000 + 2 * i, 1_000_001 + 2 * i);
        let (l1, l2) = if i % 2 == 0 {
            (i, i + 1)
        } else {
            (rng.random(), rng.random())
        };
        sample.push(key, &[DispatcherId::new(h1, l1), DispatcherId::new(h2, l2)]);
        sample.push(key, &[DispatcherId::new(h1, l2), DispatcherId::new(h2, l1)]);
    }

    // {x, x} against {x + 2^63, x + 2^63}, for a dense range of x (high tag 3).
    for x in 0..50_000u64 {
        sample.push(key, &[DispatcherId::new(3, x); 2]);
        sample.push(key, &[DispatcherId::new(3, x + (1 << 63)); 2]);
    }

    // Equal XOR and equal AND pairs in the low half (high tag 4 + i, one family instance each).
    for i in 0..50_000u64 {
        let (a, b, c, d) = equal_xor_and_and(&mut rng);
        let high = 10_000_000 + i;
        sample.push(
            key,
            &[DispatcherId::new(high, a), DispatcherId::new(high, b)],
        );
        sample.push(
            key,
            &[DispatcherId::new(high, c), DispatcherId::new(high, d)],
        );
    }
    sample
}

/// The number of pairs of entries with equal values (sorting, then counting runs).
fn colliding_pairs<T: Ord + Clone>(values: &[T]) -> u64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let mut pairs = 0u64;
    let mut run = 1u64;
    for window in sorted.windows(2) {
        if window[0] == window[1] {
            run += 1;
        } else {
            pairs += run * (run - 1) / 2;
            run = 1;
        }
    }
    pairs + run * (run - 1) / 2
}

fn words(fingerprint: Fingerprint) -> [u64; 5] {
    [
        fingerprint.count,
        fingerprint.xor_high,
        fingerprint.xor_low,
        fingerprint.sum_high,
        fingerprint.sum_low,
    ]
}

#[test]
fn no_keyed_collision_among_structured_families() {
    let key = FingerprintKey::new(KEYS[0]);
    let sample = structured_sample(&key);
    let sets = sample.keyed.len() as u64;
    let pairs = sets * (sets - 1) / 2;
    let plain: Vec<[u64; 5]> = sample.plain.iter().map(|f| words(*f)).collect();
    let keyed: Vec<[u64; 5]> = sample.keyed.iter().map(|f| words(f.wire())).collect();
    let plain_collisions = colliding_pairs(&plain);
    let keyed_collisions = colliding_pairs(&keyed);
    println!(
        "{sets} distinct structured multisets, {pairs} pairs: plain fingerprint collides on \
         {plain_collisions} pairs, keyed on {keyed_collisions}"
    );
    assert!(pairs >= 10_000_000, "{pairs}");
    assert!(
        plain_collisions > 100_000,
        "the sample must contain plain collisions"
    );
    assert_eq!(keyed_collisions, 0);
}

#[test]
fn colliding_pairs_counts_runs() {
    assert_eq!(colliding_pairs(&[1, 2, 3]), 0);
    assert_eq!(colliding_pairs(&[1, 1, 2, 2, 2]), 1 + 3);
    assert_eq!(colliding_pairs::<u8>(&[]), 0);
}
