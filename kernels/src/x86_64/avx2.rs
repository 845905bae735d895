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
