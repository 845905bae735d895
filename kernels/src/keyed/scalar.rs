//! The keyed loop with no target features of its own: eight IDs per step through the `aes`
//! crate's eight-block round (pipelined AES-NI where the CPU has it, its constant-time bitsliced
//! software round elsewhere), aggregated in plain `u64` accumulators.

use super::{add_masked, EightBlockRounds, KeySchedule};
use crate::generic::include_mask;
use crate::{IdWords, RawFingerprint};

/// IDs per step.
pub const IDS_PER_STEP: usize = 8;

/// The keyed fingerprint of `ids`.
pub fn fingerprint(schedule: &KeySchedule, ids: &[IdWords]) -> RawFingerprint {
    let rounds = EightBlockRounds::new(schedule);
    let (blocks, tail) = ids.as_chunks::<IDS_PER_STEP>();
    let mut fingerprint = RawFingerprint::EMPTY;
    for block in blocks {
        for id in rounds.mix(block) {
            fingerprint = add_masked(fingerprint, id, u64::MAX);
        }
    }
    fingerprint.merge(super::tail(schedule, tail, std::iter::repeat(u64::MAX)))
}

/// The keyed fingerprint of the IDs whose state is included (branch-free masks).
///
/// # Panics
/// If `ids` and `states` differ in length.
pub fn fingerprint_masked(
    schedule: &KeySchedule,
    ids: &[IdWords],
    states: &[u8],
    included: u64,
) -> RawFingerprint {
    crate::check_columns(ids, states);
    let rounds = EightBlockRounds::new(schedule);
    let (blocks, id_tail) = ids.as_chunks::<IDS_PER_STEP>();
    let (state_blocks, state_tail) = states.as_chunks::<IDS_PER_STEP>();
    let mask = |state: &u8| include_mask(*state, included);
    let mut fingerprint = RawFingerprint::EMPTY;
    for (block, block_states) in blocks.iter().zip(state_blocks) {
        for (id, state) in rounds.mix(block).iter().zip(block_states) {
            fingerprint = add_masked(fingerprint, *id, mask(state));
        }
    }
    fingerprint.merge(super::tail(schedule, id_tail, state_tail.iter().map(mask)))
}
