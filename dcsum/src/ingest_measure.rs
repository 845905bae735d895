//! Measuring the streaming reader: the ID-list texts the `ingest` bench and the main job read,
//! and the main job's ingestion rows ([`IngestRow`]).
//!
//! The rows live here rather than in the bench crate's experiments because the reader is in this
//! crate, which depends on the bench crate, not the other way round; the `dcsum` binary measures
//! them after the other experiments and hands them to the report writer.
//!
//! Each row writes the list to a temporary file (read back from the page cache, as `dcsum
//! fingerprint FILE` reads it), checks every routine's fingerprint against the naive oracle
//! outside the timed region, then times three routines interleaved: a plain read of the file in
//! blocks of the reader's size into a page-aligned buffer (the ceiling),
//! [`ingest::fingerprint_path`] (what `dcsum fingerprint` runs) and the simple reader.

use crate::ingest::{self, Fold};
use crate::input::{read_records_from_path, IdColumns};
use dispatcher_checksum::kernels::naive;
use dispatcher_checksum::{DispatcherId, Fingerprint, StateSet};
use dispatcher_checksum_bench::fixtures::IdStream;
use dispatcher_checksum_bench::measure::{format_count, measure_interleaved, MeasureConfig};
use dispatcher_checksum_bench::rows::IngestRow;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A text form of an ID list, one ID per line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// Canonical UUID text, 37 bytes a line.
    Uuid,
    /// Two decimal `u64`, `HIGH LOW`, about 40 bytes a line.
    HighLow,
}

impl Form {
    /// Both forms.
    pub const ALL: [Form; 2] = [Form::Uuid, Form::HighLow];

    /// `uuid` or `high-low`, as bench ids and report rows name it.
    pub const fn name(self) -> &'static str {
        match self {
            Form::Uuid => "uuid",
            Form::HighLow => "high-low",
        }
    }

    /// The list of `ids` in this form, each line ended by `\n`.
    pub fn text(self, ids: &[DispatcherId]) -> Vec<u8> {
        use std::io::Write;
        let mut text = Vec::with_capacity(ids.len() * 41);
        for id in ids {
            // Writing into a Vec cannot fail.
            let _ = match self {
                Form::Uuid => writeln!(text, "{id}"),
                Form::HighLow => writeln!(text, "{} {}", id.high, id.low),
            };
        }
        text
    }
}

/// Lines in the main job's ID lists (37 MB of UUID text, 41 MB of `HIGH LOW`).
pub const MAIN_JOB_LINES: usize = 1_000_000;

/// The line count a measuring example was given as its first argument, or [`MAIN_JOB_LINES`].
pub fn lines_argument() -> Result<usize, String> {
    match std::env::args().nth(1) {
        Some(text) => text
            .parse()
            .map_err(|_| format!("not a line count: {text}")),
        None => Ok(MAIN_JOB_LINES),
    }
}

/// The IDs of an ingestion workload: `lines` pseudo-random IDs, the same on every run.
pub fn workload_ids(lines: usize) -> Vec<DispatcherId> {
    IdStream::new(7).take(lines).collect()
}

/// The naive oracle's fingerprint of `ids` (every ID counts: the lists carry no states).
pub fn oracle(ids: &[DispatcherId]) -> Fingerprint {
    naive::fingerprint(DispatcherId::slice_words(ids)).into()
}

/// An ID list written to a file in the temporary directory, removed when dropped: what the
/// reading rows and the `ingest` bench read back from the page cache.
pub struct ListFile {
    path: PathBuf,
    name: String,
}

impl ListFile {
    /// Writes `text` to a file named after this process and `label` (first removing the lists
    /// that processes killed while measuring left behind, whose processes no longer run).
    pub fn write(label: &str, text: &[u8]) -> Result<ListFile, String> {
        let directory = std::env::temp_dir();
        remove_stale_lists(&directory);
        let path = directory.join(format!("{LIST_PREFIX}{}-{label}.txt", std::process::id()));
        let name = path
            .to_str()
            .ok_or("the temporary directory is not UTF-8")?
            .to_owned();
        std::fs::write(&path, text).map_err(|error| format!("{name}: cannot write: {error}"))?;
        Ok(ListFile { path, name })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's path as text, as `dcsum fingerprint` takes it.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// How a [`ListFile`]'s name starts; the writing process's id follows.
const LIST_PREFIX: &str = "dcsum-ingest-";

/// Removes from `directory` the lists of processes that no longer run. A process killed while it
/// measures (Ctrl-C in the main job; the CLI tests kill runs at a time budget) cannot remove its
/// own, and each is up to 41 MB: a day of runs on the development machine had left 26 of them
/// in `/tmp`, 6 to 37 MB each. Linux
/// only (a process runs while `/proc/PID` exists); elsewhere nothing is removed.
fn remove_stale_lists(directory: &Path) {
    if !cfg!(target_os = "linux") || !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(directory) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name
            .to_str()
            .and_then(|name| name.strip_prefix(LIST_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        if let Some(pid) = pid {
            if !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

impl Drop for ListFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A buffer of the reader's block size starting at a page boundary, where `cat` reads (coreutils
/// aligns its buffer to the page) and where the buffered reader's blocks land: where a read lands
/// moves its speed by up to seven times (`ingest::page_aligned_offset`).
pub struct ReadBuffer {
    storage: Vec<u8>,
    offset: usize,
}

impl ReadBuffer {
    /// A zeroed buffer of [`ingest::DEFAULT_BLOCK_BYTES`].
    pub fn new() -> ReadBuffer {
        let storage = vec![0u8; ingest::PAGE_BYTES + ingest::DEFAULT_BLOCK_BYTES];
        let offset = ingest::page_aligned_offset(&storage, 0);
        ReadBuffer { storage, offset }
    }

    /// The block, page-aligned.
    pub fn block(&mut self) -> &mut [u8] {
        &mut self.storage[self.offset..self.offset + ingest::DEFAULT_BLOCK_BYTES]
    }
}

impl Default for ReadBuffer {
    fn default() -> Self {
        ReadBuffer::new()
    }
}

/// Reads the file at `path` in blocks of `buffer`'s size and discards them: the fastest the
/// reader could go (with `buffer` a [`ReadBuffer`]'s block, as [`ingest_rows`] reads). Returns
/// the bytes read.
pub fn plain_read(path: &Path, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut file = std::fs::File::open(path)?;
    let mut total = 0;
    loop {
        match file.read(buffer)? {
            0 => return Ok(total),
            read => total += read,
        }
    }
}

/// The ingestion rows: each form of a `lines`-line list, timed under `config`. `progress` is
/// called once per routine measured (three per form).
pub fn ingest_rows(
    config: &MeasureConfig,
    lines: usize,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<IngestRow>, String> {
    let ids = workload_ids(lines);
    let expected = oracle(&ids);
    Form::ALL
        .iter()
        .map(|&form| {
            let text = form.text(&ids);
            let file = ListFile::write(form.name(), &text)?;
            let name = file.name();
            let streaming = || ingest::fingerprint_path(name, StateSet::ALL, Fold::AUTO);
            let simple = || {
                read_records_from_path(name)
                    .map(|records| IdColumns::from_records(&records).fingerprint(StateSet::ALL))
            };
            let mut buffer = ReadBuffer::new();
            let read = plain_read(file.path(), buffer.block())
                .map_err(|error| format!("{name}: {error}"))?;
            assert_eq!(read, text.len(), "the plain read reads the whole file");
            for (what, got) in [
                ("streaming reader", streaming()),
                ("simple reader", simple()),
            ] {
                let got = got.map_err(|error| error.to_string())?;
                assert_eq!(
                    got,
                    expected,
                    "the {what} disagrees with the naive oracle on {} lines: a bug",
                    form.name()
                );
            }
            let timed = measure_interleaved(
                config,
                &mut [
                    &mut || {
                        let _ = std::hint::black_box(plain_read(file.path(), buffer.block()));
                    },
                    &mut || {
                        let _ = std::hint::black_box(streaming());
                    },
                    &mut || {
                        let _ = std::hint::black_box(simple());
                    },
                ],
            );
            let label = format!("ingest {} {}", form.name(), format_count(lines));
            for routine in ["plain read", "streaming reader", "simple reader"] {
                progress(&format!("{label}: {routine}"));
            }
            Ok(IngestRow {
                form: form.name(),
                lines,
                bytes: text.len(),
                plain_read: timed[0],
                streaming: timed[1],
                simple: timed[2],
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A list left by a process that no longer runs goes when the next list is written; this
    /// process's own and other files stay.
    #[test]
    #[cfg(target_os = "linux")]
    fn lists_of_dead_processes_are_removed() {
        let directory = std::env::temp_dir();
        // Above any pid Linux hands out (at most 2^22).
        let stale = directory.join(format!("{LIST_PREFIX}4000000000-uuid.txt"));
        let unrelated = directory.join(format!("{LIST_PREFIX}test-{}.txt", std::process::id()));
        std::fs::write(&stale, b"1 2\n").expect("writable");
        std::fs::write(&unrelated, b"1 2\n").expect("writable");
        let list = ListFile::write("stale-check", b"3 4\n").expect("written");
        assert!(!stale.exists(), "the dead process's list is removed");
        assert!(list.path().exists(), "this process's list stays");
        assert!(
            unrelated.exists(),
            "a file not named after a process id stays"
        );
        let _ = std::fs::remove_file(&unrelated);
    }

    #[test]
    fn texts_read_back_as_their_ids() {
        let ids = workload_ids(1000);
        for form in Form::ALL {
            let text = form.text(&ids);
            let records = crate::input::read_records(&text[..], form.name()).expect("valid");
            let read: Vec<DispatcherId> = records.iter().map(|record| record.id).collect();
            assert_eq!(read, ids, "{}", form.name());
        }
    }

    #[test]
    fn rows_are_measured_and_checked() {
        let config = MeasureConfig {
            warm_up: Duration::from_millis(1),
            batch_time: Duration::from_millis(1),
            repetitions: 2,
        };
        let mut steps = 0;
        let rows = ingest_rows(&config, 2000, &mut |_| steps += 1).expect("measured");
        assert_eq!(steps, 6);
        let forms: Vec<&str> = rows.iter().map(|row| row.form).collect();
        assert_eq!(forms, ["uuid", "high-low"]);
        for row in &rows {
            assert_eq!(row.lines, 2000);
            assert!(row.bytes > 2000 * 36, "{row:?}");
            assert!(row.streaming.median > 0.0 && row.gigabytes_per_second(&row.streaming) > 0.0);
        }
    }
}
