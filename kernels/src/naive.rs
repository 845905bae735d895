//! The oracle: an iterator fold over the definition, kept dumb on purpose.
//!
//! Every other kernel is tested against this one. Do not optimise it: its value is that it is
//! obviously the definition.

use crate::{is_included, IdWords, RawFingerprint};

/// The naive kernel's handle.
#[derive(Clone, Copy, Debug, Default)]
pub struct Naive;

impl Naive {
    /// Always available.
    pub fn is_available() -> bool {
        true
    }

    /// Always `Some`.
    pub fn new() -> Option<Naive> {
        Some(Naive)
    }
}

/// The fingerprint of `ids`, one ID at a time.
pub fn fingerprint(ids: &[IdWords]) -> RawFingerprint {
    ids.iter().fold(RawFingerprint::EMPTY, |fingerprint, id| {
        fingerprint.add(*id)
    })
}

/// The fingerprint of the IDs whose state is included, one ID at a time, with a branch.
pub fn fingerprint_masked(ids: &[IdWords], states: &[u8], included: u64) -> RawFingerprint {
    crate::check_columns(ids, states);
    ids.iter()
        .zip(states)
        .filter(|(_, state)| is_included(**state, included))
        .fold(RawFingerprint::EMPTY, |fingerprint, (id, _)| {
            fingerprint.add(*id)
        })
}

impl crate::FingerprintKernel for Naive {
    fn name(&self) -> &'static str {
        "naive"
    }
    fn fingerprint(&self, ids: &[IdWords]) -> RawFingerprint {
        fingerprint(ids)
    }
    fn fingerprint_masked(&self, ids: &[IdWords], states: &[u8], included: u64) -> RawFingerprint {
        fingerprint_masked(ids, states, included)
    }
}
