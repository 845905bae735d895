//! The known-answer self-test catches a wrong kernel and the automatic choice falls back.
//!
//! Runs only when built with `--cfg dcsum_planted_kernel_fault`, which plants a wrong answer in
//! the AVX2 and AVX-512 masked kernels (the kernels crate's `runtime_kernel!`):
//!
//! ```text
//! RUSTFLAGS="--cfg dcsum_planted_kernel_fault" CARGO_TARGET_DIR=target/planted-fault \
//!     cargo test -p dispatcher-checksum --test kernel_self_test_fault
//! ```
//!
//! Without the cfg this file compiles to nothing; the normal suite checks that every kernel
//! passes (`choose::tests::every_runtime_kernel_passes_its_self_test_here`).
#![cfg(dcsum_planted_kernel_fault)]

use dispatcher_checksum::choose::{self, self_test, PinError, Plan};
use dispatcher_checksum::kernels::naive;
use dispatcher_checksum::{DispatcherId, Fingerprint, Kernel, StateSet};

#[test]
fn a_failing_kernel_is_never_chosen_and_the_choice_falls_back() {
    let planted: Vec<Kernel> = [Kernel::Avx2, Kernel::Avx512]
        .into_iter()
        .filter(|kernel| kernel.is_available())
        .collect();
    if planted.is_empty() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr().lock(),
            "SKIPPED the planted-fault fallback test: this CPU runs neither avx2 nor avx512"
        );
        return;
    }
    let report = self_test::report();
    for &kernel in &planted {
        assert!(
            !self_test::passed(kernel),
            "{kernel} must fail its self-test"
        );
        let outcome = report
            .failed()
            .find(|outcome| outcome.kernel == kernel && !outcome.keyed)
            .expect("a failed outcome");
        let failure = outcome.result.clone().expect_err("failed");
        assert!(failure.case.starts_with("masked"), "{failure}");
    }
    // Every plan falls back to a kernel that passed (scalar here), and pinning a failed kernel
    // is refused.
    for plan in [
        Plan::estimate(),
        Plan::current().clone(),
        Plan::measure().clone(),
    ] {
        for kernel in [plan.contiguous, plan.masked] {
            assert!(
                !planted.contains(&kernel),
                "{kernel} was chosen after failing"
            );
        }
    }
    for &kernel in &planted {
        assert_eq!(
            Plan::from_pin(kernel.name()).pin_error,
            Some(PinError::FailedSelfTest(kernel))
        );
    }
    // And the automatic choice's answers are still right, where the planted kernels are wrong.
    let ids: Vec<DispatcherId> = (0..5000u64)
        .map(|i| DispatcherId::new(i.wrapping_mul(0x9e37_79b9_7f4a_7c15), i))
        .collect();
    let states = vec![0u8; ids.len()];
    let included = StateSet::DEFAULT_INCLUDED;
    let words = DispatcherId::slice_words(&ids);
    let expected = Fingerprint::from(naive::fingerprint_masked(words, &states, included.bits()));
    assert_eq!(
        choose::fingerprint_masked(&ids, &states, included),
        expected
    );
    assert_ne!(
        Kernel::Avx2
            .fingerprint_masked(words, &states, included.bits())
            .or_else(|| Kernel::Avx512.fingerprint_masked(words, &states, included.bits()))
            .map(Fingerprint::from),
        Some(expected),
        "the planted fault is in place"
    );
}
