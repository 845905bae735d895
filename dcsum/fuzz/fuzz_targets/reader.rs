//! The fast reader (`dcsum::ingest`: the vector and SWAR decoders, blocks, chunks and mapped
//! windows) held equal to the simple parser (`dcsum::input::read_records`): the same fingerprint,
//! or the same first error at the same line with the same message.
//!
//! The input's first four bytes choose how the reader cuts it (block, chunk and window sizes, the
//! vector path on or off, AVX-512 on or off, which state set counts); the rest is the ID list. Small sizes make lines
//! straddle every boundary.
#![no_main]

use dcsum::ingest::{fingerprint_path_with, fingerprint_reader, Fold, Options, MIN_WINDOW_BYTES};
use dcsum::input::{read_records, IdColumns};
use dispatcher_checksum::StateSet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&[block, chunk, window, flags], text)) = input.split_first_chunk::<4>() else {
        return;
    };
    let options = Options {
        block_bytes: 1 + usize::from(block) * 7,
        chunk_bytes: 1 + usize::from(chunk) * 5,
        vector: flags & 1 == 1,
        avx512: flags & 8 == 8,
        window_bytes: MIN_WINDOW_BYTES + usize::from(window) * 31,
    };
    let included = if flags & 2 == 2 {
        StateSet::ALL
    } else {
        StateSet::DEFAULT_INCLUDED
    };
    let expected = read_records(text, "ids")
        .map(|records| IdColumns::from_records(&records).fingerprint(included))
        .map_err(|error| (error.line, error.message));
    let streamed = fingerprint_reader(text, "ids", included, Fold::AUTO, options)
        .map_err(|error| (error.line, error.message));
    assert_eq!(streamed, expected, "buffered reader, {options:?}");
    if flags & 4 == 4 {
        // The mapped path reads a file: one per fuzzing process, rewritten each time.
        let path = std::env::temp_dir().join(format!("dcsum-fuzz-{}.txt", std::process::id()));
        std::fs::write(&path, text).expect("the temporary directory is writable");
        let name = path.to_str().expect("a UTF-8 temporary path");
        let mapped = fingerprint_path_with(name, included, Fold::AUTO, options)
            .map_err(|error| (error.line, error.message));
        assert_eq!(mapped, expected, "mapped reader, {options:?}");
    }
});
