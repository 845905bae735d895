//! The vector path of the streaming reader: canonical UUID lines decoded with AVX2, where the
//! CPU has it.
//!
//! [`Avx2`] is a handle in the kernels' sense (`kernels/src/dispatch.rs`): a value exists only
//! where this CPU runs AVX2 and the build did not switch the path off with `no_avx2`, so its
//! methods call the `#[target_feature]` code soundly. The reader picks its chunk parser once
//! through the kernels' `ifunc!` (see `ingest::chunk_parser`).
//!
//! The decoder ([`uuid`]) is the SWAR decoder's algorithm on 32 bytes at once: the 32 digits of
//! `8-4-4-4-12` are gathered into one register by two in-lane byte shuffles (of bytes 0..32 and
//! of bytes 2..18 beside 20..36), checked as hex digits by four signed compares, turned into
//! nibbles, paired into bytes by one multiply-add (`16 * high + low`) and packed. About twenty
//! instructions and no branch but the final check, where the SWAR decoder needs about sixty.

use dispatcher_checksum::DispatcherId;

/// Proof that this CPU runs AVX2 (and the build did not switch it off with `no_avx2`).
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
            std::arch::is_x86_feature_detected!("avx2")
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

/// A decimal `HIGH LOW` line at `data[at..]`, with AVX2: what [`super::fast::decimal_pair_line`]
/// takes, where the line and 16 bytes before it are inside `data` and it ends within 64 bytes;
/// `None` for every other line (the general path reads the few lines near a chunk's ends, and
/// padded ones, as correctly, only slower: calling the portable decoder from here made every
/// line's result go through the stack).
///
/// The line's 64 bytes are classified at once (digit, blank, `\n`) into three bit masks; the
/// line is valid when digits and blanks cover it and the digits form exactly two runs of at most
/// 20 (found with bit tricks, no loop over bytes). Each run's last 16 digits are converted in one
/// register (the classic multiply-add ladder: pairs, quads, eights); the 1..=4 digits before
/// them by the portable four-digit step. No branch depends on the digit counts but the last one.
///
/// # Safety
/// The CPU must run AVX2 (hold an [`Avx2`] handle).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub unsafe fn decimal_pair_line(data: &[u8], at: usize) -> Option<(DispatcherId, usize)> {
    use std::arch::x86_64::*;
    if at < 16 || data.len() < at + 64 {
        return None;
    }
    // SAFETY: `data[at - 16..at + 64]` is in bounds (checked above); every load below reads
    // inside it.
    let p = unsafe { data.as_ptr().add(at) };
    // SAFETY: as above: bytes at..at + 64.
    let (first, second) = unsafe {
        (
            _mm256_loadu_si256(p.cast()),
            _mm256_loadu_si256(p.add(32).cast()),
        )
    };
    let classes = |x| {
        let digits = _mm256_and_si256(
            _mm256_cmpgt_epi8(x, _mm256_set1_epi8(b'0' as i8 - 1)),
            _mm256_cmpgt_epi8(_mm256_set1_epi8(b'9' as i8 + 1), x),
        );
        let blanks = _mm256_or_si256(
            _mm256_cmpeq_epi8(x, _mm256_set1_epi8(b' ' as i8)),
            _mm256_cmpeq_epi8(x, _mm256_set1_epi8(b'\t' as i8)),
        );
        let newlines = _mm256_cmpeq_epi8(x, _mm256_set1_epi8(b'\n' as i8));
        (
            _mm256_movemask_epi8(digits) as u32 as u64,
            _mm256_movemask_epi8(blanks) as u32 as u64,
            _mm256_movemask_epi8(newlines) as u32 as u64,
        )
    };
    let (d0, b0, n0) = classes(first);
    let (d1, b1, n1) = classes(second);
    let newlines = n0 | n1 << 32;
    if newlines == 0 {
        return None;
    }
    let newline = newlines.trailing_zeros() as usize;
    // One `\r` before the `\n` belongs to the line ending.
    let end = newline - usize::from(newline > 0 && data[at + newline - 1] == b'\r');
    let line = (1u64 << end) - 1;
    let digits = (d0 | d1 << 32) & line;
    let blanks = (b0 | b1 << 32) & line;
    let starts = digits & !(digits << 1);
    if digits | blanks != line || starts.count_ones() != 2 {
        return None;
    }
    let high_start = starts.trailing_zeros() as usize;
    let low_start = (starts & (starts - 1)).trailing_zeros() as usize;
    let high_length = (!digits >> high_start).trailing_zeros() as usize;
    let low_length = (!digits >> low_start).trailing_zeros() as usize;
    if high_length > 20 || low_length > 20 {
        return None;
    }
    // SAFETY: each run lies inside bytes at..at + 64 and starts at `at` or later, so its last 16
    // bytes (and the 4 before them, for 17 to 20 digits) start at `at - 16` or later.
    let (high, low) = unsafe {
        (
            run_value(p.add(high_start), high_length)?,
            run_value(p.add(low_start), low_length)?,
        )
    };
    Some((DispatcherId::new(high, low), at + newline + 1))
}

/// The value of the `length` (1..=20) ASCII digits at `run`; `None` on a `u64` overflow.
///
/// # Safety
/// The CPU runs AVX2; `run + length - 16 .. run + length` is readable, and so is `run .. run + 4`
/// when `length > 16`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn run_value(run: *const u8, length: usize) -> Option<u64> {
    use std::arch::x86_64::*;
    // Byte `i` of a load at `KEEP[k..]` is kept exactly when `i >= 16 - k`: the last `k` of 16.
    static KEEP: [u8; 32] = {
        let mut keep = [0u8; 32];
        let mut i = 16;
        while i < 32 {
            keep[i] = 0xff;
            i += 1;
        }
        keep
    };
    let tail_length = length.min(16);
    // SAFETY: the caller's contract: the 16 bytes ending at the run's end are readable; `KEEP`
    // has 32 bytes and `tail_length <= 16`.
    let (tail, keep) = unsafe {
        (
            _mm_loadu_si128(run.add(length).sub(16).cast()),
            _mm_loadu_si128(KEEP.as_ptr().add(tail_length).cast()),
        )
    };
    let digits = _mm_and_si128(_mm_sub_epi8(tail, _mm_set1_epi8(b'0' as i8)), keep);
    let pairs = _mm_maddubs_epi16(digits, _mm_set1_epi16(0x010a));
    let quads = _mm_madd_epi16(pairs, _mm_set1_epi32(0x0001_0064));
    let quads = _mm_packus_epi32(quads, quads);
    let eights = _mm_madd_epi16(quads, _mm_set1_epi32(0x0001_2710));
    let tail = _mm_cvtsi128_si32(eights) as u32 as u64 * 100_000_000
        + _mm_extract_epi32::<1>(eights) as u32 as u64;
    if length <= 16 {
        return Some(tail);
    }
    let head_length = length - 16;
    let mut first = [0u8; 4];
    // SAFETY: the caller's contract: `run .. run + 4` is readable when `length > 16`.
    unsafe { std::ptr::copy_nonoverlapping(run, first.as_mut_ptr(), 4) };
    let head = super::fast::head_digits(u32::from_le_bytes(first), head_length);
    head.checked_mul(10_000_000_000_000_000)?.checked_add(tail)
}

#[cfg(test)]
mod tests {
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

    /// Random and mutated `HIGH LOW` lines (every digit count to 22, blanks, CR, stray bytes,
    /// non-ASCII) at every offset of a buffer: where the vector decoder answers, the portable one
    /// gives the same ID and next line; where it declines a line in its reach (16 bytes before,
    /// a `\n` within 64 bytes), the portable one declines it too.
    #[test]
    fn decimal_pairs_agree_with_the_portable_decoder() {
        use super::super::fast;
        let Some(_avx2) = Avx2::new() else {
            eprintln!("skipped: this CPU does not run AVX2");
            return;
        };
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut taken = 0;
        for _ in 0..200_000 {
            let digits = |next: &mut dyn FnMut() -> u64| -> String {
                let length = 1 + (next() % 22) as usize;
                (0..length)
                    .map(|_| char::from(b'0' + (next() % 10) as u8))
                    .collect()
            };
            let blank = |next: &mut dyn FnMut() -> u64| -> &'static str {
                ["", " ", "\t", "  ", " \t"][(next() % 5) as usize]
            };
            let mut line = format!(
                "{}{}{}{}{}{}",
                blank(&mut next),
                digits(&mut next),
                [" ", "\t", "  "][(next() % 3) as usize],
                digits(&mut next),
                blank(&mut next),
                ["\n", "\r\n", "\r\r\n", "\n"][(next() % 4) as usize],
            )
            .into_bytes();
            if next() % 3 == 0 {
                let at = (next() as usize) % line.len();
                line[at] = [b'x', b'/', b':', 0x80, 0xff, b'\r', b' ', b'0', b'\n', 0x0b]
                    [(next() % 10) as usize];
            }
            if next() % 8 == 0 {
                line = format!("{} {}\n", u64::MAX, u64::MAX - next() % 3).into_bytes();
            }
            let before = 16 + (next() % 8) as usize;
            let mut data = vec![b'\n'; before];
            data.extend_from_slice(&line);
            data.extend(std::iter::repeat_n(b'7', 70));
            // SAFETY: the handle exists, so this CPU runs AVX2.
            let vector = unsafe { decimal_pair_line(&data, before) };
            let portable = fast::decimal_pair_line(&data, before);
            match vector {
                Some(_) => {
                    assert_eq!(vector, portable, "{:?}", String::from_utf8_lossy(&line));
                    taken += 1;
                }
                None if data[before..before + 64].contains(&b'\n') => {
                    assert_eq!(portable, None, "{:?}", String::from_utf8_lossy(&line))
                }
                None => {}
            }
        }
        assert!(taken > 50_000, "only {taken} lines taken");
    }
}
