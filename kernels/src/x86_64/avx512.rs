//! The generic loop under `avx512f`: thirty-two word accumulators, four `zmm` registers each for
//! XOR and sum, so each step reads 256 bytes (sixteen IDs).
//!
//! valgrind cannot run AVX-512 and reports the CPU without it, so under callgrind the automatic
//! choice takes the AVX2 path; the instruction-count gate therefore measures `avx2` and `scalar`.
super::runtime_kernel! {
    kernel: Avx512,
    name: "avx512",
    features: "avx512f",
    detect: ["avx512f"],
    disabled_by: "no_avx512",
    words_per_step: 32,
    masked_ids_per_step: 16,
}

/// Four `zmm` XOR and four sum accumulators over the flattened words, 256 bytes per step.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn fold_contiguous(ids: &[IdWords]) -> RawFingerprint {
    use core::arch::x86_64::{
        __m512i, _mm512_add_epi64, _mm512_loadu_si512, _mm512_setzero_si512, _mm512_storeu_si512,
        _mm512_xor_si512,
    };
    const VECTORS: usize = WORDS_PER_STEP / 8;
    let (blocks, tail) = ids.as_flattened().as_chunks::<WORDS_PER_STEP>();
    let mut xor = [_mm512_setzero_si512(); VECTORS];
    let mut sum = [_mm512_setzero_si512(); VECTORS];
    for block in blocks {
        for i in 0..VECTORS {
            // SAFETY: `block` holds WORDS_PER_STEP = 8 * VECTORS words, so words 8i..8i+8 are in
            // bounds; `loadu` has no alignment requirement.
            let vector = unsafe { _mm512_loadu_si512(block.as_ptr().add(8 * i).cast::<__m512i>()) };
            xor[i] = _mm512_xor_si512(xor[i], vector);
            sum[i] = _mm512_add_epi64(sum[i], vector);
        }
    }
    let mut xor_words = [0u64; WORDS_PER_STEP];
    let mut sum_words = [0u64; WORDS_PER_STEP];
    for i in 0..VECTORS {
        // SAFETY: both arrays hold 8 * VECTORS words; `storeu` has no alignment requirement.
        unsafe {
            _mm512_storeu_si512(xor_words.as_mut_ptr().add(8 * i).cast::<__m512i>(), xor[i]);
            _mm512_storeu_si512(sum_words.as_mut_ptr().add(8 * i).cast::<__m512i>(), sum[i]);
        }
    }
    generic::fold_lanes(ids.len() as u64, xor_words, sum_words, tail)
}
