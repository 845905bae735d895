//! Keyed kernels chosen at run time on x86-64, on the AES instructions. An ID is one 128-bit AES
//! block as it lies in memory (`low` then `high`), so a load is the whole block: no shuffles.
//! On other architectures both report themselves unavailable.
//!
//! - [`aesni`]: AVX2 + AES-NI, one ID per `xmm` register, eight independent `aesenc` chains per
//!   step (enough to cover the instruction's latency); also the single-ID and slice mixing the
//!   difference sketch uses. valgrind runs it, so it is the keyed kernel an instruction-count
//!   gate can measure.
//! - [`vaes`]: AVX-512F + VAES, four IDs per `zmm` register, four `vaesenc` chains per step.
//!   valgrind cannot run it (no AVX-512).
//!
//! Both loops are stamped from one body (`keyed_fold!`, below), which differs between them only
//! in the vector type, how many IDs one vector holds, how many chains a step keeps, and the
//! intrinsics; the VAES code it produces is the same machine code as before the two were merged
//! (checked by comparing the assembly, since it cannot run here).
//!
//! Each kernel is a handle type (the crate's one handle idiom, `crate::dispatch`): it exists only
//! where the CPU has every feature its entry points enable, which is what makes calling them
//! sound; `function()` / `masked_function()` hand the entry points out as plain pointers.

pub mod aesni;
pub mod vaes;

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

use keyed_kernel;

/// Stamps a module's `entry`: the keyed contiguous and masked loops over `$vector` registers of
/// `$ids_per_vector` IDs each, `$vectors` independent AES chains per step, under `$features`.
///
/// Layout: steps of `IDS_PER_STEP = ids_per_vector * vectors` IDs, then whole vectors (into the
/// first accumulators), then fewer than a vector's worth of IDs one at a time on `xmm` (empty
/// when a vector holds one ID). The masked form ANDs each vector with its IDs' all-ones or
/// all-zeros masks, spread to every 64-bit lane of the ID by `spread_masks`.
macro_rules! keyed_fold {
    (
        features: $features:literal,
        vector: $vector:ident,
        zero: $zero:ident,
        load: $load:ident,
        xor: $xor:ident,
        add: $add:ident,
        and: $and:ident,
        aesenc: $aesenc:ident,
        broadcast_key: |$low:ident, $high:ident| $broadcast:expr,
        spread_masks: |$m:ident| $spread:expr $(,)?
    ) => {
        #[cfg(target_arch = "x86_64")]
        mod entry {
            use super::{IDS_PER_STEP, IDS_PER_VECTOR, VECTORS};
            use crate::generic::include_mask;
            use crate::keyed::{KeySchedule, ROUND_KEYS};
            use crate::{IdWords, RawFingerprint};
            use std::arch::x86_64::*;

            #[target_feature(enable = $features)]
            fn round_keys(schedule: &KeySchedule) -> [$vector; ROUND_KEYS] {
                let keys = schedule.round_keys();
                let mut vectors = [$zero(); ROUND_KEYS];
                for (vector, key) in vectors.iter_mut().zip(keys) {
                    let ($low, $high) = (key[0] as i64, key[1] as i64);
                    *vector = $broadcast;
                }
                vectors
            }

            #[target_feature(enable = $features)]
            #[inline]
            fn load(ids: &[IdWords; IDS_PER_VECTOR]) -> $vector {
                // SAFETY: IDS_PER_VECTOR IDs are the vector's size in contiguous readable
                // bytes; the load is unaligned.
                unsafe { $load(ids.as_ptr().cast()) }
            }

            #[target_feature(enable = $features)]
            #[inline]
            fn mix(keys: &[$vector; ROUND_KEYS], ids: $vector) -> $vector {
                let mut state = $xor(ids, keys[0]);
                for key in &keys[1..] {
                    state = $aesenc(state, *key);
                }
                state
            }

            #[target_feature(enable = $features)]
            fn finish(
                count: u64,
                xor: &[$vector; VECTORS],
                sum: &[$vector; VECTORS],
            ) -> RawFingerprint {
                let mut fingerprint = RawFingerprint {
                    count,
                    ..RawFingerprint::EMPTY
                };
                for (x, s) in xor.iter().zip(sum) {
                    // SAFETY: a vector of IDS_PER_VECTOR IDs is that many pairs of `u64` of
                    // plain data.
                    let (x, s) = unsafe {
                        (
                            std::mem::transmute::<$vector, [u64; 2 * IDS_PER_VECTOR]>(*x),
                            std::mem::transmute::<$vector, [u64; 2 * IDS_PER_VECTOR]>(*s),
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

            /// The keyed fingerprint of fewer than IDS_PER_VECTOR IDs, with `aesenc` on `xmm`.
            #[target_feature(enable = $features)]
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
                    state =
                        _mm_xor_si128(state, _mm_set_epi64x(keys[0][1] as i64, keys[0][0] as i64));
                    for key in &keys[1..] {
                        state =
                            _mm_aesenc_si128(state, _mm_set_epi64x(key[1] as i64, key[0] as i64));
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

            #[target_feature(enable = $features)]
            pub(super) fn fingerprint(schedule: &KeySchedule, ids: &[IdWords]) -> RawFingerprint {
                let keys = round_keys(schedule);
                let (blocks, rest) = ids.as_chunks::<IDS_PER_STEP>();
                let (whole, rest) = rest.as_chunks::<IDS_PER_VECTOR>();
                let mut xor = [$zero(); VECTORS];
                let mut sum = [$zero(); VECTORS];
                for block in blocks {
                    let (vectors, _) = block.as_chunks::<IDS_PER_VECTOR>();
                    for v in 0..VECTORS {
                        let mixed = mix(&keys, load(&vectors[v]));
                        xor[v] = $xor(xor[v], mixed);
                        sum[v] = $add(sum[v], mixed);
                    }
                }
                for (v, vector) in whole.iter().enumerate() {
                    let mixed = mix(&keys, load(vector));
                    xor[v] = $xor(xor[v], mixed);
                    sum[v] = $add(sum[v], mixed);
                }
                let bulk = finish((ids.len() - rest.len()) as u64, &xor, &sum);
                bulk.merge(tail(schedule, rest, std::iter::repeat(u64::MAX)))
            }

            /// The vector mask of IDS_PER_VECTOR IDs' states, and how many of them count.
            #[target_feature(enable = $features)]
            #[inline]
            fn lane_mask(states: &[u8; IDS_PER_VECTOR], included: u64) -> ($vector, u64) {
                let $m: [u64; IDS_PER_VECTOR] =
                    std::array::from_fn(|i| include_mask(states[i], included));
                let count = $m.iter().fold(0u64, |acc, m| acc + (m & 1));
                ($spread, count)
            }

            #[target_feature(enable = $features)]
            pub(super) fn fingerprint_masked(
                schedule: &KeySchedule,
                ids: &[IdWords],
                states: &[u8],
                included: u64,
            ) -> RawFingerprint {
                let keys = round_keys(schedule);
                let (blocks, id_rest) = ids.as_chunks::<IDS_PER_STEP>();
                let (state_blocks, state_rest) = states.as_chunks::<IDS_PER_STEP>();
                let (whole, id_rest) = id_rest.as_chunks::<IDS_PER_VECTOR>();
                let (whole_states, state_rest) = state_rest.as_chunks::<IDS_PER_VECTOR>();
                let mut xor = [$zero(); VECTORS];
                let mut sum = [$zero(); VECTORS];
                let mut count = 0u64;
                for (block, block_states) in blocks.iter().zip(state_blocks) {
                    let (vectors, _) = block.as_chunks::<IDS_PER_VECTOR>();
                    let (vector_states, _) = block_states.as_chunks::<IDS_PER_VECTOR>();
                    for v in 0..VECTORS {
                        let (mask, counted) = lane_mask(&vector_states[v], included);
                        count += counted;
                        let mixed = $and(mix(&keys, load(&vectors[v])), mask);
                        xor[v] = $xor(xor[v], mixed);
                        sum[v] = $add(sum[v], mixed);
                    }
                }
                for (v, (vector, vector_states)) in whole.iter().zip(whole_states).enumerate() {
                    let (mask, counted) = lane_mask(vector_states, included);
                    count += counted;
                    let mixed = $and(mix(&keys, load(vector)), mask);
                    xor[v] = $xor(xor[v], mixed);
                    sum[v] = $add(sum[v], mixed);
                }
                let bulk = finish(count, &xor, &sum);
                let masks = state_rest
                    .iter()
                    .map(|state| include_mask(*state, included));
                bulk.merge(tail(schedule, id_rest, masks))
            }
        }
    };
}

use keyed_fold;
