//! AVX2: the contiguous loop keeps four `ymm` XOR and four sum accumulators (128 bytes, eight IDs
//! per step, `core::arch` intrinsics); the masked loop turns 32 state bytes at a time into lane
//! masks with vector table lookups, so it does no scalar work per ID (`fold_masked`).
super::runtime_kernel! {
    kernel: Avx2,
    name: "avx2",
    features: "avx2",
    detect: ["avx2"],
    disabled_by: "no_avx2",
    words_per_step: 16,
    masked_ids_per_step: 32,
    masked_fold: fold_masked,
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

#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::*;

/// The included-state set as two `vpshufb` tables, built once per call.
///
/// A state `s < 64` is `16 * hi + lo` with `hi` in `0..4`. `by_low[lo]` is a byte whose bit `j`
/// is bit `16 * j + lo` of the set (the set transposed as four 16-bit rows), and `by_high[hi]` is
/// `1 << hi` for `hi < 4`, so for `s < 64` the state is included exactly when
/// `by_low[lo] & by_high[hi] == by_high[hi]`. No branch handles the states of 64 and above:
/// `by_high[hi]` is 0x80 for `hi` in `4..16` (`s >= 64`), a bit `by_low` never has, and
/// `vpshufb` gives zero for an index with bit 7 set (`s >= 128`), so the test fails for both.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct StateLookup {
    /// `by_low` in both 128-bit lanes (`vpshufb` looks up within each lane).
    by_low: __m256i,
    /// `by_high` in both lanes; 0x80 for `hi >= 4` (see [`StateLookup::included`]).
    by_high: __m256i,
}

#[cfg(target_arch = "x86_64")]
impl StateLookup {
    #[target_feature(enable = "avx2")]
    #[inline]
    fn new(included: u64) -> StateLookup {
        // Every byte k of `spread_low` is byte k / 8 of the set (k in 0..32), and of `spread_high`
        // byte 4 + k / 8; the set sits in every 64-bit lane, so lane-local indices 0..8 reach it.
        let set = _mm256_set1_epi64x(included as i64);
        #[rustfmt::skip]
        let spread_low = _mm256_shuffle_epi8(set, _mm256_setr_epi8(
            0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
        ));
        #[rustfmt::skip]
        let spread_high = _mm256_shuffle_epi8(set, _mm256_setr_epi8(
            4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5,
            6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7,
        ));
        let bit_of_byte = _mm256_set1_epi64x(0x8040_2010_0804_0201_u64 as i64);
        // Byte k of `states_0_31` is all ones when state k is included, of `states_32_63` when
        // state 32 + k is.
        let states_0_31 = _mm256_cmpeq_epi8(_mm256_and_si256(spread_low, bit_of_byte), bit_of_byte);
        let states_32_63 =
            _mm256_cmpeq_epi8(_mm256_and_si256(spread_high, bit_of_byte), bit_of_byte);
        // Row j of the transposed table is states 16j..16j+16, which sit in 128-bit lane j % 2 of
        // the two vectors above; it becomes bit j of `by_low`.
        let rows = _mm256_or_si256(
            _mm256_and_si256(
                states_0_31,
                _mm256_setr_m128i(_mm_set1_epi8(1), _mm_set1_epi8(2)),
            ),
            _mm256_and_si256(
                states_32_63,
                _mm256_setr_m128i(_mm_set1_epi8(4), _mm_set1_epi8(8)),
            ),
        );
        let by_low = _mm_or_si128(
            _mm256_castsi256_si128(rows),
            _mm256_extracti128_si256::<1>(rows),
        );
        #[rustfmt::skip]
        let by_high = _mm_setr_epi8(
            1, 2, 4, 8, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128,
        );
        StateLookup {
            by_low: _mm256_broadcastsi128_si256(by_low),
            by_high: _mm256_broadcastsi128_si256(by_high),
        }
    }

    /// All ones in byte `i` when state `i` of `states` is included, zero when not.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn included(self, states: __m256i) -> __m256i {
        let by_low = _mm256_shuffle_epi8(self.by_low, states);
        let high = _mm256_and_si256(_mm256_srli_epi16::<4>(states), _mm256_set1_epi8(0x0f));
        let by_high = _mm256_shuffle_epi8(self.by_high, high);
        _mm256_cmpeq_epi8(_mm256_and_si256(by_low, by_high), by_high)
    }
}

/// IDs per step of the masked loop: one `ymm` of state bytes.
const MASKED_BLOCK: usize = MASKED_IDS_PER_STEP;
/// Independent XOR and sum accumulators of the masked loop (two IDs per vector).
const MASKED_VECTORS: usize = 2;

/// The `vpshufb` control that spreads the mask bytes `2v` and `2v + 1` of a 16-byte half
/// (in both 128-bit lanes) over the four 64-bit lanes of IDs `2v` and `2v + 1`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn spread_control(v: usize) -> __m256i {
    let (first, second) = ((2 * v) as i8, (2 * v + 1) as i8);
    _mm256_setr_m128i(_mm_set1_epi8(first), _mm_set1_epi8(second))
}

/// The masked loop's accumulators.
#[cfg(target_arch = "x86_64")]
struct MaskedAccumulators {
    xor: [__m256i; MASKED_VECTORS],
    sum: [__m256i; MASKED_VECTORS],
    /// 255 per included ID, in four 64-bit lanes (`vpsadbw` of the masks).
    included_255: __m256i,
}

#[cfg(target_arch = "x86_64")]
impl MaskedAccumulators {
    /// One block of 32 IDs: one lookup for the 32 states, then per pair of IDs one `vpshufb` to
    /// spread their masks over the pair's four words, one `vpand`, and the XOR and add.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn block(
        &mut self,
        lookup: StateLookup,
        ids: &[IdWords; MASKED_BLOCK],
        states: &[u8; MASKED_BLOCK],
    ) {
        // SAFETY: `states` is 32 readable bytes; the load is unaligned.
        let states = unsafe { _mm256_loadu_si256(states.as_ptr().cast()) };
        let included = lookup.included(states);
        self.included_255 = _mm256_add_epi64(
            self.included_255,
            _mm256_sad_epu8(included, _mm256_setzero_si256()),
        );
        // The masks of IDs 0..16 and of IDs 16..32, each in both 128-bit lanes.
        let halves = [
            _mm256_permute4x64_epi64::<0b01_00_01_00>(included),
            _mm256_permute4x64_epi64::<0b11_10_11_10>(included),
        ];
        let (pairs, _) = ids.as_flattened().as_chunks::<4>();
        // Written out for each pair index (a literal), so every control vector and accumulator
        // index is a constant: as a loop, LLVM kept it rolled and the accumulators in memory.
        macro_rules! pairs {
            ($($pair:literal)+) => {$(
                let mask = _mm256_shuffle_epi8(halves[$pair / 8], spread_control($pair % 8));
                // SAFETY: `pairs[$pair]` is two IDs, 32 readable bytes; the load is unaligned.
                let words = unsafe { _mm256_loadu_si256(pairs[$pair].as_ptr().cast()) };
                let included = _mm256_and_si256(mask, words);
                let acc = $pair % MASKED_VECTORS;
                self.xor[acc] = _mm256_xor_si256(self.xor[acc], included);
                self.sum[acc] = _mm256_add_epi64(self.sum[acc], included);
            )+};
        }
        pairs!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    }
}

/// The masked fingerprint in blocks of 32 IDs with no per-ID scalar work: the 32 state bytes
/// become 32 byte masks with two `vpshufb` lookups ([`StateLookup`]), each pair of IDs gets its
/// masks with one more `vpshufb`, and the count is `vpsadbw` of the masks. The last partial block
/// is copied into a block padded with state 255 (never included), so the tail runs the same code.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn fold_masked(ids: &[IdWords], states: &[u8], included: u64) -> RawFingerprint {
    debug_assert_eq!(ids.len(), states.len());
    let lookup = StateLookup::new(included);
    let (id_blocks, id_tail) = ids.as_chunks::<MASKED_BLOCK>();
    let (state_blocks, state_tail) = states.as_chunks::<MASKED_BLOCK>();
    let mut acc = MaskedAccumulators {
        xor: [_mm256_setzero_si256(); MASKED_VECTORS],
        sum: [_mm256_setzero_si256(); MASKED_VECTORS],
        included_255: _mm256_setzero_si256(),
    };
    for (block, block_states) in id_blocks.iter().zip(state_blocks) {
        acc.block(lookup, block, block_states);
    }
    if !id_tail.is_empty() {
        let mut padded_ids = [[0u64; 2]; MASKED_BLOCK];
        let mut padded_states = [u8::MAX; MASKED_BLOCK];
        padded_ids[..id_tail.len()].copy_from_slice(id_tail);
        padded_states[..state_tail.len()].copy_from_slice(state_tail);
        acc.block(lookup, &padded_ids, &padded_states);
    }
    const WORDS: usize = 4 * MASKED_VECTORS;
    let mut xor_words = [0u64; WORDS];
    let mut sum_words = [0u64; WORDS];
    let mut included_255 = [0u64; 4];
    for i in 0..MASKED_VECTORS {
        // SAFETY: both arrays hold 4 * MASKED_VECTORS words; `storeu` has no alignment
        // requirement.
        unsafe {
            _mm256_storeu_si256(xor_words.as_mut_ptr().add(4 * i).cast(), acc.xor[i]);
            _mm256_storeu_si256(sum_words.as_mut_ptr().add(4 * i).cast(), acc.sum[i]);
        }
    }
    // SAFETY: `included_255` is 32 writable bytes; the store is unaligned.
    unsafe { _mm256_storeu_si256(included_255.as_mut_ptr().cast(), acc.included_255) };
    let count = included_255.iter().sum::<u64>() / 255;
    generic::fold_lanes(count, xor_words, sum_words, &[])
}
