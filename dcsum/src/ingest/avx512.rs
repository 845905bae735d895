//! The AVX-512 path of the streaming reader's decimal `HIGH LOW` lines, where the CPU has
//! AVX-512 F, BW and DQ (with AVX2, BMI1, BMI2 and POPCNT, which every such CPU has and which are
//! checked all the same); canonical UUID lines keep the AVX2 decoder (`avx2::uuid`: one line is
//! 36 bytes, which 256-bit registers already cover).
//!
//! [`Avx512`] is a handle in the kernels' sense (`kernels/src/dispatch.rs`): a value exists only
//! where this CPU runs those features and the build switched off neither `no_avx512` nor
//! `no_avx2`. The reader picks its chunk parser once through the kernels' `ifunc!` (see
//! `ingest::chunk_parser`); the AVX2 path and the portable one stay for every other CPU.
//!
//! What AVX-512 changes against the AVX2 reader (`avx2::decimal_lines`, three passes at about
//! 11 ns per line on one Zen 4 core): a line is at most 64 bytes, one register. So after a first
//! pass that only finds the batch's newlines (one compare into a mask register per 64 bytes),
//! each line is classified, split and converted in one step that depends on no other line:
//! - its bytes are loaded under a mask (nothing past its `\n` is read: no padding, no look at
//!   the next line), and two compares give its digit and blank masks directly as bit masks;
//! - the runs' starts, ends and lengths come out of the digit mask by bit tricks, as in the AVX2
//!   reader, without the AVX2 reader's detour through per-block masks shifted into place;
//! - both runs are converted in one 512-bit register: the 32 bytes ending at each run's end side
//!   by side, the bytes before the run zeroed by the same masked subtraction that turns digits
//!   into values (no table of masks), then one multiply-add ladder to the runs' last sixteen and
//!   first four digits, joined (`top * 10^16 + last sixteen`, a 64-bit multiply) and checked
//!   for overflow in the same register, and the ID stored from it.

use dispatcher_checksum::DispatcherId;

/// Proof that this CPU runs AVX-512 F, BW and DQ, AVX2, BMI1, BMI2 and POPCNT (and the build did not
/// switch AVX-512 or AVX2 off).
#[derive(Clone, Copy, Debug)]
pub struct Avx512 {
    _available: (),
}

impl Avx512 {
    /// Whether this CPU runs the AVX-512 path (and the build did not switch it off).
    #[inline]
    pub fn is_available() -> bool {
        #[cfg(all(target_arch = "x86_64", not(feature = "no_avx512")))]
        {
            std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512dq")
                && super::avx2::Avx2::is_available()
        }
        #[cfg(not(all(target_arch = "x86_64", not(feature = "no_avx512"))))]
        {
            false
        }
    }

    /// The handle, or `None` where this CPU cannot run the path.
    #[inline]
    pub fn new() -> Option<Avx512> {
        Avx512::is_available().then_some(Avx512 { _available: () })
    }
}

/// Bytes whose newlines a batch finds: 32 blocks of 64 bytes, about 50 lines.
const BATCH_BLOCKS: usize = 32;

/// The most `HIGH LOW` lines a batch can hold: one per four bytes (`1 2\n`).
const BATCH_LINES: usize = BATCH_BLOCKS * 64 / 4;

/// Bytes before a line that the conversion reads: the 32 ending at a run's end.
const LOOK_BEHIND: usize = 32;

/// Decimal `HIGH LOW` lines from `data[at..]` on, pushed into `columns` while they come: where
/// the first line not taken starts, and how many were. Takes exactly the lines
/// [`super::fast::decimal_pair_line`] takes, with the same IDs (and has it read the few this
/// does not: a chunk's first lines, lines of 64 bytes or more, a last line without its `\n`).
///
/// # Safety
/// The CPU must run AVX-512 F, BW and DQ, AVX2, BMI1, BMI2 and POPCNT (hold an [`Avx512`] handle).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx2,bmi1,bmi2,popcnt")]
#[inline]
pub(super) unsafe fn decimal_lines(
    data: &[u8],
    at: usize,
    columns: &mut super::Columns,
) -> (usize, usize) {
    // As the AVX2 reader: a list of other forms pays a vector look at its line here, not a batch.
    // SAFETY: this function's contract includes AVX2, BMI1, BMI2 and POPCNT.
    if !unsafe { super::avx2::only_digits_and_blanks(data, at) } {
        return (at, 0);
    }
    let Some((id, next)) = super::fast::decimal_pair_line(data, at) else {
        return (at, 0);
    };
    columns.push(id);
    // SAFETY: this function's contract.
    let (at, count) = unsafe { decimal_batches(data, next, columns) };
    (at, count + 1)
}

/// [`decimal_lines`] after its first line: the batches, in two passes.
/// 1. **Newlines.** Each 64-byte block compared once; the newlines' offsets written out (four at
///    a time whatever their count, so no branch depends on it).
/// 2. **Lines.** Each line loaded under its own mask, its digit and blank masks checked (digits
///    and blanks cover it, the digits form exactly two runs of at most 20) and both runs turned
///    into their values (see the module docs). The batch ends at the first line that is not
///    valid or whose value overflows a `u64`.
///
/// Never inlined, as the AVX2 reader's: its 25 KB of batch state are set up once per run of
/// decimal lines.
///
/// # Safety
/// The CPU must run AVX-512 F, BW and DQ, AVX2, BMI1, BMI2 and POPCNT (hold an [`Avx512`] handle).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx2,bmi1,bmi2,popcnt")]
#[inline(never)]
unsafe fn decimal_batches(
    data: &[u8],
    mut at: usize,
    columns: &mut super::Columns,
) -> (usize, usize) {
    use std::arch::x86_64::*;
    use std::mem::MaybeUninit;
    let mut count = 0;
    // Blocks per batch: a few at first, doubled while whole batches are taken, up to
    // `BATCH_BLOCKS` (a list that mixes forms looks little past its next other line).
    let mut batch_blocks = 2;
    // Newline offsets from the batch's start; four more than a batch holds, for the
    // unconditional writes.
    let mut newlines = [MaybeUninit::<u32>::uninit(); BATCH_BLOCKS * 64 + 4];
    let mut decoded = [DispatcherId::new(0, 0); BATCH_LINES];
    loop {
        if at < LOOK_BEHIND || at >= data.len() {
            // The conversion reads up to `LOOK_BEHIND` bytes before a line: the portable decoder
            // takes a chunk's first lines.
            match super::fast::decimal_pair_line(data, at) {
                Some((id, next)) => {
                    columns.push(id);
                    at = next;
                    count += 1;
                    continue;
                }
                None => return (at, count),
            }
        }
        let base = at;
        let rest = &data[base..];
        // Pass 1: newlines.
        let blocks = rest.len().div_ceil(64).min(batch_blocks);
        let mut found = 0;
        for block in 0..blocks {
            let start = block * 64;
            let within = _bzhi_u64(u64::MAX, (rest.len() - start).min(64) as u32);
            // SAFETY: the mask covers only bytes inside `rest` (masked-off bytes are not read
            // and cannot fault).
            let bytes = unsafe { _mm512_maskz_loadu_epi8(within, rest.as_ptr().add(start).cast()) };
            let mut bits = _mm512_cmpeq_epi8_mask(bytes, _mm512_set1_epi8(b'\n' as i8));
            let offset = start as u32;
            let total = found + bits.count_ones() as usize;
            // Slots past the count are overwritten by the next block's or never read.
            for slot in &mut newlines[found..found + 4] {
                *slot = MaybeUninit::new(offset + bits.trailing_zeros());
                bits = _blsr_u64(bits);
            }
            found += 4;
            while bits != 0 {
                newlines[found] = MaybeUninit::new(offset + bits.trailing_zeros());
                bits = _blsr_u64(bits);
                found += 1;
            }
            found = total;
        }
        // Pass 2: lines.
        let mut lines = 0;
        let mut line_start = 0;
        for slot in &newlines[..found] {
            // SAFETY: the first `found` slots hold this batch's newline offsets.
            let newline = unsafe { slot.assume_init() } as usize;
            let length = newline - line_start;
            if length >= 64 {
                break;
            }
            // SAFETY: `rest[line_start..newline]` is the line, `newline < rest.len()`.
            let line = unsafe { rest.as_ptr().add(line_start) };
            // SAFETY: the mask covers the line's `length` bytes only.
            let bytes =
                unsafe { _mm512_maskz_loadu_epi8(_bzhi_u64(u64::MAX, length as u32), line.cast()) };
            // `byte - '0' < 10` unsigned: the digits (the zeros past the line are not).
            let digits = _mm512_cmplt_epu8_mask(
                _mm512_sub_epi8(bytes, _mm512_set1_epi8(b'0' as i8)),
                _mm512_set1_epi8(10),
            );
            let blanks = _mm512_cmpeq_epi8_mask(bytes, _mm512_set1_epi8(b' ' as i8))
                | _mm512_cmpeq_epi8_mask(bytes, _mm512_set1_epi8(b'\t' as i8));
            // SAFETY: `line_start + length - 1` is inside the line when `length > 0`.
            let carriage = length > 0 && unsafe { *line.add(length - 1) } == b'\r';
            let end = length - usize::from(carriage);
            let starts = digits & !(digits << 1);
            let ends = digits & !(digits >> 1);
            let second_start = _blsr_u64(starts);
            // One past each run's last digit. Starts and ends pair up, each start at or before
            // its end, so the lengths cannot wrap.
            let high_end = ends.trailing_zeros() as usize + 1;
            let low_end = _blsr_u64(ends).trailing_zeros() as usize + 1;
            let high_length = high_end - starts.trailing_zeros() as usize;
            let low_length = low_end - second_start.trailing_zeros() as usize;
            // Every byte before `end` a digit or a blank (a `\r` at `end` is neither).
            if digits | blanks != _bzhi_u64(u64::MAX, end as u32)
                || second_start == 0
                || _blsr_u64(second_start) != 0
                || high_length > 20
                || low_length > 20
            {
                break;
            }
            // The 32 bytes ending at each run's end, high's in the low half.
            // SAFETY: each run ends inside the line and starts at most 20 bytes before its end;
            // the 32 bytes ending there start at or after `data[base - 31]`, and
            // `base >= LOOK_BEHIND`.
            let runs = unsafe {
                _mm512_inserti64x4::<1>(
                    _mm512_castsi256_si512(_mm256_loadu_si256(line.add(high_end).sub(32).cast())),
                    _mm256_loadu_si256(line.add(low_end).sub(32).cast()),
                )
            };
            // Each half's last `length` bytes are the run; everything before it becomes 0.
            let keep = u64::from(u32::MAX << (32 - high_length))
                | u64::from(u32::MAX << (32 - low_length)) << 32;
            let values = _mm512_maskz_sub_epi8(keep, runs, _mm512_set1_epi8(b'0' as i8));
            // 10 * first + second per byte pair, 100 * first + second per pair of pairs, then
            // 10^4 * first + second per 64-bit lane: four eight-digit groups per run.
            let pairs = _mm512_maddubs_epi16(values, _mm512_set1_epi16(0x010a));
            let quads = _mm512_madd_epi16(pairs, _mm512_set1_epi32(0x0001_0064));
            let eights = _mm512_add_epi64(
                _mm512_mul_epu32(quads, _mm512_set1_epi64(10_000)),
                _mm512_srli_epi64::<32>(quads),
            );
            // Lanes 2 and 6: 10^8 * eights[i] + eights[i + 1], the runs' last sixteen digits;
            // lanes 1 and 5 of `eights` are their top four (a run of at most 20 leaves lanes 0
            // and 4 zero), moved to lanes 2 and 6.
            let tails = _mm512_add_epi64(
                _mm512_mul_epu32(eights, _mm512_set1_epi64(100_000_000)),
                _mm512_shuffle_epi32::<0b1110_1110>(eights),
            );
            let tops = _mm512_alignr_epi64::<7>(eights, eights);
            let joined = _mm512_add_epi64(
                _mm512_mullo_epi64(tops, _mm512_set1_epi64(10_000_000_000_000_000)),
                tails,
            );
            // Above `u64::MAX`: a top above 1844 (its product alone is), or the sum wrapped.
            let overflow = (_mm512_cmpgt_epu64_mask(tops, _mm512_set1_epi64(1844))
                | _mm512_cmplt_epu64_mask(joined, tails))
                & 0b0100_0100;
            if overflow != 0 {
                break;
            }
            // `DispatcherId` is `#[repr(C)] { low, high }`: lanes 6 and 2.
            let id = _mm512_castsi512_si128(_mm512_permutexvar_epi64(
                _mm512_setr_epi64(6, 2, 0, 0, 0, 0, 0, 0),
                joined,
            ));
            // SAFETY: `lines < BATCH_LINES` (a batch holds at most that many lines), and a
            // `DispatcherId` is 16 plain bytes.
            unsafe { _mm_storeu_si128(decoded.as_mut_ptr().add(lines).cast(), id) };
            lines += 1;
            line_start = newline + 1;
        }
        let converted = lines;
        batch_blocks = if converted == found {
            (batch_blocks * 2).min(BATCH_BLOCKS)
        } else {
            2
        };
        if converted > 0 {
            columns.extend(&decoded[..converted]);
            count += converted;
            // SAFETY: line `converted - 1` ended at a newline written by pass 1.
            at = base + unsafe { newlines[converted - 1].assume_init() } as usize + 1;
        } else {
            // Not one line of this batch: the portable decoder reads the next line, or declines.
            match super::fast::decimal_pair_line(data, at) {
                Some((id, next)) => {
                    columns.push(id);
                    at = next;
                    count += 1;
                }
                None => return (at, count),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Buffers of random and mutated `HIGH LOW` lines (every digit count to 22, blanks, CR,
    /// stray bytes, non-ASCII, blank lines, overflows, long padded lines), read from every line
    /// start: the AVX-512 reader stops at the same place as the portable decoder, with the same
    /// line count and the same IDs.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn decimal_lines_agree_with_the_portable_decoder() {
        let Some(_avx512) = Avx512::new() else {
            eprintln!("skipped: no AVX-512 F, BW and DQ here (this CPU, or a no_avx512 build)");
            return;
        };
        let taken = super::super::avx2::tests::agree_with_the_portable_decoder(
            0x9e37_79b9_7f4a_7c15,
            // SAFETY: the handle exists, so this CPU runs the features.
            |data, at, columns| unsafe { decimal_lines(data, at, columns) },
        );
        assert!(taken > 100_000, "only {taken} lines taken");
    }
}
