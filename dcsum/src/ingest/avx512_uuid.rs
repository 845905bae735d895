//! The AVX-512 path of the streaming reader's canonical UUID lines, where the CPU has AVX-512 F,
//! BW and VBMI (with AVX2, BMI1, BMI2 and POPCNT, which every such CPU has and which are checked
//! all the same).
//!
//! [`Avx512Vbmi`] is a handle in the kernels' sense (`kernels/src/dispatch.rs`): a value exists
//! only where this CPU runs those features and VBMI2 too (the `HIGH LOW` reader's canonical
//! batches, stamped into the same chunk parser, need it; every CPU with VBMI that shipped in
//! numbers, Ice Lake on and Zen 4, has both) and the build switched off neither `no_avx512` nor
//! `no_avx2`. A CPU with AVX-512 but without them (Skylake-X, Cascade Lake) keeps the AVX2 UUID
//! decoder beside the AVX-512 `HIGH LOW` reader's line-at-a-time loop (see
//! `ingest::chunk_parser`).
//!
//! Why: a canonical UUID line (`8-4-4-4-12` hex digits and `\n`) is always 37 bytes (38 with
//! `\r\n`), so a run of them needs no search for where each line ends. The AVX2 decoder
//! (`avx2::uuid`) takes one line at a time, each a chain of loads, shuffles, checks and a branch;
//! here [`uuid_lines`] decodes a batch of up to [`BATCH_LINES`] lines with one branch per
//! [`GROUP_LINES`]:
//! - two lines at a time: each line's 37 (or 38) bytes loaded under a mask (nothing past the line
//!   is read, so no line near the data's end needs care), its hyphens and line ending checked by
//!   one masked compare against the line's pattern; a batch whose first line has a `\r` after its
//!   36 characters is read as `\r\n` lines, any other as `\n` lines;
//! - one `vpermt2b` gathers the 32 hex digits of both lines into one register, and a second one
//!   looks each digit up in a 128-entry table (its nibble value, or a byte with its top bit set for
//!   anything that is not a hex digit; a non-ASCII byte has its own top bit set);
//! - one multiply-add (`16 * high + low`) and one narrowing move make the 32 bytes of the two IDs:
//!   in UUID byte order, which is the `DispatcherId` in memory (`#[repr(C)] { low, high }`, `low`
//!   the little-endian `u64` of UUID bytes 0..8), stored straight into the batch;
//! - the text [`PREFETCH`] bytes ahead is prefetched (the batches wait on memory more than on
//!   work);
//! - the errors of a group of lines are or-ed together and checked once: on any, the batch ends
//!   before the group and its lines go through the AVX2 decoder one at a time, which takes the
//!   good ones and stops at exactly the line the other paths stop at. A file's last line without
//!   its line ending and a chunk's first line take the same way.
//!
//! Measured (`ingest_paths` on 1M lines, 37 MB from the page cache, the whole mapped path with
//! the fold, Zen 4, machine shared with another engineer's builds and benchmarks; see
//! docs/performance.md, three runs): medians of 2.32-2.36 ns per line with one parsing thread
//! against 4.29-4.34 for the AVX2 decoder, 1.63-1.70 with both threads against 2.59-2.70 (without
//! the prefetch: 2.90-3.02 and 1.90-1.97; later, at another load that slowed every path, 2.61-2.69
//! against 4.54-4.61 and 1.86-1.93 against 2.87-2.94).

use dispatcher_checksum::DispatcherId;

/// Proof that this CPU runs AVX-512 F, BW, DQ, VBMI and VBMI2, AVX2, BMI1, BMI2 and POPCNT (and
/// the build did not switch AVX-512 or AVX2 off).
#[derive(Clone, Copy, Debug)]
pub struct Avx512Vbmi {
    _available: (),
}

impl Avx512Vbmi {
    /// Whether this CPU runs the AVX-512 UUID path (and the build did not switch it off).
    #[inline]
    pub fn is_available() -> bool {
        #[cfg(all(target_arch = "x86_64", not(feature = "no_avx512")))]
        {
            std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512vbmi")
                && std::arch::is_x86_feature_detected!("avx512vbmi2")
                && super::avx512::Avx512::is_available()
        }
        #[cfg(not(all(target_arch = "x86_64", not(feature = "no_avx512"))))]
        {
            false
        }
    }

    /// The handle, or `None` where this CPU cannot run the path.
    #[inline]
    pub fn new() -> Option<Avx512Vbmi> {
        Avx512Vbmi::is_available().then_some(Avx512Vbmi { _available: () })
    }
}

/// Bytes per canonical UUID line: 36 characters and `\n`.
const LINE: usize = 37;

/// Bytes per canonical UUID line ended by `\r\n`.
const CRLF_LINE: usize = 38;

/// Lines per batch (even: the batch works two at a time): the IDs it collects before they go to
/// the columns.
const BATCH_LINES: usize = 64;

/// Lines per group, the part of a batch whose errors are checked at once: a batch stops after its
/// first group with an error, so a run of UUID lines that ends (a line with a state, a comment,
/// another form) costs at most a group's work past its end. Checking the whole batch at its end
/// instead cost a list with a state on every tenth line 42 ns per line against the AVX2 decoder's
/// 34-37 (one parsing thread).
const GROUP_LINES: usize = 8;

/// How far ahead of the lines being decoded their text is prefetched. The decoder itself is
/// about fifteen instructions per two lines, so the batches wait on memory (the page cache of a
/// mapped file) more than on work: `perf annotate` put two thirds of their samples on the loads.
/// The hardware prefetchers alone left one parsing thread at 2.97 ns per line on the 1M-line
/// list; 2, 4, 8 and 16 KiB ahead gave 2.68, 2.43, 2.45 and 2.76 (medians of 9 alternated runs
/// each, Zen 4; the non-temporal hint at 4 KiB was no better).
const PREFETCH: usize = 4096;

/// A line of `line` bytes ([`LINE`] or [`CRLF_LINE`]) with its hyphens and line ending in place,
/// 0 at its digits (and past its end).
const fn pattern(line: usize) -> [u8; 64] {
    let mut pattern = [0u8; 64];
    pattern[8] = b'-';
    pattern[13] = b'-';
    pattern[18] = b'-';
    pattern[23] = b'-';
    if line == CRLF_LINE {
        pattern[36] = b'\r';
    }
    pattern[line - 1] = b'\n';
    pattern
}

/// Where [`pattern`]'s bytes are for a line of `line` bytes: the bytes that are not digits.
const fn structure(line: usize) -> u64 {
    1 << 8 | 1 << 13 | 1 << 18 | 1 << 23 | (((1 << line) - 1) & !((1 << 36) - 1))
}

/// The bytes of a line that are not digits, whatever its ending (bytes 8, 13, 18 and 23).
const HYPHENS: u64 = structure(36);

/// The `vpermt2b` index that gathers two lines' 32 hex digits each, in order: the first line's
/// from bytes 0..36 of one register, the second's from the other (index bit 6).
const GATHER: [u8; 64] = {
    let mut gather = [0u8; 64];
    let mut at = 0;
    let mut digit = 0;
    while at < 36 {
        if HYPHENS & 1 << at == 0 {
            gather[digit] = at as u8;
            gather[32 + digit] = 64 | at as u8;
            digit += 1;
        }
        at += 1;
    }
    gather
};

/// Every ASCII byte's nibble value as a hex digit (either case), or 0x80 for one that is not.
const NIBBLES: [u8; 128] = {
    let mut nibbles = [0x80u8; 128];
    let digits = b"0123456789abcdef";
    let mut value = 0;
    while value < 16 {
        nibbles[digits[value] as usize] = value as u8;
        nibbles[digits[value].to_ascii_uppercase() as usize] = value as u8;
        value += 1;
    }
    nibbles
};

/// Canonical UUID lines from `data[at..]` on, pushed into `columns` while they come: where the
/// first line not taken starts, and how many were. Takes exactly the lines
/// `fast::uuid_line` takes, with the same IDs (the AVX2 decoder reads the ones the batches do not:
/// the first line, the last line without its line ending, and every line of a batch with a line
/// that is not a canonical UUID line ended as the batch's first line).
///
/// # Safety
/// The CPU must run AVX-512 F, BW and VBMI, AVX2, BMI1, BMI2 and POPCNT (hold an [`Avx512Vbmi`]
/// handle).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi,avx2,bmi1,bmi2,popcnt")]
#[inline]
pub(super) unsafe fn uuid_lines(
    data: &[u8],
    at: usize,
    columns: &mut super::Columns,
) -> (usize, usize) {
    // As the decimal readers: a list of other forms pays one line's decode here, not a batch.
    // SAFETY: this function's contract includes AVX2.
    let Some((id, next)) =
        super::fast::uuid_line_with(data, at, |text| unsafe { super::avx2::uuid(text) })
    else {
        return (at, 0);
    };
    columns.push(id);
    // SAFETY: this function's contract.
    let (at, count) = unsafe { uuid_batches(data, next, columns) };
    (at, count + 1)
}

/// [`uuid_lines`] after its first line: batches of up to [`BATCH_LINES`] whole lines (an even
/// count, all inside `data`), each decoded by [`decode_batch`] up to its first group with a line
/// that is not a canonical UUID ended as the batch's first line seems to be (`\n`, or `\r\n`
/// when its 37th byte is `\r`); the AVX2 decoder reads that group's lines, and a last odd line,
/// one at a time and stops where they stop.
///
/// Never inlined, as the decimal readers: its batch buffer is set up once per run of UUID lines.
///
/// # Safety
/// As [`uuid_lines`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi,avx2,bmi1,bmi2,popcnt")]
#[inline(never)]
unsafe fn uuid_batches(data: &[u8], mut at: usize, columns: &mut super::Columns) -> (usize, usize) {
    let mut count = 0;
    let mut decoded = [DispatcherId::new(0, 0); BATCH_LINES];
    loop {
        // `at <= data.len()`: every step below moves it by whole lines inside `data`.
        let crlf = data.get(at + 36) == Some(&b'\r');
        let line = if crlf { CRLF_LINE } else { LINE };
        let lines = ((data.len() - at) / line).min(BATCH_LINES) & !1;
        // SAFETY: the batch's `lines * line` bytes are inside `data[at..]`, `lines` is even and at
        // most `BATCH_LINES`, `line` is the length `decode_batch` is given, and this function's
        // contract covers the features `decode_batch` needs.
        let taken = unsafe {
            let text = data.as_ptr().add(at);
            if crlf {
                decode_batch::<CRLF_LINE>(text, lines, &mut decoded)
            } else {
                decode_batch::<LINE>(text, lines, &mut decoded)
            }
        };
        columns.extend(&decoded[..taken]);
        at += taken * line;
        count += taken;
        if taken == lines && lines > 0 {
            continue;
        }
        // The group that failed, or the last line.
        for _ in 0..GROUP_LINES {
            // SAFETY: this function's contract includes AVX2.
            match super::fast::uuid_line_with(data, at, |text| unsafe { super::avx2::uuid(text) }) {
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

/// The `lines` canonical UUID lines of `LENGTH` bytes each at `text` decoded into
/// `decoded[..lines]`, two at a time (see the module docs), in groups of [`GROUP_LINES`]: how
/// many lines it took, all the groups before the first with a line that is not 36 canonical
/// characters and `\n` ([`LINE`]) or `\r\n` ([`CRLF_LINE`]) (`decoded` past them holds garbage).
///
/// # Safety
/// `text[..lines * LENGTH]` must be readable, `lines` even and at most `decoded.len()`, `LENGTH`
/// one of [`LINE`] and [`CRLF_LINE`], and the CPU must run AVX-512 F, BW and VBMI.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
#[inline]
unsafe fn decode_batch<const LENGTH: usize>(
    text: *const u8,
    lines: usize,
    decoded: &mut [DispatcherId],
) -> usize {
    use std::arch::x86_64::*;
    let structure = const { structure(LENGTH) };
    let pattern = const { pattern(LENGTH) };
    // SAFETY: each table is 64 bytes or more (`NIBBLES` 128); `loadu` takes any alignment.
    let (pattern, gather, nibbles_low, nibbles_high) = unsafe {
        (
            _mm512_loadu_si512(pattern.as_ptr().cast()),
            _mm512_loadu_si512(GATHER.as_ptr().cast()),
            _mm512_loadu_si512(NIBBLES.as_ptr().cast()),
            _mm512_loadu_si512(NIBBLES.as_ptr().add(64).cast()),
        )
    };
    // 16 * first + second per byte pair.
    let weights = _mm512_set1_epi16(0x0110);
    let line_bytes = const { (1u64 << LENGTH) - 1 };
    let mut misplaced = 0u64;
    let mut not_hex = _mm512_setzero_si512();
    let mut checked = 0;
    while checked < lines {
        let group_end = (checked + GROUP_LINES).min(lines);
        for pair in checked / 2..group_end / 2 {
            // SAFETY: lines `2 * pair` and `2 * pair + 1` are inside `text[..lines * LENGTH]`, and
            // the mask reads only their bytes (masked-off bytes are not read and cannot fault); a
            // prefetch reads nothing and never faults, wherever its address (`wrapping_add`: it
            // may be past the data).
            let (first, second) = unsafe {
                let line = text.add(2 * pair * LENGTH);
                _mm_prefetch::<_MM_HINT_T0>(line.wrapping_add(PREFETCH).cast());
                (
                    _mm512_maskz_loadu_epi8(line_bytes, line.cast()),
                    _mm512_maskz_loadu_epi8(line_bytes, line.add(LENGTH).cast()),
                )
            };
            misplaced |= _mm512_mask_cmpneq_epi8_mask(structure, first, pattern)
                | _mm512_mask_cmpneq_epi8_mask(structure, second, pattern);
            let digits = _mm512_permutex2var_epi8(first, gather, second);
            let values = _mm512_permutex2var_epi8(nibbles_low, digits, nibbles_high);
            // A top bit in either: a byte that is not ASCII, or not a hex digit.
            not_hex = _mm512_ternarylogic_epi64::<0xfe>(not_hex, digits, values);
            let bytes = _mm512_cvtepi16_epi8(_mm512_maddubs_epi16(values, weights));
            // SAFETY: `2 * pair + 1 < lines <= decoded.len()`, and a `DispatcherId` is 16 plain
            // bytes (`#[repr(C)] { low, high }`: UUID bytes 0..8 little-endian, then 8..16).
            unsafe { _mm256_storeu_si256(decoded.as_mut_ptr().add(2 * pair).cast(), bytes) };
        }
        if misplaced != 0 || _mm512_movepi8_mask(not_hex) != 0 {
            return checked;
        }
        checked = group_end;
    }
    lines
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::super::{uuid_lines_with, Columns, Fold};
    use super::*;
    use dispatcher_checksum::StateSet;

    /// A xorshift stream: the tests' buffers, the same on every run.
    struct Stream(u64);

    impl Stream {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        /// A canonical UUID line's 36 characters, random digits in random case.
        fn uuid(&mut self) -> [u8; 36] {
            let mut text = *b"00000000-0000-0000-0000-000000000000";
            for at in GATHER[..32].iter().map(|&at| usize::from(at)) {
                text[at] = b"0123456789abcdefABCDEF"[(self.next() % 22) as usize];
            }
            text
        }
    }

    /// The AVX-512 reader and the portable one from `at` in `data`: the same stop, count and
    /// IDs, in order. Returns the lines taken.
    fn agree_at(data: &[u8], at: usize) -> usize {
        let mut vector = Columns::new(Fold::AUTO, StateSet::ALL);
        let mut portable = Columns::new(Fold::AUTO, StateSet::ALL);
        // SAFETY: the callers hold an `Avx512Vbmi` handle.
        let stopped = unsafe { uuid_lines(data, at, &mut vector) };
        let expected = uuid_lines_with(data, at, &mut portable, super::super::fast::uuid);
        assert_eq!(
            (stopped, &vector.unstated, vector.total),
            (expected, &portable.unstated, portable.total),
            "from {at} in {:?}",
            String::from_utf8_lossy(data)
        );
        assert!(vector.stated.is_empty());
        stopped.1
    }

    /// [`agree_at`] from every line start of `data`, and from `data` moved to every offset of a
    /// 64-byte block (as a chunk of a block sits anywhere in memory).
    fn agree_everywhere(data: &[u8], offsets: bool) -> usize {
        let mut taken = 0;
        let mut at = 0;
        while at < data.len() {
            taken += agree_at(data, at);
            at = memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |newline| at + newline + 1);
        }
        if offsets {
            let mut moved = vec![0u8; data.len() + 64];
            for offset in 0..64 {
                moved[offset..offset + data.len()].copy_from_slice(data);
                taken += agree_at(&moved[offset..offset + data.len()], 0);
            }
        }
        taken
    }

    fn handle() -> Option<Avx512Vbmi> {
        let handle = Avx512Vbmi::new();
        if handle.is_none() {
            eprintln!(
                "skipped: no AVX-512 F, BW, VBMI and VBMI2 here (this CPU, or a no_avx512 build)"
            );
        }
        handle
    }

    /// Every byte value at every position of a line (its 36 characters, its `\n`, and a byte
    /// where the next line would start), the line at every place in batches near the batch size,
    /// in lists of lines ended by `\n` and by `\r\n`: the reader takes what the portable decoder
    /// takes and stops where it stops.
    #[test]
    fn every_byte_at_every_position_agrees_with_the_portable_decoder() {
        if handle().is_none() {
            return;
        }
        let mut stream = Stream(0x2545_f491_4f6c_dd1d);
        let mut taken = 0;
        for (length, ending) in [(LINE, &b"\n"[..]), (CRLF_LINE, b"\r\n")] {
            for position in 0..=length {
                for byte in 0..=255u8 {
                    let lines = 1 + (stream.next() % (2 * BATCH_LINES as u64 + 3)) as usize;
                    let mutated = (stream.next() as usize) % lines;
                    let mut data = Vec::with_capacity(lines * length + 1);
                    for _ in 0..lines {
                        data.extend_from_slice(&stream.uuid());
                        data.extend_from_slice(ending);
                    }
                    let at = mutated * length + position;
                    if at < data.len() {
                        data[at] = byte;
                    } else {
                        data.push(byte);
                    }
                    let line_start = |line: usize| (line * length).min(data.len());
                    for start in [
                        0,
                        line_start(mutated.saturating_sub(1)),
                        line_start(mutated),
                    ] {
                        if start < data.len() {
                            taken += agree_at(&data, start);
                        }
                    }
                }
            }
        }
        assert!(taken > 600_000, "only {taken} lines taken");
    }

    /// Runs of good lines (ended by `\n`, or all by `\r\n`) of every length near one, two and three
    /// batches, ended every way (with and without a last line ending, cut short, by a line of
    /// another form or the other ending), at every offset of a 64-byte block.
    #[test]
    fn runs_of_every_length_agree_with_the_portable_decoder() {
        if handle().is_none() {
            return;
        }
        let mut stream = Stream(0x9e37_79b9_7f4a_7c15);
        let mut taken = 0;
        let lengths = (0..8).chain(BATCH_LINES - 4..BATCH_LINES * 3 + 4);
        for (lines, ending) in lengths.flat_map(|lines| [(lines, &b"\n"[..]), (lines, b"\r\n")]) {
            let mut good = Vec::with_capacity(lines * CRLF_LINE);
            for _ in 0..lines {
                good.extend_from_slice(&stream.uuid());
                good.extend_from_slice(ending);
            }
            let uuid = stream.uuid();
            let ends: [&[u8]; 7] = [
                b"",
                &uuid,
                &uuid[..35],
                b"1 2\n",
                b"\n",
                b"\r\n",
                b"0123456789abcdef0123456789abcdef\n",
            ];
            for end in ends {
                let data = [&good[..], end].concat();
                taken += agree_everywhere(&data, true);
            }
        }
        assert!(taken > 100_000, "only {taken} lines taken");
    }

    /// Random buffers of UUID lines with mutations (CRLF endings, wrong and missing hyphens,
    /// bytes out of the hex range, non-ASCII, lines one byte short or long, other forms, blank
    /// lines, a truncated last line), read from every line start.
    #[test]
    fn mutated_lines_agree_with_the_portable_decoder() {
        if handle().is_none() {
            return;
        }
        let mut stream = Stream(0x6a09_e667_f3bc_c908);
        let mut taken = 0;
        for _ in 0..2_000 {
            let lines = 1 + (stream.next() % 300) as usize;
            let mutate_every = [0, 2, 20, 150, 1000][(stream.next() % 5) as usize];
            let ending: &[u8] = [&b"\n"[..], b"\n", b"\r\n"][(stream.next() % 3) as usize];
            let mut data = Vec::new();
            for _ in 0..lines {
                let mut line = stream.uuid().to_vec();
                line.extend_from_slice(ending);
                if mutate_every > 0 && stream.next().is_multiple_of(mutate_every) {
                    let at = (stream.next() as usize) % line.len();
                    match stream.next() % 8 {
                        0 => line.insert(36, b'\r'),
                        1 => line[[8, 13, 18, 23][(stream.next() % 4) as usize]] = b'0',
                        2 => {
                            line.remove(at);
                        }
                        3 => line.insert(at, b"0-\n"[(stream.next() % 3) as usize]),
                        4 => line = b"12 34\n".to_vec(),
                        5 => line = b"\n".to_vec(),
                        _ => {
                            line[at] = [b'g', b'G', b'/', b':', b'@', b'`', 0x80, 0xb0, 0xff, 0]
                                [(stream.next() % 10) as usize]
                        }
                    }
                }
                data.extend_from_slice(&line);
            }
            if stream.next().is_multiple_of(3) {
                let cut = 1 + (stream.next() % 3) as usize;
                data.truncate(data.len().saturating_sub(cut));
            }
            taken += agree_everywhere(&data, stream.next().is_multiple_of(8));
        }
        assert!(taken > 100_000, "only {taken} lines taken");
    }

    /// The batch decodes a known UUID as the library does (the byte order of the ID).
    #[test]
    fn a_batch_decodes_as_the_library() {
        if handle().is_none() {
            return;
        }
        let text = "67e55044-10b1-426f-9247-bb680e5fe0c8";
        let data = format!("{text}\n{}\n", text.to_uppercase()).repeat(BATCH_LINES);
        let mut decoded = [DispatcherId::new(0, 0); BATCH_LINES];
        // SAFETY: the handle exists; the data holds `BATCH_LINES` whole lines.
        let taken = unsafe { decode_batch::<LINE>(data.as_ptr(), BATCH_LINES, &mut decoded) };
        assert_eq!(taken, BATCH_LINES);
        let expected = DispatcherId::from(uuid::Uuid::parse_str(text).expect("a UUID"));
        assert!(decoded.iter().all(|&id| id == expected));
    }
}
