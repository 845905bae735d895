//! The keyed oracle: mix each ID, then fold it in as the plain oracle does. Dumb on purpose.

use super::{mix, KeySchedule};
use crate::{is_included, IdWords, RawFingerprint};

/// The keyed fingerprint of `ids`, one ID at a time.
pub fn fingerprint(schedule: &KeySchedule, ids: &[IdWords]) -> RawFingerprint {
    ids.iter().fold(RawFingerprint::EMPTY, |fingerprint, id| {
        fingerprint.add(mix(schedule, *id))
    })
}

/// The keyed fingerprint of the IDs whose state is included, one ID at a time, with a branch.
pub fn fingerprint_masked(
    schedule: &KeySchedule,
    ids: &[IdWords],
    states: &[u8],
    included: u64,
) -> RawFingerprint {
    crate::check_columns(ids, states);
    ids.iter()
        .zip(states)
        .filter(|(_, state)| is_included(**state, included))
        .fold(RawFingerprint::EMPTY, |fingerprint, (id, _)| {
            fingerprint.add(mix(schedule, *id))
        })
}
