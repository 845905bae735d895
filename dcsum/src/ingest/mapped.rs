//! Reading a regular file through memory-mapped windows instead of copying it into buffers.
//!
//! A `read` copies every byte out of the page cache (what `cat` pays, and the streaming reader's
//! reading thread paid on top of the parse); a map hands the parser the page cache's own pages.
//! The file is mapped one window of [`super::Options::window_bytes`] at a time (8 MiB by default),
//! with the pages populated by the `mmap` call itself (`MAP_POPULATE`: one system call maps the
//! whole window instead of a page fault per 64 KiB), on a mapping thread one window ahead of the
//! parse. The first window is 2 MiB and each next one twice the one before, up to the window
//! size (the parse waits for the first map alone).
//!
//! Windows start at multiples of 2 MiB in the file and are 2 MiB or more long. Measured on the
//! Zen 4 of `docs/performance.md` (Linux 6.18, ext4, a 41 MB list just written): mapping,
//! populating and unmapping the list in 8 MiB windows at multiples of 8 MiB took 0.36 ms, with
//! each window one page off that alignment 0.71 ms, in 1 MiB windows 2.1 ms. (Why, not
//! measured: probably the page cache's large folios, which an aligned window can map a folio at
//! a time.) The previous design's windows started after a line's `\n`, anywhere, and grew from
//! 1 MiB: about 1.3 ns of system time per line, against 0.6 now.
//! Each window is mapped a little longer than it is, [`EXTENSION_BYTES`] (a longest line and its
//! line ending) past its end, so the line that crosses into the next window is whole in it:
//! a window owns the lines that start in it, from its first line start to the next window's.
//! A parsed window goes back to the mapping thread to be unmapped there, beside the parse
//! (unmapping on the parsing side stopped both parsing threads for as long as mapping takes). At
//! most four windows are mapped at once (one being unmapped, one being parsed, one waiting, one
//! being mapped): the peak resident set stays under 40 MB whatever the file's length
//! (`/usr/bin/time -f %M`; `dcsum/tests/ingest_memory.rs` checks it on Linux).
//!
//! Anything unusual goes to the buffered reader from the first line start of the window it
//! happened in, with the line count so far, so errors are the buffered reader's (and so the
//! simple parser's) word for word: a bad line, a line crossing a window's end longer than the
//! extension (necessarily over [`MAX_LINE_BYTES`]), a map that fails. A file that shrinks while
//! it is read would make a mapped page fault (`SIGBUS`), as it would for any program that maps
//! files; a file that grows is read to the length it had when it was opened.
//!
//! [`MAX_LINE_BYTES`]: crate::input::MAX_LINE_BYTES

use super::{parse_block, Failure, Options};
use crate::input::MAX_LINE_BYTES;
use dispatcher_checksum::{Fingerprint, StateSet};
use memmap2::{Mmap, MmapOptions};
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::sync::mpsc;

use super::Fold;

/// Bytes mapped per window by default: 8 MiB (see `docs/performance.md`'s reading notes).
pub const DEFAULT_WINDOW_BYTES: usize = 8 << 20;

/// Bytes of the first window; each next one is twice the size of the one before, up to the
/// window size asked for. A multiple of [`ALIGNMENT_BYTES`], as every window size is by default.
const FIRST_WINDOW_BYTES: usize = ALIGNMENT_BYTES;

/// Where windows start by default: multiples of 2 MiB, the size of a large folio a page table
/// entry of the level above maps whole (see the module docs).
const ALIGNMENT_BYTES: usize = 2 << 20;

/// Bytes a window is mapped past its end: a longest line and its line ending (`\r\n`), so the
/// line crossing the window's end is whole in the window, or proven too long.
const EXTENSION_BYTES: usize = MAX_LINE_BYTES + 2;

/// The smallest window: no smaller than the extension, so that a window's first line start is
/// never past its end (a line that starts before a window ends within the extension after it).
pub const MIN_WINDOW_BYTES: usize = EXTENSION_BYTES;

/// What the mapping thread hands the parser, in file order.
enum Window {
    /// `map[lines]` holds whole lines (the last may be the file's unterminated last line), the
    /// first of them at `start` in the file.
    Lines {
        map: Mmap,
        lines: std::ops::Range<usize>,
        start: u64,
    },
    /// From `start` on, the buffered reader takes over (a line crossing a window's end and
    /// longer than the extension, or a map that failed).
    Fallback { start: u64 },
}

/// The fingerprint of the regular file `file` of `length` bytes, read through maps; `Ok(None)`
/// when the file cannot be mapped at all (the caller reads it instead).
pub(super) fn fingerprint_file(
    file: &File,
    length: u64,
    included: StateSet,
    fold: Fold,
    options: Options,
) -> Result<Fingerprint, Failure> {
    let window_bytes = options.window_bytes.max(MIN_WINDOW_BYTES);
    let (windows, arriving) = mpsc::sync_channel(1);
    // Parsed windows go back to the mapping thread to be unmapped there: unmapping 8 MiB takes
    // about as long as mapping it, and on the parsing side it would stop both parsing threads.
    let (parsed, returned) = mpsc::channel::<Mmap>();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            // The window's start in the file, and the first line that starts at or after it.
            let mut start = 0u64;
            let mut first_line = 0u64;
            // The first windows are small and grow to `window_bytes`: the parse waits for the
            // first one to be mapped, and a small one is mapped soonest.
            let mut size_now = FIRST_WINDOW_BYTES.min(window_bytes);
            while first_line < length {
                while let Ok(map) = returned.try_recv() {
                    drop(map);
                }
                let size = (length - start).min(size_now as u64);
                size_now = (size_now * 2).min(window_bytes);
                let end = start + size;
                let mapped_length = (size + EXTENSION_BYTES as u64).min(length - start) as usize;
                // SAFETY: the map is only read, and only while the file is the one opened; a
                // file truncated meanwhile faults (`SIGBUS`), as the module docs say.
                let mapped = unsafe {
                    MmapOptions::new()
                        .offset(start)
                        .len(mapped_length)
                        .populate()
                        .map(file)
                };
                let message = match mapped {
                    Err(_) => Window::Fallback { start: first_line },
                    Ok(map) => {
                        // The next window's first line: after the first `\n` at or after the byte
                        // before its start (in the extension), or the file's end.
                        let from = (end - 1).max(first_line) - start;
                        let next_line = match memchr::memchr(b'\n', &map[from as usize..]) {
                            Some(newline) => Some(start + from + newline as u64 + 1),
                            None if start + mapped_length as u64 == length => Some(length),
                            // A line crossing the window's end and longer than the extension.
                            None => None,
                        };
                        match next_line {
                            Some(next_line) => {
                                let lines =
                                    (first_line - start) as usize..(next_line - start) as usize;
                                let window_first_line = first_line;
                                first_line = next_line;
                                Window::Lines {
                                    map,
                                    lines,
                                    start: window_first_line,
                                }
                            }
                            None => Window::Fallback { start: first_line },
                        }
                    }
                };
                let fallback = matches!(message, Window::Fallback { .. });
                if windows.send(message).is_err() || fallback {
                    break;
                }
                start = end;
            }
            // No more windows (the parse sees the end), then the last ones unmapped as the parse
            // finishes them; it hangs up when done.
            drop(windows);
            for map in returned {
                drop(map);
            }
        });
        let mut total = Fingerprint::EMPTY;
        let mut lines = 0;
        let mut fallback = None;
        while let Ok(window) = arriving.recv() {
            match window {
                Window::Lines {
                    map,
                    lines: range,
                    start,
                } => {
                    let result = parse_block(&map[range], options, included, fold);
                    // The mapping thread unmaps it (or, if it has finished, it is dropped here).
                    let _ = parsed.send(map);
                    match result {
                        Ok((fingerprint, count)) => {
                            total = total.merge(fingerprint);
                            lines += count;
                        }
                        // The buffered reader words the error (and finds the same line).
                        Err(_) => {
                            fallback = Some(start);
                            break;
                        }
                    }
                }
                Window::Fallback { start } => {
                    fallback = Some(start);
                    break;
                }
            }
        }
        // Hangs up on the mapping thread, which stops at its next window.
        drop(arriving);
        drop(parsed);
        let Some(from) = fallback else {
            return Ok(total);
        };
        let rest =
            buffered_from(file, from, included, fold, options).map_err(|failure| Failure {
                line: lines + failure.line,
                message: failure.message,
            })?;
        Ok(total.merge(rest))
    })
}

/// The buffered reader on `file` from byte `start` on; line numbers count from there.
fn buffered_from(
    file: &File,
    start: u64,
    included: StateSet,
    fold: Fold,
    options: Options,
) -> Result<Fingerprint, Failure> {
    let mut file = file;
    if let Err(error) = file.seek(SeekFrom::Start(start)) {
        return Err(Failure {
            line: 1,
            message: format!("cannot read: {error}"),
        });
    }
    super::fingerprint_stream(file, included, fold, options)
}
