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
//! What AVX-512 changes against the AVX2 reader (`avx2::decimal_lines`, three passes over
//! batches of 64-byte blocks): a line is at most 64 bytes, one register, so each line is
//! classified, split and converted in one step whose only link to the next line is where its
//! `\n` is:
//! - its 64 bytes are loaded under a mask that stops at the data's end, one compare finds its
//!   `\n`, and masked compares give its digit and blank masks directly as bit masks (nothing
//!   past the line counts: no padding, no per-block masks shifted into place);
//! - the runs' starts, ends and lengths come out of the digit mask by bit tricks, as in the AVX2
//!   reader;
//! - both runs are converted in one 512-bit register: the 32 bytes ending at each run's end side
//!   by side, the bytes before the run zeroed by the same masked subtraction that turns digits
//!   into values (no table of masks), then one multiply-add ladder to the runs' last sixteen and
//!   first four digits, joined (`top * 10^16 + last sixteen`, a 64-bit multiply) and checked
//!   for overflow in the same register, and the ID stored from it.
//!
//! Measured (one parsing thread, the whole mapped path, 1M lines, Zen 4): 11.0-11.2 ns per line
//! against 13.1-13.7 for AVX2. Tried and slower or no faster: a first pass finding a batch's
//! newlines 64 bytes at a time (the same), a separate loop for the conversion (13.4-14.4), 64- or
//! 16-block batches in the two-pass form (the same or slower).

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

/// Lines per batch: the IDs a batch collects before they go to the columns.
const BATCH_LINES: usize = 64;

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

/// [`decimal_lines`] after its first line: batches of up to [`BATCH_LINES`] lines, each line in
/// one step: its 64 bytes loaded under a mask that stops at the data's end, its `\n` found in
/// them (the only link from one line to the next: load, compare, count trailing zeros, about 16
/// cycles, while the rest of each line's work overlaps with the lines after it), its digit and
/// blank masks checked (digits and blanks cover it, the digits form exactly two runs of at most
/// 20) and both runs turned into their values (see the module docs). The batch ends at the
/// first line that is not valid, whose value overflows a `u64`, or that has no `\n` within 64
/// bytes.
///
/// Never inlined, as the AVX2 reader's: its batch state is set up once per run of decimal lines.
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
    let mut count = 0;
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
        let mut lines = 0;
        let mut line_start = 0;
        while lines < BATCH_LINES && line_start < rest.len() {
            // SAFETY: `line_start < rest.len()`.
            let line = unsafe { rest.as_ptr().add(line_start) };
            let within = _bzhi_u64(u64::MAX, (rest.len() - line_start).min(64) as u32);
            // SAFETY: the mask covers only bytes inside `rest` (masked-off bytes are not read
            // and cannot fault).
            let bytes = unsafe { _mm512_maskz_loadu_epi8(within, line.cast()) };
            let newlines = _mm512_cmpeq_epi8_mask(bytes, _mm512_set1_epi8(b'\n' as i8));
            if newlines == 0 {
                // 64 bytes or more, or the data's last line without its `\n`.
                break;
            }
            let length = newlines.trailing_zeros() as usize;
            let in_line = _bzhi_u64(u64::MAX, length as u32);
            // `byte - '0' < 10` unsigned: the digits, within the line.
            let digits = _mm512_mask_cmplt_epu8_mask(
                in_line,
                _mm512_sub_epi8(bytes, _mm512_set1_epi8(b'0' as i8)),
                _mm512_set1_epi8(10),
            );
            let blanks = _mm512_mask_cmpeq_epi8_mask(in_line, bytes, _mm512_set1_epi8(b' ' as i8))
                | _mm512_mask_cmpeq_epi8_mask(in_line, bytes, _mm512_set1_epi8(b'\t' as i8));
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
            line_start += length + 1;
        }
        if lines > 0 {
            columns.extend(&decoded[..lines]);
            count += lines;
            at = base + line_start;
        } else {
            // Not this line: the portable decoder reads it, or declines.
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
