//! The portable bulk algorithm, written once: the `scalar` kernel is [`fold`] and [`fold_masked`]
//! over fixed-size arrays (no target features); the x86-64 kernels share [`fold_lanes`] (the
//! final fold of their vector lanes and the tail), the keyed and `lanes` kernels
//! [`include_mask`].
//!
//! `fold::<W>` keeps `W` independent word accumulators for XOR and for the wrapping sum over the
//! flattened words `low0 high0 low1 high1 ...`; `W` is even, so even lanes hold `low` halves and
//! odd lanes `high` halves. The AVX2 and AVX-512 kernels do not stamp this loop: LLVM vectorised
//! it *across* blocks and rebuilt each vector from scalar loads (see `x86_64`), so their
//! contiguous loops are `core::arch` intrinsics (`contiguous_fold!`), and their masked loops are
//! table lookups (`avx2`) and mask registers (`avx512`).
//!
//! `fold_masked::<N>` does the same for N IDs per step with a per-ID all-ones/all-zeros mask
//! derived from the state byte without a branch ([`include_mask`]).

use crate::{IdWords, RawFingerprint};

#[inline(always)]
pub(crate) fn fold_lanes<const W: usize>(
    count: u64,
    xor: [u64; W],
    sum: [u64; W],
    tail: &[u64],
) -> RawFingerprint {
    let mut fingerprint = RawFingerprint {
        count,
        ..RawFingerprint::EMPTY
    };
    for pair in 0..W / 2 {
        fingerprint.xor_low ^= xor[2 * pair];
        fingerprint.xor_high ^= xor[2 * pair + 1];
        fingerprint.sum_low = fingerprint.sum_low.wrapping_add(sum[2 * pair]);
        fingerprint.sum_high = fingerprint.sum_high.wrapping_add(sum[2 * pair + 1]);
    }
    // The tail is whole IDs because W is even and every ID is two words.
    for id in tail.chunks_exact(2) {
        fingerprint.xor_low ^= id[0];
        fingerprint.xor_high ^= id[1];
        fingerprint.sum_low = fingerprint.sum_low.wrapping_add(id[0]);
        fingerprint.sum_high = fingerprint.sum_high.wrapping_add(id[1]);
    }
    fingerprint
}

/// The fingerprint of `ids` with `W` word accumulators (`W` even).
#[inline(always)]
pub(crate) fn fold<const W: usize>(ids: &[IdWords]) -> RawFingerprint {
    const { assert!(W.is_multiple_of(2) && W > 0) };
    let (blocks, tail) = ids.as_flattened().as_chunks::<W>();
    let mut xor = [0u64; W];
    let mut sum = [0u64; W];
    for block in blocks {
        for lane in 0..W {
            xor[lane] ^= block[lane];
            sum[lane] = sum[lane].wrapping_add(block[lane]);
        }
    }
    fold_lanes(ids.len() as u64, xor, sum, tail)
}

/// The masked fingerprint with `N` IDs per step. Lengths are checked by the caller.
#[inline(always)]
pub(crate) fn fold_masked<const N: usize>(
    ids: &[IdWords],
    states: &[u8],
    included: u64,
) -> RawFingerprint {
    debug_assert_eq!(ids.len(), states.len());
    let (id_blocks, id_tail) = ids.as_chunks::<N>();
    let (state_blocks, state_tail) = states.as_chunks::<N>();
    let mut count = [0u64; N];
    let mut xor_low = [0u64; N];
    let mut xor_high = [0u64; N];
    let mut sum_low = [0u64; N];
    let mut sum_high = [0u64; N];
    for (block, block_states) in id_blocks.iter().zip(state_blocks) {
        for i in 0..N {
            let mask = include_mask(block_states[i], included);
            count[i] = count[i].wrapping_add(mask & 1);
            xor_low[i] ^= block[i][0] & mask;
            xor_high[i] ^= block[i][1] & mask;
            sum_low[i] = sum_low[i].wrapping_add(block[i][0] & mask);
            sum_high[i] = sum_high[i].wrapping_add(block[i][1] & mask);
        }
    }
    let mut fingerprint = RawFingerprint::EMPTY;
    for i in 0..N {
        fingerprint = fingerprint.merge(RawFingerprint {
            count: count[i],
            xor_high: xor_high[i],
            xor_low: xor_low[i],
            sum_high: sum_high[i],
            sum_low: sum_low[i],
        });
    }
    for (id, state) in id_tail.iter().zip(state_tail) {
        let mask = include_mask(*state, included);
        fingerprint = fingerprint.merge(RawFingerprint {
            count: mask & 1,
            xor_high: id[1] & mask,
            xor_low: id[0] & mask,
            sum_high: id[1] & mask,
            sum_low: id[0] & mask,
        });
    }
    fingerprint
}

/// All ones when `state` is in `included`, else zero; no branch (a shift of 64 or more is zero).
#[inline(always)]
pub(crate) fn include_mask(state: u8, included: u64) -> u64 {
    (included.checked_shr(u32::from(state)).unwrap_or(0) & 1).wrapping_neg()
}
