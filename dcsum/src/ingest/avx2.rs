//! The vector path of the streaming reader: canonical UUID lines and decimal `HIGH LOW` lines
//! decoded with AVX2 (and the BMI1, BMI2 and POPCNT bit instructions every AVX2 CPU has), where
//! the CPU has them.
//!
//! [`Avx2`] is a handle in the kernels' sense (`kernels/src/dispatch.rs`): a value exists only
//! where this CPU runs those features and the build did not switch the path off with `no_avx2`,
//! so its methods call the `#[target_feature]` code soundly. The reader picks its chunk parser once
//! through the kernels' `ifunc!` (see `ingest::chunk_parser`).
//!
//! The decoder ([`uuid`]) is the SWAR decoder's algorithm on 32 bytes at once: the 32 digits of
//! `8-4-4-4-12` are gathered into one register by two in-lane byte shuffles (of bytes 0..32 and
//! of bytes 2..18 beside 20..36), checked as hex digits by four signed compares, turned into
//! nibbles, paired into bytes by one multiply-add (`16 * high + low`) and packed. About twenty
//! instructions and no branch but the final check, where the SWAR decoder needs about sixty.
//!
//! The `HIGH LOW` reader ([`decimal_lines`]) works a batch of 64-byte blocks at a time in three
//! passes (classify, split into lines, convert), so that no line waits for the one before it.

use dispatcher_checksum::DispatcherId;

/// Proof that this CPU runs AVX2, BMI1, BMI2 and POPCNT (and the build did not switch it off with `no_avx2`).
#[derive(Clone, Copy, Debug)]
pub struct Avx2 {
    _available: (),
}

impl Avx2 {
    /// Whether this CPU runs the AVX2 path (and the build did not switch it off).
    #[inline]
    pub fn is_available() -> bool {
        #[cfg(all(target_arch = "x86_64", not(feature = "no_avx2")))]
        {
            // BMI1, BMI2 and POPCNT come with AVX2 on every CPU made, but are checked all the same:
            // the decimal decoder's bit tricks compile to them.
            std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("bmi1")
                && std::arch::is_x86_feature_detected!("bmi2")
                && std::arch::is_x86_feature_detected!("popcnt")
        }
        #[cfg(not(all(target_arch = "x86_64", not(feature = "no_avx2"))))]
        {
            false
        }
    }

    /// The handle, or `None` where this CPU cannot run the path.
    #[inline]
    pub fn new() -> Option<Avx2> {
        Avx2::is_available().then_some(Avx2 { _available: () })
    }

    /// [`uuid`], through the handle (the tests' way in; the reader calls it from code compiled
    /// with AVX2 on).
    #[cfg(test)]
    pub fn uuid(self, text: &[u8; 36]) -> Option<DispatcherId> {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: the handle exists, so this CPU runs AVX2.
            unsafe { uuid(text) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = text;
            unreachable!("no Avx2 handle exists off x86-64")
        }
    }
}

/// The ID of a canonical hyphenated UUID, `None` if `text` is not one: exactly
/// [`super::fast::uuid`], with AVX2.
///
/// # Safety
/// The CPU must run AVX2 (hold an [`Avx2`] handle).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub unsafe fn uuid(text: &[u8; 36]) -> Option<DispatcherId> {
    use std::arch::x86_64::*;
    const Z: i8 = -128; // a shuffle index with its top bit set yields 0
    let p = text.as_ptr();
    // SAFETY: the four 16-byte loads read text[0..16], [16..32], [2..18] and [20..36], all inside
    // the 36 bytes; `loadu` takes any alignment.
    let (a, b) = unsafe {
        (
            _mm256_set_m128i(_mm_loadu_si128(p.add(16).cast()), _mm_loadu_si128(p.cast())),
            _mm256_set_m128i(
                _mm_loadu_si128(p.add(20).cast()),
                _mm_loadu_si128(p.add(2).cast()),
            ),
        )
    };
    // The hyphens at 8, 13, 18 and 23 (all in `a`).
    const HYPHENS: u32 = 1 << 8 | 1 << 13 | 1 << 18 | 1 << 23;
    let dashes = _mm256_movemask_epi8(_mm256_cmpeq_epi8(a, _mm256_set1_epi8(b'-' as i8))) as u32;
    // Digits 0..16 sit at text 0..8, 9..13, 14..18; digits 16..32 at 19..23, 24..36. Lane 0 takes
    // digits 0 and 1 from `a` (text 0..16) and 2..16 from `b` (text 2..18); lane 1 takes digit 16
    // from `a` (text 16..32) and 17..32 from `b` (text 20..36).
    #[rustfmt::skip]
    let from_a = _mm256_setr_epi8(
        0, 1, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z,
        3, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z,
    );
    #[rustfmt::skip]
    let from_b = _mm256_setr_epi8(
        Z, Z, 0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 14, 15,
        Z, 0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
    );
    let digits = _mm256_or_si256(
        _mm256_shuffle_epi8(a, from_a),
        _mm256_shuffle_epi8(b, from_b),
    );
    // Signed compares: a byte of 0x80 or more is negative and fails every `>=` test below.
    let in_range = |x, low: u8, high: u8| {
        _mm256_and_si256(
            _mm256_cmpgt_epi8(x, _mm256_set1_epi8(low as i8 - 1)),
            _mm256_cmpgt_epi8(_mm256_set1_epi8(high as i8 + 1), x),
        )
    };
    let decimal = in_range(digits, b'0', b'9');
    // Setting bit 5 folds 'A'..='F' onto 'a'..='f' and maps no other byte there.
    let letters = in_range(_mm256_or_si256(digits, _mm256_set1_epi8(0x20)), b'a', b'f');
    let valid = _mm256_movemask_epi8(_mm256_or_si256(decimal, letters)) as u32;
    // '0'..='9' end in their value, the letters in 1..=6: letters get 9 more.
    let nibbles = _mm256_add_epi8(
        _mm256_and_si256(digits, _mm256_set1_epi8(0x0f)),
        _mm256_and_si256(letters, _mm256_set1_epi8(9)),
    );
    // 16 * first + second per pair, as sixteen 16-bit words; packed back to bytes per lane.
    let pairs = _mm256_maddubs_epi16(nibbles, _mm256_set1_epi16(0x0110));
    let bytes = _mm256_packus_epi16(pairs, pairs);
    if valid != u32::MAX || dashes & HYPHENS != HYPHENS {
        return None;
    }
    let low = _mm256_extract_epi64::<0>(bytes) as u64;
    let high = _mm256_extract_epi64::<2>(bytes) as u64;
    Some(DispatcherId::new(high, low))
}

/// Bytes classified per batch of [`decimal_lines`]: 32 blocks of 64 bytes, about 50 lines.
const BATCH_BLOCKS: usize = 32;

/// The most `HIGH LOW` lines a batch can hold: one per four bytes (`1 2\n`).
const BATCH_LINES: usize = BATCH_BLOCKS * 64 / 4;

/// Bytes before a line that the conversion reads: the 32 ending at a run's end.
const LOOK_BEHIND: usize = 32;

/// Decimal `HIGH LOW` lines from `data[at..]` on, pushed into `columns` while they come: where
/// the first line not taken starts, and how many were. Takes exactly the lines
/// [`super::fast::decimal_pair_line`] takes, with the same IDs (and has it read the few this
/// does not: a chunk's first line, lines of 64 bytes or more, a last line without its `\n`).
///
/// Three passes over each batch of [`BATCH_BLOCKS`] 64-byte blocks, each a loop whose steps do
/// not wait for one another (a line-at-a-time decoder finds a line's end, then its runs, then
/// converts them: a chain of some 70 cycles per line that the CPU can overlap with barely two
/// lines, measured at 14 ns per line on one Zen 4 core):
/// 1. **Classify.** Each block once, as simdjson finds structure: digit and digit-or-blank bit
///    masks kept, the newlines' positions written out (four at a time whatever their count, so
///    no branch depends on it).
/// 2. **Split.** Each line takes its bits out of the blocks' masks: valid when digits and blanks
///    cover it and the digits form exactly two runs of at most 20 (bit tricks, no loop over
///    bytes); the runs' ends and lengths are written out. The batch ends at the first line that
///    is not valid.
/// 3. **Convert.** Both runs of a line in one ladder of multiply-adds ([`run_values`]); a value
///    above `u64::MAX` ends the batch there.
///
/// # Safety
/// The CPU must run AVX2, BMI1, BMI2 and POPCNT (hold an [`Avx2`] handle).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,bmi2,popcnt")]
#[inline]
pub(super) unsafe fn decimal_lines(
    data: &[u8],
    at: usize,
    columns: &mut super::Columns,
) -> (usize, usize) {
    // The first line through the portable decoder, after a vector look at its bytes: a list
    // whose lines neither takes (lines with a state, other forms) then costs a few instructions
    // per line here (the portable decoder converts both columns before it sees a state), not a
    // batch set up and classified for nothing.
    // SAFETY: this function's contract.
    if !unsafe { only_digits_and_blanks(data, at) } {
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

/// False when the line at `data[at..]` ends within 64 bytes and holds a byte other than a digit,
/// a blank or `\r` before its `\n`: no decimal `HIGH LOW` line. True otherwise (it may be one).
///
/// # Safety
/// The CPU must run AVX2 and BMI2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,bmi2,popcnt")]
#[inline]
pub(super) unsafe fn only_digits_and_blanks(data: &[u8], at: usize) -> bool {
    use std::arch::x86_64::*;
    if data.len() < at.saturating_add(64) {
        return true;
    }
    // SAFETY: `at + 64 <= data.len()`.
    let (first, second) = unsafe {
        let p = data.as_ptr().add(at);
        (
            _mm256_loadu_si256(p.cast()),
            _mm256_loadu_si256(p.add(32).cast()),
        )
    };
    let masks = |x| {
        let digits = _mm256_cmpgt_epi8(
            _mm256_set1_epi8(-118),
            _mm256_add_epi8(x, _mm256_set1_epi8(80)),
        );
        let others =
            [b' ', b'\t', b'\r'].map(|byte| _mm256_cmpeq_epi8(x, _mm256_set1_epi8(byte as i8)));
        let known = _mm256_or_si256(
            _mm256_or_si256(digits, others[0]),
            _mm256_or_si256(others[1], others[2]),
        );
        let newlines = _mm256_cmpeq_epi8(x, _mm256_set1_epi8(b'\n' as i8));
        (
            _mm256_movemask_epi8(known) as u32 as u64,
            _mm256_movemask_epi8(newlines) as u32 as u64,
        )
    };
    let (k0, n0) = masks(first);
    let (k1, n1) = masks(second);
    let newline = (n0 | n1 << 32).trailing_zeros();
    _bzhi_u64(!(k0 | k1 << 32), newline) == 0
}

/// [`decimal_lines`] after its first line: the batches. A function of its own, never inlined, so
/// that its 25 KB of batch state are set up (and the stack probed) once per run of decimal lines,
/// not once per line of a list of other forms.
///
/// # Safety
/// The CPU must run AVX2, BMI1, BMI2 and POPCNT (hold an [`Avx2`] handle).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,bmi2,popcnt")]
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
    // `BATCH_BLOCKS` (a list that mixes forms classifies little past its next other line).
    let mut batch_blocks = 2;
    let mut digit_masks = [0u64; BATCH_BLOCKS + 1];
    let mut known_masks = [0u64; BATCH_BLOCKS + 1];
    // Newline offsets from the batch's start; four more than a batch holds, for the
    // unconditional writes.
    let mut newlines = [MaybeUninit::<u32>::uninit(); BATCH_BLOCKS * 64 + 4];
    // Per valid line: each run's end (offset from the batch's start, one past its last digit)
    // and length.
    let mut runs = [MaybeUninit::<[u32; 4]>::uninit(); BATCH_LINES];
    let mut decoded = [DispatcherId::new(0, 0); BATCH_LINES];
    // Blanks by a table on the low nibble: ' ' (0x20) and '\t' (0x09) are the only bytes equal
    // to their entry (a byte with its top bit set looks up 0; the other entries are 0xff, which no
    // byte below 0x80 equals).
    #[rustfmt::skip]
    let blank_table = _mm256_setr_epi8(
        0x20, -1, -1, -1, -1, -1, -1, -1, -1, 0x09, -1, -1, -1, -1, -1, -1,
        0x20, -1, -1, -1, -1, -1, -1, -1, -1, 0x09, -1, -1, -1, -1, -1, -1,
    );
    let classes = |x| {
        // `x + 80` puts '0'..='9' at -128..=-119 as signed bytes and every other byte above.
        let digits = _mm256_cmpgt_epi8(
            _mm256_set1_epi8(-118),
            _mm256_add_epi8(x, _mm256_set1_epi8(80)),
        );
        let blanks = _mm256_cmpeq_epi8(_mm256_shuffle_epi8(blank_table, x), x);
        let newlines = _mm256_cmpeq_epi8(x, _mm256_set1_epi8(b'\n' as i8));
        (
            _mm256_movemask_epi8(digits) as u32 as u64,
            _mm256_movemask_epi8(_mm256_or_si256(digits, blanks)) as u32 as u64,
            _mm256_movemask_epi8(newlines) as u32 as u64,
        )
    };
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
        // Pass 1: classify.
        let blocks = (data.len() - base).div_ceil(64).min(batch_blocks);
        let mut found = 0;
        for block in 0..blocks {
            let start = base + block * 64;
            let mut padded = [0u8; 64];
            let bytes = if data.len() - start >= 64 {
                // SAFETY: `start + 64 <= data.len()`.
                unsafe { data.as_ptr().add(start) }
            } else {
                // The input's last bytes: zeros after them are neither digit, blank nor newline.
                padded[..data.len() - start].copy_from_slice(&data[start..]);
                padded.as_ptr()
            };
            // SAFETY: `bytes` points at 64 readable bytes (in `data` or `padded`).
            let (first, second) = unsafe {
                (
                    _mm256_loadu_si256(bytes.cast()),
                    _mm256_loadu_si256(bytes.add(32).cast()),
                )
            };
            let (d0, k0, n0) = classes(first);
            let (d1, k1, n1) = classes(second);
            digit_masks[block] = d0 | d1 << 32;
            known_masks[block] = k0 | k1 << 32;
            let mut bits = n0 | n1 << 32;
            let offset = (block * 64) as u32;
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
        digit_masks[blocks] = 0;
        known_masks[blocks] = 0;
        // Pass 2: split.
        let mut lines = 0;
        let mut line_start = 0;
        for slot in &newlines[..found] {
            // SAFETY: the first `found` slots hold this batch's newline offsets.
            let newline = unsafe { slot.assume_init() } as usize;
            let length = newline - line_start;
            // SAFETY: `base + newline` is inside `data` and `base >= LOOK_BEHIND`.
            let carriage = unsafe { *data.as_ptr().add(base + newline - 1) } == b'\r';
            let end = length - usize::from(length > 0 && carriage);
            let block = line_start / 64;
            let shift = line_start % 64;
            let bits_of = |masks: &[u64; BATCH_BLOCKS + 1]| {
                let pair = u128::from(masks[block]) | u128::from(masks[block + 1]) << 64;
                _bzhi_u64((pair >> shift) as u64, end as u32)
            };
            let line = _bzhi_u64(u64::MAX, end as u32);
            let digits = bits_of(&digit_masks);
            let starts = digits & !(digits << 1);
            let ends = digits & !(digits >> 1);
            let second_start = _blsr_u64(starts);
            let high_last = ends.trailing_zeros() as usize;
            let low_last = _blsr_u64(ends).trailing_zeros() as usize;
            let high_length = high_last + 1 - starts.trailing_zeros() as usize;
            let low_length = low_last + 1 - second_start.trailing_zeros() as usize;
            if length >= 64
                || bits_of(&known_masks) != line
                || second_start == 0
                || _blsr_u64(second_start) != 0
                || high_length > 20
                || low_length > 20
            {
                break;
            }
            runs[lines] = MaybeUninit::new([
                (line_start + high_last + 1) as u32,
                high_length as u32,
                (line_start + low_last + 1) as u32,
                low_length as u32,
            ]);
            lines += 1;
            line_start = newline + 1;
        }
        // Pass 3: convert.
        let mut converted = 0;
        for (slot, id) in runs[..lines].iter().zip(&mut decoded) {
            // SAFETY: the first `lines` slots were written by pass 2.
            let [high_end, high_length, low_end, low_length] = unsafe { slot.assume_init() };
            // SAFETY: each run lies inside `data[base..]` and `base >= LOOK_BEHIND`, so the
            // `LOOK_BEHIND` bytes ending at its end are inside `data`.
            let (high, low) = unsafe {
                let p = data.as_ptr().add(base);
                run_values(
                    p.add(high_end as usize),
                    high_length as usize,
                    p.add(low_end as usize),
                    low_length as usize,
                )
            };
            if (high | low) >> 64 != 0 {
                break;
            }
            *id = DispatcherId::new(high as u64, low as u64);
            converted += 1;
        }
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

/// The values of two runs of ASCII digits, each given by its end (one past its last digit) and
/// its length, as `u128` (above `u64::MAX` when the run overflows a `u64`). Meaningless (but
/// harmless) for a length above 20: the caller declines those.
///
/// Each run's 32 bytes ending at its end are masked to its last `length` digits; one ladder of
/// multiply-adds (pairs, quads, then the two runs' quads packed side by side into eights) leaves,
/// per 128-bit lane, digits 1..=4 of both runs (the bytes before them are masked to zeros) and
/// digits 5..=20 as two eights each; one multiply by 10^8 and an add make them 64-bit values.
///
/// # Safety
/// The CPU runs AVX2; the [`LOOK_BEHIND`] bytes before each end are readable.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,bmi2,popcnt")]
#[inline]
unsafe fn run_values(
    high_end: *const u8,
    high_length: usize,
    low_end: *const u8,
    low_length: usize,
) -> (u128, u128) {
    use std::arch::x86_64::*;
    // Byte `i` of a load at `KEEP[k..]` is kept exactly when `i >= 32 - k`: the last `k` of 32.
    static KEEP: [u8; 64] = {
        let mut keep = [0u8; 64];
        let mut i = 32;
        while i < 64 {
            keep[i] = 0xff;
            i += 1;
        }
        keep
    };
    let quads = |end: *const u8, length: usize| {
        // SAFETY: the caller's contract: the 32 bytes ending at `end` are readable; `KEEP` has
        // 64 bytes and the index is at most 32.
        let (bytes, keep) = unsafe {
            (
                _mm256_loadu_si256(end.sub(32).cast()),
                _mm256_loadu_si256(KEEP.as_ptr().add(length.min(32)).cast()),
            )
        };
        let digits = _mm256_and_si256(_mm256_sub_epi8(bytes, _mm256_set1_epi8(b'0' as i8)), keep);
        let pairs = _mm256_maddubs_epi16(digits, _mm256_set1_epi16(0x010a));
        _mm256_madd_epi16(pairs, _mm256_set1_epi32(0x0001_0064))
    };
    // Per run, eight quads of four digits (a run of at most 20 fills the last five). Packed: lane
    // 0 holds quads 0..4 of both runs, lane 1 quads 4..8; paired into eights, lane 0 has
    // [high's 0..8, high's 8..16 (just its first four digits), low's likewise] and lane 1 the
    // runs' last sixteen digits as eights.
    let packed = _mm256_packus_epi32(quads(high_end, high_length), quads(low_end, low_length));
    let eights = _mm256_madd_epi16(packed, _mm256_set1_epi32(0x0001_2710));
    let values = _mm256_add_epi64(
        _mm256_mul_epu32(eights, _mm256_set1_epi64x(100_000_000)),
        _mm256_srli_epi64::<32>(eights),
    );
    let head = |value: i64| u128::from(value as u64) * 10_000_000_000_000_000;
    (
        head(_mm256_extract_epi64::<0>(values))
            + u128::from(_mm256_extract_epi64::<2>(values) as u64),
        head(_mm256_extract_epi64::<1>(values))
            + u128::from(_mm256_extract_epi64::<3>(values) as u64),
    )
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Every byte value at every position, and random texts: the vector decoder takes exactly
    /// what the SWAR decoder takes, with the same ID.
    #[test]
    fn agrees_with_the_portable_decoder() {
        let Some(avx2) = Avx2::new() else {
            eprintln!("skipped: this CPU does not run AVX2");
            return;
        };
        let bases = [
            *b"0a1B2c3D-4e5F-6789-aAbB-cCdDeEfF0123",
            *b"67e55044-10b1-426f-9247-bb680e5fe0c8",
            *b"ffffffff-ffff-ffff-ffff-ffffffffffff",
        ];
        for base in bases {
            assert!(avx2.uuid(&base).is_some());
            for position in 0..36 {
                for byte in 0..=255u8 {
                    let mut text = base;
                    text[position] = byte;
                    assert_eq!(
                        avx2.uuid(&text),
                        super::super::fast::uuid(&text),
                        "byte {byte:#04x} at {position}"
                    );
                }
            }
        }
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..100_000 {
            let mut text = *b"00000000-0000-0000-0000-000000000000";
            for byte in text.iter_mut() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let pick = (state % 40) as u8;
                *byte = match pick {
                    0..=35 => *byte,
                    _ => (state >> 32) as u8,
                };
                if *byte == b'0' {
                    *byte = b"0123456789abcdefABCDEF"[(state >> 40) as usize % 22];
                }
            }
            assert_eq!(avx2.uuid(&text), super::super::fast::uuid(&text));
        }
    }

    /// Buffers of random and mutated `HIGH LOW` lines (every digit count to 22, blanks, CR,
    /// stray bytes, non-ASCII, blank lines, overflows, long padded lines), read from every line
    /// start: the vector reader stops at the same place as the portable decoder, with the same
    /// line count and the same IDs.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn decimal_lines_agree_with_the_portable_decoder() {
        let Some(_avx2) = Avx2::new() else {
            eprintln!("skipped: this CPU does not run AVX2");
            return;
        };
        let taken = agree_with_the_portable_decoder(
            0x2545_f491_4f6c_dd1d,
            // SAFETY: the handle exists, so this CPU runs the features.
            |data, at, columns| unsafe { decimal_lines(data, at, columns) },
        );
        assert!(taken > 100_000, "only {taken} lines taken");
    }

    /// The check behind each vector reader's agreement test: `decimal_lines` (a vector reader of
    /// decimal lines) against the portable decoder on 3,000 buffers from `seed`, from every line
    /// start; returns the lines taken.
    pub(in crate::ingest) fn agree_with_the_portable_decoder(
        seed: u64,
        decimal_lines: impl Fn(&[u8], usize, &mut super::super::Columns) -> (usize, usize),
    ) -> usize {
        use super::super::{decimal_lines_portable, Columns, Fold};
        use dispatcher_checksum::StateSet;
        let mut state = seed;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut taken = 0;
        for _ in 0..3_000 {
            let mut data = Vec::new();
            let lines = 1 + next() % 200;
            let mutate_every = [0, 3, 50, 400][(next() % 4) as usize];
            // One buffer in two mostly canonical (`HIGH LOW\n`, one space, no padding): the
            // lines the AVX-512 reader's canonical batches take, in runs long enough to fill them.
            let canonical = next() % 2 == 0;
            for _ in 0..lines {
                let digits = |next: &mut dyn FnMut() -> u64| -> String {
                    let length = match next() % 16 {
                        // Canonical buffers mostly 16 to 20 digits (what the AVX-512 reader
                        // converts eight lines at a time), the others mostly 19 or 20.
                        _ if canonical && !next().is_multiple_of(16) => 16 + (next() % 5) as usize,
                        0..=3 => 1 + (next() % 22) as usize,
                        _ => 19 + (next() % 2) as usize,
                    };
                    (0..length)
                        .map(|_| char::from(b'0' + (next() % 10) as u8))
                        .collect()
                };
                let blank = |next: &mut dyn FnMut() -> u64| -> &'static str {
                    if canonical && !next().is_multiple_of(16) {
                        return "";
                    }
                    ["", "", "", " ", "\t", "  ", " \t"][(next() % 7) as usize]
                };
                // Values at the overflow's edge: the top four digits at 1844 and 1845.
                let edge = |next: &mut dyn FnMut() -> u64| -> String {
                    let top = ["1844", "1845", "0184", "9999"][(next() % 4) as usize];
                    let tail = u64::MAX % 10_000_000_000_000_000 + 1 - next() % 3;
                    format!("{top}{tail:016}")
                };
                let mut line = match next() % 40 {
                    0 => format!("{} {}\n", u64::MAX, u64::MAX - next() % 3),
                    1 => format!("18446744073709551616 {}\n", next()),
                    2 => format!("1 2{}\n", " ".repeat((next() % 80) as usize)),
                    3 => "\n".to_string(),
                    4 => format!("{} {}\n", edge(&mut next), edge(&mut next)),
                    // Lines one separator away from canonical: a canonical batch must refuse
                    // each where the portable decoder does, and agree where it takes it.
                    5 => [
                        " 12 34\n",
                        " 1234\n",
                        "1234 \n",
                        "12 34 \n",
                        "1234\n",
                        "12  34\n",
                        "12 34 56\n",
                        " \n",
                        "1 \n",
                        "1 2\n",
                        "123456789012345678901 1\n",
                        "1 123456789012345678901\n",
                    ][(next() % 12) as usize]
                        .to_string(),
                    _ => format!(
                        "{}{}{}{}{}{}",
                        blank(&mut next),
                        digits(&mut next),
                        if canonical && !next().is_multiple_of(16) {
                            " "
                        } else {
                            [" ", "\t", "  "][(next() % 3) as usize]
                        },
                        digits(&mut next),
                        blank(&mut next),
                        if canonical && !next().is_multiple_of(16) {
                            "\n"
                        } else {
                            ["\n", "\n", "\n", "\r\n", "\r\r\n"][(next() % 5) as usize]
                        },
                    ),
                }
                .into_bytes();
                if mutate_every > 0 && next() % mutate_every == 0 {
                    let at = (next() as usize) % line.len();
                    line[at] = [
                        b'x', b'/', b':', 0x80, 0xff, b'\r', b' ', b'0', b'\n', 0x0b, 0,
                    ][(next() % 11) as usize];
                }
                data.extend_from_slice(&line);
            }
            if next() % 2 == 0 {
                // An unterminated last line.
                data.truncate(data.len() - 1);
            }
            let mut at = 0;
            while at < data.len() {
                let mut vector = Columns::new(Fold::AUTO, StateSet::ALL);
                let mut portable = Columns::new(Fold::AUTO, StateSet::ALL);
                let stopped = decimal_lines(&data, at, &mut vector);
                let expected = decimal_lines_portable(&data, at, &mut portable);
                assert_eq!(
                    (stopped, vector.finish()),
                    (expected, portable.finish()),
                    "from {at} in {:?}",
                    String::from_utf8_lossy(&data)
                );
                taken += stopped.1;
                // On to the next line start, past the line the readers stopped at.
                at = match memchr::memchr(b'\n', &data[stopped.0..]) {
                    Some(newline) => stopped.0 + newline + 1,
                    None => data.len(),
                };
            }
        }
        taken
    }
}
