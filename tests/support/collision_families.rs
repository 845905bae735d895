//! Families of pairs of different ID multisets that the plain fingerprint cannot tell apart.
//!
//! Shared by `tests/plain_collisions.rs` (which shows the plain fingerprint collides on every
//! pair) and `tests/keyed_fingerprint.rs` (which shows the keyed fingerprint separates them).
#![allow(dead_code)] // each test crate uses a different subset

use dispatcher_checksum::DispatcherId;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A pair of different multisets, with a name for failure messages.
pub struct CollidingPair {
    pub family: &'static str,
    pub left: Vec<DispatcherId>,
    pub right: Vec<DispatcherId>,
}

/// `a + b == (a ^ b) + 2 (a & b)`: two pairs with the same XOR and the same AND have the same
/// sum, so `{a, b}` and `{c, d}` collide. Returns `(a, b, c, d)` with `{a, b} != {c, d}`,
/// choosing for every bit where `a ^ b` is one which side of each pair gets it.
pub fn equal_xor_and_and(rng: &mut ChaCha8Rng) -> (u64, u64, u64, u64) {
    loop {
        let xor: u64 = rng.random();
        let and: u64 = rng.random::<u64>() & !xor;
        let first_side: u64 = rng.random::<u64>() & xor;
        let second_side: u64 = rng.random::<u64>() & xor;
        let (a, b) = (and | first_side, and | (xor & !first_side));
        let (c, d) = (and | second_side, and | (xor & !second_side));
        if (a, b) != (c, d) && (a, b) != (d, c) {
            return (a, b, c, d);
        }
    }
}

/// Every pair of every family, deterministic from `seed`: `per_family` random instances of each
/// random family plus the fixed examples of the issue.
pub fn all_pairs(seed: u64, per_family: usize) -> Vec<CollidingPair> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pairs = vec![
        CollidingPair {
            family: "{4,7} vs {5,6} in the low half",
            left: vec![DispatcherId::new(0, 4), DispatcherId::new(0, 7)],
            right: vec![DispatcherId::new(0, 5), DispatcherId::new(0, 6)],
        },
        CollidingPair {
            family: "{4,7} vs {5,6} in the high half",
            left: vec![DispatcherId::new(4, 9), DispatcherId::new(7, 9)],
            right: vec![DispatcherId::new(5, 9), DispatcherId::new(6, 9)],
        },
    ];
    for _ in 0..per_family {
        let (a, b, c, d) = equal_xor_and_and(&mut rng);
        let high: u64 = rng.random();
        pairs.push(CollidingPair {
            family: "equal XOR and AND in the low half",
            left: vec![DispatcherId::new(high, a), DispatcherId::new(high, b)],
            right: vec![DispatcherId::new(high, c), DispatcherId::new(high, d)],
        });
        let (h1, h2): (u64, u64) = (rng.random(), rng.random());
        let (l1, l2): (u64, u64) = (rng.random(), rng.random());
        pairs.push(CollidingPair {
            family: "low halves swapped between two IDs",
            left: vec![DispatcherId::new(h1, l1), DispatcherId::new(h2, l2)],
            right: vec![DispatcherId::new(h1, l2), DispatcherId::new(h2, l1)],
        });
        let x: u64 = rng.random();
        let other: u64 = rng.random();
        pairs.push(CollidingPair {
            family: "{x, x} vs {x + 2^63, x + 2^63} in the low half",
            left: vec![DispatcherId::new(other, x); 2],
            right: vec![DispatcherId::new(other, x.wrapping_add(1 << 63)); 2],
        });
        pairs.push(CollidingPair {
            family: "{x, x} vs {x + 2^63, x + 2^63} in the high half",
            left: vec![DispatcherId::new(x, other); 2],
            right: vec![DispatcherId::new(x.wrapping_add(1 << 63), other); 2],
        });
    }
    pairs.extend(dense_range_collisions(64, per_family.max(1) * 4));
    pairs
}

/// The plain fingerprint's key for a 4-subset of small IDs `(0, v)`: `(xor, sum)` of the values
/// (count is 4 and the high half is zero for all of them).
pub fn small_subset_key(subset: [u64; 4]) -> (u64, u64) {
    (
        subset[0] ^ subset[1] ^ subset[2] ^ subset[3],
        subset[0] + subset[1] + subset[2] + subset[3],
    )
}

/// Every 4-subset of `0..n` (values in the low half), in lexicographic order.
pub fn four_subsets(n: u64) -> impl Iterator<Item = [u64; 4]> {
    (0..n).flat_map(move |a| {
        (a + 1..n)
            .flat_map(move |b| (b + 1..n).flat_map(move |c| (c + 1..n).map(move |d| [a, b, c, d])))
    })
}

/// Up to `limit` pairs of different 4-subsets of `0..n` with equal plain fingerprints: each
/// subset paired with the first earlier subset that has its `(xor, sum)`.
pub fn dense_range_collisions(n: u64, limit: usize) -> Vec<CollidingPair> {
    let mut first_with_key = std::collections::HashMap::new();
    let mut pairs = Vec::new();
    for subset in four_subsets(n) {
        if pairs.len() == limit {
            break;
        }
        match first_with_key.entry(small_subset_key(subset)) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(subset);
            }
            std::collections::hash_map::Entry::Occupied(first) => pairs.push(CollidingPair {
                family: "4-subsets of a dense range 0..64",
                left: first
                    .get()
                    .iter()
                    .map(|v| DispatcherId::new(0, *v))
                    .collect(),
                right: subset.iter().map(|v| DispatcherId::new(0, *v)).collect(),
            }),
        }
    }
    pairs
}
