//! `DispatcherId` and its text forms.
//!
//! An ID is 128 bits held as two `u64` halves. The reference system makes one from a random UUID:
//! `low` is the little-endian `u64` of bytes 0..8 and `high` of bytes 8..16. Two text forms parse
//! here ([`FromStr`]):
//!
//! - canonical UUID text, `67e55044-10b1-426f-9247-bb680e5fe0c8` (and the other forms the `uuid`
//!   crate reads: simple, braced, URN);
//! - `high low`: two `u64`, each decimal or `0x`-hex, separated by white space.
//!
//! The `dcsum` tool's ID lists also read a JSON object per line; with the `serde` feature an ID
//! (de)serializes as `{"low": .., "high": ..}`.

use std::fmt;
use std::str::FromStr;

/// A dispatcher's 128-bit ID. The layout (`low` then `high`, `repr(C)`) is the kernels'
/// [`IdWords`](dispatcher_checksum_kernels::IdWords), so a slice of IDs is passed to them as is.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    bytemuck::Pod,
    bytemuck::Zeroable,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[repr(C)]
pub struct DispatcherId {
    /// Little-endian `u64` of UUID bytes 0..8.
    pub low: u64,
    /// Little-endian `u64` of UUID bytes 8..16.
    pub high: u64,
}

impl DispatcherId {
    /// The ID with these halves.
    pub const fn new(high: u64, low: u64) -> DispatcherId {
        DispatcherId { low, high }
    }

    /// The ID the reference system makes from these UUID bytes.
    pub const fn from_uuid_bytes(bytes: [u8; 16]) -> DispatcherId {
        let mut low = [0u8; 8];
        let mut high = [0u8; 8];
        let mut i = 0;
        while i < 8 {
            low[i] = bytes[i];
            high[i] = bytes[8 + i];
            i += 1;
        }
        DispatcherId {
            low: u64::from_le_bytes(low),
            high: u64::from_le_bytes(high),
        }
    }

    /// The UUID bytes this ID was made from (inverse of [`DispatcherId::from_uuid_bytes`]).
    pub fn to_uuid_bytes(self) -> [u8; 16] {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.low.to_le_bytes());
        bytes[8..].copy_from_slice(&self.high.to_le_bytes());
        bytes
    }

    /// The ID as the UUID it was made from.
    pub fn to_uuid(self) -> uuid::Uuid {
        uuid::Uuid::from_bytes(self.to_uuid_bytes())
    }

    /// The kernels' view of one ID.
    pub const fn words(self) -> dispatcher_checksum_kernels::IdWords {
        [self.low, self.high]
    }

    /// The kernels' view of a slice of IDs, without copying.
    pub fn slice_words(ids: &[DispatcherId]) -> &[dispatcher_checksum_kernels::IdWords] {
        bytemuck::cast_slice(ids)
    }
}

impl From<uuid::Uuid> for DispatcherId {
    fn from(uuid: uuid::Uuid) -> Self {
        DispatcherId::from_uuid_bytes(*uuid.as_bytes())
    }
}

/// Canonical UUID text, the form operators see in the reference system's logs.
impl fmt::Display for DispatcherId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_uuid().hyphenated(), f)
    }
}

/// Why a text did not parse as an ID: what was found and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdParseError {
    /// What was wrong, in words.
    pub message: String,
}

impl fmt::Display for IdParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for IdParseError {}

impl IdParseError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> IdParseError {
        IdParseError {
            message: message.into(),
        }
    }
}

/// Parses one `u64` half: decimal, or hex after `0x`/`0X`.
pub fn parse_half(text: &str) -> Result<u64, IdParseError> {
    let (digits, radix) = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => (hex, 16),
        None => (text, 10),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(IdParseError::new(format!(
            "{text:?} is not a u64: expected decimal digits or 0x followed by hex digits"
        )));
    }
    u64::from_str_radix(digits, radix).map_err(|_| {
        IdParseError::new(format!(
            "{text:?} overflows a u64 (the largest is 18446744073709551615 = 0xffffffffffffffff)"
        ))
    })
}

/// Whether `text` looks like a UUID rather than a number (so errors can say the right thing).
pub fn looks_like_uuid(text: &str) -> bool {
    text.contains('-') || text.starts_with('{') || text.starts_with("urn:") || text.len() == 32
}

/// Parses UUID text.
pub fn parse_uuid(text: &str) -> Result<DispatcherId, IdParseError> {
    uuid::Uuid::parse_str(text)
        .map(DispatcherId::from)
        .map_err(|error| {
            IdParseError::new(format!(
                "{text:?} is not a UUID ({error}): expected 8-4-4-4-12 hex digits such as \
                 67e55044-10b1-426f-9247-bb680e5fe0c8"
            ))
        })
}

impl FromStr for DispatcherId {
    type Err = IdParseError;

    /// UUID text or `high low` (the JSON object form is read by the `dcsum` tool's ID lists).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let columns: Vec<&str> = text.split_whitespace().collect();
        match columns.as_slice() {
            [one] if looks_like_uuid(one) => parse_uuid(one),
            [high, low] => Ok(DispatcherId::new(parse_half(high)?, parse_half(low)?)),
            [] => Err(IdParseError::new("empty text: expected a dispatcher ID")),
            _ => Err(IdParseError::new(format!(
                "{text:?} is not a dispatcher ID: expected a UUID or `high low` (two u64)"
            ))),
        }
    }
}
