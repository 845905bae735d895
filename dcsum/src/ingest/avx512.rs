//! The AVX-512 path of the streaming reader's decimal `HIGH LOW` lines, where the CPU has
//! AVX-512 F, BW and DQ (with AVX2, BMI1, BMI2 and POPCNT, which every such CPU has and which are
//! checked all the same). Canonical UUID lines have their own AVX-512 reader (`avx512_uuid`,
//! with VBMI); where the CPU lacks VBMI they keep the AVX2 decoder beside this one.
//!
//! [`Avx512`] is a handle in the kernels' sense (`kernels/src/dispatch.rs`): a value exists only
//! where this CPU runs those features and the build switched off neither `no_avx512` nor
//! `no_avx2`. The reader picks its chunk parser once through the kernels' `ifunc!` (see
//! `ingest::chunk_parser`); the AVX2 path and the portable one stay for every other CPU.
//!
//! Two readers, the first taking what it can and the second the rest:
//! - **Canonical batches** ([`canonical_batch`], where the CPU also has VBMI2, which the UUID
//!   reader's handle `avx512_uuid::Avx512Vbmi` checks): lines written
//!   as `dcsum` and most programs write them, `HIGH LOW\n` with one space and nothing else,
//!   2 KiB at a time. The bytes are classified 64 at a time and the ends of the separators
//!   written out with one `vpcompressb`; then eight lines (sixteen runs) are converted at once,
//!   four runs per register (see [`eight_lines`]). Nothing is carried from one line to the next,
//!   so the CPU overlaps as many lines as its window holds.
//! - **Line at a time** ([`decimal_batches`]), for blanks, tabs, `\r\n` and anything else the
//!   portable decoder takes: a line is at most 64 bytes, one register, so each line is
//!   classified, split and converted in one step whose only link to the next line is where its
//!   `\n` is: its 64 bytes loaded under a mask that stops at the data's end; its `\n`, digit and
//!   blank masks from masked compares; the runs' starts, ends and lengths from the digit mask by
//!   bit tricks, as in the AVX2 reader; both runs converted in one register ([`run_values`]).
//!
//! Measured on Zen 4 (one thread; a 128 KiB chunk of random IDs, in cache, parsed again and
//! again; the fastest of 25 rounds, the machine shared): the line-at-a-time reader alone 9.7 ns
//! per line, with the canonical batches 3.5. On the way there (each step measured against the
//! one before, the same way): canonical batches with the ends written four at a time by bit
//! tricks and one line per conversion, 8.7; the ends packed by `vpcompressb`, 7.3; eight lines
//! per conversion, 5.9, and 4.3 with a line's two runs packed into one ladder; whole blocks
//! only (no masked loads; one `kortest` for the bytes' validity), 4.0; the runs' first four
//! digits by sixteen scalar loads instead of a gather, 3.5. Over the whole 41 MB
//! list from memory, a prefetch a page ahead took it from 5.4 to 4.8 ns per line.
//! `docs/performance.md` has the end-to-end numbers.

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
/// With `canonical`, canonical lines go through [`canonical_batch`] first.
///
/// # Safety
/// The CPU must run AVX-512 F, BW and DQ, AVX2, BMI1, BMI2 and POPCNT (hold an [`Avx512`]
/// handle), and with `canonical` AVX-512 VBMI2 too (hold an
/// [`super::avx512_uuid::Avx512Vbmi`] handle, which checks it).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx2,bmi1,bmi2,popcnt")]
#[inline]
pub(super) unsafe fn decimal_lines(
    data: &[u8],
    at: usize,
    columns: &mut super::Columns,
    canonical: bool,
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
    let (at, count) = unsafe { decimal_batches(data, next, columns, canonical) };
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
/// With `canonical`, each batch tries [`canonical_batch`] first.
///
/// Never inlined, as the AVX2 reader's: its batch state is set up once per run of decimal lines.
///
/// # Safety
/// As [`decimal_lines`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx2,bmi1,bmi2,popcnt")]
#[inline(never)]
unsafe fn decimal_batches(
    data: &[u8],
    mut at: usize,
    columns: &mut super::Columns,
    canonical: bool,
) -> (usize, usize) {
    use std::arch::x86_64::*;
    let mut count = 0;
    let mut decoded = [DispatcherId::new(0, 0); BATCH_LINES];
    let mut decoded_canonical = [DispatcherId::new(0, 0); CANONICAL_LINES];
    let mut ends = [0u32; CANONICAL_ENDS];
    loop {
        if canonical && at >= LOOK_BEHIND {
            // SAFETY: this function's contract (VBMI2 with `canonical`), and `at >= LOOK_BEHIND`.
            let (next, lines) =
                unsafe { canonical_batch(data, at, &mut ends, &mut decoded_canonical) };
            if lines > 0 {
                columns.extend(&decoded_canonical[..lines]);
                count += lines;
                at = next;
                continue;
            }
        }
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
            let (joined, overflow) = run_values(keep, runs);
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

/// Bytes a canonical batch classifies: 32 blocks of 64, about 50 lines (16 blocks took 5.3 ns
/// per line against 4.7, 64 blocks no less).
const CANONICAL_BLOCKS: usize = 32;

/// How far ahead of the block being classified a canonical batch prefetches: one page.
const PREFETCH_AHEAD: usize = 4096;

/// The most lines a canonical batch can hold: one per four bytes (`1 2\n`).
const CANONICAL_LINES: usize = CANONICAL_BLOCKS * 64 / 4;

/// Room for a canonical batch's separator ends: the line start, at most 32 per block, and 32
/// for the unconditional writes past the last.
const CANONICAL_ENDS: usize = 1 + CANONICAL_BLOCKS * 32 + 32;

/// Canonical `HIGH LOW` lines from `data[at..]` (`at` a line start): two runs of 1 to 20 digits
/// with one space between them and `\n` after, nothing else. Decodes the whole lines of up to
/// [`CANONICAL_BLOCKS`] whole blocks of 64 bytes into `decoded`: where the next line starts and
/// how many were, or no line at all when the first block is not canonical or the batch holds a
/// run that is empty or over 20 digits or a value over `u64::MAX` (the line-at-a-time loop of
/// [`decimal_batches`] takes those, and finds the exact line). Every line taken here is one
/// [`super::fast::decimal_pair_line`] takes, with its ID.
///
/// Why a batch of its own: in the line-at-a-time loop each line's start waits for the line
/// before (load, compare, count trailing zeros) and its conversion ends in a branch on its own
/// overflow, a chain the CPU overlaps with barely two lines. Here two loops run with nothing
/// carried from one line to the next:
/// 1. **Classify**, 64 bytes at a time: digit, space and newline bit masks; a block is taken
///    when digits and separators cover it, it holds at most 32 separators, and they alternate
///    space, newline from the batch's start (one `pext` of the spaces out of the separators
///    against `0101...`); the separators' offsets are packed by one `vpcompressb` and written
///    out sixteen at a time whatever their count, so no branch depends on it. The first block
///    that is not taken, or that is not whole, ends the classification. Runs may be empty here
///    (two separators side by side): the conversion refuses those.
/// 2. **Convert** eight lines at a time ([`eight_lines`]; a batch of eight or more lines keeps
///    whole groups, the rest is classified again by the next batch), a group with a run outside
///    16 to 20 digits and a batch of fewer than eight lines one line at a time ([`one_line`]);
///    out-of-range lengths and overflows are gathered into flags checked after the loop.
///
/// # Safety
/// The CPU must run AVX-512 F, BW, DQ and VBMI2, AVX2, BMI1, BMI2 and POPCNT (hold a
/// [`super::avx512_uuid::Avx512Vbmi`] handle), and `at >= LOOK_BEHIND` (the conversion reads
/// the 32 bytes ending at a run's end).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vbmi2,avx2,bmi1,bmi2,popcnt")]
#[inline(never)]
unsafe fn canonical_batch(
    data: &[u8],
    at: usize,
    ends: &mut [u32; CANONICAL_ENDS],
    decoded: &mut [DispatcherId; CANONICAL_LINES],
) -> (usize, usize) {
    use std::arch::x86_64::*;
    debug_assert!(at >= LOOK_BEHIND);
    // SAFETY: 64 bytes to a 64-byte vector of integers: every bit pattern is one.
    const BLOCK_OFFSETS: __m512i = unsafe {
        std::mem::transmute::<[u8; 64], __m512i>([
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
            24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45,
            46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63,
        ])
    };
    let rest = &data[at..];
    // `ends[k]`: the offset in `rest` just past separator `k - 1`; `ends[0]` is the first line's
    // start. Line `i` runs from `ends[2i]`, its space ends at `ends[2i + 1]`, its `\n` at
    // `ends[2i + 2]`. Only the first `written` are this batch's.
    ends[0] = 0;
    let mut written = 1;
    let mut parity = 0;
    for block in 0..CANONICAL_BLOCKS {
        let offset = block * 64;
        // Whole blocks only: the data's last few lines are left to the line-at-a-time loop.
        if rest.len() - offset < 64 {
            break;
        }
        // A page ahead: mapped page-cache pages are 4 KiB apart in memory, where the hardware
        // prefetcher stops, so each page's first line would otherwise wait for memory (and its
        // translation for a page walk).
        _mm_prefetch::<_MM_HINT_T0>(rest.as_ptr().wrapping_add(offset + PREFETCH_AHEAD).cast());
        // SAFETY: `offset + 64 <= rest.len()`.
        let bytes = unsafe { _mm512_loadu_si512(rest.as_ptr().add(offset).cast()) };
        let newlines = _mm512_cmpeq_epi8_mask(bytes, _mm512_set1_epi8(b'\n' as i8));
        let spaces = _mm512_cmpeq_epi8_mask(bytes, _mm512_set1_epi8(b' ' as i8));
        // `byte - '0' < 10` unsigned: the digits.
        let digits = _mm512_cmplt_epu8_mask(
            _mm512_sub_epi8(bytes, _mm512_set1_epi8(b'0' as i8)),
            _mm512_set1_epi8(10),
        );
        let separators = newlines | spaces;
        let found = separators.count_ones();
        // Space first when an even number of separators came before.
        let alternating = _bzhi_u64(0x5555_5555_5555_5555 << parity, found);
        // More than 32 separators in 64 bytes leave an empty run somewhere: not canonical (and
        // `ends` has room for 32 per block).
        if _kortestc_mask64_u8(digits, separators) == 0
            || found > 32
            || _pext_u64(spaces, separators) != alternating
        {
            break;
        }
        // The separators' offsets in the block packed at the bottom, widened, each plus one
        // past it: sixteen ends written whatever the count (a block holds at most 32).
        let packed = _mm512_maskz_compress_epi8(separators, BLOCK_OFFSETS);
        let base = _mm512_set1_epi32(offset as i32 + 1);
        // SAFETY: `written + 32 <= CANONICAL_ENDS`: at most 32 separators per block before this
        // one, and the array has room for 32 more.
        unsafe {
            _mm512_storeu_si512(
                ends.as_mut_ptr().add(written).cast(),
                _mm512_add_epi32(_mm512_cvtepu8_epi32(_mm512_castsi512_si128(packed)), base),
            );
            if found > 16 {
                _mm512_storeu_si512(
                    ends.as_mut_ptr().add(written + 16).cast(),
                    _mm512_add_epi32(
                        _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32::<1>(packed)),
                        base,
                    ),
                );
            }
        }
        written += found as usize;
        parity ^= found & 1;
    }
    // Whole groups of eight where there are any: the lines after the last group are
    // classified again by the next batch, which costs less than converting them one at a time.
    let lines = match (written - 1) / 2 {
        0 => return (at, 0),
        lines if lines >= 8 => lines / 8 * 8,
        lines => lines,
    };
    let line = rest.as_ptr();
    let ends = &ends[..written];
    let mut overflow = false;
    let mut out_of_range = false;
    let groups = lines / 8;
    for group in 0..groups {
        // SAFETY: the group's 17 ends are written (`16 * group + 16 < written`), its runs lie in
        // `rest` with `at >= LOOK_BEHIND` before it, and `decoded` holds `lines` IDs.
        let (unusual, overflows) = unsafe {
            eight_lines(
                line,
                ends.as_ptr().add(16 * group),
                decoded.as_mut_ptr().add(8 * group),
            )
        };
        overflow |= overflows;
        if unusual != 0 {
            // A run under 16 digits (or over 20): one line at a time.
            for i in 8 * group..8 * group + 8 {
                // SAFETY: as above.
                let (id, refused, overflows) = unsafe { one_line(line, &ends[2 * i..]) };
                decoded[i] = id;
                out_of_range |= refused;
                overflow |= overflows;
            }
        }
    }
    for i in 8 * groups..lines {
        // SAFETY: as above.
        let (id, refused, overflows) = unsafe { one_line(line, &ends[2 * i..]) };
        decoded[i] = id;
        out_of_range |= refused;
        overflow |= overflows;
    }
    if out_of_range || overflow {
        return (at, 0);
    }
    (at + ends[2 * lines] as usize, lines)
}

/// Eight lines of a canonical batch at once, sixteen runs of 16 to 20 digits: `ends` points at
/// the first line's entry in the batch's ends (see [`canonical_batch`]), the IDs go to `out`.
/// Returns a mask of the runs outside 16 to 20 digits (their lines' IDs are wrong: the caller
/// converts those lines again one at a time) and whether another line's value is over
/// `u64::MAX`.
///
/// Why runs of 16 to 20: a run's last sixteen digits are then all inside it, so sixteen bytes
/// ending at its end need no mask and four runs share a register (against two for the 32-byte
/// windows of [`run_values`]); the first four come from one vector of all sixteen runs', the
/// bytes before a run cleared by a shift per run. Random 64-bit values have 16 digits or more
/// all but about once in 18,000 runs; shorter ones take the line-at-a-time conversion.
///
/// # Safety
/// The CPU must run AVX-512 F, BW and DQ; `ends[0..17]` are ends of one canonical batch over
/// `line` (a batch's start) with at least [`LOOK_BEHIND`] readable bytes before `line`, and
/// `out` has room for eight IDs.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512dq")]
#[inline]
unsafe fn eight_lines(line: *const u8, ends: *const u32, out: *mut DispatcherId) -> (u16, bool) {
    use std::arch::x86_64::*;
    // SAFETY: the caller's contract: 17 ends.
    let (starts, nexts) = unsafe {
        (
            _mm512_loadu_si512(ends.cast()),
            _mm512_loadu_si512(ends.add(1).cast()),
        )
    };
    // One past each run's last digit (the separator after it), and its length.
    let run_ends = _mm512_sub_epi32(nexts, _mm512_set1_epi32(1));
    let lengths = _mm512_sub_epi32(run_ends, starts);
    let unusual = _mm512_cmpgt_epu32_mask(
        _mm512_sub_epi32(lengths, _mm512_set1_epi32(16)),
        _mm512_set1_epi32(4),
    );
    // The four bytes before each run's last sixteen: its first four digits when it has twenty.
    // Sixteen scalar loads and one vector load of what they stored: in cache, 3.5 ns per line
    // against 4.0 with one `vpgatherdd`.
    let mut words = [0u32; 16];
    for (run, word) in words.iter_mut().enumerate() {
        // SAFETY: the caller's contract gives 17 ends; each address is at most 20 bytes before a
        // run's end, so at most 4 before its start when it has 16 digits or more, and within
        // `LOOK_BEHIND` of `line` otherwise (a run starts at or after `line`).
        *word = unsafe {
            line.offset(*ends.add(run + 1) as isize - 21)
                .cast::<u32>()
                .read_unaligned()
        };
    }
    // SAFETY: sixteen `u32`, any alignment.
    let heads = unsafe { _mm512_loadu_si512(words.as_ptr().cast()) };
    // The bytes before a run cleared: `20 - length` of them, a shift of 32 or more clearing all.
    let head_keep = _mm512_sllv_epi32(
        _mm512_set1_epi32(-1),
        _mm512_slli_epi32::<3>(_mm512_sub_epi32(_mm512_set1_epi32(20), lengths)),
    );
    let head_values = _mm512_and_si512(
        _mm512_sub_epi8(heads, _mm512_set1_epi8(b'0' as i8)),
        head_keep,
    );
    let tops = _mm512_madd_epi16(
        _mm512_maddubs_epi16(head_values, _mm512_set1_epi16(0x010a)),
        _mm512_set1_epi32(0x0001_0064),
    );
    // The last sixteen digits: per 64-bit lane, the high run's of a line then its low run's,
    // four lines per register (see `sixteens`).
    // SAFETY: the caller's contract.
    let tails = unsafe { [sixteens(line, ends), sixteens(line, ends.add(8))] };
    let halves = [
        (
            tails[0],
            _mm512_cvtepu32_epi64(_mm512_castsi512_si256(tops)),
        ),
        (
            tails[1],
            _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64::<1>(tops)),
        ),
    ];
    let mut overflow = 0u16;
    for (half, (tails, tops)) in halves.into_iter().enumerate() {
        let joined = _mm512_add_epi64(
            _mm512_mullo_epi64(tops, _mm512_set1_epi64(10_000_000_000_000_000)),
            tails,
        );
        // Above `u64::MAX`: a top above 1844 (its product alone is), or the sum wrapped.
        let over = _mm512_cmpgt_epu64_mask(tops, _mm512_set1_epi64(1844))
            | _mm512_cmplt_epu64_mask(joined, tails);
        overflow |= u16::from(over) << (8 * half);
        // Runs go high, low, high, low; a `DispatcherId` is `#[repr(C)] { low, high }`.
        // SAFETY: `out` has room for eight IDs, 16 plain bytes each.
        unsafe {
            _mm512_storeu_si512(
                out.add(4 * half).cast(),
                _mm512_shuffle_epi32::<0b0100_1110>(joined),
            )
        };
    }
    // A line with an unusual run is converted again: its bits do not count.
    let unusual_lines = (unusual | unusual >> 1) & 0x5555;
    (
        unusual,
        overflow & !(unusual_lines | unusual_lines << 1) != 0,
    )
}

/// The last sixteen digits of four lines' runs, from the ends of their batch (`ends[0..9]`, the
/// first line's start first): per 64-bit lane, a line's high run then its low run.
///
/// # Safety
/// As [`eight_lines`] (with nine ends).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512dq")]
#[inline]
unsafe fn sixteens(line: *const u8, ends: *const u32) -> std::arch::x86_64::__m512i {
    use std::arch::x86_64::*;
    // Four groups of four digits per run (below 10^4 each), from the 16 bytes ending at the
    // runs' ends `ends[first]`, `ends[first + 2]`, ...: one run per 128-bit lane.
    let quads = |first: usize| {
        // SAFETY: the caller's contract; each run ends inside the batch and its last 16 bytes
        // start at most `LOOK_BEHIND` bytes before `line`.
        let window = |end: usize| unsafe {
            _mm_loadu_si128(line.offset(*ends.add(first + end) as isize - 17).cast())
        };
        let digits = _mm512_inserti32x4::<3>(
            _mm512_inserti32x4::<2>(
                _mm512_inserti32x4::<1>(_mm512_castsi128_si512(window(0)), window(2)),
                window(4),
            ),
            window(6),
        );
        // 10 * first + second per byte pair, 100 * first + second per pair of pairs.
        _mm512_madd_epi16(
            _mm512_maddubs_epi16(
                _mm512_sub_epi8(digits, _mm512_set1_epi8(b'0' as i8)),
                _mm512_set1_epi16(0x010a),
            ),
            _mm512_set1_epi32(0x0001_0064),
        )
    };
    // Per lane, the high run's groups then the low run's as 16-bit words, then 10^4 * first +
    // second (two eight-digit groups per run), then per 64-bit lane 10^8 * first + second.
    let eights = _mm512_madd_epi16(
        _mm512_packus_epi32(quads(1), quads(2)),
        _mm512_set1_epi32(0x0001_2710),
    );
    _mm512_add_epi64(
        _mm512_mul_epu32(eights, _mm512_set1_epi64(100_000_000)),
        _mm512_srli_epi64::<32>(eights),
    )
}

/// One line of a canonical batch from its ends (`ends[0..3]`: its start, one past its space,
/// one past its `\n`): its ID, whether a run is empty or over 20 digits, and whether a value
/// is over `u64::MAX`.
///
/// # Safety
/// The CPU must run AVX-512 F, BW and DQ; the ends are of a canonical batch over `line` with
/// at least [`LOOK_BEHIND`] readable bytes before `line`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512dq")]
#[inline]
unsafe fn one_line(line: *const u8, ends: &[u32]) -> (DispatcherId, bool, bool) {
    use std::arch::x86_64::*;
    let (start, space, next) = (ends[0], ends[1], ends[2]);
    // One past each run's last digit (the separators are one byte each).
    let high_end = space - 1;
    let low_end = next - 1;
    let high_length = high_end - start;
    let low_length = low_end - space;
    // Empty runs too (two separators side by side, or one first): the classification lets them
    // through, so this is where they are refused.
    let out_of_range = !(1..=20).contains(&high_length) || !(1..=20).contains(&low_length);
    // The 32 bytes ending at each run's end, high's in the low half.
    // SAFETY: each run ends at least one byte into the batch, with `LOOK_BEHIND` readable bytes
    // before it.
    let runs = unsafe {
        _mm512_inserti64x4::<1>(
            _mm512_castsi256_si512(_mm256_loadu_si256(
                line.add(high_end as usize).sub(32).cast(),
            )),
            _mm256_loadu_si256(line.add(low_end as usize).sub(32).cast()),
        )
    };
    // Each half's last `length` bytes are the run (a length out of range is refused above).
    let keep = u64::from(u32::MAX << (32 - high_length.clamp(1, 20)))
        | u64::from(u32::MAX << (32 - low_length.clamp(1, 20))) << 32;
    let (joined, overflow) = run_values(keep, runs);
    let mut id = DispatcherId::new(0, 0);
    // `DispatcherId` is `#[repr(C)] { low, high }`: lanes 6 and 2.
    let pair = _mm512_castsi512_si128(_mm512_permutexvar_epi64(
        _mm512_setr_epi64(6, 2, 0, 0, 0, 0, 0, 0),
        joined,
    ));
    // SAFETY: `id` is a `DispatcherId`, 16 plain bytes.
    unsafe { _mm_storeu_si128((&mut id as *mut DispatcherId).cast(), pair) };
    (id, out_of_range, overflow != 0)
}

/// Both runs' values from `runs` (the 32 bytes ending at each run's end, the high run's in the
/// low half) with `keep` marking the bytes of the runs (each half's last bytes): the values in
/// lanes 2 and 6, and a mask with bit 2 or 6 set where a value is over `u64::MAX`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512dq")]
#[inline]
fn run_values(keep: u64, runs: std::arch::x86_64::__m512i) -> (std::arch::x86_64::__m512i, u8) {
    use std::arch::x86_64::*;
    // Everything before a run becomes 0, its digits their values.
    let values = _mm512_maskz_sub_epi8(keep, runs, _mm512_set1_epi8(b'0' as i8));
    // 10 * first + second per byte pair, 100 * first + second per pair of pairs, then
    // 10^4 * first + second per 64-bit lane: four eight-digit groups per run.
    let pairs = _mm512_maddubs_epi16(values, _mm512_set1_epi16(0x010a));
    let quads = _mm512_madd_epi16(pairs, _mm512_set1_epi32(0x0001_0064));
    let eights = _mm512_add_epi64(
        _mm512_mul_epu32(quads, _mm512_set1_epi64(10_000)),
        _mm512_srli_epi64::<32>(quads),
    );
    // Lanes 2 and 6: 10^8 * eights[i] + eights[i + 1], the runs' last sixteen digits; lanes 1
    // and 5 of `eights` are their top four (a run of at most 20 leaves lanes 0 and 4 zero),
    // moved to lanes 2 and 6.
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
    (joined, overflow)
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
            |data, at, columns| unsafe { decimal_lines(data, at, columns, false) },
        );
        assert!(taken > 100_000, "only {taken} lines taken");
    }

    /// The same with the canonical batches, where the CPU has VBMI2.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn canonical_batches_agree_with_the_portable_decoder() {
        let Some(_vbmi) = super::super::avx512_uuid::Avx512Vbmi::new() else {
            eprintln!("skipped: no AVX-512 VBMI and VBMI2 here (this CPU, or a no_avx512 build)");
            return;
        };
        let taken = super::super::avx2::tests::agree_with_the_portable_decoder(
            0x2545_f491_4f6c_dd1d,
            // SAFETY: the handle exists, so this CPU runs the features, VBMI2 among them.
            |data, at, columns| unsafe { decimal_lines(data, at, columns, true) },
        );
        assert!(taken > 100_000, "only {taken} lines taken");
    }
}
