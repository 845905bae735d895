//! The keyed fingerprint over rayon: chunks run the fastest single-thread keyed kernel and the
//! partial fingerprints merge. With AES instructions the keyed loop runs within a small factor of
//! the memory-bound plain loop, so it splits at the same size ([`MIN_PARALLEL_IDS`]).

use super::{KeySchedule, KeyedFingerprintFn, KeyedMaskedFingerprintFn};
use crate::parallel::threads;
use crate::{IdWords, RawFingerprint};
#[cfg(feature = "parallel")]
use rayon::prelude::*;

/// IDs per rayon task: as for the plain parallel kernel, 1 MiB of IDs.
pub const CHUNK_IDS: usize = crate::parallel::CHUNK_IDS;

/// Below this many IDs the single-thread keyed kernel runs directly: the plain family's
/// threshold. Measured by `cargo bench --bench keyed -- keyed_parallel_threshold` (see
/// `docs/diagnosis.md`): on the 2-core reference machine the forced rayon split lost up to
/// 128K IDs, tied at 256K and won at 512K when the machine was quiet, and lost up to 256K and tied
/// at 512K under load: the plain kernels' picture, so the plain threshold and its reasoning
/// (`crate::parallel::MIN_PARALLEL_IDS`) apply.
pub const MIN_PARALLEL_IDS: usize = crate::parallel::MIN_PARALLEL_IDS;

/// The keyed fingerprint of `ids`, split over rayon's pool.
pub fn fingerprint(schedule: &KeySchedule, ids: &[IdWords]) -> RawFingerprint {
    fingerprint_with(schedule, ids, super::widest_function(), MIN_PARALLEL_IDS)
}

/// The keyed fingerprint with `chunk_kernel` per chunk, serial below `min_parallel` IDs.
pub fn fingerprint_with(
    schedule: &KeySchedule,
    ids: &[IdWords],
    chunk_kernel: KeyedFingerprintFn,
    min_parallel: usize,
) -> RawFingerprint {
    if ids.len() < min_parallel || threads() <= 1 {
        return chunk_kernel(schedule, ids);
    }
    #[cfg(feature = "parallel")]
    return ids
        .par_chunks(chunk_size(ids.len()))
        .map(|ids| chunk_kernel(schedule, ids))
        .reduce(|| RawFingerprint::EMPTY, RawFingerprint::merge);
    #[cfg(not(feature = "parallel"))]
    chunk_kernel(schedule, ids)
}

/// The keyed masked fingerprint, split over rayon's pool.
///
/// # Panics
/// If `ids` and `states` differ in length.
pub fn fingerprint_masked(
    schedule: &KeySchedule,
    ids: &[IdWords],
    states: &[u8],
    included: u64,
) -> RawFingerprint {
    fingerprint_masked_with(
        schedule,
        ids,
        states,
        included,
        super::widest_masked_function(),
        MIN_PARALLEL_IDS,
    )
}

/// The keyed masked fingerprint with `chunk_kernel` per chunk, serial below `min_parallel` IDs.
///
/// # Panics
/// If `ids` and `states` differ in length.
pub fn fingerprint_masked_with(
    schedule: &KeySchedule,
    ids: &[IdWords],
    states: &[u8],
    included: u64,
    chunk_kernel: KeyedMaskedFingerprintFn,
    min_parallel: usize,
) -> RawFingerprint {
    crate::check_columns(ids, states);
    if ids.len() < min_parallel || threads() <= 1 {
        return chunk_kernel(schedule, ids, states, included);
    }
    #[cfg(feature = "parallel")]
    return {
        let chunk = chunk_size(ids.len());
        ids.par_chunks(chunk)
            .zip(states.par_chunks(chunk))
            .map(|(ids, states)| chunk_kernel(schedule, ids, states, included))
            .reduce(|| RawFingerprint::EMPTY, RawFingerprint::merge)
    };
    #[cfg(not(feature = "parallel"))]
    chunk_kernel(schedule, ids, states, included)
}

/// Chunks of at most [`CHUNK_IDS`], but at least one per thread, so an input just above the
/// threshold still splits.
#[cfg(feature = "parallel")]
fn chunk_size(len: usize) -> usize {
    len.div_ceil(threads().max(1)).clamp(1, CHUNK_IDS)
}
