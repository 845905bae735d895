//! AVX-512: the contiguous loop keeps four `zmm` XOR and four sum accumulators (256 bytes, sixteen
//! IDs per step, `core::arch` intrinsics); the masked loop works through mask registers: 64 state
//! bytes become one byte per ID by a 64-entry table lookup (`vpermb`, AVX-512 VBMI) or, on a CPU
//! without VBMI (Skylake-SP, Cascade Lake), by two `vpshufb` lookups (AVX-512 BW), then one
//! 8-bit mask (`k` register) per four IDs, and the IDs are XORed and added under that mask
//! (`vpxorq`/`vpaddq` with `{k}`). No per-ID scalar work; the count is a `popcnt` of the masks;
//! the last partial block uses masked loads, so it runs the same code without a copy.
//!
//! What made the masked loop reach the read ceiling on Zen 4 (EPYC family 25 model 17; fractions
//! of the one-thread read ceiling of the same bytes, timed interleaved with it in one run by a
//! scratch harness while changing one thing at a time; the kernel as it is now is measured by
//! `cargo run --release -p dcsum -- kernels --ceiling 1K,16K,256K,1M,4M,16M`):
//! - the masks stay on the accumulating instructions (`accumulate_under`, inline assembly):
//!   written with intrinsics, LLVM moved them onto zero-masking loads, one more operation per
//!   vector (0.45 to 0.53 at 1K);
//! - each block's lookup runs while the block before it accumulates (0.53 to 0.63 at 1K; the
//!   likely reason: the chain from the state load to the masks is long, and the block's masked
//!   operations waiting on it filled the scheduler, while more accumulators changed nothing);
//! - one prefetch per 4 KiB page of IDs, two pages ahead (`PREFETCH_AHEAD_IDS`): 0.89 to
//!   1.11-1.15 at 16M, where `avx2` reads 1.00-1.05.
//!
//! The handle needs AVX-512 F and BW (every AVX-512 server core since Skylake-SP has both, and
//! `popcnt` for the count); the
//! VBMI lookup is picked per call from the CPU's (cached) features. Both lookups are public
//! through the handle ([`Avx512::fingerprint_masked_with_lookup`]) so the equivalence suite covers
//! the BW one on a VBMI CPU too.
//!
//! valgrind cannot run AVX-512 and reports the CPU without it, so under callgrind the automatic
//! choice takes the AVX2 path; the instruction-count gate therefore measures `avx2` and `scalar`.
super::runtime_kernel! {
    kernel: Avx512,
    name: "avx512",
    features: "avx512f,avx512bw,popcnt",
    detect: ["avx512f", "avx512bw", "popcnt"],
    disabled_by: "no_avx512",
    words_per_step: 32,
    masked_ids_per_step: 64,
    masked_fold: fold_masked,
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

#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::*;

/// How the masked loop turns 64 state bytes into a 64-bit inclusion mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateLookup {
    /// One `vpermb` over a 64-byte table (AVX-512 VBMI: Ice Lake, Sapphire Rapids, Zen 4).
    Vbmi,
    /// Two `vpshufb` lookups of a transposed table (AVX-512 BW only: Skylake-SP, Cascade Lake).
    Bw,
}

impl StateLookup {
    /// The lookup this CPU runs: VBMI where it has it (std caches CPUID: a load and a test).
    #[inline]
    pub fn for_this_cpu() -> StateLookup {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512vbmi") {
            return StateLookup::Vbmi;
        }
        StateLookup::Bw
    }

    /// Whether this CPU can run the lookup (the handle already proves F and BW).
    pub fn is_available(self) -> bool {
        match self {
            StateLookup::Bw => true,
            StateLookup::Vbmi => StateLookup::for_this_cpu() == StateLookup::Vbmi,
        }
    }
}

impl Avx512 {
    /// The masked fingerprint through a named state lookup, or `None` where this CPU lacks it.
    /// [`Avx512::fingerprint_masked`] picks the lookup itself; this exists so both lookups are
    /// tested and measured on a CPU that has both.
    ///
    /// # Panics
    /// If `ids` and `states` differ in length.
    pub fn fingerprint_masked_with_lookup(
        self,
        lookup: StateLookup,
        ids: &[IdWords],
        states: &[u8],
        included: u64,
    ) -> Option<RawFingerprint> {
        crate::check_columns(ids, states);
        if !lookup.is_available() {
            return None;
        }
        #[cfg(target_arch = "x86_64")]
        {
            Some(match lookup {
                // SAFETY: the handle proves AVX-512 F, BW and popcnt; `is_available` just saw VBMI.
                StateLookup::Vbmi => unsafe { fold_masked_vbmi(ids, states, included) },
                // SAFETY: the handle proves AVX-512 F, BW and popcnt.
                StateLookup::Bw => unsafe { fold_masked_bw(ids, states, included) },
            })
        }
        #[cfg(not(target_arch = "x86_64"))]
        unreachable!("no handle can exist off x86-64: {}", included)
    }
}

/// IDs per step of the masked loop: one `zmm` of state bytes, one bit of a `k` register each.
const MASKED_BLOCK: usize = MASKED_IDS_PER_STEP;
/// Independent XOR and sum accumulators of the masked loop (four IDs per vector, sixteen vectors
/// per block): enough chains to cover the add latency at two vector operations per cycle.
const MASKED_VECTORS: usize = 4;

/// Out of cache the masked loop prefetches one line of IDs this far ahead (8 KiB: two 4 KiB
/// pages), once per page of IDs ([`PREFETCH_EVERY_BLOCKS`]), into L2 (`_MM_HINT_T2`). The likely
/// reason it helps: the hardware prefetchers keep to a 4 KiB page, so each new page's stream
/// otherwise starts only on its first miss. Zen 4, same-run fractions of the read ceiling (16M IDs): 0.89 without, 1.11 to
/// 1.15 with; a prefetch into L1 (`_MM_HINT_T0`) or one per block cost up to 10% at 256K IDs
/// (in L3), this one nothing.
const PREFETCH_AHEAD_IDS: usize = 512;
/// Blocks per 4 KiB page of IDs (16 bytes each): one prefetch per page.
const PREFETCH_EVERY_BLOCKS: usize = 4096 / (16 * MASKED_BLOCK);

/// The included set as the masked loop needs it, built once per call.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct IncludedTable {
    /// VBMI: byte `s` is 0xff when state `s` (below 64) is included.
    /// BW: `by_low` of the transposed table, in all four 128-bit lanes (see [`IncludedTable::bw`]).
    table: __m512i,
    /// BW only: `by_high` in all four lanes; 0x80 for `hi >= 4` (states of 64 and above).
    by_high: __m512i,
}

#[cfg(target_arch = "x86_64")]
impl IncludedTable {
    /// The 64-byte table for `vpermb`: byte `s` all ones when bit `s` of the set is one.
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn vbmi(included: u64) -> IncludedTable {
        IncludedTable {
            table: _mm512_movm_epi8(included),
            by_high: _mm512_setzero_si512(),
        }
    }

    /// The AVX2 kernel's two-level table, widened: a state `s < 64` is `16 * hi + lo`;
    /// `by_low[lo]` has bit `j` set when state `16 * j + lo` is included, `by_high[hi]` is
    /// `1 << hi` for `hi < 4`, so `s` is included exactly when `by_low[lo] & by_high[hi] ==
    /// by_high[hi]`. `by_high[hi]` is 0x80 for `hi >= 4` (no `by_low` byte has that bit), and
    /// `vpshufb` gives zero for an index with bit 7 set, so states of 64 and above never match.
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn bw(included: u64) -> IncludedTable {
        let mut by_low = [0u8; 16];
        for (lo, byte) in by_low.iter_mut().enumerate() {
            for row in 0..4 {
                *byte |= (((included >> (16 * row + lo)) & 1) as u8) << row;
            }
        }
        #[rustfmt::skip]
        let by_high: [u8; 16] = [
            1, 2, 4, 8, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
        ];
        // SAFETY: both arrays are 16 readable bytes; the loads are unaligned.
        let (by_low, by_high) = unsafe {
            (
                _mm_loadu_si128(by_low.as_ptr().cast()),
                _mm_loadu_si128(by_high.as_ptr().cast()),
            )
        };
        IncludedTable {
            table: _mm512_broadcast_i32x4(by_low),
            by_high: _mm512_broadcast_i32x4(by_high),
        }
    }

    /// A nonzero byte `i` (all ones) when state byte `i` is below 64 and included (VBMI lookup).
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    #[inline]
    fn included_vbmi(self, states: __m512i) -> __m512i {
        // `vpermb` uses the low six bits of each index, so states of 64 and above are zeroed by
        // the mask of the ones below 64.
        let below_64 = _mm512_cmplt_epu8_mask(states, _mm512_set1_epi8(64));
        _mm512_maskz_permutexvar_epi8(below_64, states, self.table)
    }

    /// A nonzero byte `i` when state byte `i` is below 64 and included (BW lookup): `by_low[lo] &
    /// by_high[hi]` is nonzero exactly when `by_low[lo]` has the bit `by_high[hi]` of an included
    /// state (see [`IncludedTable::bw`]).
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn included_bw(self, states: __m512i) -> __m512i {
        let by_low = _mm512_shuffle_epi8(self.table, states);
        let high = _mm512_and_si512(_mm512_srli_epi16::<4>(states), _mm512_set1_epi8(0x0f));
        let by_high = _mm512_shuffle_epi8(self.by_high, high);
        _mm512_and_si512(by_low, by_high)
    }
}

/// The inclusion of one block of 64 IDs with each ID's byte doubled, one byte per 64-bit lane:
/// a lookup's bytes (nonzero per included ID) interleaved with themselves within each 128-bit
/// lane, so vector 0 holds IDs 16L..16L+8 and vector 1 IDs 16L+8..16L+16 in its lane L, two
/// bytes each. Kept as vectors so the loop can compute it a block ahead without tying up mask
/// registers (of which there are seven).
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct DoubledInclusion([__m512i; 2]);

#[cfg(target_arch = "x86_64")]
impl DoubledInclusion {
    /// From a lookup's bytes.
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn new(included: __m512i) -> DoubledInclusion {
        DoubledInclusion([
            _mm512_unpacklo_epi8(included, included),
            _mm512_unpackhi_epi8(included, included),
        ])
    }
}

/// The masked loop's accumulators.
#[cfg(target_arch = "x86_64")]
struct MaskedAccumulators {
    xor: [__m512i; MASKED_VECTORS],
    sum: [__m512i; MASKED_VECTORS],
    /// Included 64-bit lanes: two per included ID.
    lanes: u64,
}

#[cfg(target_arch = "x86_64")]
impl MaskedAccumulators {
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn new() -> MaskedAccumulators {
        MaskedAccumulators {
            xor: [_mm512_setzero_si512(); MASKED_VECTORS],
            sum: [_mm512_setzero_si512(); MASKED_VECTORS],
            lanes: 0,
        }
    }

    /// One block of 64 IDs under their doubled inclusion. With `PARTIAL` the block may end
    /// early: only the words of included IDs are loaded (masked loads, which never touch a
    /// masked-off element), so a caller passes an inclusion that is zero past the end.
    ///
    /// # Safety
    /// `ids` is valid for reads of every ID whose byte is nonzero in `included`, and of all 64
    /// IDs unless `PARTIAL`.
    #[target_feature(enable = "avx512f,avx512bw,popcnt")]
    #[inline]
    unsafe fn block<const PARTIAL: bool>(
        &mut self,
        ids: *const IdWords,
        included: DoubledInclusion,
    ) {
        // Bits 16L..16L+16 of mask 0 are IDs 16L..16L+8 and of mask 1 IDs 16L+8..16L+16, two
        // bits (two 64-bit lanes) each.
        let [low, high] = included.0;
        let doubled = [
            _mm512_test_epi8_mask(low, low),
            _mm512_test_epi8_mask(high, high),
        ];
        self.lanes += u64::from(doubled[0].count_ones() + doubled[1].count_ones());
        // Written out per vector (a literal), so each mask shift and accumulator index is a
        // constant. Vector `v` holds IDs 4v..4v+4: lane L = v / 4 of the masks, half (v / 2) % 2,
        // byte v % 2 of that 16-bit group.
        macro_rules! vectors {
            ($($v:literal)+) => {$(
                let lane_mask = _kshiftri_mask64::<{ 16 * ($v / 4) + 8 * ($v % 2) }>(
                    doubled[($v / 2) % 2],
                ) as __mmask8;
                let acc = $v % MASKED_VECTORS;
                let at = ids.wrapping_add(4 * $v).cast::<i64>();
                // SAFETY: the caller guarantees every included ID is readable, and all 64 unless
                // PARTIAL; a masked load reads only the lanes whose bit is set.
                let words = unsafe {
                    if PARTIAL {
                        _mm512_maskz_loadu_epi64(lane_mask, at)
                    } else {
                        _mm512_loadu_si512(at.cast())
                    }
                };
                accumulate_under(&mut self.xor[acc], &mut self.sum[acc], lane_mask, words);
            )+};
        }
        vectors!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    }

    /// The fingerprint: the accumulators folded in registers (no store and reload of 64 words,
    /// a visible share of a call at 1K IDs), even lanes into `low`, odd ones into `high`.
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn finish(self) -> RawFingerprint {
        let [x0, x1, x2, x3] = self.xor;
        let [s0, s1, s2, s3] = self.sum;
        let xor = _mm512_xor_si512(_mm512_xor_si512(x0, x1), _mm512_xor_si512(x2, x3));
        let sum = _mm512_add_epi64(_mm512_add_epi64(s0, s1), _mm512_add_epi64(s2, s3));
        let xor = _mm256_xor_si256(
            _mm512_castsi512_si256(xor),
            _mm512_extracti64x4_epi64::<1>(xor),
        );
        let sum = _mm256_add_epi64(
            _mm512_castsi512_si256(sum),
            _mm512_extracti64x4_epi64::<1>(sum),
        );
        let xor = _mm_xor_si128(
            _mm256_castsi256_si128(xor),
            _mm256_extracti128_si256::<1>(xor),
        );
        let sum = _mm_add_epi64(
            _mm256_castsi256_si128(sum),
            _mm256_extracti128_si256::<1>(sum),
        );
        RawFingerprint {
            count: self.lanes / 2,
            xor_low: _mm_cvtsi128_si64(xor) as u64,
            xor_high: _mm_extract_epi64::<1>(xor) as u64,
            sum_low: _mm_cvtsi128_si64(sum) as u64,
            sum_high: _mm_extract_epi64::<1>(sum) as u64,
        }
    }
}

/// `xor ^= words` and `sum += words` in the lanes whose bit of `lanes` is set: two merge-masked
/// instructions (`vpxorq`/`vpaddq` with `{k}`), one vector operation per accumulator.
///
/// Inline assembly because LLVM rewrites the intrinsics' form (`_mm512_mask_xor_epi64(acc, k,
/// acc, words)`) into a zero-masking load (or move) of `words` followed by a plain XOR and add,
/// which Zen 4 runs measurably slower (see the module docs).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
fn accumulate_under(xor: &mut __m512i, sum: &mut __m512i, lanes: __mmask8, words: __m512i) {
    // SAFETY: two register-only AVX-512 F instructions (this function enables AVX-512 F); they
    // read and write only the named registers: no memory, no stack, no flags.
    unsafe {
        core::arch::asm!(
            "vpxorq {xor} {{{lanes}}}, {xor}, {words}",
            "vpaddq {sum} {{{lanes}}}, {sum}, {words}",
            xor = inout(zmm_reg) *xor,
            sum = inout(zmm_reg) *sum,
            lanes = in(kreg) lanes,
            words = in(zmm_reg) words,
            options(pure, nomem, nostack, preserves_flags),
        );
    }
}

/// Stamps one masked loop per state lookup: whole blocks of 64 IDs, each block's lookup done
/// while the block before it accumulates, then the tail as one partial block (state bytes past
/// the end load as 255, never included; IDs past the end are never read).
macro_rules! masked_loop {
    ($(#[$attr:meta])* $name:ident, $features:literal, $table:ident, $lookup:ident) => {
        $(#[$attr])*
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $features)]
        fn $name(ids: &[IdWords], states: &[u8], included: u64) -> RawFingerprint {
            /// The doubled inclusion of one whole block's states.
            #[target_feature(enable = $features)]
            #[inline]
            fn inclusion(table: IncludedTable, states: &[u8; MASKED_BLOCK]) -> DoubledInclusion {
                // SAFETY: `states` is 64 readable bytes; the load is unaligned.
                let states = unsafe { _mm512_loadu_si512(states.as_ptr().cast()) };
                DoubledInclusion::new(table.$lookup(states))
            }

            debug_assert_eq!(ids.len(), states.len());
            let table = IncludedTable::$table(included);
            let mut acc = MaskedAccumulators::new();
            let (id_blocks, id_tail) = ids.as_chunks::<MASKED_BLOCK>();
            let (state_blocks, state_tail) = states.as_chunks::<MASKED_BLOCK>();
            // One block ahead: the chain from a state load to a block's masks (load, lookup,
            // interleave, mask) is long, and a block's 32 masked operations waiting on it fill
            // the scheduler; looked up a block early, the masks are ready when the block starts
            // (Zen 4, 1K IDs: 0.53 of the read ceiling without, 0.63 with).
            if let Some(first) = state_blocks.first() {
                let mut next = inclusion(table, first);
                for (index, block) in id_blocks.iter().enumerate() {
                    let current = next;
                    if let Some(following) = state_blocks.get(index + 1) {
                        next = inclusion(table, following);
                    }
                    if index % PREFETCH_EVERY_BLOCKS == 0 {
                        let ahead = block.as_ptr().wrapping_add(PREFETCH_AHEAD_IDS);
                        // A hint that never faults: past the end of `ids` it is simply wasted.
                        _mm_prefetch::<_MM_HINT_T2>(ahead.cast());
                    }
                    // SAFETY: `block` is 64 readable IDs.
                    unsafe { acc.block::<false>(block.as_ptr(), current) };
                }
            }
            if !id_tail.is_empty() {
                let present: __mmask64 = (1u64 << id_tail.len()) - 1;
                // SAFETY: a masked load reads only the `state_tail.len()` bytes whose bit is set.
                let states = unsafe {
                    _mm512_mask_loadu_epi8(_mm512_set1_epi8(-1), present, state_tail.as_ptr().cast())
                };
                // The padding (state 255) is never included; the mask makes the bytes past the
                // end zero whatever the lookup says, which is what the masked loads rely on.
                let included = _mm512_maskz_mov_epi8(present, table.$lookup(states));
                // SAFETY: `included` is zero past `id_tail.len()`, and every ID before is readable.
                unsafe { acc.block::<true>(id_tail.as_ptr(), DoubledInclusion::new(included)) };
            }
            acc.finish()
        }
    };
}

masked_loop!(
    /// The masked loop with the VBMI lookup.
    fold_masked_vbmi,
    "avx512f,avx512bw,avx512vbmi,popcnt",
    vbmi,
    included_vbmi
);
masked_loop!(
    /// The masked loop with the BW lookup.
    fold_masked_bw,
    "avx512f,avx512bw,popcnt",
    bw,
    included_bw
);

/// The masked fingerprint through mask registers, with the best lookup this CPU has.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,popcnt")]
fn fold_masked(ids: &[IdWords], states: &[u8], included: u64) -> RawFingerprint {
    match StateLookup::for_this_cpu() {
        // SAFETY: the entry point runs only where the handle exists (F and BW); VBMI was just
        // detected.
        StateLookup::Vbmi => unsafe { fold_masked_vbmi(ids, states, included) },
        StateLookup::Bw => fold_masked_bw(ids, states, included),
    }
}
