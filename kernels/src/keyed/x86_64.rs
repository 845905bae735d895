//! Keyed kernels chosen at run time on x86-64, on the AES instructions. An ID is one 128-bit AES
//! block as it lies in memory (`low` then `high`), so a load is the whole block: no shuffles.
//! On other architectures both report themselves unavailable.
//!
//! Each kernel is a handle type (the crate's one handle idiom, `crate::dispatch`): it exists only
//! where the CPU has every feature its entry points enable, which is what makes calling them
//! sound; `function()` / `masked_function()` hand the entry points out as plain pointers.

/// Stamps a keyed kernel's handle (availability from `detect` and `disabled_by`) and its safe
/// methods and function pointers around the module's `entry`.
macro_rules! keyed_kernel {
    (
        $(#[$attr:meta])*
        handle: $handle:ident,
        detect: [$($feature:tt),+ $(,)?],
        disabled_by: [$($disable_feature:literal),* $(,)?] $(,)?
    ) => {
        use crate::keyed::{KeySchedule, KeyedFingerprintFn, KeyedMaskedFingerprintFn};
        use crate::{IdWords, RawFingerprint};

        crate::dispatch::runtime_handle! {
            $(#[$attr])*
            handle: $handle,
            detect: [$($feature),+],
            disabled_by: [$($disable_feature),*],
        }

        impl $handle {
            // Not `#[inline]`: then `entry` stays private to this crate's object code, and LLVM
            // compiles it knowing every caller (the AVX-512 code is verified by its assembly).
            /// The keyed fingerprint of `ids`.
            pub fn fingerprint(self, schedule: &KeySchedule, ids: &[IdWords]) -> RawFingerprint {
                #[cfg(target_arch = "x86_64")]
                {
                    // SAFETY: a handle exists only after `is_available()` saw every feature
                    // that `entry` enables.
                    unsafe { entry::fingerprint(schedule, ids) }
                }
                #[cfg(not(target_arch = "x86_64"))]
                {
                    unreachable!("no handle can exist off x86-64: {:?} {}", schedule, ids.len())
                }
            }

            /// The keyed fingerprint of the IDs whose state is included.
            ///
            /// # Panics
            /// If `ids` and `states` differ in length.
            pub fn fingerprint_masked(
                self,
                schedule: &KeySchedule,
                ids: &[IdWords],
                states: &[u8],
                included: u64,
            ) -> RawFingerprint {
                crate::check_columns(ids, states);
                #[cfg(target_arch = "x86_64")]
                {
                    // SAFETY: as in `fingerprint`; the column lengths were checked just above.
                    unsafe { entry::fingerprint_masked(schedule, ids, states, included) }
                }
                #[cfg(not(target_arch = "x86_64"))]
                {
                    unreachable!("no handle can exist off x86-64: {:?} {}", schedule, included)
                }
            }

            /// A plain function pointer to the contiguous entry point, for caching.
            pub fn function(self) -> KeyedFingerprintFn {
                |schedule, ids| $handle { _available: () }.fingerprint(schedule, ids)
            }

            /// A plain function pointer to the masked entry point, for caching.
            pub fn masked_function(self) -> KeyedMaskedFingerprintFn {
                |schedule, ids, states, included| {
                    $handle { _available: () }.fingerprint_masked(schedule, ids, states, included)
                }
            }
        }
    };
}

/// AVX2 + AES-NI: eight independent `aesenc` chains on `xmm` (one ID each) per step, enough to
/// cover the instruction's latency. valgrind runs it, so it is the keyed kernel an
/// instruction-count gate can measure.
pub mod avx2 {
    /// IDs per step.
    pub const IDS_PER_STEP: usize = 8;

    keyed_kernel! {
        /// The keyed AVX2 + AES-NI kernel: exists only where the CPU has both (and the build
        /// did not switch AVX2 off with `no_avx2`).
        handle: KeyedAvx2,
        detect: ["avx2", "aes"],
        disabled_by: ["no_avx2"],
    }

    #[cfg(target_arch = "x86_64")]
    mod entry {
        use super::IDS_PER_STEP;
        use crate::generic::include_mask;
        use crate::keyed::{KeySchedule, ROUND_KEYS};
        use crate::{IdWords, RawFingerprint};
        use std::arch::x86_64::*;

        #[target_feature(enable = "avx2,aes")]
        fn round_keys(schedule: &KeySchedule) -> [__m128i; ROUND_KEYS] {
            let keys = schedule.round_keys();
            let mut vectors = [_mm_setzero_si128(); ROUND_KEYS];
            for (vector, key) in vectors.iter_mut().zip(keys) {
                *vector = _mm_set_epi64x(key[1] as i64, key[0] as i64);
            }
            vectors
        }

        #[target_feature(enable = "avx2,aes")]
        #[inline]
        fn load(id: &IdWords) -> __m128i {
            // SAFETY: `id` is 16 readable bytes; the load has no alignment requirement.
            unsafe { _mm_loadu_si128(id.as_ptr().cast()) }
        }

        #[target_feature(enable = "avx2,aes")]
        #[inline]
        fn mix(keys: &[__m128i; ROUND_KEYS], id: __m128i) -> __m128i {
            let mut state = _mm_xor_si128(id, keys[0]);
            for key in &keys[1..] {
                state = _mm_aesenc_si128(state, *key);
            }
            state
        }

        #[target_feature(enable = "avx2,aes")]
        #[inline]
        fn words(vector: __m128i) -> IdWords {
            [
                _mm_cvtsi128_si64(vector) as u64,
                _mm_extract_epi64::<1>(vector) as u64,
            ]
        }

        #[target_feature(enable = "avx2,aes")]
        fn finish(count: u64, xor: &[__m128i], sum: &[__m128i]) -> RawFingerprint {
            let mut fingerprint = RawFingerprint {
                count,
                ..RawFingerprint::EMPTY
            };
            for (x, s) in xor.iter().zip(sum) {
                let [xor_low, xor_high] = words(*x);
                let [sum_low, sum_high] = words(*s);
                fingerprint.xor_low ^= xor_low;
                fingerprint.xor_high ^= xor_high;
                fingerprint.sum_low = fingerprint.sum_low.wrapping_add(sum_low);
                fingerprint.sum_high = fingerprint.sum_high.wrapping_add(sum_high);
            }
            fingerprint
        }

        #[target_feature(enable = "avx2,aes")]
        pub(super) fn fingerprint(schedule: &KeySchedule, ids: &[IdWords]) -> RawFingerprint {
            let keys = round_keys(schedule);
            let (blocks, tail) = ids.as_chunks::<IDS_PER_STEP>();
            let mut xor = [_mm_setzero_si128(); IDS_PER_STEP];
            let mut sum = [_mm_setzero_si128(); IDS_PER_STEP];
            for block in blocks {
                for i in 0..IDS_PER_STEP {
                    let mixed = mix(&keys, load(&block[i]));
                    xor[i] = _mm_xor_si128(xor[i], mixed);
                    sum[i] = _mm_add_epi64(sum[i], mixed);
                }
            }
            for (i, id) in tail.iter().enumerate() {
                let mixed = mix(&keys, load(id));
                xor[i] = _mm_xor_si128(xor[i], mixed);
                sum[i] = _mm_add_epi64(sum[i], mixed);
            }
            finish(ids.len() as u64, &xor, &sum)
        }

        #[target_feature(enable = "avx2,aes")]
        pub(super) fn fingerprint_masked(
            schedule: &KeySchedule,
            ids: &[IdWords],
            states: &[u8],
            included: u64,
        ) -> RawFingerprint {
            let keys = round_keys(schedule);
            let (blocks, id_tail) = ids.as_chunks::<IDS_PER_STEP>();
            let (state_blocks, state_tail) = states.as_chunks::<IDS_PER_STEP>();
            let mut xor = [_mm_setzero_si128(); IDS_PER_STEP];
            let mut sum = [_mm_setzero_si128(); IDS_PER_STEP];
            let mut count = 0u64;
            let mut accumulate = |i: usize, id: &IdWords, state: u8| {
                let mask = include_mask(state, included);
                count = count.wrapping_add(mask & 1);
                let mixed = _mm_and_si128(mix(&keys, load(id)), _mm_set1_epi64x(mask as i64));
                xor[i] = _mm_xor_si128(xor[i], mixed);
                sum[i] = _mm_add_epi64(sum[i], mixed);
            };
            for (block, block_states) in blocks.iter().zip(state_blocks) {
                for i in 0..IDS_PER_STEP {
                    accumulate(i, &block[i], block_states[i]);
                }
            }
            for (i, (id, state)) in id_tail.iter().zip(state_tail).enumerate() {
                accumulate(i, id, *state);
            }
            finish(count, &xor, &sum)
        }
    }
}

/// AVX-512F + VAES: four IDs per `vaesenc` on `zmm`, four `zmm` chains per step (sixteen IDs).
/// valgrind cannot run it (no AVX-512), so the instruction-count gate measures the avx2 kernel.
pub mod avx512 {
    /// IDs per `zmm` register.
    const IDS_PER_VECTOR: usize = 4;
    /// Independent `zmm` chains per step.
    const VECTORS: usize = 4;
    /// IDs per step.
    pub const IDS_PER_STEP: usize = IDS_PER_VECTOR * VECTORS;

    keyed_kernel! {
        /// The keyed AVX-512F + VAES kernel: exists only where the CPU has AVX-512F, VAES and
        /// AES-NI (and the build did not switch AVX-512 off with `no_avx512`).
        handle: KeyedAvx512,
        detect: ["avx512f", "vaes", "aes"],
        disabled_by: ["no_avx512"],
    }

    #[cfg(target_arch = "x86_64")]
    mod entry {
        use super::{IDS_PER_STEP, IDS_PER_VECTOR, VECTORS};
        use crate::generic::include_mask;
        use crate::keyed::{KeySchedule, ROUND_KEYS};
        use crate::{IdWords, RawFingerprint};
        use std::arch::x86_64::*;

        #[target_feature(enable = "avx512f,vaes,aes")]
        fn round_keys(schedule: &KeySchedule) -> [__m512i; ROUND_KEYS] {
            let keys = schedule.round_keys();
            let mut vectors = [_mm512_setzero_si512(); ROUND_KEYS];
            for (vector, key) in vectors.iter_mut().zip(keys) {
                let (low, high) = (key[0] as i64, key[1] as i64);
                *vector = _mm512_set_epi64(high, low, high, low, high, low, high, low);
            }
            vectors
        }

        #[target_feature(enable = "avx512f,vaes,aes")]
        #[inline]
        fn load(ids: &[IdWords; IDS_PER_VECTOR]) -> __m512i {
            // SAFETY: four IDs are 64 contiguous readable bytes; the load is unaligned.
            unsafe { _mm512_loadu_si512(ids.as_ptr().cast()) }
        }

        #[target_feature(enable = "avx512f,vaes,aes")]
        #[inline]
        fn mix(keys: &[__m512i; ROUND_KEYS], ids: __m512i) -> __m512i {
            let mut state = _mm512_xor_si512(ids, keys[0]);
            for key in &keys[1..] {
                state = _mm512_aesenc_epi128(state, *key);
            }
            state
        }

        #[target_feature(enable = "avx512f,vaes,aes")]
        fn finish(
            count: u64,
            xor: &[__m512i; VECTORS],
            sum: &[__m512i; VECTORS],
        ) -> RawFingerprint {
            let mut fingerprint = RawFingerprint {
                count,
                ..RawFingerprint::EMPTY
            };
            for (x, s) in xor.iter().zip(sum) {
                // SAFETY: a `__m512i` is 64 bytes of plain data, as is `[u64; 8]`.
                let (x, s) = unsafe {
                    (
                        std::mem::transmute::<__m512i, [u64; 8]>(*x),
                        std::mem::transmute::<__m512i, [u64; 8]>(*s),
                    )
                };
                for lane in 0..IDS_PER_VECTOR {
                    fingerprint.xor_low ^= x[2 * lane];
                    fingerprint.xor_high ^= x[2 * lane + 1];
                    fingerprint.sum_low = fingerprint.sum_low.wrapping_add(s[2 * lane]);
                    fingerprint.sum_high = fingerprint.sum_high.wrapping_add(s[2 * lane + 1]);
                }
            }
            fingerprint
        }

        /// The keyed fingerprint of fewer than four IDs, with `aesenc` on `xmm`.
        #[target_feature(enable = "avx512f,vaes,aes")]
        fn tail(
            schedule: &KeySchedule,
            ids: &[IdWords],
            masks: impl Iterator<Item = u64>,
        ) -> RawFingerprint {
            let keys = schedule.round_keys();
            let mut fingerprint = RawFingerprint::EMPTY;
            for (id, mask) in ids.iter().zip(masks) {
                // SAFETY: `id` is 16 readable bytes; the load is unaligned.
                let mut state = unsafe { _mm_loadu_si128(id.as_ptr().cast()) };
                state = _mm_xor_si128(state, _mm_set_epi64x(keys[0][1] as i64, keys[0][0] as i64));
                for key in &keys[1..] {
                    state = _mm_aesenc_si128(state, _mm_set_epi64x(key[1] as i64, key[0] as i64));
                }
                let low = _mm_cvtsi128_si64(state) as u64 & mask;
                let high = _mm_extract_epi64::<1>(state) as u64 & mask;
                fingerprint = fingerprint.merge(RawFingerprint {
                    count: mask & 1,
                    xor_high: high,
                    xor_low: low,
                    sum_high: high,
                    sum_low: low,
                });
            }
            fingerprint
        }

        #[target_feature(enable = "avx512f,vaes,aes")]
        pub(super) fn fingerprint(schedule: &KeySchedule, ids: &[IdWords]) -> RawFingerprint {
            let keys = round_keys(schedule);
            let (blocks, rest) = ids.as_chunks::<IDS_PER_STEP>();
            let (quads, rest) = rest.as_chunks::<IDS_PER_VECTOR>();
            let mut xor = [_mm512_setzero_si512(); VECTORS];
            let mut sum = [_mm512_setzero_si512(); VECTORS];
            for block in blocks {
                let (vectors, _) = block.as_chunks::<IDS_PER_VECTOR>();
                for v in 0..VECTORS {
                    let mixed = mix(&keys, load(&vectors[v]));
                    xor[v] = _mm512_xor_si512(xor[v], mixed);
                    sum[v] = _mm512_add_epi64(sum[v], mixed);
                }
            }
            for (v, quad) in quads.iter().enumerate() {
                let mixed = mix(&keys, load(quad));
                xor[v] = _mm512_xor_si512(xor[v], mixed);
                sum[v] = _mm512_add_epi64(sum[v], mixed);
            }
            let bulk = finish((ids.len() - rest.len()) as u64, &xor, &sum);
            bulk.merge(tail(schedule, rest, std::iter::repeat(u64::MAX)))
        }

        #[target_feature(enable = "avx512f,vaes,aes")]
        #[inline]
        fn lane_mask(states: &[u8; IDS_PER_VECTOR], included: u64) -> (__m512i, u64) {
            let m: [u64; IDS_PER_VECTOR] =
                std::array::from_fn(|i| include_mask(states[i], included));
            let count = m.iter().fold(0u64, |acc, m| acc + (m & 1));
            let (m0, m1, m2, m3) = (m[0] as i64, m[1] as i64, m[2] as i64, m[3] as i64);
            (_mm512_set_epi64(m3, m3, m2, m2, m1, m1, m0, m0), count)
        }

        #[target_feature(enable = "avx512f,vaes,aes")]
        pub(super) fn fingerprint_masked(
            schedule: &KeySchedule,
            ids: &[IdWords],
            states: &[u8],
            included: u64,
        ) -> RawFingerprint {
            let keys = round_keys(schedule);
            let (blocks, id_rest) = ids.as_chunks::<IDS_PER_STEP>();
            let (state_blocks, state_rest) = states.as_chunks::<IDS_PER_STEP>();
            let (quads, id_rest) = id_rest.as_chunks::<IDS_PER_VECTOR>();
            let (state_quads, state_rest) = state_rest.as_chunks::<IDS_PER_VECTOR>();
            let mut xor = [_mm512_setzero_si512(); VECTORS];
            let mut sum = [_mm512_setzero_si512(); VECTORS];
            let mut count = 0u64;
            for (block, block_states) in blocks.iter().zip(state_blocks) {
                let (vectors, _) = block.as_chunks::<IDS_PER_VECTOR>();
                let (vector_states, _) = block_states.as_chunks::<IDS_PER_VECTOR>();
                for v in 0..VECTORS {
                    let (mask, counted) = lane_mask(&vector_states[v], included);
                    count += counted;
                    let mixed = _mm512_and_si512(mix(&keys, load(&vectors[v])), mask);
                    xor[v] = _mm512_xor_si512(xor[v], mixed);
                    sum[v] = _mm512_add_epi64(sum[v], mixed);
                }
            }
            for (v, (quad, quad_states)) in quads.iter().zip(state_quads).enumerate() {
                let (mask, counted) = lane_mask(quad_states, included);
                count += counted;
                let mixed = _mm512_and_si512(mix(&keys, load(quad)), mask);
                xor[v] = _mm512_xor_si512(xor[v], mixed);
                sum[v] = _mm512_add_epi64(sum[v], mixed);
            }
            let bulk = finish(count, &xor, &sum);
            let masks = state_rest
                .iter()
                .map(|state| include_mask(*state, included));
            bulk.merge(tail(schedule, id_rest, masks))
        }
    }
}

/// AES-NI mixing of single IDs and of slices, for callers that need the mixed values themselves
/// (the difference sketch picks cells from them). Needs only AES-NI; [`super::mix_fast`] and
/// [`super::mix_slice`] call it where the CPU has it and fall back to the portable [`super::mix`].
pub mod aes_ni {
    use crate::keyed::KeySchedule;
    use crate::IdWords;

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
                // SAFETY: the handle exists only where the CPU has AES-NI, all `entry` enables.
                unsafe { entry::mix(schedule, id) }
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
                unsafe { entry::mix_slice(schedule, ids, out) }
            }
            #[cfg(not(target_arch = "x86_64"))]
            {
                unreachable!("no handle can exist off x86-64: {:?}", schedule)
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    mod entry {
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
        pub(super) unsafe fn mix_slice(
            schedule: &KeySchedule,
            ids: &[IdWords],
            out: &mut [IdWords],
        ) {
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
}
