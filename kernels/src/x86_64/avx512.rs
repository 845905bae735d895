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
