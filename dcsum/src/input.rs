//! Reading ID lists: one dispatcher per line, with an optional lifecycle state.
//!
//! A line is one of
//! - `UUID [STATE]`
//! - `HIGH LOW [STATE]` (each half decimal or `0x`-hex)
//! - `{"low": .., "high": .., "state": ..}` (`state` optional; halves as numbers or as strings in
//!   either radix, so tools that cannot write 64-bit JSON numbers can still be exact)
//!
//! where STATE is a lifecycle state name or wire number. Blank lines and lines starting with `#`
//! are skipped. Lines end at `\n`; one `\r` before it is part of the line ending (CRLF files read
//! as their LF twins). Any other line is an error that names the source, the line number and what
//! was expected; a reader returns either every record or the first error, never a partial list.
//!
//! Two rules keep an error short and a reader's memory bounded whatever the input:
//! - a line longer than [`MAX_LINE_BYTES`] is an error before its text is looked at (no valid line
//!   comes near it: the longest fixed form, a URN UUID with a state, is under 60 bytes);
//! - an error quotes at most [`QUOTE_CHARS`] characters of a column or line, cut with an ellipsis
//!   and the full length (a 10 MB line used to be echoed whole).
//!
//! This module is the simple parser: one line at a time, every form by the library's own text
//! parsers. `dcsum diff` reads through it, and it is the oracle that [`crate::ingest`] (the
//! streaming reader behind `dcsum fingerprint`) is held equal to, record for record and error for
//! error, the way the kernels are held equal to the naive fold.

use dispatcher_checksum::choose::{self, KernelUnavailable};
use dispatcher_checksum::id::{looks_like_uuid, parse_half, parse_uuid, IdParseError};
use dispatcher_checksum::lifecycle::{ComponentState, StateSet};
use dispatcher_checksum::{DispatcherId, Fingerprint, Kernel};
use std::fmt;
use std::io::BufRead;

/// One line's dispatcher: its ID and, when the line gave one, its state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdRecord {
    /// The dispatcher's ID.
    pub id: DispatcherId,
    /// The state the line gave, if any.
    pub state: Option<ComponentState>,
}

/// A line that did not parse, located.
#[derive(Debug)]
pub struct InputError {
    /// The file name, or `<stdin>`.
    pub source: String,
    /// 1-based line number; 0 when the error is not about a line (an I/O error opening the file).
    pub line: usize,
    /// What was wrong and what was expected.
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.source, self.message)
        } else {
            write!(f, "{}:{}: {}", self.source, self.line, self.message)
        }
    }
}

impl std::error::Error for InputError {}

/// The longest line a reader parses, in bytes (without its line ending): longer lines are errors.
/// Far above any valid fixed form (under 60 bytes) so that generous padding or a JSON object with
/// a few extra fields still reads; small enough that a streaming reader keeps at most this much
/// of a line that crosses a block boundary.
pub const MAX_LINE_BYTES: usize = 4096;

/// How many characters of a column or line an error message quotes at most; a longer text is cut
/// with an ellipsis and its length in bytes.
pub const QUOTE_CHARS: usize = 64;

/// Over-long lines are measured up to this many bytes; beyond it the error says "over" instead
/// of the exact length, so a reader fed an endless line (`dcsum fingerprint < /dev/zero`) stops.
pub const OVERLONG_MEASURE_BYTES: usize = 64 << 20;

/// What every line-level error expects, in words.
const EXPECTED_FORMS: &str =
    "a UUID, `HIGH LOW` or a JSON object, each optionally followed by a state";

/// The longest prefix of `text` whose escaped form fits [`QUOTE_CHARS`], when `text` does not.
fn cut(text: &str) -> Option<&str> {
    let mut budget = QUOTE_CHARS;
    for (index, c) in text.char_indices() {
        let width = c.escape_debug().len();
        if width > budget {
            return Some(&text[..index]);
        }
        budget -= width;
    }
    None
}

/// `text` quoted for an error message: `"67e55044-…"` as is when short, else its first
/// [`QUOTE_CHARS`] characters, an ellipsis and its length: `"aaaa…aaaa"… (10485760 bytes)`.
pub fn quote(text: &str) -> String {
    match cut(text) {
        None => format!("{text:?}"),
        Some(prefix) => format!("{prefix:?}… ({} bytes)", text.len()),
    }
}

/// The library's text parsers quote the column they reject whole (`"…" is not a UUID`); this
/// cuts that quote down to [`quote`]'s form when the column is long.
fn shortened(column: &str) -> impl FnOnce(IdParseError) -> IdParseError + '_ {
    move |error| match cut(column) {
        None => error,
        Some(_) => IdParseError::new(error.message.replacen(
            &format!("{column:?}"),
            &quote(column),
            1,
        )),
    }
}

/// How many bytes of an over-long line [`overlong_line`] quotes from: a reader that skips such a
/// line keeps only this much of it.
pub const OVERLONG_QUOTE_BYTES: usize = QUOTE_CHARS;

/// The error for a line of `length` bytes (more than [`MAX_LINE_BYTES`]) that starts with
/// `start` (at least the line's first [`OVERLONG_QUOTE_BYTES`] bytes, or all of it if shorter).
/// A `length` above [`OVERLONG_MEASURE_BYTES`] is reported as "over" that bound.
pub fn overlong_line(start: &[u8], length: usize) -> IdParseError {
    let start = String::from_utf8_lossy(&start[..start.len().min(OVERLONG_QUOTE_BYTES)]);
    let shown = match cut(&start) {
        Some(prefix) => prefix,
        None => &start,
    };
    let size = if length > OVERLONG_MEASURE_BYTES {
        format!("over {OVERLONG_MEASURE_BYTES}")
    } else {
        length.to_string()
    };
    IdParseError::new(format!(
        "line too long ({size} bytes, starting {shown:?}…): expected at most {MAX_LINE_BYTES} \
         bytes: {EXPECTED_FORMS}"
    ))
}

fn parse_state(text: &str) -> Result<ComponentState, IdParseError> {
    text.parse::<ComponentState>()
        .map_err(|error| IdParseError::new(error.to_string()))
        .map_err(shortened(text.trim()))
}

fn uuid_column(text: &str) -> Result<DispatcherId, IdParseError> {
    parse_uuid(text).map_err(shortened(text))
}

fn half_column(text: &str) -> Result<u64, IdParseError> {
    parse_half(text).map_err(shortened(text))
}

/// The text of one line as a reader delivers it: `line` without its `\n` and, when it had one,
/// one `\r` before it. The last line of an input may have no `\n`; its bytes are kept as they
/// are (a stray `\r` there is white space to the parser).
pub fn line_text(line: &[u8]) -> &[u8] {
    match line.strip_suffix(b"\n") {
        Some(text) => text.strip_suffix(b"\r").unwrap_or(text),
        None => line,
    }
}

/// Parses one line's bytes (without its line ending, see [`line_text`]): the length rule, then
/// UTF-8, then [`parse_line`].
pub fn parse_line_bytes(line: &[u8]) -> Result<Option<IdRecord>, IdParseError> {
    if line.len() > MAX_LINE_BYTES {
        return Err(overlong_line(line, line.len()));
    }
    let text = std::str::from_utf8(line).map_err(|error| {
        let at = error.valid_up_to();
        IdParseError::new(format!(
            "byte {} of the line ({:#04x}) is not UTF-8 text: expected {EXPECTED_FORMS}",
            at + 1,
            line[at]
        ))
    })?;
    parse_line(text)
}

/// Parses one line; `Ok(None)` for a blank or comment line.
pub fn parse_line(line: &str) -> Result<Option<IdRecord>, IdParseError> {
    if line.len() > MAX_LINE_BYTES {
        return Err(overlong_line(line.as_bytes(), line.len()));
    }
    let text = line.trim();
    if text.is_empty() || text.starts_with('#') {
        return Ok(None);
    }
    if looks_like_json(text) {
        return parse_json_record(text).map(Some);
    }
    let columns: Vec<&str> = text.split_whitespace().collect();
    let record = match columns.as_slice() {
        [uuid] if looks_like_uuid(uuid) => IdRecord {
            id: uuid_column(uuid)?,
            state: None,
        },
        [uuid, state] if looks_like_uuid(uuid) => IdRecord {
            id: uuid_column(uuid)?,
            state: Some(parse_state(state)?),
        },
        [high, low] => IdRecord {
            id: DispatcherId::new(half_column(high)?, half_column(low)?),
            state: None,
        },
        [high, low, state] => IdRecord {
            id: DispatcherId::new(half_column(high)?, half_column(low)?),
            state: Some(parse_state(state)?),
        },
        [one] => {
            return Err(IdParseError::new(format!(
                "one column {}: expected a UUID, or two u64 columns `high low`, each \
                 optionally followed by a state",
                quote(one)
            )))
        }
        _ => {
            return Err(IdParseError::new(format!(
                "{} columns: expected `UUID [STATE]`, `HIGH LOW [STATE]` or a JSON object",
                columns.len()
            )))
        }
    };
    Ok(Some(record))
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum JsonHalf {
    Number(u64),
    Text(String),
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum JsonState {
    Number(u8),
    Name(String),
}

#[derive(serde::Deserialize)]
struct JsonRecord {
    low: JsonHalf,
    high: JsonHalf,
    #[serde(default)]
    state: Option<JsonState>,
}

fn json_half(name: &str, half: JsonHalf) -> Result<u64, IdParseError> {
    match half {
        JsonHalf::Number(value) => Ok(value),
        JsonHalf::Text(text) => half_column(&text)
            .map_err(|error| IdParseError::new(format!("field {name:?}: {error}"))),
    }
}

/// Whether `text` is meant as a JSON object rather than a braced UUID (`{67e55044-...}`): after
/// the brace comes a quote, a closing brace or anything else that is not a hex digit.
pub(crate) fn looks_like_json(text: &str) -> bool {
    text.strip_prefix('{').is_some_and(|rest| {
        !rest
            .trim_start()
            .starts_with(|c: char| c.is_ascii_hexdigit())
    })
}

/// Parses `{"low":..,"high":..,"state":..}`.
pub fn parse_json_record(text: &str) -> Result<IdRecord, IdParseError> {
    let record: JsonRecord = serde_json::from_str(text).map_err(|error| {
        IdParseError::new(format!(
            "not a JSON ID ({error}): expected {{\"low\": u64, \"high\": u64}} with an optional \
             \"state\"; 64-bit values may also be strings (decimal or 0x-hex)"
        ))
    })?;
    let state = match record.state {
        None => None,
        Some(JsonState::Number(number)) => Some(parse_state(&number.to_string())?),
        Some(JsonState::Name(name)) => Some(parse_state(&name)?),
    };
    Ok(IdRecord {
        id: DispatcherId::new(
            json_half("high", record.high)?,
            json_half("low", record.low)?,
        ),
        state,
    })
}

/// Reads every record from `reader`; `source` names it in errors.
///
/// One line at a time, whole lines in memory: the simple reader (see the module docs). A line's
/// bytes go through [`line_text`] and [`parse_line_bytes`].
pub fn read_records(mut reader: impl BufRead, source: &str) -> Result<Vec<IdRecord>, InputError> {
    let mut records = Vec::new();
    let mut line = Vec::new();
    let mut number = 0;
    loop {
        number += 1;
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|error| InputError {
                source: source.to_string(),
                line: number,
                message: format!("cannot read: {error}"),
            })?;
        if read == 0 {
            return Ok(records);
        }
        match parse_line_bytes(line_text(&line)) {
            Ok(Some(record)) => records.push(record),
            Ok(None) => {}
            Err(error) => {
                return Err(InputError {
                    source: source.to_string(),
                    line: number,
                    message: error.message,
                })
            }
        }
    }
}

/// Reads every record from the file at `path`, or standard input for `-`.
pub fn read_records_from_path(path: &str) -> Result<Vec<IdRecord>, InputError> {
    if path == "-" {
        return read_records(std::io::stdin().lock(), "<stdin>");
    }
    let file = std::fs::File::open(path).map_err(|error| InputError {
        source: path.to_string(),
        line: 0,
        message: format!("cannot open: {error}"),
    })?;
    read_records(std::io::BufReader::new(file), path)
}

/// Records split into the columns the kernels take: IDs whose line gave no state, and IDs whose
/// line gave one beside their states.
///
/// A record without a state always counts: a plain ID list is the set itself, so a state filter
/// applies only to lines that carry a state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdColumns {
    /// IDs whose line gave no state (always counted).
    pub unstated: Vec<DispatcherId>,
    /// IDs whose line gave a state; `states[i]` is the state of `stated[i]`.
    pub stated: Vec<DispatcherId>,
    /// The states of `stated`.
    pub states: Vec<ComponentState>,
}

impl IdColumns {
    /// The columns of `records`, in input order within each column.
    pub fn from_records(records: &[IdRecord]) -> IdColumns {
        records.iter().copied().collect()
    }

    /// Number of records (counted or not).
    pub fn len(&self) -> usize {
        self.unstated.len() + self.stated.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The fingerprint of every unstated ID and of the stated IDs whose state is in `included`,
    /// by the automatic kernel choice.
    pub fn fingerprint(&self, included: StateSet) -> Fingerprint {
        Fingerprint::of(&self.unstated).merge(Fingerprint::of_masked(
            &self.stated,
            &self.states,
            included,
        ))
    }

    /// Every unstated ID and the stated IDs whose state is in `included`: the set that
    /// [`IdColumns::fingerprint`] digests, as a list (unstated first, then stated, each in input
    /// order).
    pub fn counted_ids(&self, included: StateSet) -> Vec<DispatcherId> {
        let stated = self
            .stated
            .iter()
            .zip(&self.states)
            .filter(|(_, state)| included.contains(**state))
            .map(|(id, _)| *id);
        self.unstated.iter().copied().chain(stated).collect()
    }

    /// As [`IdColumns::fingerprint`], by an explicit kernel (its contiguous form for the unstated
    /// IDs and its masked form for the stated ones).
    pub fn fingerprint_with(
        &self,
        kernel: Kernel,
        included: StateSet,
    ) -> Result<Fingerprint, KernelUnavailable> {
        let unstated = choose::fingerprint_with(kernel, &self.unstated)?;
        let stated = choose::fingerprint_masked_with(
            kernel,
            &self.stated,
            bytemuck::cast_slice(&self.states),
            included,
        )?;
        Ok(unstated.merge(stated))
    }
}

impl FromIterator<IdRecord> for IdColumns {
    fn from_iter<I: IntoIterator<Item = IdRecord>>(records: I) -> Self {
        let mut columns = IdColumns::default();
        for record in records {
            match record.state {
                None => columns.unstated.push(record.id),
                Some(state) => {
                    columns.stated.push(record.id);
                    columns.states.push(state);
                }
            }
        }
        columns
    }
}
