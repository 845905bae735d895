//! Tuned scalar: eight independent word accumulators (four IDs per step), no target features.
//!
//! On a default x86-64 build LLVM may still pair the accumulators into SSE2 registers; the point
//! of this kernel is the portable baseline every architecture gets, not the absence of SIMD.

use crate::{generic, IdWords, RawFingerprint};

/// Words accumulated independently per step.
pub const WORDS_PER_STEP: usize = 8;
/// IDs per step of the masked loop.
pub const MASKED_IDS_PER_STEP: usize = 4;

/// The scalar kernel's handle.
#[derive(Clone, Copy, Debug, Default)]
pub struct Scalar;

impl Scalar {
    /// Always available.
    pub fn is_available() -> bool {
        true
    }

    /// Always `Some`.
    pub fn new() -> Option<Scalar> {
        Some(Scalar)
    }
}

/// The fingerprint of `ids`.
pub fn fingerprint(ids: &[IdWords]) -> RawFingerprint {
    #[cfg(dcsum_gate_self_test)]
    gate_self_test_extra_work(ids);
    generic::fold::<WORDS_PER_STEP>(ids)
}

/// A deliberate slowdown for `scripts/bench-gate --self-test` ONLY (cargo feature
/// `gate-self-test`, never on by default): one redundant pass over the first eighth of the input,
/// about +12% instructions at the gated sizes, which the gate must catch. The result is unchanged.
#[cfg(dcsum_gate_self_test)]
#[inline(never)]
fn gate_self_test_extra_work(ids: &[IdWords]) {
    let eighth = std::hint::black_box(&ids[..ids.len() / 8]);
    std::hint::black_box(generic::fold::<WORDS_PER_STEP>(eighth));
}

/// The fingerprint of the IDs whose state is included.
pub fn fingerprint_masked(ids: &[IdWords], states: &[u8], included: u64) -> RawFingerprint {
    crate::check_columns(ids, states);
    generic::fold_masked::<MASKED_IDS_PER_STEP>(ids, states, included)
}

impl crate::FingerprintKernel for Scalar {
    fn name(&self) -> &'static str {
        "scalar"
    }
    fn fingerprint(&self, ids: &[IdWords]) -> RawFingerprint {
        fingerprint(ids)
    }
    fn fingerprint_masked(&self, ids: &[IdWords], states: &[u8], included: u64) -> RawFingerprint {
        fingerprint_masked(ids, states, included)
    }
}
