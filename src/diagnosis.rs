//! Naming a difference of one dispatcher from two plain fingerprints alone.
//!
//! When the expected and the actual multisets differ by exactly one ID, the difference of their
//! fingerprints *is* that ID: the count differs by one, and in each half the difference of the
//! sums equals the XOR difference (for an ID the node lacks) or its negation (for an ID the node
//! has in excess). [`Fingerprint::single_difference`] checks exactly that and otherwise says it
//! cannot tell. Larger differences need the difference sketch ([`crate::sketch`]), which
//! [`exchange`] (the sketch request and response between node and maintainer) wires into the
//! maintainer and the node.
//!
//! What this does not promise: a larger difference can *look like* one ID when the plain
//! fingerprint aliases it (the families of `tests/plain_collisions.rs`, for example an extra
//! pair `{5, 6}` and a missing pair `{4, 7}` next to a missing `x` reads as "missing `x`"). The
//! answer is always *consistent* with both fingerprints; it is certain only when the two sets are
//! known to differ by at most one ID. The keyed fingerprint makes such aliasing improbable for
//! IDs not chosen by someone who knows the key.

use crate::{DispatcherId, Fingerprint};
use std::fmt;

#[cfg(all(feature = "keyed", feature = "wire"))]
pub mod exchange;

/// What two fingerprints say about a difference of one ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SingleDifference {
    /// The ID is in the expected multiset (the receiver) and not in the actual one (the argument).
    Missing(DispatcherId),
    /// The ID is in the actual multiset and not in the expected one (or once more than expected).
    Extra(DispatcherId),
    /// The fingerprints are equal, or differ by something other than exactly one ID.
    CannotTell,
}

impl Fingerprint {
    /// The one ID by which `self` (the expected multiset) and `actual` differ, if the
    /// fingerprints show a difference of exactly one ID; [`SingleDifference::CannotTell`]
    /// otherwise, including when they are equal. See the module docs for what it cannot promise.
    pub fn single_difference(&self, actual: &Fingerprint) -> SingleDifference {
        let difference = self.subtract(*actual);
        let xor = DispatcherId::new(difference.xor_high, difference.xor_low);
        match difference.count {
            1 if difference.sum_high == xor.high && difference.sum_low == xor.low => {
                SingleDifference::Missing(xor)
            }
            u64::MAX
                if difference.sum_high.wrapping_neg() == xor.high
                    && difference.sum_low.wrapping_neg() == xor.low =>
            {
                SingleDifference::Extra(xor)
            }
            _ => SingleDifference::CannotTell,
        }
    }
}

impl fmt::Display for SingleDifference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SingleDifference::Missing(id) => write!(f, "missing {id} (expected, not running)"),
            SingleDifference::Extra(id) => write!(f, "extra {id} (running, not expected)"),
            SingleDifference::CannotTell => {
                f.write_str("cannot tell: not a difference of exactly one dispatcher")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random_ids(rng: &mut ChaCha8Rng, n: usize) -> Vec<DispatcherId> {
        (0..n)
            .map(|_| DispatcherId::new(rng.random(), rng.random()))
            .collect()
    }

    #[test]
    fn names_the_one_missing_or_extra_id() {
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        for n in [1, 2, 3, 10, 1000] {
            for _ in 0..50 {
                let ids = random_ids(&mut rng, n);
                let full = Fingerprint::of(&ids);
                let index = rng.random_range(0..n);
                let mut fewer = ids.clone();
                let lost = fewer.swap_remove(index);
                let short = Fingerprint::of(&fewer);
                assert_eq!(
                    full.single_difference(&short),
                    SingleDifference::Missing(lost)
                );
                assert_eq!(
                    short.single_difference(&full),
                    SingleDifference::Extra(lost)
                );
            }
        }
    }

    #[test]
    fn names_ids_at_the_edges_of_the_halves() {
        let base = [DispatcherId::new(1, 2), DispatcherId::new(3, 4)];
        for id in [
            DispatcherId::new(0, 0),
            DispatcherId::new(u64::MAX, u64::MAX),
            DispatcherId::new(1 << 63, 0),
            DispatcherId::new(0, 1 << 63),
        ] {
            let expected = Fingerprint::of(&[base[0], base[1], id]);
            let actual = Fingerprint::of(&base);
            assert_eq!(
                expected.single_difference(&actual),
                SingleDifference::Missing(id)
            );
            assert_eq!(
                actual.single_difference(&expected),
                SingleDifference::Extra(id)
            );
        }
    }

    #[test]
    fn a_duplicated_id_is_an_extra_copy() {
        let id = DispatcherId::new(9, 9);
        let expected = Fingerprint::of(&[id]);
        let actual = Fingerprint::of(&[id, id]);
        assert_eq!(
            expected.single_difference(&actual),
            SingleDifference::Extra(id)
        );
    }

    #[test]
    fn equal_fingerprints_cannot_tell() {
        let ids = [DispatcherId::new(1, 2)];
        let fingerprint = Fingerprint::of(&ids);
        assert_eq!(
            fingerprint.single_difference(&fingerprint),
            SingleDifference::CannotTell
        );
        assert_eq!(
            Fingerprint::EMPTY.single_difference(&Fingerprint::EMPTY),
            SingleDifference::CannotTell
        );
    }

    #[test]
    fn two_or_more_differences_cannot_tell() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..1000 {
            let ids = random_ids(&mut rng, 5);
            let expected = Fingerprint::of(&ids);
            // Two missing, two extra, one missing and one extra (equal counts), two missing and
            // one extra (the count differs by one, the halves do not match).
            let cases = [
                Fingerprint::of(&ids[..3]),
                Fingerprint::of(&[&ids[..], &random_ids(&mut rng, 2)].concat()),
                Fingerprint::of(&[&ids[..4], &random_ids(&mut rng, 1)].concat()),
                Fingerprint::of(&[&ids[..3], &random_ids(&mut rng, 1)].concat()),
            ];
            for actual in cases {
                assert_eq!(
                    expected.single_difference(&actual),
                    SingleDifference::CannotTell
                );
                assert_eq!(
                    actual.single_difference(&expected),
                    SingleDifference::CannotTell
                );
            }
        }
    }

    #[test]
    fn a_count_difference_of_one_with_mismatched_halves_cannot_tell() {
        let mut expected = Fingerprint::of(&[DispatcherId::new(5, 5)]);
        // Same count difference, but one half's sum no longer equals its XOR.
        expected.sum_low = expected.sum_low.wrapping_add(1);
        assert_eq!(
            expected.single_difference(&Fingerprint::EMPTY),
            SingleDifference::CannotTell
        );
        expected.sum_low = expected.sum_low.wrapping_sub(1);
        expected.sum_high ^= 1 << 40;
        assert_eq!(
            expected.single_difference(&Fingerprint::EMPTY),
            SingleDifference::CannotTell
        );
    }

    #[test]
    fn an_aliased_larger_difference_reads_as_one_id_as_documented() {
        // Missing {4, 7, x}, extra {5, 6}: the plain fingerprint sees only x.
        let x = DispatcherId::new(0, 1000);
        let low = |v: u64| DispatcherId::new(0, v);
        let expected = Fingerprint::of(&[low(4), low(7), x]);
        let actual = Fingerprint::of(&[low(5), low(6)]);
        assert_eq!(
            expected.single_difference(&actual),
            SingleDifference::Missing(x)
        );
    }

    #[test]
    fn display_says_which_side() {
        let id = DispatcherId::new(0, 1);
        assert!(SingleDifference::Missing(id)
            .to_string()
            .starts_with("missing "));
        assert!(SingleDifference::Extra(id)
            .to_string()
            .starts_with("extra "));
        assert!(SingleDifference::CannotTell
            .to_string()
            .starts_with("cannot tell"));
    }
}
