//! Whether a node's actual fingerprint is *explained* by the operators in flight on it.
//!
//! While an operator runs, the IDs it touches on a node are *in flight* there: each may or may
//! not be in the node's included set yet (a dispatcher still Initializing, already Working, being
//! closed, already gone). Every other ID the maintainer expects on the node is *settled*: it must
//! be there. Fingerprints add, so the node's set is "settled plus some of the in-flight IDs"
//! exactly when its actual fingerprint equals
//!
//! ```text
//! settled + Σ_{x ∈ S} x     for some subset S of the in-flight IDs
//! ```
//!
//! [`explains`] decides that by meet in the middle: the subset sums of one half of the in-flight
//! IDs go into a hash set, and each subset sum of the other half is checked against what is left,
//! so `k` in-flight IDs cost `O(2^(k/2))` instead of `O(2^k)`; past [`MAX_IN_FLIGHT`] it answers
//! [`Explanation::TooMany`] rather than spend more. A node with nothing in flight is the O(1)
//! case `actual == settled`.
//!
//! What it promises: with the plain fingerprint, a "yes" means the node's set differs from
//! settled-plus-S by a difference whose fingerprint is zero, which random 128-bit IDs hit with
//! probability about 2^-128 per candidate (`2^k` candidates). The plain fingerprint's structured
//! blind spots (see `tests/plain_collisions.rs`) apply as they do to MATCH itself.

use crate::{DispatcherId, Fingerprint};
use std::collections::HashSet;

/// The most in-flight IDs on one node that [`explains`] searches (2^12 subset sums per half).
pub const MAX_IN_FLIGHT: usize = 24;

/// The answer of [`explains`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Explanation {
    /// `actual` is settled plus exactly these in-flight IDs.
    Explained(Vec<DispatcherId>),
    /// No subset of the in-flight IDs makes up the difference.
    Unexplained,
    /// More than [`MAX_IN_FLIGHT`] IDs in flight: not searched.
    TooMany(usize),
}

impl Explanation {
    /// Whether it is [`Explanation::Explained`].
    pub fn is_explained(&self) -> bool {
        matches!(self, Explanation::Explained(_))
    }
}

/// Whether `actual` is `settled` plus some subset of `in_flight` (distinct IDs), and which.
pub fn explains(
    actual: Fingerprint,
    settled: Fingerprint,
    in_flight: &[DispatcherId],
) -> Explanation {
    let missing = actual.subtract(settled);
    if missing == Fingerprint::EMPTY {
        return Explanation::Explained(Vec::new());
    }
    if in_flight.len() > MAX_IN_FLIGHT {
        return Explanation::TooMany(in_flight.len());
    }
    let (left, right) = in_flight.split_at(in_flight.len() / 2);
    let left_sums: HashSet<Fingerprint> = subset_sums(left).map(|(sum, _)| sum).collect();
    for (right_sum, right_mask) in subset_sums(right) {
        let rest = missing.subtract(right_sum);
        if left_sums.contains(&rest) {
            // Found; recover the left half's subset by one more pass (rare path).
            let left_mask = subset_sums(left)
                .find(|(sum, _)| *sum == rest)
                .map_or(0, |(_, mask)| mask);
            let chosen = pick(left, left_mask)
                .chain(pick(right, right_mask))
                .collect();
            return Explanation::Explained(chosen);
        }
    }
    Explanation::Unexplained
}

/// Every subset of `ids` (at most [`MAX_IN_FLIGHT`] / 2 + 1 of them) with its fingerprint, by
/// Gray code so each step adds or removes one ID.
fn subset_sums(ids: &[DispatcherId]) -> impl Iterator<Item = (Fingerprint, u32)> + '_ {
    let count = 1u32 << ids.len();
    let mut sum = Fingerprint::EMPTY;
    let mut previous = 0u32;
    (0..count).map(move |step| {
        let gray = step ^ (step >> 1);
        let changed = gray ^ previous;
        if changed != 0 {
            let id = ids[changed.trailing_zeros() as usize];
            if gray & changed != 0 {
                sum.add(id);
            } else {
                sum.remove(id);
            }
        }
        previous = gray;
        (sum, gray)
    })
}

fn pick(ids: &[DispatcherId], mask: u32) -> impl Iterator<Item = DispatcherId> + '_ {
    ids.iter()
        .enumerate()
        .filter(move |(index, _)| mask >> index & 1 == 1)
        .map(|(_, id)| *id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(count: u64) -> Vec<DispatcherId> {
        (0..count)
            .map(|i| DispatcherId::new(i.wrapping_mul(0x9e37_79b9_7f4a_7c15), !i ^ 0x5555))
            .collect()
    }

    #[test]
    fn every_subset_of_the_in_flight_ids_is_explained_and_named() {
        let in_flight = ids(7);
        let settled = Fingerprint::from_ids(ids(20).into_iter().skip(10));
        for mask in 0u32..1 << in_flight.len() {
            let chosen: Vec<DispatcherId> = pick(&in_flight, mask).collect();
            let mut actual = settled;
            for id in &chosen {
                actual.add(*id);
            }
            match explains(actual, settled, &in_flight) {
                Explanation::Explained(mut named) => {
                    named.sort();
                    let mut want = chosen.clone();
                    want.sort();
                    assert_eq!(named, want, "mask {mask:#b}");
                }
                other => panic!("mask {mask:#b}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_missing_settled_id_or_a_stray_one_is_unexplained() {
        let in_flight = ids(5);
        let settled_ids = ids(30).split_off(10);
        let settled = Fingerprint::from_ids(settled_ids.iter().copied());
        let mut lost = settled;
        lost.remove(settled_ids[3]);
        assert_eq!(
            explains(lost, settled, &in_flight),
            Explanation::Unexplained
        );
        let mut stray = settled;
        stray.add(DispatcherId::new(7, 7));
        assert_eq!(
            explains(stray, settled, &in_flight),
            Explanation::Unexplained
        );
        // Lost one settled ID but gained every in-flight one: still not explained.
        let mut both = lost;
        for id in &in_flight {
            both.add(*id);
        }
        assert_eq!(
            explains(both, settled, &in_flight),
            Explanation::Unexplained
        );
    }

    #[test]
    fn too_many_in_flight_is_not_searched_but_equality_still_holds() {
        let in_flight = ids(MAX_IN_FLIGHT as u64 + 1);
        let settled = Fingerprint::from_ids([DispatcherId::new(1, 1)]);
        assert_eq!(
            explains(settled, settled, &in_flight),
            Explanation::Explained(Vec::new())
        );
        let mut actual = settled;
        actual.add(in_flight[0]);
        assert_eq!(
            explains(actual, settled, &in_flight),
            Explanation::TooMany(MAX_IN_FLIGHT + 1)
        );
        let in_flight = ids(MAX_IN_FLIGHT as u64);
        let mut actual = settled;
        for id in in_flight.iter().step_by(3) {
            actual.add(*id);
        }
        assert!(explains(actual, settled, &in_flight).is_explained());
    }
}
