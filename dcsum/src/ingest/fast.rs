//! The fast path of the streaming reader: the two forms that make up nearly every large ID list,
//! decoded without allocating, splitting into columns or going through `str`.
//!
//! - [`uuid_line`]: a canonical 36-character UUID (8-4-4-4-12 hex digits, either case) filling
//!   its whole line. The 32 digits are decoded eight at a time in a `u64` (SWAR): each byte is
//!   range-checked as a digit or a letter and turned into its nibble, and the nibbles are packed
//!   into four bytes with three shift-and-mask steps: about 18 ns per line on one core of the
//!   Zen 1 machine, branch-free but for one check of the result.
//! - [`decimal_pair_line`]: `HIGH LOW` as two decimal `u64` of at most 20 digits, separated and
//!   optionally surrounded by spaces and tabs. The digit runs are found and converted eight
//!   digits per `u64` as well: a digit-at-a-time loop is one multiply-add in a dependency chain
//!   per digit, and cost 100 ns per 40-digit line where this costs about 20.
//!
//! Anything else, or any line these do not take, goes to the simple parser
//! ([`crate::input::parse_line_bytes`]). Each function accepts only lines the simple parser reads
//! as the same ID with no state, so falling back is never wrong, only slower; the property tests
//! in `dcsum/tests/ingest.rs` hold the two equal.

use crate::input::MAX_LINE_BYTES;
use dispatcher_checksum::DispatcherId;

const ONES: u64 = 0x0101_0101_0101_0101;
const ONES_32: u64 = 0x0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// Per byte of `x` (each below 0x80), `0x80` where the byte is in `low..=high`, else 0.
#[inline(always)]
const fn bytes_in_range(x: u64, low: u8, high: u8) -> u64 {
    // `b + (0x80 - low)` has its top bit set exactly when `b >= low`, and `b + (0x7f - high)`
    // has it clear exactly when `b <= high`; with every byte below 0x80 no sum carries into the
    // next byte.
    let at_least_low = x.wrapping_add(ONES * (0x80 - low as u64));
    let above_high = x.wrapping_add(ONES * (0x7f - high as u64));
    at_least_low & !above_high & HIGH_BITS
}

/// Eight ASCII hex digits (the first in the lowest byte of `x`, as `u64::from_le_bytes` loads
/// them) as the four bytes they spell, first byte lowest; and a mask that is non-zero when any of
/// the eight is not a hex digit (the value is then meaningless).
#[inline(always)]
const fn hex8(x: u64) -> (u64, u64) {
    let non_ascii = x & HIGH_BITS;
    let digits = bytes_in_range(x, b'0', b'9');
    // Setting bit 5 folds 'A'..='F' onto 'a'..='f' and maps no other byte there.
    let letters = bytes_in_range(x | (ONES * 0x20), b'a', b'f');
    let invalid = non_ascii | ((digits | letters) ^ HIGH_BITS);
    // '0'..='9' end in their value, 'a'..='f' and 'A'..='F' in 1..=6: letters get 9 more.
    let nibbles = (x & (ONES * 0x0f)) + (letters >> 7) * 9;
    // Byte 2k becomes nibble 2k << 4 | nibble 2k+1; then the even bytes close up.
    let pairs = ((nibbles << 4) | (nibbles >> 8)) & 0x00ff_00ff_00ff_00ff;
    let quads = (pairs | (pairs >> 8)) & 0x0000_ffff_0000_ffff;
    ((quads | (quads >> 16)) & 0xffff_ffff, invalid)
}

#[inline(always)]
fn word(text: &[u8; 36], at: usize) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&text[at..at + 8]);
    u64::from_le_bytes(bytes)
}

#[inline(always)]
fn half_word(text: &[u8; 36], at: usize) -> u64 {
    let mut bytes = [0u8; 4];
    bytes.copy_from_slice(&text[at..at + 4]);
    u64::from(u32::from_le_bytes(bytes))
}

/// The ID of a canonical hyphenated UUID, `None` if `text` is not one. The mapping is the
/// library's (`DispatcherId::from(uuid::Uuid)`): `low` is the little-endian `u64` of UUID bytes
/// 0..8, `high` of bytes 8..16.
#[inline]
pub fn uuid(text: &[u8; 36]) -> Option<DispatcherId> {
    if text[8] != b'-' || text[13] != b'-' || text[18] != b'-' || text[23] != b'-' {
        return None;
    }
    // Digits 0..8 | 9..13 14..18 | 19..23 24..28 | 28..36: four groups of eight, each one `u64`.
    let (b0, i0) = hex8(word(text, 0));
    let (b1, i1) = hex8(half_word(text, 9) | half_word(text, 14) << 32);
    let (b2, i2) = hex8(half_word(text, 19) | half_word(text, 24) << 32);
    let (b3, i3) = hex8(word(text, 28));
    if i0 | i1 | i2 | i3 != 0 {
        return None;
    }
    Some(DispatcherId::new(b2 | b3 << 32, b0 | b1 << 32))
}

/// A UUID line at `data[at..]`: the ID and where the next line starts, when the line is exactly
/// a canonical UUID ended by `\n`, by `\r\n`, or by the end of `data` (the last line of an input
/// without a final newline). `None` sends the line to the general path.
#[cfg(test)]
pub fn uuid_line(data: &[u8], at: usize) -> Option<(DispatcherId, usize)> {
    uuid_line_with(data, at, uuid)
}

/// [`uuid_line`] with another decoder of the 36 characters (a vector one).
#[inline(always)]
pub fn uuid_line_with(
    data: &[u8],
    at: usize,
    uuid: impl Fn(&[u8; 36]) -> Option<DispatcherId>,
) -> Option<(DispatcherId, usize)> {
    let text: &[u8; 36] = data.get(at..at + 36)?.try_into().ok()?;
    let next = match data.get(at + 36) {
        None => at + 36,
        Some(b'\n') => at + 37,
        Some(b'\r') if data.get(at + 37) == Some(&b'\n') => at + 38,
        Some(_) => return None,
    };
    Some((uuid(text)?, next))
}

#[inline(always)]
fn skip_blanks(line: &[u8], mut at: usize) -> usize {
    while at < line.len() && matches!(line[at], b' ' | b'\t') {
        at += 1;
    }
    at
}

#[inline(always)]
fn load8(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(word)
}

/// Where the run of ASCII digits at `line[at..]` ends, looking eight bytes at a time.
#[inline(always)]
fn digits_end(line: &[u8], at: usize) -> usize {
    let mut end = at;
    while let Some(bytes) = line.get(end..end + 8) {
        let x = load8(bytes);
        // A byte of 0x80 or more is flagged by its own top bit; the carries it may cause only
        // disturb the bytes after it, and only the first flagged byte counts.
        let others = (!bytes_in_range(x, b'0', b'9') | x) & HIGH_BITS;
        if others != 0 {
            return end + (others.trailing_zeros() / 8) as usize;
        }
        end += 8;
    }
    while end < line.len() && line[end].is_ascii_digit() {
        end += 1;
    }
    end
}

/// The value of eight ASCII digits loaded little-endian (the first digit in the lowest byte):
/// pairs, then quads, then the eight, each step one multiply (the classic SWAR reduction).
#[inline(always)]
const fn eight_digits(x: u64) -> u64 {
    let x = x - ONES * b'0' as u64;
    let x = (x * 10 + (x >> 8)) & 0x00ff_00ff_00ff_00ff;
    let x = (x * 100 + (x >> 16)) & 0x0000_ffff_0000_ffff;
    (x * 10_000 + (x >> 32)) & 0xffff_ffff
}

/// The value of four digits (each byte 0..=9, the first lowest), the first most significant.
#[inline(always)]
const fn four_digits(x: u64) -> u64 {
    let x = (x * 10 + (x >> 8)) & 0x00ff_00ff;
    (x * 100 + (x >> 16)) & 0xffff
}

/// The value of the first `head_length` (1..=4) of four ASCII digits loaded little-endian: one
/// load shifted so the digits past the head fall out, then the four-digit step.
#[inline(always)]
pub(crate) const fn head_digits(first: u32, head_length: usize) -> u64 {
    let first = first as u64 - ONES_32 * b'0' as u64;
    four_digits((first << (8 * (4 - head_length))) & 0xffff_ffff)
}

/// A decimal `u64` of 1..=20 digits at `data[at..]`, and where it ends; `None` on more digits or
/// an overflow (the simple parser then words the error, or reads the leading zeros).
#[inline(always)]
fn decimal(data: &[u8], at: usize) -> Option<(u64, usize)> {
    let end = digits_end(data, at);
    let digits = &data[at..end];
    let length = digits.len();
    if (16..=20).contains(&length) {
        // The common case (a random u64 has 19 or 20 digits, about half each) without a loop
        // whose trip count changes from line to line: the first 0..=4 digits from one four-byte
        // load shifted so the digits past them fall out, then two groups of eight.
        let head_length = length - 16;
        let mut first = [0u8; 4];
        first.copy_from_slice(&digits[..4]);
        let head = head_digits(u32::from_le_bytes(first), head_length);
        let tail = eight_digits(load8(&digits[head_length..])) * 100_000_000
            + eight_digits(load8(&digits[head_length + 8..]));
        let value = head
            .checked_mul(10_000_000_000_000_000)?
            .checked_add(tail)?;
        return Some((value, end));
    }
    if length == 0 || length > 20 {
        return None;
    }
    let (head, groups) = digits.split_at(length % 8);
    // Fewer than sixteen digits: no overflow.
    let mut value = head
        .iter()
        .fold(0u64, |value, digit| value * 10 + u64::from(digit - b'0'));
    for group in groups.chunks_exact(8) {
        value = value * 100_000_000 + eight_digits(load8(group));
    }
    Some((value, end))
}

/// A `HIGH LOW` line at `data[at..]` in decimal: the ID and where the next line starts. The line
/// is spaces and tabs around and between two runs of 1..=20 digits, ended by `\n`, `\r\n` or
/// the end of `data`, and at most [`MAX_LINE_BYTES`] long. Twenty digits at most, so a 32-digit
/// column (which the simple parser reads as a simple-form UUID) is never taken here. Working on
/// the chunk rather than on a line found first saves looking for the newline twice.
#[inline(always)]
pub fn decimal_pair_line(data: &[u8], at: usize) -> Option<(DispatcherId, usize)> {
    let (high, end) = decimal(data, skip_blanks(data, at))?;
    let start = skip_blanks(data, end);
    if start == end {
        return None;
    }
    let (low, end) = decimal(data, start)?;
    let end = skip_blanks(data, end);
    let next = match data.get(end) {
        None => end,
        Some(b'\n') => end + 1,
        Some(b'\r') if data.get(end + 1) == Some(&b'\n') => end + 2,
        Some(_) => return None,
    };
    // The length rule comes first in the simple parser: no padded line longer than it here.
    (end - at <= MAX_LINE_BYTES).then_some((DispatcherId::new(high, low), next))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn library(text: &[u8]) -> Option<DispatcherId> {
        uuid::Uuid::try_parse_ascii(text)
            .ok()
            .map(DispatcherId::from)
    }

    fn fixed(text: &[u8]) -> &[u8; 36] {
        text.try_into().expect("36 bytes")
    }

    #[test]
    fn canonical_uuids_decode_as_the_library_does() {
        let text = *b"67e55044-10b1-426f-9247-bb680e5fe0c8";
        let id = uuid(&text).expect("a UUID");
        assert_eq!(id.low, 0x6f42_b110_4450_e567);
        assert_eq!(id.high, 0xc8e0_5f0e_68bb_4792);
        assert_eq!(Some(id), library(&text));
        let upper = text.to_ascii_uppercase();
        assert_eq!(uuid(fixed(&upper)), Some(id));
        for text in [
            b"00000000-0000-0000-0000-000000000000",
            b"ffffffff-ffff-ffff-ffff-ffffffffffff",
            b"FfFfFfFf-0123-4567-89aB-cDeF01234567",
        ] {
            assert_eq!(uuid(text), library(text), "{:?}", std::str::from_utf8(text));
        }
    }

    /// Every byte value at every position: the decoder takes exactly what the library takes.
    #[test]
    fn every_byte_at_every_position_agrees_with_the_library() {
        let base = *b"0a1B2c3D-4e5F-6789-aAbB-cCdDeEfF0123";
        for position in 0..36 {
            for byte in 0..=255u8 {
                let mut text = base;
                text[position] = byte;
                assert_eq!(
                    uuid(&text),
                    library(&text),
                    "byte {byte:#04x} at {position}"
                );
            }
        }
    }

    #[test]
    fn line_endings_and_lengths() {
        let text = b"67e55044-10b1-426f-9247-bb680e5fe0c8";
        let id = library(text);
        let with = |tail: &[u8]| [&text[..], tail].concat();
        assert_eq!(
            uuid_line(&with(b"\nX"), 0).map(|(i, n)| (Some(i), n)),
            Some((id, 37))
        );
        assert_eq!(
            uuid_line(&with(b"\r\n"), 0).map(|(i, n)| (Some(i), n)),
            Some((id, 38))
        );
        assert_eq!(
            uuid_line(text, 0).map(|(i, n)| (Some(i), n)),
            Some((id, 36))
        );
        // Anything else after the 36 characters is for the general path.
        for tail in [&b" "[..], b"\r", b"\rx", b"0\n", b"\t\n", b" Working\n"] {
            assert_eq!(uuid_line(&with(tail), 0), None, "{tail:?}");
        }
        assert_eq!(uuid_line(&text[..35], 0), None);
        let two = [with(b"\n"), with(b"\n")].concat();
        assert_eq!(uuid_line(&two, 37).map(|(_, n)| n), Some(74));
    }

    /// The ID of `line` when it is one whole decimal pair line.
    fn decimal_pair(line: &[u8]) -> Option<DispatcherId> {
        decimal_pair_line(line, 0)
            .filter(|&(_, next)| next == line.len())
            .map(|(id, _)| id)
    }

    #[test]
    fn decimal_pair_lines_end_where_the_next_starts() {
        let data = b"1 2\n3\t4 \r\n 5 6";
        assert_eq!(
            decimal_pair_line(data, 0),
            Some((DispatcherId::new(1, 2), 4))
        );
        assert_eq!(
            decimal_pair_line(data, 4),
            Some((DispatcherId::new(3, 4), 10))
        );
        assert_eq!(
            decimal_pair_line(data, 10),
            Some((DispatcherId::new(5, 6), 14))
        );
        assert_eq!(decimal_pair_line(b"1 2\r", 0), None);
        assert_eq!(decimal_pair_line(b"1 2\rx\n", 0), None);
        let padded = format!("1 2{}\n", " ".repeat(MAX_LINE_BYTES - 3));
        assert_eq!(
            decimal_pair_line(padded.as_bytes(), 0).map(|(_, n)| n),
            Some(padded.len())
        );
        let longer = format!(" {padded}");
        assert_eq!(decimal_pair_line(longer.as_bytes(), 0), None);
    }

    #[test]
    fn decimal_pairs() {
        let cases: [(&str, Option<(u64, u64)>); 14] = [
            ("1 2", Some((1, 2))),
            (" \t7\t\t8  ", Some((7, 8))),
            ("0 0", Some((0, 0))),
            ("00012 3", Some((12, 3))),
            (
                "18446744073709551615 18446744073709551615",
                Some((u64::MAX, u64::MAX)),
            ),
            ("18446744073709551616 1", None),
            ("000000000000000000001 2", None),
            ("1", None),
            ("1 2 3", None),
            ("1 2 Working", None),
            ("12a 3", None),
            ("1 0x2", None),
            ("", None),
            ("1\u{b}2", None),
        ];
        for (text, expected) in cases {
            assert_eq!(
                decimal_pair(text.as_bytes()),
                expected.map(|(high, low)| DispatcherId::new(high, low)),
                "{text:?}"
            );
        }
    }

    /// Every length from 1 to 22 digits, every digit value at every position, against `str::parse`.
    #[test]
    fn decimal_columns_of_every_length_agree_with_str_parse() {
        for length in 1..=22 {
            for position in 0..length {
                for digit in b'0'..=b'9' {
                    let mut text = vec![b'9'; length];
                    text[0] = b'1';
                    text[position] = digit;
                    let column = std::str::from_utf8(&text).unwrap();
                    let expected = (length <= 20).then(|| column.parse::<u64>().ok()).flatten();
                    let line = format!("{column}\t{column}");
                    assert_eq!(
                        decimal_pair(line.as_bytes()),
                        expected.map(|value| DispatcherId::new(value, value)),
                        "{line}"
                    );
                }
            }
        }
        // A byte that is not a digit anywhere in a column sends the line elsewhere.
        let line = b"12345678901234567 98765432109876543";
        for position in 0..line.len() {
            for byte in [b'/', b':', b'x', 0x80, 0xb0, 0xff] {
                let mut text = *line;
                text[position] = byte;
                assert_eq!(decimal_pair(&text), None, "{byte:#04x} at {position}");
            }
        }
    }
}
