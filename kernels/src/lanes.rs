//! SIMD lanes built on `wide`: four `u64x4` XOR accumulators and four sum accumulators.
//!
//! `wide` fixes its instruction set when this crate is compiled: SSE2 pairs on a default x86-64
//! build, one AVX2 register under `-C target-feature=+avx2`, NEON on aarch64. Calling it inside a
//! `#[target_feature]` function does not widen it, which is why the runtime-detected kernels in
//! [`crate::x86_64`] exist. This kernel is the portable explicit-SIMD form.

use crate::generic::include_mask as mask;
use crate::{IdWords, RawFingerprint};
use wide::u64x4;

/// Vectors accumulated independently per step (each holds two IDs).
pub const VECTORS_PER_STEP: usize = 4;
/// IDs consumed per step.
pub const IDS_PER_STEP: usize = VECTORS_PER_STEP * 2;

/// The lanes kernel's handle.
#[derive(Clone, Copy, Debug, Default)]
pub struct Lanes;

impl Lanes {
    /// Always available (`wide` has a portable fallback).
    pub fn is_available() -> bool {
        true
    }

    /// Always `Some`.
    pub fn new() -> Option<Lanes> {
        Some(Lanes)
    }
}

#[inline(always)]
fn load(words: &[u64; 4]) -> u64x4 {
    u64x4::new(*words)
}

/// Folds vector accumulators and the scalar remainder into a fingerprint.
fn finish(count: u64, xor: [u64x4; 4], sum: [u64x4; 4], tail: RawFingerprint) -> RawFingerprint {
    let xor = xor.iter().fold(u64x4::ZERO, |acc, v| acc ^ *v).to_array();
    let sum = sum.iter().fold(u64x4::ZERO, |acc, v| acc + *v).to_array();
    RawFingerprint {
        count,
        xor_high: xor[1] ^ xor[3],
        xor_low: xor[0] ^ xor[2],
        sum_high: sum[1].wrapping_add(sum[3]),
        sum_low: sum[0].wrapping_add(sum[2]),
    }
    .merge(RawFingerprint { count: 0, ..tail })
}

/// The fingerprint of `ids`.
pub fn fingerprint(ids: &[IdWords]) -> RawFingerprint {
    let (blocks, tail) = ids.as_flattened().as_chunks::<{ 4 * VECTORS_PER_STEP }>();
    let mut xor = [u64x4::ZERO; VECTORS_PER_STEP];
    let mut sum = [u64x4::ZERO; VECTORS_PER_STEP];
    for block in blocks {
        let (vectors, _) = block.as_chunks::<4>();
        for (i, words) in vectors.iter().enumerate() {
            let v = load(words);
            xor[i] ^= v;
            sum[i] += v;
        }
    }
    let (tail_ids, _) = tail.as_chunks::<2>();
    finish(
        ids.len() as u64,
        xor,
        sum,
        crate::naive::fingerprint(tail_ids),
    )
}

/// The fingerprint of the IDs whose state is included; the mask is spread over both halves.
pub fn fingerprint_masked(ids: &[IdWords], states: &[u8], included: u64) -> RawFingerprint {
    crate::check_columns(ids, states);
    let (blocks, id_tail) = ids.as_chunks::<IDS_PER_STEP>();
    let (state_blocks, state_tail) = states.as_chunks::<IDS_PER_STEP>();
    let mut xor = [u64x4::ZERO; VECTORS_PER_STEP];
    let mut sum = [u64x4::ZERO; VECTORS_PER_STEP];
    let mut count = u64x4::ZERO;
    let one = u64x4::splat(1);
    for (block, block_states) in blocks.iter().zip(state_blocks) {
        for i in 0..VECTORS_PER_STEP {
            let m0 = mask(block_states[2 * i], included);
            let m1 = mask(block_states[2 * i + 1], included);
            let m = u64x4::new([m0, m0, m1, m1]);
            let a = block[2 * i];
            let b = block[2 * i + 1];
            let v = u64x4::new([a[0], a[1], b[0], b[1]]) & m;
            xor[i] ^= v;
            sum[i] += v;
            // Each included ID sets both of its lanes; counting every lane counts it twice.
            count += m & one;
        }
    }
    let counted: u64 = count
        .to_array()
        .iter()
        .fold(0u64, |acc, c| acc.wrapping_add(*c));
    let tail = crate::naive::fingerprint_masked(id_tail, state_tail, included);
    let mut fingerprint = finish(counted / 2, xor, sum, tail);
    fingerprint.count = fingerprint.count.wrapping_add(tail.count);
    fingerprint
}

impl crate::FingerprintKernel for Lanes {
    fn name(&self) -> &'static str {
        "lanes"
    }
    fn fingerprint(&self, ids: &[IdWords]) -> RawFingerprint {
        fingerprint(ids)
    }
    fn fingerprint_masked(&self, ids: &[IdWords], states: &[u8], included: u64) -> RawFingerprint {
        fingerprint_masked(ids, states, included)
    }
}
