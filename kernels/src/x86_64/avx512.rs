//! AVX-512: the contiguous loop keeps four `zmm` XOR and four sum accumulators (256 bytes, sixteen
//! IDs per step, `core::arch` intrinsics); the masked loop is the generic one under `avx512f`.
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
    masked_fold: generic::fold_masked::<MASKED_IDS_PER_STEP>,
}

super::contiguous_fold! {
    feature: "avx512f",
    vector: __m512i,
    lanes: 8,
    zero: _mm512_setzero_si512,
    load: _mm512_loadu_si512,
    store: _mm512_storeu_si512,
    xor: _mm512_xor_si512,
    add: _mm512_add_epi64,
}
