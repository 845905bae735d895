//! AVX2 + AES-NI: one ID per `xmm` register, eight independent `aesenc` chains per step, enough
//! to cover the instruction's latency. valgrind runs it, so it is the keyed kernel an
//! instruction-count gate can measure.
//!
//! Also the AES-NI mixing of single IDs and of slices ([`AesNi`]), for callers that need the mixed
//! values themselves (the difference sketch picks cells from them). It needs only AES-NI;
//! [`crate::keyed::mix_fast`] and [`crate::keyed::mix_slice`] use it where the CPU has it and
//! fall back to the portable [`crate::keyed::mix`].

/// IDs per `xmm` register.
const IDS_PER_VECTOR: usize = 1;
/// Independent `xmm` chains per step.
const VECTORS: usize = 8;
/// IDs per step.
pub const IDS_PER_STEP: usize = IDS_PER_VECTOR * VECTORS;

super::keyed_kernel! {
    /// The keyed AVX2 + AES-NI kernel: exists only where the CPU has both (and the build did not
    /// switch AVX2 off with `no_avx2`).
    handle: Avx2AesNi,
    detect: ["avx2", "aes"],
    disabled_by: ["no_avx2"],
}

super::keyed_fold! {
    features: "avx2,aes",
    vector: __m128i,
    zero: _mm_setzero_si128,
    load: _mm_loadu_si128,
    xor: _mm_xor_si128,
    add: _mm_add_epi64,
    and: _mm_and_si128,
    aesenc: _mm_aesenc_si128,
    broadcast_key: |low, high| _mm_set_epi64x(high, low),
    spread_masks: |m| _mm_set1_epi64x(m[0] as i64),
}

crate::dispatch::runtime_handle! {
    /// Proof that this CPU has AES-NI.
    handle: AesNi,
    detect: ["aes"],
    disabled_by: [],
}

impl AesNi {
    /// [`crate::keyed::mix`] of one ID.
    #[inline]
    pub fn mix(self, schedule: &KeySchedule, id: IdWords) -> IdWords {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: the handle exists only where the CPU has AES-NI, all `mixing` enables.
            unsafe { mixing::mix(schedule, id) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            unreachable!("no handle can exist off x86-64: {:?} {:?}", schedule, id)
        }
    }

    /// [`crate::keyed::mix`] of every ID of `ids` into `out`.
    ///
    /// # Panics
    /// If `ids` and `out` differ in length.
    pub fn mix_slice(self, schedule: &KeySchedule, ids: &[IdWords], out: &mut [IdWords]) {
        assert_eq!(
            ids.len(),
            out.len(),
            "mix_slice: input and output lengths differ"
        );
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: as in `mix`; the lengths were checked just above.
            unsafe { mixing::mix_slice(schedule, ids, out) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            unreachable!("no handle can exist off x86-64: {:?}", schedule)
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod mixing {
    use crate::keyed::{KeySchedule, ROUND_KEYS};
    use crate::IdWords;
    use std::arch::x86_64::*;

    #[target_feature(enable = "aes")]
    #[inline]
    fn round_keys(schedule: &KeySchedule) -> [__m128i; ROUND_KEYS] {
        let keys = schedule.round_keys();
        std::array::from_fn(|i| _mm_set_epi64x(keys[i][1] as i64, keys[i][0] as i64))
    }

    #[target_feature(enable = "aes")]
    #[inline]
    fn mix_vector(keys: &[__m128i; ROUND_KEYS], id: &IdWords) -> IdWords {
        // SAFETY: `id` is 16 readable bytes; the load is unaligned.
        let mut state = unsafe { _mm_loadu_si128(id.as_ptr().cast()) };
        state = _mm_xor_si128(state, keys[0]);
        for key in &keys[1..] {
            state = _mm_aesenc_si128(state, *key);
        }
        let mut out = [0u64; 2];
        // SAFETY: `out` is 16 writable bytes; the store is unaligned.
        unsafe { _mm_storeu_si128(out.as_mut_ptr().cast(), state) };
        out
    }

    /// [`crate::keyed::mix`] of one ID.
    ///
    /// # Safety
    /// The CPU must have AES-NI.
    #[target_feature(enable = "aes")]
    pub(super) unsafe fn mix(schedule: &KeySchedule, id: IdWords) -> IdWords {
        mix_vector(&round_keys(schedule), &id)
    }

    /// [`crate::keyed::mix`] of every ID; eight independent chains per step.
    ///
    /// # Safety
    /// The CPU must have AES-NI; `ids` and `out` must be the same length.
    #[target_feature(enable = "aes")]
    pub(super) unsafe fn mix_slice(schedule: &KeySchedule, ids: &[IdWords], out: &mut [IdWords]) {
        let keys = round_keys(schedule);
        let (blocks, tail) = ids.as_chunks::<8>();
        let (out_blocks, out_tail) = out.as_chunks_mut::<8>();
        for (block, out_block) in blocks.iter().zip(out_blocks) {
            for i in 0..8 {
                out_block[i] = mix_vector(&keys, &block[i]);
            }
        }
        for (id, out) in tail.iter().zip(out_tail) {
            *out = mix_vector(&keys, id);
        }
    }
}
