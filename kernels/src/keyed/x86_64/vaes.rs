//! AVX-512F + VAES: four IDs per `vaesenc` on `zmm`, four `zmm` chains per step (sixteen IDs).
//! valgrind cannot run it (no AVX-512), so the instruction-count gate measures the AES-NI kernel.

/// IDs per `zmm` register.
const IDS_PER_VECTOR: usize = 4;
/// Independent `zmm` chains per step.
const VECTORS: usize = 4;
/// IDs per step.
pub const IDS_PER_STEP: usize = IDS_PER_VECTOR * VECTORS;

super::keyed_kernel! {
    /// The keyed AVX-512F + VAES kernel: exists only where the CPU has AVX-512F, VAES and
    /// AES-NI (and the build did not switch AVX-512 off with `no_avx512`).
    handle: Avx512Vaes,
    detect: ["avx512f", "vaes", "aes"],
    disabled_by: ["no_avx512"],
}

super::keyed_fold! {
    features: "avx512f,vaes,aes",
    vector: __m512i,
    zero: _mm512_setzero_si512,
    load: _mm512_loadu_si512,
    xor: _mm512_xor_si512,
    add: _mm512_add_epi64,
    and: _mm512_and_si512,
    aesenc: _mm512_aesenc_epi128,
    broadcast_key: |low, high| _mm512_set_epi64(high, low, high, low, high, low, high, low),
    spread_masks: |m| {
        let (m0, m1, m2, m3) = (m[0] as i64, m[1] as i64, m[2] as i64, m[3] as i64);
        _mm512_set_epi64(m3, m3, m2, m2, m1, m1, m0, m0)
    },
}
