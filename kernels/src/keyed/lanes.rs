//! The keyed loop with `wide` lanes for the aggregation: `wide` has no AES, so the mixing is the
//! `aes` crate's eight-block round (as in [`super::scalar`]) and the eight mixed IDs are folded
//! into four `u64x4` XOR and sum accumulators, `low high low high` as in the plain `lanes`
//! kernel. It is the portable explicit-SIMD form; the runtime-detected kernels are the fast ones.

use super::{EightBlockRounds, KeySchedule};
use crate::generic::include_mask;
use crate::{IdWords, RawFingerprint};
use wide::u64x4;

/// IDs per step.
pub const IDS_PER_STEP: usize = 8;

#[inline(always)]
fn pair(a: IdWords, b: IdWords) -> u64x4 {
    u64x4::new([a[0], a[1], b[0], b[1]])
}

fn finish(count: u64, xor: [u64x4; 4], sum: [u64x4; 4]) -> RawFingerprint {
    let xor = xor.iter().fold(u64x4::ZERO, |acc, v| acc ^ *v).to_array();
    let sum = sum.iter().fold(u64x4::ZERO, |acc, v| acc + *v).to_array();
    RawFingerprint {
        count,
        xor_high: xor[1] ^ xor[3],
        xor_low: xor[0] ^ xor[2],
        sum_high: sum[1].wrapping_add(sum[3]),
        sum_low: sum[0].wrapping_add(sum[2]),
    }
}

/// The keyed fingerprint of `ids`.
pub fn fingerprint(schedule: &KeySchedule, ids: &[IdWords]) -> RawFingerprint {
    let rounds = EightBlockRounds::new(schedule);
    let (blocks, tail) = ids.as_chunks::<IDS_PER_STEP>();
    let mut xor = [u64x4::ZERO; 4];
    let mut sum = [u64x4::ZERO; 4];
    for block in blocks {
        let mixed = rounds.mix(block);
        for v in 0..4 {
            let lanes = pair(mixed[2 * v], mixed[2 * v + 1]);
            xor[v] ^= lanes;
            sum[v] += lanes;
        }
    }
    let bulk = finish((blocks.len() * IDS_PER_STEP) as u64, xor, sum);
    bulk.merge(super::tail(schedule, tail, std::iter::repeat(u64::MAX)))
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
    let mut xor = [u64x4::ZERO; 4];
    let mut sum = [u64x4::ZERO; 4];
    let mut count = u64x4::ZERO;
    let one = u64x4::splat(1);
    for (block, block_states) in blocks.iter().zip(state_blocks) {
        let mixed = rounds.mix(block);
        for v in 0..4 {
            let m0 = include_mask(block_states[2 * v], included);
            let m1 = include_mask(block_states[2 * v + 1], included);
            let mask = u64x4::new([m0, m0, m1, m1]);
            let lanes = pair(mixed[2 * v], mixed[2 * v + 1]) & mask;
            xor[v] ^= lanes;
            sum[v] += lanes;
            // Each included ID sets both of its lanes; counting every lane counts it twice.
            count += mask & one;
        }
    }
    let counted = count
        .to_array()
        .iter()
        .fold(0u64, |acc, c| acc.wrapping_add(*c));
    let bulk = finish(counted / 2, xor, sum);
    let tail_masks = state_tail
        .iter()
        .map(|state| include_mask(*state, included));
    bulk.merge(super::tail(schedule, id_tail, tail_masks))
}
