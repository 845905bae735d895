//! `Fingerprint`: the order-independent digest of a multiset of dispatcher IDs.
//!
//! Five `u64` words: `count`, `xorHigh`, `xorLow`, `sumHigh`, `sumLow` (the reference system's
//! names, used in every external format). Adding or removing one ID is O(1); everything wraps,
//! so removing an ID that was never added yields what the reference system's unsigned arithmetic
//! yields instead of panicking. Two fingerprints merge (multiset union) and subtract (its inverse).

use crate::choose;
use crate::lifecycle::{ComponentState, StateSet};
use crate::DispatcherId;
use dispatcher_checksum_kernels::RawFingerprint;
use std::fmt;

/// The fingerprint of a multiset of dispatcher IDs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "camelCase", deny_unknown_fields)
)]
pub struct Fingerprint {
    /// Number of IDs, wrapping.
    pub count: u64,
    /// XOR of every `high` half.
    pub xor_high: u64,
    /// XOR of every `low` half.
    pub xor_low: u64,
    /// Wrapping sum of every `high` half.
    pub sum_high: u64,
    /// Wrapping sum of every `low` half.
    pub sum_low: u64,
}

impl Fingerprint {
    /// The fingerprint of the empty set.
    pub const EMPTY: Fingerprint = Fingerprint {
        count: 0,
        xor_high: 0,
        xor_low: 0,
        sum_high: 0,
        sum_low: 0,
    };

    /// The fingerprint of `ids`, by the automatic kernel choice (see [`crate::choose`]).
    pub fn of(ids: &[DispatcherId]) -> Fingerprint {
        choose::fingerprint(ids)
    }

    /// The fingerprint of the IDs whose state is in `included`; `states[i]` is the state of
    /// `ids[i]`. Use [`StateSet::DEFAULT_INCLUDED`] for the reference node's rule.
    ///
    /// # Panics
    /// If the two columns differ in length.
    pub fn of_masked(
        ids: &[DispatcherId],
        states: &[ComponentState],
        included: StateSet,
    ) -> Fingerprint {
        choose::fingerprint_masked(ids, bytemuck::cast_slice(states), included)
    }

    /// The fingerprint of every ID an iterator yields, for callers whose IDs are not in a slice.
    pub fn from_ids(ids: impl IntoIterator<Item = DispatcherId>) -> Fingerprint {
        ids.into_iter().collect()
    }

    /// Adds one ID.
    #[inline]
    pub fn add(&mut self, id: DispatcherId) {
        self.count = self.count.wrapping_add(1);
        self.xor_high ^= id.high;
        self.xor_low ^= id.low;
        self.sum_high = self.sum_high.wrapping_add(id.high);
        self.sum_low = self.sum_low.wrapping_add(id.low);
    }

    /// Removes one ID (wrapping: removing an absent ID does not panic).
    #[inline]
    pub fn remove(&mut self, id: DispatcherId) {
        self.count = self.count.wrapping_sub(1);
        self.xor_high ^= id.high;
        self.xor_low ^= id.low;
        self.sum_high = self.sum_high.wrapping_sub(id.high);
        self.sum_low = self.sum_low.wrapping_sub(id.low);
    }

    /// The fingerprint of the multiset union.
    #[inline]
    #[must_use]
    pub const fn merge(self, other: Fingerprint) -> Fingerprint {
        Fingerprint {
            count: self.count.wrapping_add(other.count),
            xor_high: self.xor_high ^ other.xor_high,
            xor_low: self.xor_low ^ other.xor_low,
            sum_high: self.sum_high.wrapping_add(other.sum_high),
            sum_low: self.sum_low.wrapping_add(other.sum_low),
        }
    }

    /// The inverse of [`merge`](Fingerprint::merge): `a.merge(b).subtract(b) == a`.
    #[inline]
    #[must_use]
    pub const fn subtract(self, other: Fingerprint) -> Fingerprint {
        Fingerprint {
            count: self.count.wrapping_sub(other.count),
            xor_high: self.xor_high ^ other.xor_high,
            xor_low: self.xor_low ^ other.xor_low,
            sum_high: self.sum_high.wrapping_sub(other.sum_high),
            sum_low: self.sum_low.wrapping_sub(other.sum_low),
        }
    }

    /// Whether this is the fingerprint of the empty set.
    pub const fn is_empty(self) -> bool {
        self.count == 0
            && self.xor_high == 0
            && self.xor_low == 0
            && self.sum_high == 0
            && self.sum_low == 0
    }
}

impl From<RawFingerprint> for Fingerprint {
    fn from(raw: RawFingerprint) -> Self {
        Fingerprint {
            count: raw.count,
            xor_high: raw.xor_high,
            xor_low: raw.xor_low,
            sum_high: raw.sum_high,
            sum_low: raw.sum_low,
        }
    }
}

impl From<Fingerprint> for RawFingerprint {
    fn from(fingerprint: Fingerprint) -> Self {
        RawFingerprint {
            count: fingerprint.count,
            xor_high: fingerprint.xor_high,
            xor_low: fingerprint.xor_low,
            sum_high: fingerprint.sum_high,
            sum_low: fingerprint.sum_low,
        }
    }
}

impl FromIterator<DispatcherId> for Fingerprint {
    fn from_iter<I: IntoIterator<Item = DispatcherId>>(ids: I) -> Self {
        let mut fingerprint = Fingerprint::EMPTY;
        fingerprint.extend(ids);
        fingerprint
    }
}

impl Extend<DispatcherId> for Fingerprint {
    fn extend<I: IntoIterator<Item = DispatcherId>>(&mut self, ids: I) {
        for id in ids {
            self.add(id);
        }
    }
}

/// `count=3 xorHigh=0x… xorLow=0x… sumHigh=0x… sumLow=0x…`: the field names of the wire, the
/// 64-bit words in fixed-width hex so two fingerprints line up in a log.
impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "count={} xorHigh={:#018x} xorLow={:#018x} sumHigh={:#018x} sumLow={:#018x}",
            self.count, self.xor_high, self.xor_low, self.sum_high, self.sum_low
        )
    }
}
