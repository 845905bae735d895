//! Every keyed kernel equals the keyed oracle (`keyed::naive`) bit for bit, through the same
//! runner as the plain family (`common`): every length 0..=1100 at unaligned offsets over six
//! value patterns, contiguous and masked, lengths around the parallel chunk and threshold, random
//! slices, and the parallel split with 1, 2 and 4 rayon threads. The entries close over a key.

mod common;

use common::{Entry, Split};
use dispatcher_checksum_kernels::keyed::{self, KeySchedule};
use dispatcher_checksum_kernels::{IdWords, Kernel, RawFingerprint};
use std::sync::Arc;

/// The key every table entry closes over: both halves non-trivial.
const KEY: [u64; 2] = [0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210];

fn schedule() -> KeySchedule {
    KeySchedule::new(KEY)
}

fn oracle() -> Entry {
    let s = schedule();
    Entry::new(
        "keyed naive",
        move |ids| keyed::naive::fingerprint(&s, ids),
        move |ids, states, included| keyed::naive::fingerprint_masked(&s, ids, states, included),
    )
}

/// The keyed form of `kernel` through the `Kernel` enum, or `None` where it cannot run.
fn keyed_entry(kernel: Kernel) -> Option<Entry> {
    let contiguous = kernel.keyed_function()?;
    let masked = kernel.keyed_masked_function()?;
    let s = schedule();
    Some(Entry::new(
        format!("keyed {kernel}"),
        move |ids| contiguous(&s, ids),
        move |ids, states, included| masked(&s, ids, states, included),
    ))
}

/// The keyed parallel split with `chunk_kernel` per chunk.
fn keyed_split(chunk_kernel: Kernel) -> Option<Split> {
    let contiguous = chunk_kernel.keyed_function()?;
    let masked = chunk_kernel.keyed_masked_function()?;
    let s = schedule();
    Some(Split {
        name: format!("keyed parallel over {chunk_kernel}"),
        chunk_ids: keyed::parallel::CHUNK_IDS,
        contiguous: Arc::new(move |ids, min_parallel| {
            keyed::parallel::fingerprint_with(&s, ids, contiguous, min_parallel)
        }),
        masked: Arc::new(move |ids, states, included, min_parallel| {
            keyed::parallel::fingerprint_masked_with(
                &s,
                ids,
                states,
                included,
                masked,
                min_parallel,
            )
        }),
    })
}

common::kernel_equivalence_tests! {
    oracle: super::oracle(),
    kernels: {
        naive => super::keyed_entry(Kernel::Naive),
        scalar => super::keyed_entry(Kernel::Scalar),
        lanes => super::keyed_entry(Kernel::Lanes),
        avx2 => super::keyed_entry(Kernel::Avx2),
        avx512 => super::keyed_entry(Kernel::Avx512),
        parallel => super::keyed_entry(Kernel::Parallel),
    }
}

common::split_thread_count_tests! {
    oracle: super::oracle(),
    splits: {
        split_over_widest => super::keyed_split(Kernel::widest_keyed_single_thread()),
        split_over_scalar => super::keyed_split(Kernel::Scalar),
    }
}

#[test]
fn every_kernel_is_in_the_table() {
    let names: Vec<&str> = Kernel::all().iter().map(|kernel| kernel.name()).collect();
    assert_eq!(names, TESTED_KERNELS);
}

#[test]
fn keyed_parallel_at_its_real_threshold_agrees_with_1_2_and_4_threads() {
    let s = schedule();
    let threshold = keyed::parallel::MIN_PARALLEL_IDS;
    let words = common::Pattern::Random.words(threshold * 2 + 5, 11);
    let all_states = common::states(threshold * 2 + 5, 12);
    for len in [threshold - 1, threshold, threshold * 2 + 3] {
        let ids = common::ids_at(&words, 1, len);
        let states = &all_states[1..1 + len];
        let expected = keyed::naive::fingerprint(&s, ids);
        let expected_masked = keyed::naive::fingerprint_masked(&s, ids, states, 0b100_0111);
        for threads in common::THREAD_COUNTS {
            let (got, got_masked) = common::with_threads(threads, || {
                (
                    keyed::parallel::fingerprint(&s, ids),
                    keyed::parallel::fingerprint_masked(&s, ids, states, 0b100_0111),
                )
            });
            assert_eq!(got, expected, "{len} IDs, {threads} threads");
            assert_eq!(got_masked, expected_masked, "{len} IDs, {threads} threads");
        }
    }
}

#[test]
fn the_oracle_is_the_plain_oracle_over_mixed_ids() {
    let s = schedule();
    let words = common::Pattern::Random.words(300, 13);
    let ids = common::ids_at(&words, 0, 300);
    let mixed: Vec<IdWords> = ids.iter().map(|id| keyed::mix(&s, *id)).collect();
    assert_eq!(
        keyed::naive::fingerprint(&s, ids),
        dispatcher_checksum_kernels::naive::fingerprint(&mixed)
    );
    let by_hand = ids.iter().fold(RawFingerprint::EMPTY, |fingerprint, id| {
        let [low, high] = keyed::mix(&s, *id);
        RawFingerprint {
            count: fingerprint.count + 1,
            xor_high: fingerprint.xor_high ^ high,
            xor_low: fingerprint.xor_low ^ low,
            sum_high: fingerprint.sum_high.wrapping_add(high),
            sum_low: fingerprint.sum_low.wrapping_add(low),
        }
    });
    assert_eq!(keyed::naive::fingerprint(&s, ids), by_hand);
}

#[test]
fn mix_is_a_bijection_and_unmix_inverts_it() {
    let s = schedule();
    let words = common::Pattern::Random.words(10_000, 14);
    let ids = common::ids_at(&words, 0, 10_000);
    let mut mixed: Vec<IdWords> = ids.iter().map(|id| keyed::mix(&s, *id)).collect();
    for (id, m) in ids.iter().zip(&mixed) {
        assert_eq!(keyed::unmix(&s, *m), *id);
    }
    mixed.sort_unstable();
    mixed.dedup();
    assert_eq!(mixed.len(), 10_000);
}

#[test]
fn the_key_changes_the_fingerprint() {
    let words = common::Pattern::Sequential.words(64, 15);
    let ids = common::ids_at(&words, 0, 64);
    let a = keyed::naive::fingerprint(&KeySchedule::new([1, 2]), ids);
    let b = keyed::naive::fingerprint(&KeySchedule::new([1, 3]), ids);
    let c = keyed::naive::fingerprint(&KeySchedule::new([2, 2]), ids);
    assert_ne!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.count, 64);
}

#[test]
fn keyed_availability_follows_the_plain_kernels() {
    for kernel in Kernel::all() {
        if kernel.keyed_is_available() {
            assert!(kernel.is_available(), "{kernel}");
        }
    }
    assert!(Kernel::widest_keyed_single_thread().keyed_is_available());
    if Kernel::Avx2.is_available() {
        assert!(Kernel::Avx2.keyed_is_available());
    }
}
