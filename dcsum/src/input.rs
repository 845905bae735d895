//! Reading ID lists: one dispatcher per line, with an optional lifecycle state.
//!
//! A line is one of
//! - `UUID [STATE]`
//! - `HIGH LOW [STATE]` (each half decimal or `0x`-hex)
//! - `{"low": .., "high": .., "state": ..}` (`state` optional; halves as numbers or as strings in
//!   either radix, so tools that cannot write 64-bit JSON numbers can still be exact)
//!
//! where STATE is a lifecycle state name or wire number. Blank lines and lines starting with `#`
//! are skipped. Any other line is an error that names the source, the line number and what was
//! expected; a reader returns either every record or the first error, never a partial list.

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

fn parse_state(text: &str) -> Result<ComponentState, IdParseError> {
    text.parse::<ComponentState>()
        .map_err(|error| IdParseError::new(error.to_string()))
}

/// Parses one line; `Ok(None)` for a blank or comment line.
pub fn parse_line(line: &str) -> Result<Option<IdRecord>, IdParseError> {
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
            id: parse_uuid(uuid)?,
            state: None,
        },
        [uuid, state] if looks_like_uuid(uuid) => IdRecord {
            id: parse_uuid(uuid)?,
            state: Some(parse_state(state)?),
        },
        [high, low] => IdRecord {
            id: DispatcherId::new(parse_half(high)?, parse_half(low)?),
            state: None,
        },
        [high, low, state] => IdRecord {
            id: DispatcherId::new(parse_half(high)?, parse_half(low)?),
            state: Some(parse_state(state)?),
        },
        [one] => {
            return Err(IdParseError::new(format!(
                "one column {one:?}: expected a UUID, or two u64 columns `high low`, each \
                 optionally followed by a state"
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
        JsonHalf::Text(text) => {
            parse_half(&text).map_err(|error| IdParseError::new(format!("field {name:?}: {error}")))
        }
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
pub fn read_records(reader: impl BufRead, source: &str) -> Result<Vec<IdRecord>, InputError> {
    let mut records = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line = line.map_err(|error| InputError {
            source: source.to_string(),
            line: index + 1,
            message: format!("cannot read: {error}"),
        })?;
        match parse_line(&line) {
            Ok(Some(record)) => records.push(record),
            Ok(None) => {}
            Err(error) => {
                return Err(InputError {
                    source: source.to_string(),
                    line: index + 1,
                    message: error.message,
                })
            }
        }
    }
    Ok(records)
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
