//! Reading a regular file through memory-mapped windows instead of copying it into buffers.
//!
//! A `read` copies every byte out of the page cache (what `cat` pays, and the streaming reader's
//! reading thread paid on top of the parse); a map hands the parser the page cache's own pages.
//! The file is mapped one window of [`super::Options::window_bytes`] at a time (8 MiB by default),
//! with the pages populated by the `mmap` call itself (`MAP_POPULATE`: one system call maps the
//! whole window instead of a page fault per 64 KiB), on a mapping thread one window ahead of the
//! parse. The first window is 1 MiB and each next one twice the one before, up to the window
//! size (the parse waits for the first map alone). Each window is cut after its last `\n`; the
//! next one starts at the line after it, so a line never straddles two windows. A parsed window
//! goes back to the mapping thread to be unmapped there, beside the parse (unmapping on the
//! parsing side stopped both parsing threads for as long as mapping takes). At most four windows
//! are mapped at once (one being unmapped, one being parsed, one waiting, one being mapped): the
//! peak resident set stays under 40 MB whatever the file's length (`/usr/bin/time -f %M`;
//! `dcsum/tests/ingest_memory.rs` checks it on Linux).
//!
//! Anything unusual goes to the buffered reader from the start of the window it happened in,
//! with the line count so far, so errors are the buffered reader's (and so the simple parser's)
//! word for word: a bad line, a line longer than a window (necessarily over [`MAX_LINE_BYTES`]),
//! a map that fails. A file that shrinks while it is read would make a mapped page fault
//! (`SIGBUS`), as it would for any program that maps files; a file that grows is read to the
//! length it had when it was opened.
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
/// window size asked for.
const FIRST_WINDOW_BYTES: usize = 1 << 20;

/// The smallest window: room for a longest line and its line ending, so every window that does
/// not hold a whole line proves the line too long.
pub const MIN_WINDOW_BYTES: usize = MAX_LINE_BYTES + 2;

/// What the mapping thread hands the parser, in file order.
enum Window {
    /// `map[..len]` holds whole lines (the last may be the file's unterminated last line).
    Lines { map: Mmap, len: usize, start: u64 },
    /// From `start` on, the buffered reader takes over (a line longer than a window, or a map
    /// that failed).
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
            let mut start = 0u64;
            // The first windows are small and grow to `window_bytes`: the parse waits for the
            // first one to be mapped, and a small one is mapped soonest.
            let mut size_now = FIRST_WINDOW_BYTES.min(window_bytes);
            while start < length {
                while let Ok(map) = returned.try_recv() {
                    drop(map);
                }
                let size = (length - start).min(size_now as u64) as usize;
                size_now = (size_now * 2).min(window_bytes);
                let last = start + size as u64 == length;
                // SAFETY: the map is only read, and only while the file is the one opened; a
                // file truncated meanwhile faults (`SIGBUS`), as the module docs say.
                let mapped = unsafe {
                    MmapOptions::new()
                        .offset(start)
                        .len(size)
                        .populate()
                        .map(file)
                };
                let message = match mapped {
                    Err(_) => Window::Fallback { start },
                    Ok(map) => match memchr::memrchr(b'\n', &map) {
                        _ if last => Window::Lines {
                            len: size,
                            map,
                            start,
                        },
                        Some(newline) => Window::Lines {
                            len: newline + 1,
                            map,
                            start,
                        },
                        None => Window::Fallback { start },
                    },
                };
                let next = match &message {
                    Window::Lines { len, .. } => start + *len as u64,
                    Window::Fallback { .. } => length,
                };
                if windows.send(message).is_err() {
                    return;
                }
                start = next;
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
                Window::Lines { map, len, start } => {
                    let result = parse_block(&map[..len], options, included, fold);
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
