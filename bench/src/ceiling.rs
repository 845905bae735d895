//! The memory-read ceiling: the fastest plain read of the same bytes a kernel reads.
//!
//! A fingerprint kernel does one XOR and one add per word, so once data no longer fits in cache
//! it can at best go as fast as the machine can stream those bytes in. This module measures that
//! bound directly: XOR every word, with as many independent accumulators as the widest registers
//! hold, stamped under `#[target_feature]` for AVX-512 and AVX2 like the kernels, and over
//! rayon's pool for the all-threads ceiling. The width follows the kernels' own choice
//! ([`Kernel::widest_single_thread`]) and is picked once and cached by the kernels crate's
//! `ifunc!`, the same dispatch the kernels use, so both sides of a comparison pay the same
//! call overhead. A kernel's throughput divided by the
//! ceiling's throughput at the same size says how much headroom is left.

use dispatcher_checksum::kernels::ifunc;
#[cfg(target_arch = "x86_64")]
use dispatcher_checksum::kernels::x86_64::{avx2::Avx2, avx512::Avx512};
use dispatcher_checksum::Kernel;
use rayon::prelude::*;

/// Words per rayon task in [`read_words_parallel`]: 1 MiB, the kernels' chunk size.
const CHUNK_WORDS: usize = 128 * 1024;

#[inline(always)]
fn xor_fold<const W: usize>(words: &[u64]) -> u64 {
    let (blocks, tail) = words.as_chunks::<W>();
    let mut lanes = [0u64; W];
    for block in blocks {
        for lane in 0..W {
            lanes[lane] ^= block[lane];
        }
    }
    lanes.iter().chain(tail).fold(0, |acc, word| acc ^ word)
}

#[cfg(target_arch = "x86_64")]
mod stamped {
    //! Explicit intrinsics rather than the kernels' array loops: for an XOR-only reduction LLVM
    //! turns the array form into a strided, interleaved loop that is several times slower, and a
    //! ceiling that is not the fastest read would flatter every kernel.
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx512f")]
    pub(super) fn avx512(words: &[u64]) -> u64 {
        // Four zmm registers of eight words: enough independent XORs to cover load latency.
        let (blocks, tail) = words.as_chunks::<32>();
        let mut acc = [_mm512_setzero_si512(); 4];
        for block in blocks {
            for (i, lane) in acc.iter_mut().enumerate() {
                // SAFETY: `block` holds 32 words, so words 8i..8i+8 are in bounds; the load is
                // unaligned, so any address is fine.
                let v = unsafe { _mm512_loadu_si512(block[8 * i..].as_ptr().cast()) };
                *lane = _mm512_xor_si512(*lane, v);
            }
        }
        let folded = _mm512_xor_si512(
            _mm512_xor_si512(acc[0], acc[1]),
            _mm512_xor_si512(acc[2], acc[3]),
        );
        let mut lanes = [0u64; 8];
        // SAFETY: `lanes` is 64 bytes, the size of one zmm store; the store is unaligned.
        unsafe { _mm512_storeu_si512(lanes.as_mut_ptr().cast(), folded) };
        lanes.iter().chain(tail).fold(0, |acc, word| acc ^ word)
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn avx2(words: &[u64]) -> u64 {
        let (blocks, tail) = words.as_chunks::<16>();
        let mut acc = [_mm256_setzero_si256(); 4];
        for block in blocks {
            for (i, lane) in acc.iter_mut().enumerate() {
                // SAFETY: `block` holds 16 words, so words 4i..4i+4 are in bounds; unaligned load.
                let v = unsafe { _mm256_loadu_si256(block[4 * i..].as_ptr().cast()) };
                *lane = _mm256_xor_si256(*lane, v);
            }
        }
        let folded = _mm256_xor_si256(
            _mm256_xor_si256(acc[0], acc[1]),
            _mm256_xor_si256(acc[2], acc[3]),
        );
        let mut lanes = [0u64; 4];
        // SAFETY: `lanes` is 32 bytes, the size of one ymm store; the store is unaligned.
        unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), folded) };
        lanes.iter().chain(tail).fold(0, |acc, word| acc ^ word)
    }
}

/// Which instruction set the ceiling runs with on this CPU: `avx512`, `avx2` or `scalar`: the
/// width of the widest single-thread kernel, so a build without AVX-512 kernels compares against
/// an AVX2 ceiling.
pub fn width() -> &'static str {
    match Kernel::widest_single_thread() {
        Kernel::Avx512 => "avx512",
        Kernel::Avx2 => "avx2",
        _ => "scalar",
    }
}

/// The read of [`width`]'s instruction set. The stamped reads are handed out only after the
/// kernel's handle said the CPU runs that width, as the kernels hand out their entry points.
fn pick_read() -> fn(&[u64]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    match Kernel::widest_single_thread() {
        Kernel::Avx512 if Avx512::is_available() => {
            return |words| {
                // SAFETY: returned only where the `Avx512` handle is available, that is where
                // the CPU has avx512f, all the stamped read enables.
                unsafe { stamped::avx512(words) }
            };
        }
        Kernel::Avx2 if Avx2::is_available() => {
            return |words| {
                // SAFETY: as above, for the `Avx2` handle and avx2.
                unsafe { stamped::avx2(words) }
            };
        }
        _ => {}
    }
    xor_fold::<8>
}

ifunc! {
    /// The cached read (picked once by `pick_read`).
    fn read_function(words: &[u64]) -> u64 = pick_read();
}

/// The XOR of every word, on the calling thread, as wide as the CPU allows.
#[inline]
pub fn read_words(words: &[u64]) -> u64 {
    read_function()(words)
}

/// The XOR of every word, split over rayon's pool.
pub fn read_words_parallel(words: &[u64]) -> u64 {
    words
        .par_chunks(CHUNK_WORDS)
        .map(read_words)
        .reduce(|| 0, |a, b| a ^ b)
}

/// The bytes as whole words plus a folded tail (the masked kernels' state column is bytes).
fn bytes_as_words(bytes: &[u8]) -> (&[u64], u64) {
    // SAFETY: every bit pattern is a valid u64, and `align_to` only yields the aligned middle.
    let (head, middle, tail) = unsafe { bytes.align_to::<u64>() };
    let loose = head
        .iter()
        .chain(tail)
        .fold(0u64, |acc, byte| acc.rotate_left(8) ^ u64::from(*byte));
    (middle, loose)
}

/// The ceiling for a masked kernel's input: read the ID words and the state bytes.
pub fn read_columns(words: &[u64], states: &[u8]) -> u64 {
    let (state_words, loose) = bytes_as_words(states);
    read_words(words) ^ read_words(state_words) ^ loose
}

/// [`read_columns`] over rayon's pool.
pub fn read_columns_parallel(words: &[u64], states: &[u8]) -> u64 {
    let (state_words, loose) = bytes_as_words(states);
    read_words_parallel(words) ^ read_words_parallel(state_words) ^ loose
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_width_reads_every_word() {
        for len in [0usize, 1, 7, 31, 32, 33, 1000, 300_000] {
            let words: Vec<u64> = (0..len as u64)
                .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
                .collect();
            let expected = words.iter().fold(0, |a, b| a ^ b);
            assert_eq!(read_words(&words), expected, "len {len}");
            assert_eq!(read_words_parallel(&words), expected, "len {len}");
            assert_eq!(xor_fold::<8>(&words), expected);
        }
    }

    #[test]
    fn column_reads_touch_the_state_bytes() {
        let words = vec![5u64; 100];
        let mut states = vec![0u8; 103];
        let before = read_columns(&words, &states);
        states[101] = 9;
        assert_ne!(read_columns(&words, &states), before);
        assert_eq!(
            read_columns(&words, &states),
            read_columns_parallel(&words, &states)
        );
    }
}
