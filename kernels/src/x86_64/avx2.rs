//! AVX2: the contiguous loop keeps four `ymm` XOR and four sum accumulators (128 bytes, eight IDs
//! per step, `core::arch` intrinsics); the masked loop is the generic one under `avx2`.
super::runtime_kernel! {
    kernel: Avx2,
    name: "avx2",
    features: "avx2",
    detect: ["avx2"],
    disabled_by: "no_avx2",
    words_per_step: 16,
    masked_ids_per_step: 8,
}

super::contiguous_fold! {
    feature: "avx2",
    vector: __m256i,
    lanes: 4,
    zero: _mm256_setzero_si256,
    load: _mm256_loadu_si256,
    store: _mm256_storeu_si256,
    xor: _mm256_xor_si256,
    add: _mm256_add_epi64,
}
