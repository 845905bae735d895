//! Kernels chosen at run time on x86-64, stamped under `#[target_feature]`, so a binary built for
//! baseline x86-64 still runs the widest path the CPU has. The masked loops are written with
//! intrinsics: AVX2 turns 32 state bytes at a time into lane masks with vector table lookups
//! (`avx2`; the generic loop cost 11.4 instructions per ID under callgrind, a scalar shift and
//! test per state), AVX-512 turns 64 state bytes into one mask register and accumulates under it
//! (`avx512`). The contiguous loops are written with `core::arch` intrinsics too, because for the
//! plain fold LLVM's loop vectoriser chose to vectorise *across* blocks and rebuilt each vector
//! from scalar loads (callgrind counted 5.8 instructions per ID for AVX2 against 3.75 for the
//! scalar kernel); four explicit loads, XORs and adds per step is what the data needs. On other
//! architectures every kernel here reports itself unavailable and `new()` returns `None`.
//!
//! A kernel here is a handle type (the crate's one handle idiom: it exists only where the CPU
//! runs the kernel); callers that want the widest one cached use [`crate::widest_function`].

pub mod avx2;
pub mod avx512;

/// Stamps one runtime-detected kernel module: its handle type (the crate's one handle idiom,
/// `runtime_handle!`), and the `#[target_feature]` entry points around the module's
/// `fold_contiguous` and `masked_fold` (a function `(ids, states, included) -> RawFingerprint`
/// compiled under the same features).
macro_rules! runtime_kernel {
    (
        kernel: $kernel:ident,
        name: $name:literal,
        features: $features:literal,
        detect: [$($feature:tt),+],
        disabled_by: $disable_feature:literal,
        words_per_step: $words:expr,
        masked_ids_per_step: $masked:expr,
        masked_fold: $masked_fold:expr $(,)?
    ) => {
        use crate::{generic, IdWords, RawFingerprint};

        /// Words accumulated independently per step.
        pub const WORDS_PER_STEP: usize = $words;
        /// IDs per step of the masked loop.
        pub const MASKED_IDS_PER_STEP: usize = $masked;

        crate::dispatch::runtime_handle! {
            /// A handle that exists only where the kernel can run.
            handle: $kernel,
            detect: [$($feature),+],
            disabled_by: [$disable_feature],
        }

        impl $kernel {
            /// The fingerprint of `ids`.
            #[inline]
            pub fn fingerprint(self, ids: &[IdWords]) -> RawFingerprint {
                #[cfg(target_arch = "x86_64")]
                {
                    // SAFETY: a handle exists only after `is_available()` saw every feature
                    // that the entry point enables.
                    unsafe { entry::fingerprint(ids) }
                }
                #[cfg(not(target_arch = "x86_64"))]
                {
                    unreachable!("no handle can exist off x86-64: {}", ids.len())
                }
            }

            /// The fingerprint of the IDs whose state is included.
            ///
            /// # Panics
            /// If `ids` and `states` differ in length.
            #[inline]
            pub fn fingerprint_masked(
                self,
                ids: &[IdWords],
                states: &[u8],
                included: u64,
            ) -> RawFingerprint {
                crate::check_columns(ids, states);
                #[cfg(target_arch = "x86_64")]
                {
                    // SAFETY: as in `fingerprint`; the lengths were checked just above.
                    unsafe { entry::fingerprint_masked(ids, states, included) }
                }
                #[cfg(not(target_arch = "x86_64"))]
                {
                    unreachable!("no handle can exist off x86-64: {}", included)
                }
            }

            /// A plain function pointer to the contiguous entry point, for caching.
            pub fn function(self) -> crate::FingerprintFn {
                |ids| $kernel { _available: () }.fingerprint(ids)
            }

            /// A plain function pointer to the masked entry point, for caching.
            pub fn masked_function(self) -> crate::MaskedFingerprintFn {
                |ids, states, included| {
                    $kernel { _available: () }.fingerprint_masked(ids, states, included)
                }
            }
        }

        impl crate::FingerprintKernel for $kernel {
            fn name(&self) -> &'static str {
                $name
            }
            fn fingerprint(&self, ids: &[IdWords]) -> RawFingerprint {
                (*self).fingerprint(ids)
            }
            fn fingerprint_masked(
                &self,
                ids: &[IdWords],
                states: &[u8],
                included: u64,
            ) -> RawFingerprint {
                (*self).fingerprint_masked(ids, states, included)
            }
        }

        #[cfg(target_arch = "x86_64")]
        mod entry {
            use super::*;

            #[target_feature(enable = $features)]
            pub(super) fn fingerprint(ids: &[IdWords]) -> RawFingerprint {
                super::fold_contiguous(ids)
            }

            #[target_feature(enable = $features)]
            pub(super) fn fingerprint_masked(
                ids: &[IdWords],
                states: &[u8],
                included: u64,
            ) -> RawFingerprint {
                let fingerprint = $masked_fold(ids, states, included);
                // The planted fault of `--cfg dcsum_planted_kernel_fault`: a wrong answer that
                // the root crate's known-answer self-test must catch (and then never choose
                // this kernel). Never set in a real build.
                #[cfg(dcsum_planted_kernel_fault)]
                let fingerprint = RawFingerprint {
                    xor_low: fingerprint.xor_low ^ 1,
                    ..fingerprint
                };
                fingerprint
            }
        }
    };
}

use runtime_kernel;

/// Stamps a module's `fold_contiguous`: `VECTORS` XOR and `VECTORS` sum accumulators of
/// `$lanes` words each over the flattened words, one block of `WORDS_PER_STEP` words per step.
/// The AVX2 and AVX-512 forms differ only in their vector type and intrinsics.
macro_rules! contiguous_fold {
    (
        feature: $feature:literal,
        vector: $vector:ident,
        lanes: $lanes:literal,
        zero: $zero:ident,
        load: $load:ident,
        store: $store:ident,
        xor: $xor:ident,
        add: $add:ident $(,)?
    ) => {
        /// `WORDS_PER_STEP / lanes` vector XOR and sum accumulators over the flattened words.
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $feature)]
        fn fold_contiguous(ids: &[IdWords]) -> RawFingerprint {
            use core::arch::x86_64::{$add, $load, $store, $vector, $xor, $zero};
            const VECTORS: usize = WORDS_PER_STEP / $lanes;
            let (blocks, tail) = ids.as_flattened().as_chunks::<WORDS_PER_STEP>();
            let mut xor = [$zero(); VECTORS];
            let mut sum = [$zero(); VECTORS];
            for block in blocks {
                for i in 0..VECTORS {
                    // SAFETY: `block` holds WORDS_PER_STEP = lanes * VECTORS words, so words
                    // lanes*i .. lanes*(i+1) are in bounds; `loadu` has no alignment requirement.
                    let vector = unsafe { $load(block.as_ptr().add($lanes * i).cast::<$vector>()) };
                    xor[i] = $xor(xor[i], vector);
                    sum[i] = $add(sum[i], vector);
                }
            }
            let mut xor_words = [0u64; WORDS_PER_STEP];
            let mut sum_words = [0u64; WORDS_PER_STEP];
            for i in 0..VECTORS {
                // SAFETY: both arrays hold lanes * VECTORS words; `storeu` has no alignment
                // requirement.
                unsafe {
                    $store(
                        xor_words.as_mut_ptr().add($lanes * i).cast::<$vector>(),
                        xor[i],
                    );
                    $store(
                        sum_words.as_mut_ptr().add($lanes * i).cast::<$vector>(),
                        sum[i],
                    );
                }
            }
            generic::fold_lanes(ids.len() as u64, xor_words, sum_words, tail)
        }
    };
}

use contiguous_fold;
