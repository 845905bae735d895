//! `Fingerprint` through the public API: the algebra (add/remove, merge/subtract, order
//! independence) as properties, wrapping, the JSON field names, every explicit kernel, the
//! automatic choice, and an independent definition written out with plain integer arithmetic.

use dispatcher_checksum::choose::{self, Unavailability};
use dispatcher_checksum::kernels::{parallel, Kernel};
use dispatcher_checksum::{
    fingerprint_masked_with, fingerprint_with, ComponentState, DispatcherId, Fingerprint,
    KernelUnavailable, StateSet,
};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn id_strategy() -> impl Strategy<Value = DispatcherId> {
    prop_oneof![
        // Uniform halves: sums wrap almost at once.
        (any::<u64>(), any::<u64>()).prop_map(|(high, low)| DispatcherId::new(high, low)),
        // A small pool, so multisets get duplicates and removals find what was added.
        (0u64..8, 0u64..8).prop_map(|(high, low)| DispatcherId::new(high, low)),
    ]
}

fn state_strategy() -> impl Strategy<Value = ComponentState> {
    proptest::sample::select(ComponentState::ALL.to_vec())
}

/// The definition, one ID at a time, with `u128` sums truncated at the end: independent of
/// `Fingerprint::add` and of every kernel.
fn definition(ids: &[DispatcherId]) -> Fingerprint {
    let mut fingerprint = Fingerprint::EMPTY;
    let (mut sum_high, mut sum_low) = (0u128, 0u128);
    for id in ids {
        fingerprint.xor_high ^= id.high;
        fingerprint.xor_low ^= id.low;
        sum_high += u128::from(id.high);
        sum_low += u128::from(id.low);
    }
    fingerprint.count = ids.len() as u64;
    fingerprint.sum_high = sum_high as u64;
    fingerprint.sum_low = sum_low as u64;
    fingerprint
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_bulk_form_equals_the_definition(
        ids in proptest::collection::vec(id_strategy(), 0..200),
    ) {
        let expected = definition(&ids);
        prop_assert_eq!(Fingerprint::of(&ids), expected);
        prop_assert_eq!(Fingerprint::from_ids(ids.iter().copied()), expected);
        prop_assert_eq!(ids.iter().copied().collect::<Fingerprint>(), expected);
        let states: Vec<ComponentState> =
            ids.iter().map(|id| ComponentState::ALL[(id.low % 7) as usize]).collect();
        prop_assert_eq!(Fingerprint::of_masked(&ids, &states, StateSet::ALL), expected);
    }

    #[test]
    fn masked_form_counts_exactly_the_included_states(
        records in proptest::collection::vec((id_strategy(), state_strategy()), 0..200),
        excluded in proptest::collection::vec(state_strategy(), 0..4),
    ) {
        let included = StateSet::excluding(excluded.iter().copied());
        let (ids, states): (Vec<DispatcherId>, Vec<ComponentState>) =
            records.iter().copied().unzip();
        let counted: Vec<DispatcherId> = records
            .iter()
            .filter(|(_, state)| !excluded.contains(state))
            .map(|(id, _)| *id)
            .collect();
        prop_assert_eq!(Fingerprint::of_masked(&ids, &states, included), definition(&counted));
    }

    #[test]
    fn order_does_not_matter(
        (ids, shuffled) in proptest::collection::vec(id_strategy(), 0..100)
            .prop_flat_map(|ids| (Just(ids.clone()), Just(ids).prop_shuffle()))
    ) {
        prop_assert_eq!(Fingerprint::of(&ids), Fingerprint::of(&shuffled));
        prop_assert_eq!(
            Fingerprint::from_ids(ids.iter().copied()),
            Fingerprint::from_ids(shuffled.iter().rev().copied())
        );
    }

    /// Random add/remove sequences over a small pool; a removal takes out an ID that is present.
    /// The incremental fingerprint is the fingerprint of the multiset left at the end.
    #[test]
    fn incremental_updates_equal_the_final_multiset(
        operations in proptest::collection::vec((any::<bool>(), id_strategy()), 0..300),
    ) {
        let mut incremental = Fingerprint::EMPTY;
        let mut multiset: BTreeMap<DispatcherId, usize> = BTreeMap::new();
        for (add, id) in operations {
            if add || !multiset.contains_key(&id) {
                incremental.add(id);
                *multiset.entry(id).or_default() += 1;
            } else {
                incremental.remove(id);
                let count = multiset.get_mut(&id).expect("present");
                *count -= 1;
                if *count == 0 {
                    multiset.remove(&id);
                }
            }
        }
        let remaining: Vec<DispatcherId> = multiset
            .iter()
            .flat_map(|(id, count)| std::iter::repeat_n(*id, *count))
            .collect();
        prop_assert_eq!(incremental, Fingerprint::of(&remaining));
        prop_assert_eq!(incremental.is_empty(), remaining.is_empty());
    }

    #[test]
    fn merge_and_subtract_laws(
        a in proptest::collection::vec(id_strategy(), 0..60),
        b in proptest::collection::vec(id_strategy(), 0..60),
        c in proptest::collection::vec(id_strategy(), 0..60),
    ) {
        let (fa, fb, fc) = (Fingerprint::of(&a), Fingerprint::of(&b), Fingerprint::of(&c));
        let union: Vec<DispatcherId> = a.iter().chain(&b).copied().collect();
        prop_assert_eq!(fa.merge(fb), Fingerprint::of(&union));
        prop_assert_eq!(fa.merge(fb), fb.merge(fa));
        prop_assert_eq!(fa.merge(fb).merge(fc), fa.merge(fb.merge(fc)));
        prop_assert_eq!(fa.merge(Fingerprint::EMPTY), fa);
        prop_assert_eq!(fa.merge(fb).subtract(fb), fa);
        prop_assert_eq!(fa.subtract(fa), Fingerprint::EMPTY);
        prop_assert!(fa.subtract(fa).is_empty());
        // Subtracting first and merging back is the same round trip.
        prop_assert_eq!(fa.subtract(fb).merge(fb), fa);
        // Removing b's IDs one by one is subtracting b's fingerprint.
        let mut removed = fa;
        for id in &b {
            removed.remove(*id);
        }
        prop_assert_eq!(removed, fa.subtract(fb));
    }
}

/// Hex text to bytes, written out here so the check below does not use the `uuid` crate.
fn uuid_bytes(text: &str) -> [u8; 16] {
    let digits: Vec<u8> = text
        .bytes()
        .filter(|byte| *byte != b'-')
        .map(|byte| match byte {
            b'0'..=b'9' => byte - b'0',
            b'a'..=b'f' => byte - b'a' + 10,
            b'A'..=b'F' => byte - b'A' + 10,
            _ => panic!("not hex: {text}"),
        })
        .collect();
    assert_eq!(digits.len(), 32, "{text}");
    let mut bytes = [0u8; 16];
    for (i, pair) in digits.chunks_exact(2).enumerate() {
        bytes[i] = pair[0] << 4 | pair[1];
    }
    bytes
}

/// The reference definition from UUID bytes: `low` is bytes 0..8 little-endian, `high` bytes
/// 8..16; count, XORs and sums mod 2^64 computed in `u128`. Only the inputs are fixed here.
#[test]
fn agrees_with_an_independent_definition_on_uuids() {
    let uuids = [
        "67e55044-10b1-426f-9247-bb680e5fe0c8",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
        "00000000-0000-0000-0000-000000000001",
        "80000000-0000-0000-8000-000000000000",
        "f47ac10b-58cc-4372-a567-0e02b2c3d479",
        "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        "00000000-0000-0000-0000-000000000000",
    ];
    let mut count = 0u128;
    let (mut xor_low, mut xor_high, mut sum_low, mut sum_high) = (0u128, 0u128, 0u128, 0u128);
    for text in uuids {
        let bytes = uuid_bytes(text);
        let low = (0..8).fold(0u128, |acc, i| acc | u128::from(bytes[i]) << (8 * i));
        let high = (0..8).fold(0u128, |acc, i| acc | u128::from(bytes[8 + i]) << (8 * i));
        count += 1;
        xor_low ^= low;
        xor_high ^= high;
        sum_low += low;
        sum_high += high;
    }
    let modulus = 1u128 << 64;
    let expected = Fingerprint {
        count: (count % modulus) as u64,
        xor_high: xor_high as u64,
        xor_low: xor_low as u64,
        sum_high: (sum_high % modulus) as u64,
        sum_low: (sum_low % modulus) as u64,
    };
    assert!(
        sum_high >= modulus && sum_low >= modulus,
        "the inputs wrap both sums"
    );

    let ids: Vec<DispatcherId> = uuids
        .iter()
        .map(|text| text.parse().expect("a UUID"))
        .collect();
    assert_eq!(Fingerprint::of(&ids), expected);
    assert_eq!(Fingerprint::from_ids(ids.iter().copied()), expected);
    for &kernel in Kernel::all().iter().filter(|kernel| kernel.is_available()) {
        assert_eq!(fingerprint_with(kernel, &ids), Ok(expected), "{kernel}");
    }
    // Upper-case text maps to the same IDs.
    let upper: Vec<DispatcherId> = uuids
        .iter()
        .map(|text| text.to_uppercase().parse().expect("a UUID"))
        .collect();
    assert_eq!(upper, ids);
}

/// Removing an ID never added does not panic and yields unsigned wrapping arithmetic.
#[test]
fn removing_an_absent_id_wraps() {
    let id = DispatcherId::new(5, u64::MAX);
    let mut fingerprint = Fingerprint::EMPTY;
    fingerprint.remove(id);
    let modulus = 1u128 << 64;
    assert_eq!(fingerprint.count, (modulus - 1) as u64);
    assert_eq!(fingerprint.sum_high, (modulus - 5) as u64);
    assert_eq!(fingerprint.sum_low, (modulus - u128::from(u64::MAX)) as u64);
    assert_eq!((fingerprint.xor_high, fingerprint.xor_low), (5, u64::MAX));
    fingerprint.add(id);
    assert_eq!(fingerprint, Fingerprint::EMPTY);

    // Counting past u64::MAX wraps too.
    let mut full = Fingerprint {
        count: u64::MAX,
        sum_high: u64::MAX,
        ..Fingerprint::EMPTY
    };
    full.add(DispatcherId::new(1, 0));
    assert_eq!((full.count, full.sum_high), (0, 0));
    assert_eq!(Fingerprint::EMPTY.subtract(Fingerprint::of(&[id])), {
        let mut removed = Fingerprint::EMPTY;
        removed.remove(id);
        removed
    });
}

#[test]
fn json_uses_the_reference_field_names() {
    let fingerprint = Fingerprint {
        count: 3,
        xor_high: u64::MAX,
        xor_low: 1,
        sum_high: 2,
        sum_low: 1 << 63,
    };
    let json = serde_json::to_value(fingerprint).expect("serializes");
    let object = json.as_object().expect("an object");
    let mut names: Vec<&str> = object.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["count", "sumHigh", "sumLow", "xorHigh", "xorLow"]);
    assert_eq!(object["xorHigh"], serde_json::json!(u64::MAX));
    assert_eq!(object["sumLow"], serde_json::json!(1u64 << 63));
    let text = serde_json::to_string(&fingerprint).expect("serializes");
    assert_eq!(
        serde_json::from_str::<Fingerprint>(&text).expect("parses"),
        fingerprint
    );
    // Snake-case or unknown names are rejected rather than silently read as zero.
    let snake = r#"{"count":1,"xor_high":0,"xorLow":0,"sumHigh":0,"sumLow":0}"#;
    assert!(serde_json::from_str::<Fingerprint>(snake).is_err());
}

#[test]
fn display_names_every_field() {
    let fingerprint = Fingerprint::of(&[DispatcherId::new(0xab, 0xcd)]);
    let text = fingerprint.to_string();
    for name in ["count=1", "xorHigh=", "xorLow=", "sumHigh=", "sumLow="] {
        assert!(text.contains(name), "{text}");
    }
    assert!(text.contains("0x00000000000000ab"), "{text}");
}

/// Every kernel by name through the stable API: available ones agree with the definition at
/// lengths across the short-input bypass and the parallel threshold; unavailable ones say so.
#[test]
fn every_kernel_through_fingerprint_with() {
    let lengths = [0, 1, 15, 16, 17, 1000, choose::PARALLEL_MIN_IDS + 5];
    let longest = lengths[lengths.len() - 1];
    let mut state = 0x243f_6a88_85a3_08d3_u64;
    let mut next = || {
        // SplitMix64: any fixed sequence of well-spread words does here.
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let all: Vec<DispatcherId> = (0..longest)
        .map(|_| DispatcherId::new(next(), next()))
        .collect();
    let states: Vec<ComponentState> = all
        .iter()
        .map(|id| ComponentState::ALL[(id.high % 7) as usize])
        .collect();
    for len in lengths {
        let ids = &all[..len];
        let states = &states[..len];
        let expected = definition(ids);
        let counted: Vec<DispatcherId> = ids
            .iter()
            .zip(states)
            .filter(|(_, state)| state.is_included_by_default())
            .map(|(id, _)| *id)
            .collect();
        let expected_masked = definition(&counted);
        assert_eq!(Fingerprint::of(ids), expected, "automatic, {len} IDs");
        assert_eq!(
            Fingerprint::of_masked(ids, states, StateSet::DEFAULT_INCLUDED),
            expected_masked,
            "automatic masked, {len} IDs"
        );
        let state_bytes: Vec<u8> = states.iter().map(|state| state.number()).collect();
        for &kernel in Kernel::all() {
            let contiguous = fingerprint_with(kernel, ids);
            let masked =
                fingerprint_masked_with(kernel, ids, &state_bytes, StateSet::DEFAULT_INCLUDED);
            if kernel.is_available() {
                assert_eq!(contiguous, Ok(expected), "{kernel}, {len} IDs");
                assert_eq!(masked, Ok(expected_masked), "masked {kernel}, {len} IDs");
            } else {
                assert_eq!(contiguous, Err(KernelUnavailable(kernel)));
                assert_eq!(masked, Err(KernelUnavailable(kernel)));
                assert!(choose::unavailability(kernel).is_some());
            }
        }
    }
}

fn in_pool<R: Send>(threads: usize, work: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool")
        .install(work)
}

#[test]
fn automatic_choice_by_length_and_threads() {
    let plan = choose::Plan::current();
    let threshold = plan.parallel_min_ids;
    assert_eq!(choose::PARALLEL_MIN_IDS, parallel::MIN_PARALLEL_IDS);
    if std::env::var(choose::PIN_VARIABLE).is_err() {
        assert_eq!(
            threshold,
            choose::PARALLEL_MIN_IDS,
            "unpinned, parallel passed"
        );
    }
    for threads in [1, 2, 4] {
        in_pool(threads, || {
            for masked in [false, true] {
                let single = if masked { plan.masked } else { plan.contiguous };
                for len in [0, 1, choose::SHORT_INPUT_IDS - 1] {
                    assert_eq!(
                        plan.decision_for(len, masked).kernel,
                        Kernel::Scalar,
                        "{len} IDs"
                    );
                }
                for len in [choose::SHORT_INPUT_IDS, 1024, 64 * 1024, threshold - 1] {
                    assert_eq!(plan.decision_for(len, masked).kernel, single, "{len} IDs");
                }
                for len in [threshold, 1 << 20, 16 << 20] {
                    let choice = plan.decision_for(len, masked);
                    let expected = if threads > 1 {
                        Kernel::Parallel
                    } else {
                        single
                    };
                    assert_eq!(choice.kernel, expected, "{len} IDs, {threads} threads");
                    assert!(!choice.reason.is_empty());
                }
            }
        });
    }
    assert_eq!(choose::decision_for(1024), plan.decision_for(1024, false));
    assert_eq!(
        choose::masked_decision_for(1024),
        plan.decision_for(1024, true)
    );
    // The cached single-thread entry point is the plan's kernel's.
    let ids = [DispatcherId::new(1, 2), DispatcherId::new(3, 4)];
    let words = DispatcherId::slice_words(&ids);
    assert_eq!(
        Some(choose::single_thread_function()(words)),
        plan.contiguous.fingerprint(words)
    );
}

#[test]
fn availability_reasons() {
    for &kernel in Kernel::all() {
        assert_eq!(
            choose::unavailability(kernel).is_none(),
            kernel.is_available(),
            "{kernel}"
        );
    }
    for kernel in [
        Kernel::Naive,
        Kernel::Scalar,
        Kernel::Lanes,
        Kernel::Parallel,
    ] {
        assert!(kernel.is_available(), "{kernel} is portable");
    }
}

#[cfg(feature = "no_avx2")]
#[test]
fn the_no_avx2_feature_reaches_the_kernels() {
    assert!(!Kernel::Avx2.is_available());
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        assert_eq!(
            choose::unavailability(Kernel::Avx2),
            Some(Unavailability::DisabledByBuildFeature("no_avx2"))
        );
    }
}

#[cfg(feature = "no_avx512")]
#[test]
fn the_no_avx512_feature_reaches_the_kernels() {
    assert!(!Kernel::Avx512.is_available());
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        assert_eq!(
            choose::unavailability(Kernel::Avx512),
            Some(Unavailability::DisabledByBuildFeature("no_avx512"))
        );
    }
}

#[cfg(all(target_arch = "x86_64", not(feature = "no_avx2")))]
#[test]
fn without_the_switch_avx2_follows_the_cpu() {
    let cpu_has_it = std::arch::is_x86_feature_detected!("avx2");
    assert_eq!(Kernel::Avx2.is_available(), cpu_has_it);
    if !cpu_has_it {
        assert_eq!(
            choose::unavailability(Kernel::Avx2),
            Some(Unavailability::CpuLacks("avx2"))
        );
    }
}
