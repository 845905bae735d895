//! The streaming reader behind `dcsum fingerprint`: the fingerprint of an ID list in one pass,
//! in memory that does not grow with the list.
//!
//! The simple reader ([`crate::input::read_records`]) collects every record before a kernel runs:
//! 10M UUID lines took about 400 MB and ran at 130-150 MB/s. Here nothing but the running
//! fingerprint outlives a block:
//!
//! 1. **Read.** The calling thread reads the input in blocks of [`Options::block_bytes`] (1 MiB by
//!    default) into one of three recycled buffers, each read landing on a page boundary (see
//!    [`page_aligned_offset`]). Each block is cut after its last `\n`; the partial line after it
//!    is carried to just before the next block. A carried line longer
//!    than [`MAX_LINE_BYTES`] is already an error: the reader measures its length by reading on
//!    to its end (keeping only its first bytes, for the message) and stops.
//! 2. **Parse.** A second thread takes the blocks in order, splits each into chunks of about
//!    [`Options::chunk_bytes`] at line boundaries and parses the chunks on the reader's pool (two
//!    threads per core, see `parse_pool`) while the calling thread reads the next block. Each
//!    line goes through the fast path (`fast`: canonical UUIDs and decimal `HIGH LOW`) or, for
//!    every other form and every error, the simple parser's own line function, so results and
//!    messages are the simple path's by construction.
//! 3. **Fold.** Parsed IDs go into small per-chunk columns (4096 IDs, plus the state bytes of
//!    lines that gave a state), which the library's kernels fold as they fill: the automatic
//!    choice, or the `--kernel` named, masked where states are present. Chunk fingerprints merge
//!    into the block's and blocks' into the total.
//!
//! A regular file named by path skips the read: it is mapped in windows (`mapped`: the page
//! cache's own pages, no copy; at most four windows of 8 MiB mapped at once, so the resident set
//! stays under 40 MB whatever the file's length) and each window is parsed as a block. Standard
//! input and pipes take the buffered path above.
//!
//! The fast path has vector forms (`avx2`: canonical UUIDs and decimal `HIGH LOW` lines with
//! AVX2; `avx512`: decimal `HIGH LOW` lines with AVX-512 F, BW and DQ; `avx512_uuid`: batches of
//! canonical UUID lines with AVX-512 F, BW and VBMI, the AVX2 UUID decoder where the CPU lacks
//! VBMI), the widest picked once per process by the kernels' `ifunc!` where the CPU has it and
//! the build did not switch it off (`no_avx2`, `no_avx512`); the portable SWAR form (`fast`) runs
//! everywhere else. All are held equal to the simple parser by `dcsum/tests/ingest.rs` (with the
//! vector paths on and off, read and mapped), by each vector module's own agreement test and by
//! the fuzz target in `dcsum/fuzz`.
//!
//! Errors are the simple reader's, at the same line: the first bad line in input order wins
//! (chunks are merged in order, a line number is the lines of the chunks before it plus its place
//! in its chunk), and the reader stops soon after it (the parsing side hangs up; the reader is at
//! most the blocks in flight ahead). Memory is three buffers of a block plus one over-long line's
//! allowance, and one column per chunk in flight: a 6 MiB heap high-water mark at the defaults
//! (measured by `dcsum/tests/ingest_memory.rs` over 3M lines), whatever the input's length.
//!
//! Why these choices (measured on the 2-core Zen 1 machine, 10M UUID lines, 370 MB, from the page
//! cache, with other sessions' builds running):
//! - blocks of 1 MiB and chunks of 128 KiB: 1, 2 and 4 MiB blocks and 64 KiB to 1 MiB chunks were
//!   within noise of each other (0.25-0.28 s median); 256 KiB blocks were slower (0.41 s, the
//!   per-block hand-off), 8 MiB ones too (0.42 s: three buffers no longer stay in the L3 cache
//!   between the read and the parse). The smallest of the equals keeps the least memory;
//! - a reading thread beside the parsing pool: the read (a copy out of the page cache, a quarter
//!   of the CPU time) overlaps the parse, and both cores parse;
//! - the fast path: canonical UUIDs and decimal `HIGH LOW` lines decode in SWAR (eight hex or
//!   decimal digits per `u64` operation), about 18 ns per UUID line on one core; the kernels'
//!   fold is under 2% of the time.

mod avx2;
mod avx512;
mod avx512_uuid;
mod fast;
mod mapped;

pub use mapped::{DEFAULT_WINDOW_BYTES, MIN_WINDOW_BYTES};

use crate::input::{self, IdRecord, InputError, MAX_LINE_BYTES, OVERLONG_MEASURE_BYTES};
use dispatcher_checksum::choose::{self, KernelUnavailable};
use dispatcher_checksum::{ComponentState, DispatcherId, Fingerprint, Kernel, StateSet};
use rayon::prelude::*;
use std::io::{ErrorKind, Read};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

/// Bytes read per block by default: 1 MiB (see the module docs for why).
pub const DEFAULT_BLOCK_BYTES: usize = 1 << 20;

/// Bytes per parsing task by default: a block makes eight, enough for rayon to balance two cores
/// and few enough that the fork/join costs nothing measurable (a few microseconds per block).
pub const DEFAULT_CHUNK_BYTES: usize = 128 << 10;

/// Buffers in the pipeline: one being read into, one waiting, one being parsed.
const BUFFERS: usize = 3;

/// The page size reads are aligned to (see [`page_aligned_offset`]).
pub const PAGE_BYTES: usize = 4096;

/// The offset in `buffer` of the first page boundary at or after `at_least` (`buffer` must be
/// [`PAGE_BYTES`] longer than what is to be read there).
///
/// Where a `read` lands decides how fast the kernel copies into it: on the Zen 4 of
/// `docs/performance.md`, 1 MiB reads from the page cache ran at 21-25 GB/s into a buffer at a
/// page boundary or 32 or 48 bytes after one, 10 GB/s 16 bytes after one (where a freshly
/// allocated large `Vec` starts: the allocator's header) and 3.3 GB/s 1 or 8 bytes after one. So
/// the buffered reader reads into page-aligned blocks (a carried partial line goes just before
/// the block), and the main job's plain read, the ceiling the reader is compared with, reads
/// into a page-aligned buffer too.
pub fn page_aligned_offset(buffer: &[u8], at_least: usize) -> usize {
    let address = buffer.as_ptr() as usize + at_least;
    at_least + (PAGE_BYTES - address % PAGE_BYTES) % PAGE_BYTES
}

/// IDs a chunk collects before a kernel folds them: 64 KiB, in L2 when the kernel reads them.
const COLUMN_IDS: usize = 4096;

/// How the reader cuts its input: block and chunk sizes. The defaults are what `dcsum
/// fingerprint` uses; tests use tiny sizes so that lines cross every boundary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Bytes read per block (at least 1).
    pub block_bytes: usize,
    /// Bytes per parsing task (at least 1).
    pub chunk_bytes: usize,
    /// Whether UUID lines go through the vector decoder where this CPU has one (AVX2); off, the
    /// portable SWAR decoder runs everywhere (the tests run both).
    pub vector: bool,
    /// With `vector`, whether decimal `HIGH LOW` lines and canonical UUID lines go through the
    /// AVX-512 decoders where this CPU has them; off, AVX2 at most (the tests run both).
    pub avx512: bool,
    /// Bytes per memory-mapped window when a regular file is read by path (see `mapped`); 0
    /// reads it through buffers instead. Raised to at least a longest line's room.
    pub window_bytes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            block_bytes: DEFAULT_BLOCK_BYTES,
            chunk_bytes: DEFAULT_CHUNK_BYTES,
            vector: true,
            avx512: true,
            window_bytes: mapped::DEFAULT_WINDOW_BYTES,
        }
    }
}

/// Which kernel folds the parsed IDs: the automatic choice, or one named kernel that runs here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fold(Option<Kernel>);

impl Fold {
    /// The automatic choice ([`Fingerprint::of`] and [`Fingerprint::of_masked`]).
    pub const AUTO: Fold = Fold(None);

    /// `kernel`, if this CPU and build run it.
    pub fn with(kernel: Kernel) -> Result<Fold, KernelUnavailable> {
        if kernel.is_available() {
            Ok(Fold(Some(kernel)))
        } else {
            Err(KernelUnavailable(kernel))
        }
    }

    fn contiguous(self, ids: &[DispatcherId]) -> Fingerprint {
        match self.0 {
            None => Fingerprint::of(ids),
            Some(kernel) => choose::fingerprint_with(kernel, ids)
                .expect("`Fold::with` admits only kernels available in this process"),
        }
    }

    fn masked(
        self,
        ids: &[DispatcherId],
        states: &[ComponentState],
        included: StateSet,
    ) -> Fingerprint {
        match self.0 {
            None => Fingerprint::of_masked(ids, states, included),
            Some(kernel) => {
                choose::fingerprint_masked_with(kernel, ids, bytemuck::cast_slice(states), included)
                    .expect("`Fold::with` admits only kernels available in this process")
            }
        }
    }
}

/// The fingerprint of the ID list in the file at `path` (standard input for `-`): every line
/// without a state, and the lines whose state is in `included`. What `dcsum fingerprint` runs.
pub fn fingerprint_path(
    path: &str,
    included: StateSet,
    fold: Fold,
) -> Result<Fingerprint, InputError> {
    fingerprint_path_with(path, included, fold, Options::default())
}

/// [`fingerprint_path`] cut by `options`: a regular file is read through memory-mapped windows
/// (unless `options.window_bytes` is 0), anything else (standard input, a pipe) through buffers.
pub fn fingerprint_path_with(
    path: &str,
    included: StateSet,
    fold: Fold,
    options: Options,
) -> Result<Fingerprint, InputError> {
    if path == "-" {
        return fingerprint_reader(std::io::stdin().lock(), "<stdin>", included, fold, options);
    }
    let file = std::fs::File::open(path).map_err(|error| InputError {
        source: path.to_string(),
        line: 0,
        message: format!("cannot open: {error}"),
    })?;
    let options = options.sanitized();
    // A regular file that says it is empty may still have content (`/proc` files): read it.
    let regular = file
        .metadata()
        .ok()
        .filter(|metadata| metadata.is_file() && metadata.len() > 0);
    let result = match regular {
        Some(metadata) if options.window_bytes > 0 => {
            mapped::fingerprint_file(&file, metadata.len(), included, fold, options)
        }
        _ => fingerprint_stream(&file, included, fold, options),
    };
    result.map_err(|failure| failure.located(path))
}

/// The fingerprint of the ID list `reader` yields; `source` names it in errors. The result, and
/// the error when there is one, are those of [`input::read_records`] followed by
/// [`input::IdColumns::fingerprint`] (or `fingerprint_with` for a named kernel).
pub fn fingerprint_reader(
    reader: impl Read,
    source: &str,
    included: StateSet,
    fold: Fold,
    options: Options,
) -> Result<Fingerprint, InputError> {
    fingerprint_stream(reader, included, fold, options.sanitized())
        .map_err(|failure| failure.located(source))
}

impl Options {
    fn sanitized(self) -> Options {
        Options {
            block_bytes: self.block_bytes.max(1),
            chunk_bytes: self.chunk_bytes.max(1),
            ..self
        }
    }
}

/// The buffered reader: blocks read on this thread, parsed on another (see the module docs).
fn fingerprint_stream(
    reader: impl Read,
    included: StateSet,
    fold: Fold,
    options: Options,
) -> Result<Fingerprint, Failure> {
    // One block waiting in the channel, one being parsed, one being read into: `BUFFERS`.
    let (blocks, arriving) = mpsc::sync_channel(1);
    let (recycle, recycled) = mpsc::channel();
    std::thread::scope(|scope| {
        let parser =
            scope.spawn(move || parse_blocks(&arriving, &recycle, included, fold, options));
        read_blocks(reader, options.block_bytes, &blocks, &recycled);
        drop(blocks);
        parser
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// What the reading thread hands the parsing thread, in input order.
enum Message {
    /// Whole lines: `buffer[lines]` ends with `\n`, or is the input's last line without one.
    Block {
        buffer: Box<[u8]>,
        lines: std::ops::Range<usize>,
    },
    /// The next line is longer than [`MAX_LINE_BYTES`]: its first bytes and its length.
    Overlong { start: Vec<u8>, length: usize },
    /// Reading failed before the next line was complete.
    ReadFailed(std::io::Error),
}

/// How a [`fill`] ended.
enum Filled {
    /// The buffer is full.
    Full,
    /// The input ended.
    Ended,
    /// A read failed (the bytes before the failure are in the buffer).
    Failed(std::io::Error),
}

/// Fills `buffer` from `reader` until it is full, the input ends or a read fails; returns the
/// bytes read and which.
fn fill(reader: &mut impl Read, buffer: &mut [u8]) -> (usize, Filled) {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => return (filled, Filled::Ended),
            Ok(read) => filled += read,
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(error) => return (filled, Filled::Failed(error)),
        }
    }
    (filled, Filled::Full)
}

/// Reads on past an over-long line whose first `seen` bytes (no `\n` among them) have been read,
/// to its end or [`OVERLONG_MEASURE_BYTES`]; returns its length as [`input::line_text`] counts it.
fn measure_overlong(
    reader: &mut impl Read,
    seen: &[u8],
    ended: bool,
    scratch: &mut [u8],
) -> std::io::Result<usize> {
    let mut length = seen.len();
    let mut last = seen.last().copied();
    if !ended {
        while length <= OVERLONG_MEASURE_BYTES {
            let (read, filled) = fill(reader, scratch);
            if let Some(newline) = memchr::memchr(b'\n', &scratch[..read]) {
                length += newline;
                if newline > 0 {
                    last = Some(scratch[newline - 1]);
                }
                // The `\r` of a CRLF ending is not part of the line.
                return Ok(length - usize::from(last == Some(b'\r')));
            }
            length += read;
            match filled {
                Filled::Full => last = scratch.last().copied(),
                Filled::Ended => break,
                Filled::Failed(error) => return Err(error),
            }
        }
    }
    Ok(length)
}

/// The reading side: blocks of whole lines to `blocks`, until the input ends, an error ends it,
/// or the parsing side hangs up (it found a bad line).
/// Before an error is reported: the whole lines ahead of it, if any, so they count as in a
/// line-by-line reader. False when the parsing side has hung up.
fn send_lines_before(
    blocks: &SyncSender<Message>,
    buffer: Box<[u8]>,
    lines: std::ops::Range<usize>,
) -> bool {
    lines.is_empty() || blocks.send(Message::Block { buffer, lines }).is_ok()
}

fn read_blocks(
    mut reader: impl Read,
    block_bytes: usize,
    blocks: &SyncSender<Message>,
    recycled: &Receiver<Box<[u8]>>,
) {
    // A carried partial line is at most `MAX_LINE_BYTES` + 1 (a `\r` whose `\n` is yet to come);
    // anything longer is reported instead of carried.
    let carry_limit = MAX_LINE_BYTES + 1;
    let mut allocated = 0;
    let mut spare: Option<Box<[u8]>> = None;
    let mut carry: Vec<u8> = Vec::with_capacity(carry_limit);
    let mut ended = false;
    loop {
        let mut buffer = match spare.take() {
            Some(buffer) => buffer,
            None if allocated < BUFFERS => {
                allocated += 1;
                vec![0u8; carry_limit + PAGE_BYTES + block_bytes].into_boxed_slice()
            }
            None => match recycled.recv() {
                Ok(buffer) => buffer,
                Err(_) => return,
            },
        };
        // The read lands on a page boundary (see `page_aligned_offset`), the carried partial
        // line just before it.
        let read_at = page_aligned_offset(&buffer, carry_limit);
        let start = read_at - carry.len();
        buffer[start..read_at].copy_from_slice(&carry);
        carry.clear();
        let (read, filled) = if ended {
            (0, Filled::Ended)
        } else {
            fill(&mut reader, &mut buffer[read_at..read_at + block_bytes])
        };
        let len = read_at + read;
        match filled {
            Filled::Full => {}
            Filled::Ended => ended = true,
            Filled::Failed(error) => {
                // The whole lines before the failure count, as in a line-by-line reader; the
                // failure belongs to the line it interrupted.
                let lines_end =
                    memchr::memrchr(b'\n', &buffer[start..len]).map_or(start, |n| start + n + 1);
                if !send_lines_before(blocks, buffer, start..lines_end) {
                    return;
                }
                let _ = blocks.send(Message::ReadFailed(error));
                return;
            }
        }
        if len == start {
            return;
        }
        let lines_end = match memchr::memrchr(b'\n', &buffer[start..len]) {
            Some(newline) => start + newline + 1,
            None if ended => len,
            None => start,
        };
        let tail = &buffer[lines_end..len];
        if tail.len() > carry_limit {
            // An over-long line: keep its start for the message, send the lines before it, then
            // report it. Nothing after it is needed: it is the first error unless one comes
            // before it, and the parsing side reports that one first.
            let quoted = tail[..tail.len().min(input::OVERLONG_QUOTE_BYTES)].to_vec();
            let mut scratch = vec![0u8; block_bytes.clamp(1 << 12, 1 << 16)];
            let measured = measure_overlong(&mut reader, tail, ended, &mut scratch);
            if !send_lines_before(blocks, buffer, start..lines_end) {
                return;
            }
            let _ = blocks.send(match measured {
                Ok(length) => Message::Overlong {
                    start: quoted,
                    length,
                },
                Err(error) => Message::ReadFailed(error),
            });
            return;
        }
        carry.extend_from_slice(tail);
        if lines_end == start {
            spare = Some(buffer);
        } else if blocks
            .send(Message::Block {
                buffer,
                lines: start..lines_end,
            })
            .is_err()
        {
            return;
        }
    }
}

/// A bad line: its 1-based number and the simple parser's message.
struct Failure {
    line: usize,
    message: String,
}

impl Failure {
    fn located(self, source: &str) -> InputError {
        InputError {
            source: source.to_string(),
            line: self.line,
            message: self.message,
        }
    }
}

/// The parsing side: every block in order, its buffer back to the reader after.
fn parse_blocks(
    arriving: &Receiver<Message>,
    recycle: &Sender<Box<[u8]>>,
    included: StateSet,
    fold: Fold,
    options: Options,
) -> Result<Fingerprint, Failure> {
    let mut total = Fingerprint::EMPTY;
    let mut lines = 0;
    for message in arriving {
        match message {
            Message::Block {
                buffer,
                lines: range,
            } => {
                let (fingerprint, count) = parse_block(&buffer[range], options, included, fold)
                    .map_err(|(line, message)| Failure {
                        line: lines + line + 1,
                        message,
                    })?;
                total = total.merge(fingerprint);
                lines += count;
                // The reader may have finished already; then the buffer is simply dropped.
                let _ = recycle.send(buffer);
            }
            Message::Overlong { start, length } => {
                return Err(Failure {
                    line: lines + 1,
                    message: input::overlong_line(&start, length).message,
                })
            }
            Message::ReadFailed(error) => {
                return Err(Failure {
                    line: lines + 1,
                    message: format!("cannot read: {error}"),
                })
            }
        }
    }
    Ok(total)
}

/// The pool chunks are parsed on: two threads per thread of rayon's global pool (which follows
/// `RAYON_NUM_THREADS`; with one, one), or the global pool itself if the threads cannot be
/// started.
///
/// Why more threads than cores: with one worker per core, a parse of a 1M-line `HIGH LOW` list
/// (about 2.3 ms on both cores of the 2-core Zen 4) now and then ran at one core's speed, 4 ms,
/// for several calls in a row, most often right after other work (the main job's rows time it
/// between a plain read and the simple reader: their medians moved between 53% and 87% of the
/// plain read's speed from one run to the next). Measured there, four calls after each of five
/// 200 ms runs of the simple reader (a throwaway probe): with two workers, 13 of 20 calls at
/// 3.7-8.5 ms, the rest 2.2-2.8; with four, all 20 at 2.3-2.8 ms; with this pool, all 20 at
/// 2.3-3.0 ms. (Why a worker ends up idle was not measured: probably two runnable threads
/// placed on one core until the scheduler balances them, longer than a parse lasts.)
fn parse_pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let threads = match rayon::current_num_threads() {
            1 => 1,
            threads => 2 * threads,
        };
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|index| format!("dcsum-parse-{index}"))
            .build()
            .ok()
    })
    .as_ref()
}

/// `data` cut into pieces of about `chunk_bytes`, each ending after a `\n` (the last one at the
/// end of `data`).
fn chunks(data: &[u8], chunk_bytes: usize) -> Vec<&[u8]> {
    let mut pieces = Vec::with_capacity(data.len() / chunk_bytes + 1);
    let mut start = 0;
    while data.len() - start > chunk_bytes {
        let Some(newline) = memchr::memchr(b'\n', &data[start + chunk_bytes - 1..]) else {
            break;
        };
        let end = start + chunk_bytes + newline;
        pieces.push(&data[start..end]);
        start = end;
    }
    if start < data.len() {
        pieces.push(&data[start..]);
    }
    pieces
}

/// A 0-based line within a block or chunk, and its message.
type LineError = (usize, String);

/// One block's fingerprint and line count, or its first bad line.
fn parse_block(
    data: &[u8],
    options: Options,
    included: StateSet,
    fold: Fold,
) -> Result<(Fingerprint, usize), LineError> {
    let parse_chunk = match (options.vector, options.avx512) {
        (false, _) => parse_chunk_portable,
        (true, true) => chunk_parser(),
        (true, false) => chunk_parser_avx2(),
    };
    let pieces = chunks(data, options.chunk_bytes);
    let parsed: Vec<ChunkResult> = if pieces.len() == 1 {
        vec![parse_chunk(pieces[0], included, fold)]
    } else {
        let parse_all = || {
            pieces
                .par_iter()
                .map(|piece| parse_chunk(piece, included, fold))
                .collect()
        };
        match parse_pool() {
            Some(pool) => pool.install(parse_all),
            None => parse_all(),
        }
    };
    let mut total = Fingerprint::EMPTY;
    let mut lines = 0;
    for result in parsed {
        match result {
            Ok((fingerprint, count)) => {
                total = total.merge(fingerprint);
                lines += count;
            }
            Err((line, message)) => return Err((lines + line, message)),
        }
    }
    Ok((total, lines))
}

/// The IDs of one chunk on their way to a kernel.
struct Columns {
    fold: Fold,
    included: StateSet,
    unstated: Vec<DispatcherId>,
    stated: Vec<DispatcherId>,
    states: Vec<ComponentState>,
    total: Fingerprint,
}

impl Columns {
    fn new(fold: Fold, included: StateSet) -> Columns {
        Columns {
            fold,
            included,
            unstated: Vec::with_capacity(COLUMN_IDS),
            stated: Vec::new(),
            states: Vec::new(),
            total: Fingerprint::EMPTY,
        }
    }

    #[inline]
    fn push(&mut self, id: DispatcherId) {
        self.unstated.push(id);
        if self.unstated.len() == COLUMN_IDS {
            self.fold_unstated();
        }
    }

    /// [`Columns::push`] for each of `ids`, a column at a time.
    fn extend(&mut self, mut ids: &[DispatcherId]) {
        while !ids.is_empty() {
            let room = COLUMN_IDS - self.unstated.len();
            let (now, later) = ids.split_at(room.min(ids.len()));
            self.unstated.extend_from_slice(now);
            if self.unstated.len() == COLUMN_IDS {
                self.fold_unstated();
            }
            ids = later;
        }
    }

    fn push_record(&mut self, record: IdRecord) {
        match record.state {
            None => self.push(record.id),
            Some(state) => {
                self.stated.push(record.id);
                self.states.push(state);
                if self.stated.len() == COLUMN_IDS {
                    self.fold_stated();
                }
            }
        }
    }

    fn fold_unstated(&mut self) {
        self.total = self.total.merge(self.fold.contiguous(&self.unstated));
        self.unstated.clear();
    }

    fn fold_stated(&mut self) {
        let masked = self.fold.masked(&self.stated, &self.states, self.included);
        self.total = self.total.merge(masked);
        self.stated.clear();
        self.states.clear();
    }

    fn finish(mut self) -> Fingerprint {
        if !self.unstated.is_empty() {
            self.fold_unstated();
        }
        if !self.stated.is_empty() {
            self.fold_stated();
        }
        self.total
    }
}

/// One chunk's fingerprint and line count, or its first bad line.
type ChunkResult = Result<(Fingerprint, usize), LineError>;

dispatcher_checksum::kernels::ifunc! {
    /// The chunk parser with the widest decoders this CPU runs, picked once.
    fn chunk_parser(data: &[u8], included: StateSet, fold: Fold) -> ChunkResult =
        if avx512_uuid::Avx512Vbmi::is_available() {
            parse_chunk_avx512_vbmi
        } else if avx512::Avx512::is_available() {
            parse_chunk_avx512
        } else {
            chunk_parser_avx2()
        };
}

dispatcher_checksum::kernels::ifunc! {
    /// The chunk parser with AVX2 decoders where this CPU runs them, picked once.
    fn chunk_parser_avx2(data: &[u8], included: StateSet, fold: Fold) -> ChunkResult =
        if avx2::Avx2::is_available() { parse_chunk_avx2 } else { parse_chunk_portable };
}

/// [`parse_chunk`] with the portable (SWAR) UUID decoder: every CPU.
fn parse_chunk_portable(data: &[u8], included: StateSet, fold: Fold) -> ChunkResult {
    parse_chunk(
        data,
        included,
        fold,
        |data, at, columns| uuid_lines_with(data, at, columns, fast::uuid),
        decimal_lines_portable,
    )
}

/// Canonical UUID lines from `data[at..]` on, one at a time with `uuid` (the portable decoder or
/// the AVX2 one), pushed into `columns`: where the first line not taken starts, and how many were.
#[inline(always)]
fn uuid_lines_with(
    data: &[u8],
    at: usize,
    columns: &mut Columns,
    uuid: impl Fn(&[u8; 36]) -> Option<DispatcherId>,
) -> (usize, usize) {
    decoded_lines(data, at, columns, |data, at| {
        fast::uuid_line_with(data, at, &uuid)
    })
}

/// Decimal `HIGH LOW` lines from `data[at..]` on, one at a time with the portable decoder, pushed
/// into `columns`: where the first line not taken starts, and how many were.
fn decimal_lines_portable(data: &[u8], at: usize, columns: &mut Columns) -> (usize, usize) {
    decoded_lines(data, at, columns, fast::decimal_pair_line)
}

/// [`parse_chunk`] with the AVX2 UUID decoder; the portable one where no handle exists (never,
/// when [`chunk_parser`] picked it: the check is one cached load per chunk).
fn parse_chunk_avx2(data: &[u8], included: StateSet, fold: Fold) -> ChunkResult {
    match avx2::Avx2::new() {
        Some(handle) => parse_chunk_with_avx2(handle, data, included, fold),
        None => parse_chunk_portable(data, included, fold),
    }
}

#[cfg(target_arch = "x86_64")]
fn parse_chunk_with_avx2(
    _proof: avx2::Avx2,
    data: &[u8],
    included: StateSet,
    fold: Fold,
) -> ChunkResult {
    #[target_feature(enable = "avx2,bmi1,bmi2,popcnt")]
    fn stamped(data: &[u8], included: StateSet, fold: Fold) -> ChunkResult {
        // SAFETY: this function runs only with AVX2, BMI1, BMI2 and POPCNT enabled (its own
        // `target_feature`).
        parse_chunk(
            data,
            included,
            fold,
            |data, at, columns| {
                // SAFETY: as above, for both decoders.
                uuid_lines_with(data, at, columns, |text| unsafe { avx2::uuid(text) })
            },
            // SAFETY: as above.
            |data, at, columns| unsafe { avx2::decimal_lines(data, at, columns) },
        )
    }
    // SAFETY: the handle exists, so this CPU runs AVX2, BMI1, BMI2 and POPCNT.
    unsafe { stamped(data, included, fold) }
}

#[cfg(not(target_arch = "x86_64"))]
fn parse_chunk_with_avx2(
    _proof: avx2::Avx2,
    data: &[u8],
    included: StateSet,
    fold: Fold,
) -> ChunkResult {
    parse_chunk_portable(data, included, fold)
}

/// [`parse_chunk`] with the AVX-512 decimal reader (and the AVX2 UUID decoder); the AVX2 one
/// where no handle exists (never, when [`chunk_parser`] picked it).
fn parse_chunk_avx512(data: &[u8], included: StateSet, fold: Fold) -> ChunkResult {
    match avx512::Avx512::new() {
        Some(handle) => parse_chunk_with_avx512(handle, data, included, fold),
        None => parse_chunk_avx2(data, included, fold),
    }
}

#[cfg(target_arch = "x86_64")]
fn parse_chunk_with_avx512(
    _proof: avx512::Avx512,
    data: &[u8],
    included: StateSet,
    fold: Fold,
) -> ChunkResult {
    #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx2,bmi1,bmi2,popcnt")]
    fn stamped(data: &[u8], included: StateSet, fold: Fold) -> ChunkResult {
        parse_chunk(
            data,
            included,
            fold,
            |data, at, columns| {
                // SAFETY: this function runs only with AVX2 enabled (its own `target_feature`).
                uuid_lines_with(data, at, columns, |text| unsafe { avx2::uuid(text) })
            },
            // SAFETY: as above, with AVX-512 F, BW and DQ, BMI1, BMI2 and POPCNT (no VBMI2
            // proven here: no canonical batches).
            |data, at, columns| unsafe { avx512::decimal_lines(data, at, columns, false) },
        )
    }
    // SAFETY: the handle exists, so this CPU runs every feature `stamped` enables.
    unsafe { stamped(data, included, fold) }
}

#[cfg(not(target_arch = "x86_64"))]
fn parse_chunk_with_avx512(
    _proof: avx512::Avx512,
    data: &[u8],
    included: StateSet,
    fold: Fold,
) -> ChunkResult {
    parse_chunk_portable(data, included, fold)
}

/// [`parse_chunk`] with both AVX-512 readers (`HIGH LOW` and canonical UUID lines); the AVX-512
/// decimal reader with the AVX2 UUID decoder where no handle exists (never, when
/// [`chunk_parser`] picked it).
fn parse_chunk_avx512_vbmi(data: &[u8], included: StateSet, fold: Fold) -> ChunkResult {
    match avx512_uuid::Avx512Vbmi::new() {
        Some(handle) => parse_chunk_with_avx512_vbmi(handle, data, included, fold),
        None => parse_chunk_avx512(data, included, fold),
    }
}

#[cfg(target_arch = "x86_64")]
fn parse_chunk_with_avx512_vbmi(
    _proof: avx512_uuid::Avx512Vbmi,
    data: &[u8],
    included: StateSet,
    fold: Fold,
) -> ChunkResult {
    #[target_feature(
        enable = "avx512f,avx512bw,avx512dq,avx512vbmi,avx512vbmi2,avx2,bmi1,bmi2,popcnt"
    )]
    fn stamped(data: &[u8], included: StateSet, fold: Fold) -> ChunkResult {
        parse_chunk(
            data,
            included,
            fold,
            // SAFETY: this function runs only with AVX-512 F, BW and VBMI, AVX2, BMI1, BMI2 and
            // POPCNT enabled (its own `target_feature`).
            |data, at, columns| unsafe { avx512_uuid::uuid_lines(data, at, columns) },
            // SAFETY: as above, with AVX-512 DQ and VBMI2 (for the canonical batches).
            |data, at, columns| unsafe { avx512::decimal_lines(data, at, columns, true) },
        )
    }
    // SAFETY: the handle exists, so this CPU runs every feature `stamped` enables (the handle
    // checks VBMI and, through `avx512::Avx512`, the rest).
    unsafe { stamped(data, included, fold) }
}

#[cfg(not(target_arch = "x86_64"))]
fn parse_chunk_with_avx512_vbmi(
    _proof: avx512_uuid::Avx512Vbmi,
    data: &[u8],
    included: StateSet,
    fold: Fold,
) -> ChunkResult {
    parse_chunk_portable(data, included, fold)
}

/// The lines from `data[at..]` on that `decode` takes (it returns a line's ID and where the
/// next line starts), pushed into `columns`: where the first line not taken starts, and how many
/// were. The IDs go to the columns a few dozen at a time: a push per line (a length kept in
/// memory, a check for a full column, a call on the cold path) kept the loop's own state out of
/// registers (in a one-thread loop over in-cache text, about 5.7 ns per UUID line against 2.8
/// this way, measured at different times on the shared machine; through mapped files with both
/// threads, an alternated comparison under load showed no difference).
#[inline(always)]
fn decoded_lines(
    data: &[u8],
    mut at: usize,
    columns: &mut Columns,
    decode: impl Fn(&[u8], usize) -> Option<(DispatcherId, usize)>,
) -> (usize, usize) {
    const DECODED_IDS: usize = 64;
    // A line `decode` declines returns before the buffer is set up: a list of other forms pays
    // one failed decode per line here, nothing more.
    let Some((id, next)) = decode(data, at) else {
        return (at, 0);
    };
    columns.push(id);
    at = next;
    let mut decoded = [DispatcherId::new(0, 0); DECODED_IDS];
    let mut count = 1;
    loop {
        let mut filled = 0;
        while filled < DECODED_IDS {
            match decode(data, at) {
                Some((id, next)) => {
                    decoded[filled] = id;
                    filled += 1;
                    at = next;
                }
                None => break,
            }
        }
        columns.extend(&decoded[..filled]);
        count += filled;
        if filled < DECODED_IDS {
            return (at, count);
        }
    }
}

/// One chunk (whole lines) parsed and folded: its fingerprint and line count, or its first bad
/// line. `uuid_lines` reads the canonical UUID lines and `decimal_lines` the decimal `HIGH LOW`
/// lines from a place on (the portable decoders or vector ones); inlined into each stamped
/// caller so the decoders inline into the loops.
#[inline(always)]
fn parse_chunk(
    data: &[u8],
    included: StateSet,
    fold: Fold,
    uuid_lines: impl Fn(&[u8], usize, &mut Columns) -> (usize, usize),
    decimal_lines: impl Fn(&[u8], usize, &mut Columns) -> (usize, usize),
) -> ChunkResult {
    let mut columns = Columns::new(fold, included);
    let mut at = 0;
    let mut line = 0;
    while at < data.len() {
        // One loop per fast form, so that each keeps its ID in registers up to its own push (a
        // shared push went through the stack: a failed store-to-load forward per line).
        let (next, count) = uuid_lines(data, at, &mut columns);
        at = next;
        line += count;
        let (next, count) = decimal_lines(data, at, &mut columns);
        at = next;
        line += count;
        if at >= data.len() {
            break;
        }
        let rest = &data[at..];
        let (text, next) = match memchr::memchr(b'\n', rest) {
            Some(newline) => (input::line_text(&rest[..=newline]), at + newline + 1),
            None => (rest, data.len()),
        };
        match input::parse_line_bytes(text) {
            Ok(Some(record)) => columns.push_record(record),
            Ok(None) => {}
            Err(error) => return Err((line, error.message)),
        }
        at = next;
        line += 1;
    }
    Ok((columns.finish(), line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_end_after_newlines_and_cover_everything() {
        let data = b"a\nbb\nccc\n\ndddd\ne";
        for chunk_bytes in 1..=data.len() + 1 {
            let pieces = chunks(data, chunk_bytes);
            assert_eq!(pieces.concat(), data, "{chunk_bytes}");
            for piece in &pieces[..pieces.len() - 1] {
                assert_eq!(piece.last(), Some(&b'\n'), "{chunk_bytes}");
            }
            assert!(pieces.iter().all(|piece| !piece.is_empty()));
        }
        assert!(chunks(b"", 4).is_empty());
    }

    #[test]
    fn an_unavailable_kernel_is_refused() {
        for &kernel in Kernel::all() {
            assert_eq!(
                Fold::with(kernel).is_ok(),
                kernel.is_available(),
                "{kernel}"
            );
        }
    }
}
