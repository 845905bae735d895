//! AVX-512: the contiguous loop keeps four `zmm` XOR and four sum accumulators (256 bytes, sixteen
//! IDs per step, `core::arch` intrinsics); the masked loop works through mask registers: 64 state
//! bytes become one 64-bit mask (`k` register) per step, by a 64-entry table lookup (`vpermb`,
//! AVX-512 VBMI) or, on a CPU without VBMI (Skylake-SP, Cascade Lake), by two `vpshufb` lookups
//! (AVX-512 BW), and the IDs are XORed and added under that mask (`vpxorq`/`vpaddq` with `{k}`).
//! No per-ID scalar work; the count is one `popcnt` per 64 IDs; the last partial block uses masked
//! loads, so it runs the same code without a copy.
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

    /// Bit `i` set when state byte `i` is below 64 and included (VBMI lookup).
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    #[inline]
    fn included_vbmi(self, states: __m512i) -> __mmask64 {
        let looked_up = _mm512_permutexvar_epi8(states, self.table);
        // `vpermb` uses the low six bits of each index, so states of 64 and above are cut here.
        _mm512_test_epi8_mask(looked_up, looked_up)
            & _mm512_cmplt_epu8_mask(states, _mm512_set1_epi8(64))
    }

    /// Bit `i` set when state byte `i` is below 64 and included (BW lookup).
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn included_bw(self, states: __m512i) -> __mmask64 {
        let by_low = _mm512_shuffle_epi8(self.table, states);
        let high = _mm512_and_si512(_mm512_srli_epi16::<4>(states), _mm512_set1_epi8(0x0f));
        let by_high = _mm512_shuffle_epi8(self.by_high, high);
        _mm512_cmpeq_epi8_mask(_mm512_and_si512(by_low, by_high), by_high)
    }
}

/// The masked loop's accumulators.
#[cfg(target_arch = "x86_64")]
struct MaskedAccumulators {
    xor: [__m512i; MASKED_VECTORS],
    sum: [__m512i; MASKED_VECTORS],
    count: u64,
}

#[cfg(target_arch = "x86_64")]
impl MaskedAccumulators {
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn new() -> MaskedAccumulators {
        MaskedAccumulators {
            xor: [_mm512_setzero_si512(); MASKED_VECTORS],
            sum: [_mm512_setzero_si512(); MASKED_VECTORS],
            count: 0,
        }
    }

    /// One block of 64 IDs whose inclusion mask is `included` (bit `i` for ID `i`). With `PARTIAL`
    /// the block may end early: only the words of included IDs are loaded (masked loads, which
    /// never touch a masked-off element), so a caller passes a mask with no bit past the end.
    ///
    /// # Safety
    /// `ids` is valid for reads of every ID whose bit is set in `included`, and of all 64 IDs
    /// unless `PARTIAL`.
    #[target_feature(enable = "avx512f,avx512bw,popcnt")]
    #[inline]
    unsafe fn block<const PARTIAL: bool>(&mut self, ids: *const IdWords, included: __mmask64) {
        self.count += u64::from(included.count_ones());
        // Each ID is two 64-bit lanes, so its bit is doubled: byte masks (all ones per included
        // ID) interleaved with themselves within each 128-bit lane give 64-bit masks whose bits
        // 16L..16L+16 are IDs 16L..16L+8 (low half) and 16L+8..16L+16 (high half), two bits each.
        let bytes = _mm512_movm_epi8(included);
        let doubled = [
            _mm512_movepi8_mask(_mm512_unpacklo_epi8(bytes, bytes)),
            _mm512_movepi8_mask(_mm512_unpackhi_epi8(bytes, bytes)),
        ];
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
                self.xor[acc] = _mm512_mask_xor_epi64(self.xor[acc], lane_mask, self.xor[acc], words);
                self.sum[acc] = _mm512_mask_add_epi64(self.sum[acc], lane_mask, self.sum[acc], words);
            )+};
        }
        vectors!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    }

    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn finish(self) -> RawFingerprint {
        const WORDS: usize = 8 * MASKED_VECTORS;
        let mut xor_words = [0u64; WORDS];
        let mut sum_words = [0u64; WORDS];
        for i in 0..MASKED_VECTORS {
            // SAFETY: both arrays hold 8 * MASKED_VECTORS words; `storeu` has no alignment
            // requirement.
            unsafe {
                _mm512_storeu_si512(xor_words.as_mut_ptr().add(8 * i).cast(), self.xor[i]);
                _mm512_storeu_si512(sum_words.as_mut_ptr().add(8 * i).cast(), self.sum[i]);
            }
        }
        generic::fold_lanes(self.count, xor_words, sum_words, &[])
    }
}

/// Stamps one masked loop per state lookup: whole blocks of 64 IDs, then the tail as one partial
/// block (state bytes past the end load as 255, never included; IDs past the end are never read).
macro_rules! masked_loop {
    ($(#[$attr:meta])* $name:ident, $features:literal, $table:ident, $lookup:ident) => {
        $(#[$attr])*
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $features)]
        fn $name(ids: &[IdWords], states: &[u8], included: u64) -> RawFingerprint {
            debug_assert_eq!(ids.len(), states.len());
            let table = IncludedTable::$table(included);
            let mut acc = MaskedAccumulators::new();
            let (id_blocks, id_tail) = ids.as_chunks::<MASKED_BLOCK>();
            let (state_blocks, state_tail) = states.as_chunks::<MASKED_BLOCK>();
            for (block, block_states) in id_blocks.iter().zip(state_blocks) {
                // SAFETY: `block_states` is 64 readable bytes; the load is unaligned.
                let states = unsafe { _mm512_loadu_si512(block_states.as_ptr().cast()) };
                let mask = table.$lookup(states);
                // SAFETY: `block` is 64 readable IDs.
                unsafe { acc.block::<false>(block.as_ptr(), mask) };
            }
            if !id_tail.is_empty() {
                let present: __mmask64 = (1u64 << id_tail.len()) - 1;
                // SAFETY: a masked load reads only the `state_tail.len()` bytes whose bit is set.
                let states = unsafe {
                    _mm512_mask_loadu_epi8(_mm512_set1_epi8(-1), present, state_tail.as_ptr().cast())
                };
                let mask = table.$lookup(states) & present;
                // SAFETY: `mask` has bits only below `id_tail.len()`, every one a readable ID.
                unsafe { acc.block::<true>(id_tail.as_ptr(), mask) };
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
