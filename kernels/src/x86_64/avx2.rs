//! The generic loop under `avx2`: sixteen word accumulators, four `ymm` registers each for XOR
//! and sum, so each step reads 128 bytes (eight IDs).
super::runtime_kernel! {
    kernel: Avx2,
    name: "avx2",
    features: "avx2",
    detect: ["avx2"],
    disabled_by: "no_avx2",
    words_per_step: 16,
    masked_ids_per_step: 8,
}

/// Four `ymm` XOR and four sum accumulators over the flattened words, 128 bytes per step.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn fold_contiguous(ids: &[IdWords]) -> RawFingerprint {
    use core::arch::x86_64::{
        __m256i, _mm256_add_epi64, _mm256_loadu_si256, _mm256_setzero_si256, _mm256_storeu_si256,
        _mm256_xor_si256,
    };
    const VECTORS: usize = WORDS_PER_STEP / 4;
    let (blocks, tail) = ids.as_flattened().as_chunks::<WORDS_PER_STEP>();
    let mut xor = [_mm256_setzero_si256(); VECTORS];
    let mut sum = [_mm256_setzero_si256(); VECTORS];
    for block in blocks {
        for i in 0..VECTORS {
            // SAFETY: `block` holds WORDS_PER_STEP = 4 * VECTORS words, so words 4i..4i+4 are in
            // bounds; `loadu` has no alignment requirement.
            let vector = unsafe { _mm256_loadu_si256(block.as_ptr().add(4 * i).cast::<__m256i>()) };
            xor[i] = _mm256_xor_si256(xor[i], vector);
            sum[i] = _mm256_add_epi64(sum[i], vector);
        }
    }
    let mut xor_words = [0u64; WORDS_PER_STEP];
    let mut sum_words = [0u64; WORDS_PER_STEP];
    for i in 0..VECTORS {
        // SAFETY: both arrays hold 4 * VECTORS words; `storeu` has no alignment requirement.
        unsafe {
            _mm256_storeu_si256(xor_words.as_mut_ptr().add(4 * i).cast::<__m256i>(), xor[i]);
            _mm256_storeu_si256(sum_words.as_mut_ptr().add(4 * i).cast::<__m256i>(), sum[i]);
        }
    }
    generic::fold_lanes(ids.len() as u64, xor_words, sum_words, tail)
}
