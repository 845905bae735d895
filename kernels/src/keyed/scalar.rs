//! The keyed loop with no target features of its own: eight IDs per step through the `aes`
//! crate's eight-block round (pipelined AES-NI where the CPU has it, its constant-time bitsliced
//! software round elsewhere), aggregated in plain `u64` accumulators.

use super::{mix, EightBlockRounds, KeySchedule};
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
            fingerprint.xor_low ^= id[0];
            fingerprint.xor_high ^= id[1];
            fingerprint.sum_low = fingerprint.sum_low.wrapping_add(id[0]);
            fingerprint.sum_high = fingerprint.sum_high.wrapping_add(id[1]);
        }
    }
    fingerprint.count = (blocks.len() * IDS_PER_STEP) as u64;
    tail.iter().fold(fingerprint, |fingerprint, id| {
        fingerprint.add(mix(schedule, *id))
    })
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
    let mut fingerprint = RawFingerprint::EMPTY;
    for (block, block_states) in blocks.iter().zip(state_blocks) {
        for (id, state) in rounds.mix(block).iter().zip(block_states) {
            let mask = include_mask(*state, included);
            fingerprint.count = fingerprint.count.wrapping_add(mask & 1);
            fingerprint.xor_low ^= id[0] & mask;
            fingerprint.xor_high ^= id[1] & mask;
            fingerprint.sum_low = fingerprint.sum_low.wrapping_add(id[0] & mask);
            fingerprint.sum_high = fingerprint.sum_high.wrapping_add(id[1] & mask);
        }
    }
    fingerprint.merge(super::naive::fingerprint_masked(
        schedule, id_tail, state_tail, included,
    ))
}
