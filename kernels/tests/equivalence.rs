//! Every kernel of the plain family equals the `naive` oracle, bit for bit, on every input the
//! runner in `common` generates (every length 0..=1100 at unaligned offsets over six value
//! patterns, contiguous and masked, lengths around the parallel chunk and threshold, random
//! slices), and the parallel forms agree with 1, 2 and 4 rayon threads.
//!
//! A new kernel gets all of it by one line in the table below.

mod common;

use common::Entry;
use dispatcher_checksum_kernels::x86_64::avx512::{Avx512, StateLookup};
use dispatcher_checksum_kernels::{
    self as family, is_included, FingerprintKernel, IdWords, Kernel, RawFingerprint,
};

common::kernel_equivalence_tests! {
    oracle: Entry::naive(),
    kernels: {
        naive => Entry::from_kernel(Kernel::Naive),
        scalar => Entry::from_kernel(Kernel::Scalar),
        lanes => Entry::from_kernel(Kernel::Lanes),
        avx2 => Entry::from_kernel(Kernel::Avx2),
        avx512 => Entry::from_kernel(Kernel::Avx512),
        avx512_vbmi_lookup => avx512_with_lookup(StateLookup::Vbmi),
        avx512_bw_lookup => avx512_with_lookup(StateLookup::Bw),
        parallel => Entry::from_kernel(Kernel::Parallel),
    }
}

/// The avx512 kernel with its masked loop pinned to one state lookup, so the BW lookup (the
/// Skylake-SP path) is tested on a VBMI CPU too; `None` where the CPU lacks it.
fn avx512_with_lookup(lookup: StateLookup) -> Option<Entry> {
    let handle = Avx512::new()?;
    if !lookup.is_available() {
        return None;
    }
    Some(Entry::new(
        format!("avx512 ({lookup:?} lookup)"),
        move |ids: &[IdWords]| handle.fingerprint(ids),
        move |ids: &[IdWords], states: &[u8], included: u64| {
            handle
                .fingerprint_masked_with_lookup(lookup, ids, states, included)
                .expect("the lookup was available a moment ago")
        },
    ))
}

common::split_thread_count_tests! {
    oracle: Entry::naive(),
    splits: {
        split_over_widest => Split::plain(Kernel::widest_single_thread()),
        split_over_scalar => Split::plain(Kernel::Scalar),
        split_over_lanes => Split::plain(Kernel::Lanes),
    }
}

#[test]
fn every_kernel_is_in_the_table() {
    for kernel in Kernel::all() {
        assert!(
            TESTED_KERNELS.contains(&kernel.name()),
            "kernel {kernel} has no line in the equivalence table"
        );
    }
}

#[test]
fn parallel_at_its_real_threshold_agrees_with_1_2_and_4_threads() {
    let parallel = Entry::from_kernel(Kernel::Parallel).expect("parallel always runs");
    common::check_thread_counts_at_real_threshold(&parallel, &Entry::naive());
}

/// The oracle's masked form against the rule written out here: state `s` counts when `s < 64`
/// and bit `s` of the mask is set. Every byte value, every mask of the runner, and a few more.
#[test]
fn oracle_masked_form_follows_the_inclusion_rule() {
    let words = common::Pattern::Random.words(256, 10);
    let ids = common::ids_at(&words, 0, 256);
    let states: Vec<u8> = (0..=255).collect();
    let mut masks = common::INCLUDE_MASKS.to_vec();
    masks.extend((0..64).map(|bit| 1u64 << bit));
    for included in masks {
        let mut expected = RawFingerprint::EMPTY;
        for (id, &state) in ids.iter().zip(&states) {
            if state < 64 && (included >> state) & 1 == 1 {
                expected = expected.add(*id);
            }
            assert_eq!(
                is_included(state, included),
                state < 64 && (included >> state) & 1 == 1
            );
        }
        assert_eq!(
            family::naive::fingerprint_masked(ids, &states, included),
            expected,
            "mask {included:#x}"
        );
    }
}

/// The oracle itself against the definition written out with plain arithmetic.
#[test]
fn oracle_follows_the_definition() {
    let words = common::Pattern::WrappingHalves.words(1000, 11);
    let ids = common::ids_at(&words, 0, 1000);
    let mut expected = RawFingerprint::EMPTY;
    let (mut sum_low, mut sum_high) = (0u128, 0u128);
    for id in ids {
        expected.count += 1;
        expected.xor_low ^= id[0];
        expected.xor_high ^= id[1];
        sum_low += u128::from(id[0]);
        sum_high += u128::from(id[1]);
    }
    expected.sum_low = sum_low as u64;
    expected.sum_high = sum_high as u64;
    assert!(
        sum_low > u128::from(u64::MAX),
        "the pattern must wrap the sums"
    );
    assert_eq!(family::naive::fingerprint(ids), expected);
}

/// Each kernel's handle type (the `FingerprintKernel` trait) matches its `Kernel` entry.
#[test]
fn handles_match_the_kernel_enum() {
    fn check(kernel: Kernel, handle: impl FingerprintKernel, ids: &[IdWords], states: &[u8]) {
        assert_eq!(handle.name(), kernel.name());
        assert_eq!(Kernel::from_name(kernel.name()), Some(kernel));
        assert_eq!(
            Some(handle.fingerprint(ids)),
            kernel.fingerprint(ids),
            "{kernel}"
        );
        assert_eq!(
            Some(handle.fingerprint_masked(ids, states, u64::MAX)),
            kernel.fingerprint_masked(ids, states, u64::MAX),
            "{kernel}"
        );
    }
    let words = common::Pattern::Random.words(334, 12);
    let ids = common::ids_at(&words, 1, 333);
    let states = common::states(333, 13);
    check(Kernel::Naive, family::naive::Naive, ids, &states);
    check(Kernel::Scalar, family::scalar::Scalar, ids, &states);
    check(Kernel::Lanes, family::lanes::Lanes, ids, &states);
    if let Some(handle) = family::x86_64::avx2::Avx2::new() {
        check(Kernel::Avx2, handle, ids, &states);
    }
    if let Some(handle) = family::x86_64::avx512::Avx512::new() {
        check(Kernel::Avx512, handle, ids, &states);
    }
    check(Kernel::Parallel, family::parallel::Parallel, ids, &states);
    assert_eq!(Kernel::from_name("avx1024"), None);
}

/// The runner fails on kernels with the bugs it is there to catch: a dropped tail ID, a carry
/// between the halves, a shift that wraps states of 64 and above onto named states, and (the
/// state-lookup check alone) lookups that fold states at 16, ignore high set bits, or wrap
/// states 64..128.
#[test]
fn runner_rejects_wrong_kernels() {
    fn rejects(kernel: Entry) -> bool {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            common::check_every_short_length(&kernel, &Entry::naive());
        }))
        .is_err()
    }
    let naive_masked = family::naive::fingerprint_masked;
    let drops_tail = Entry::new(
        "drops the 16th-step tail",
        |ids: &[IdWords]| family::naive::fingerprint(&ids[..ids.len() - ids.len() % 16 / 15]),
        naive_masked,
    );
    let carries = Entry::new(
        "carries between halves",
        |ids: &[IdWords]| {
            let mut fingerprint = family::naive::fingerprint(ids);
            let sum: u128 = ids
                .iter()
                .map(|id| u128::from(id[0]) | u128::from(id[1]) << 64)
                .fold(0, u128::wrapping_add);
            fingerprint.sum_high = (sum >> 64) as u64;
            fingerprint
        },
        naive_masked,
    );
    let wraps_states = Entry::new(
        "wraps the state shift",
        family::naive::fingerprint,
        |ids: &[IdWords], states: &[u8], included: u64| {
            let wrapped: Vec<u8> = states.iter().map(|state| state & 63).collect();
            family::naive::fingerprint_masked(ids, &wrapped, included)
        },
    );
    assert!(rejects(drops_tail));
    assert!(rejects(carries));
    assert!(rejects(wraps_states));

    // And the state-lookup check on its own catches the lookup bugs a table kernel could have.
    fn lookup_rejects(masked: fn(&[IdWords], &[u8], u64) -> RawFingerprint) -> bool {
        let kernel = Entry::new("wrong lookup", family::naive::fingerprint, masked);
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            common::check_state_lookup(&kernel, &Entry::naive());
        }))
        .is_err()
    }
    // Only the low nibble table: states 16..63 looked up as state % 16.
    assert!(lookup_rejects(|ids, states, included| {
        let folded: Vec<u8> = states
            .iter()
            .map(|&s| if s < 64 { s % 16 } else { s })
            .collect();
        family::naive::fingerprint_masked(ids, &folded, included)
    }));
    // Set bits 16..63 ignored.
    assert!(lookup_rejects(|ids, states, included| {
        family::naive::fingerprint_masked(ids, states, included & 0xffff)
    }));
    // States 64..127 treated as state - 64 (a shift that wraps at 64, but not at 128).
    assert!(lookup_rejects(|ids, states, included| {
        let wrapped: Vec<u8> = states
            .iter()
            .map(|&s| if (64..128).contains(&s) { s - 64 } else { s })
            .collect();
        family::naive::fingerprint_masked(ids, &wrapped, included)
    }));
}

#[test]
fn availability_is_consistent() {
    for &kernel in Kernel::all() {
        assert_eq!(
            kernel.is_available(),
            kernel.function().is_some(),
            "{kernel}"
        );
        assert_eq!(
            kernel.is_available(),
            kernel.masked_function().is_some(),
            "{kernel}"
        );
    }
    let widest = Kernel::widest_single_thread();
    assert!(widest.is_available() && widest.is_single_thread());
}

#[cfg(feature = "no_avx2")]
#[test]
fn avx2_is_forced_off_by_the_no_avx2_feature() {
    assert!(!Kernel::Avx2.is_available());
    assert!(Kernel::Avx2.function().is_none());
    assert!(family::x86_64::avx2::Avx2::new().is_none());
    assert_ne!(Kernel::widest_single_thread(), Kernel::Avx2);
}

#[cfg(feature = "no_avx512")]
#[test]
fn avx512_is_forced_off_by_the_no_avx512_feature() {
    assert!(!Kernel::Avx512.is_available());
    assert!(Kernel::Avx512.function().is_none());
    assert!(family::x86_64::avx512::Avx512::new().is_none());
    assert_ne!(Kernel::widest_single_thread(), Kernel::Avx512);
}

#[cfg(all(feature = "no_avx2", feature = "no_avx512"))]
#[test]
fn with_both_forced_off_the_fallback_is_scalar() {
    assert_eq!(Kernel::widest_single_thread(), Kernel::Scalar);
}

/// Without the switch, the runtime kernels run exactly where the CPU has the feature (so the
/// skipped tests above are skipped only for that reason).
#[cfg(all(target_arch = "x86_64", not(feature = "no_avx2")))]
#[test]
fn avx2_is_available_exactly_when_the_cpu_has_it() {
    assert_eq!(
        Kernel::Avx2.is_available(),
        std::arch::is_x86_feature_detected!("avx2")
    );
}

#[cfg(all(target_arch = "x86_64", not(feature = "no_avx512")))]
#[test]
fn avx512_is_available_exactly_when_the_cpu_has_it() {
    assert_eq!(
        Kernel::Avx512.is_available(),
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("popcnt")
    );
}

#[cfg(not(target_arch = "x86_64"))]
#[test]
fn runtime_kernels_are_unavailable_off_x86_64() {
    assert!(!Kernel::Avx2.is_available() && !Kernel::Avx512.is_available());
}
