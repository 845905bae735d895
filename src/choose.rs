//! The automatic kernel choice: a *plan* made once per process from evidence, after a
//! known-answer self-test of every runtime-detected kernel, with a short-input bypass.
//!
//! FFTW's planner is the model: an estimate from evidence by default, a measured plan on request,
//! and a way to pin it.
//!
//! - **Estimate (the default).** [`Plan::estimate`] looks the CPU up in [`evidence::FAMILIES`]:
//!   the preferred contiguous and masked kernels of each CPU family they were *measured* on, with
//!   the report each comes from (`reports/kernels.md` and the per-machine evidence files it links).
//!   A CPU with no evidence gets `avx2` where it runs, else `scalar`: the default never assumes
//!   that wider is faster (on a Sapphire Rapids core the widest masked kernel was the slower one).
//! - **Measured** ([`Plan::measure`], opt-in, or `DCSUM_KERNEL=measure`): times every available
//!   single-thread kernel that passed its self-test at two sizes (in cache and out of L2),
//!   contiguous and masked, in well under 100 ms, and keeps the fastest; cached for the process.
//! - **Pinned** (`DCSUM_KERNEL=<kernel>`, [`PIN_VARIABLE`]): an operator names the kernel; a value
//!   that names no kernel, one this CPU cannot run or one that failed its self-test is refused
//!   with a clear message ([`PinError`]), printed once, and the estimate is used instead.
//! - **Self-test** ([`self_test`]): before the plan trusts a runtime-detected kernel (avx2, avx512,
//!   parallel; the keyed AES-NI and VAES kernels in [`crate::keyed`]) it runs it once on a fixed
//!   input that exercises its main loop, lane fold and tail, contiguous and masked, and compares
//!   with the scalar kernel. A kernel that disagrees is never chosen; `dcsum kernels` names it.
//!
//! Thresholds, each from measurement:
//! - **Short inputs** of fewer than [`SHORT_INPUT_IDS`] IDs skip the indirect call and run the
//!   scalar loop inline (`reports/kernels.md`, "Decision 2": from 32 IDs on the cached wide kernel
//!   won on the Sapphire Rapids core; on Zen 1 the inline loop was never slower).
//! - **Rayon** runs from [`PARALLEL_MIN_IDS`] IDs with more than one rayon thread: the measured
//!   crossover (`reports/kernels.md`, "Decision 3", 131072 IDs on Zen 1; the same on the
//!   Sapphire Rapids core per issue 15); the numbers are on `parallel::MIN_PARALLEL_IDS`.
//!
//! [`decision_for`] says, for one input length, what runs and why.

pub mod evidence;
pub mod self_test;

use crate::lifecycle::StateSet;
use crate::{DispatcherId, Fingerprint};
use dispatcher_checksum_kernels::{parallel, scalar, FingerprintFn, Kernel, MaskedFingerprintFn};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub use evidence::{CpuFamilyEvidence, CpuIdentity};
pub use self_test::{SelfTestFailure, SelfTestReport};

/// Below this many IDs the scalar loop runs inline (see the module docs).
pub const SHORT_INPUT_IDS: usize = 32;

/// From this many IDs on, the parallel kernel runs when rayon has more than one thread. It is
/// the kernels crate's own threshold, so `parallel` and the automatic choice agree.
pub const PARALLEL_MIN_IDS: usize = parallel::MIN_PARALLEL_IDS;

/// The environment variable that pins the automatic choice: a kernel name (`scalar`, `avx2`,
/// `avx512`, ...), `measure` for [`Plan::measure`], or `auto` (the same as unset).
pub const PIN_VARIABLE: &str = "DCSUM_KERNEL";

/// Where a plan's single-thread kernels came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Measured evidence for this CPU family.
    CpuFamily(&'static CpuFamilyEvidence),
    /// No evidence for this CPU: the conservative default (never "wider is faster").
    NoEvidence,
    /// [`Plan::measure`] on this machine, now.
    Measured,
    /// Pinned by [`PIN_VARIABLE`].
    Pinned(Kernel),
}

impl Source {
    /// One short phrase: the family and its evidence file, `measured`, `pinned`, or no evidence.
    pub fn short(&self) -> String {
        match self {
            Source::CpuFamily(family) => format!("{} evidence", family.name),
            Source::NoEvidence => "no evidence for this CPU: the conservative default".into(),
            Source::Measured => "measured in this process".into(),
            Source::Pinned(kernel) => format!("pinned by {PIN_VARIABLE}={kernel}"),
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::CpuFamily(family) => write!(
                f,
                "evidence for {} ({}): {}",
                family.name, family.evidence, family.summary
            ),
            Source::NoEvidence => f.write_str(
                "no measured evidence for this CPU family: avx2 where it runs (the fastest or \
                 within 5% of it wherever measured), else scalar; never assumes wider is faster. \
                 Run `dcsum kernels --ceiling ...` or set DCSUM_KERNEL=measure",
            ),
            Source::Measured => {
                f.write_str("measured in this process (Plan::measure: two sizes, both forms)")
            }
            Source::Pinned(kernel) => write!(f, "pinned by {PIN_VARIABLE}={kernel}"),
        }
    }
}

/// Why a [`PIN_VARIABLE`] value was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PinError {
    /// The value names no kernel.
    UnknownKernel(String),
    /// The kernel cannot run on this CPU/build.
    Unavailable(Kernel, Unavailability),
    /// The kernel failed its self-test on this machine.
    FailedSelfTest(Kernel),
}

impl std::fmt::Display for PinError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = Kernel::all().iter().map(|k| k.name()).collect();
        match self {
            PinError::UnknownKernel(value) => write!(
                f,
                "{PIN_VARIABLE}={value:?} names no kernel: expected one of {}, `measure` or `auto`",
                names.join(", ")
            ),
            PinError::Unavailable(kernel, why) => {
                write!(
                    f,
                    "{PIN_VARIABLE}={kernel}: the kernel cannot run here: {why}"
                )
            }
            PinError::FailedSelfTest(kernel) => write!(
                f,
                "{PIN_VARIABLE}={kernel}: the kernel failed its known-answer self-test on this \
                 machine, so it is never used"
            ),
        }
    }
}

impl std::error::Error for PinError {}

/// What the automatic choice runs: made once per process ([`Plan::current`]).
#[derive(Clone, Debug)]
pub struct Plan {
    /// The single-thread kernel for contiguous input (at and above [`SHORT_INPUT_IDS`]).
    pub contiguous: Kernel,
    /// The single-thread kernel for masked input.
    pub masked: Kernel,
    /// From this many IDs on, rayon runs (with more than one thread and once the parallel
    /// kernel passed its self-test, which runs when an input first gets here), each chunk by the
    /// kernels above; `usize::MAX` where rayon is not built in or a single-thread pin holds.
    pub parallel_min_ids: usize,
    /// Where `contiguous` and `masked` came from.
    pub source: Source,
    /// The self-test of every runtime-detected kernel this CPU runs.
    pub self_tests: SelfTestReport,
    /// A refused [`PIN_VARIABLE`] value, if any (the plan is then the estimate).
    pub pin_error: Option<PinError>,
    contiguous_fn: FingerprintFn,
    masked_fn: MaskedFingerprintFn,
}

/// What the automatic choice runs for one input length, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The kernel.
    pub kernel: Kernel,
    /// Why, in one sentence.
    pub reason: String,
}

impl Plan {
    /// The plan this process uses: made on the first call from [`PIN_VARIABLE`] (unset: the
    /// estimate), then cached. A refused pin is printed once to standard error.
    pub fn current() -> &'static Plan {
        static CURRENT: OnceLock<Plan> = OnceLock::new();
        CURRENT.get_or_init(|| {
            let plan = Plan::from_environment();
            if let Some(error) = &plan.pin_error {
                eprintln!("dispatcher-checksum: {error}; using the estimate instead");
            }
            plan
        })
    }

    /// The plan [`PIN_VARIABLE`] asks for (not cached; [`Plan::current`] caches it).
    pub fn from_environment() -> Plan {
        match std::env::var(PIN_VARIABLE) {
            Ok(value) => Plan::from_pin(&value),
            Err(_) => Plan::estimate(),
        }
    }

    /// The plan for a [`PIN_VARIABLE`] value: a kernel name, `measure`, or `auto`/empty.
    pub fn from_pin(value: &str) -> Plan {
        let value = value.trim();
        match value {
            "" | "auto" => return Plan::estimate(),
            "measure" => return Plan::measure().clone(),
            _ => {}
        }
        let pinned = match Kernel::from_name(value) {
            None => Err(PinError::UnknownKernel(value.to_string())),
            Some(kernel) => match unavailability(kernel) {
                Some(why) => Err(PinError::Unavailable(kernel, why)),
                None if !self_test::passed(kernel) => Err(PinError::FailedSelfTest(kernel)),
                None => Ok(kernel),
            },
        };
        match pinned {
            Ok(Kernel::Parallel) => {
                let mut plan = Plan::estimate();
                plan.parallel_min_ids = 0;
                plan.source = Source::Pinned(Kernel::Parallel);
                plan
            }
            Ok(kernel) => {
                let mut plan = Plan::with(kernel, kernel, Source::Pinned(kernel));
                plan.parallel_min_ids = usize::MAX;
                plan
            }
            Err(error) => Plan {
                pin_error: Some(error),
                ..Plan::estimate()
            },
        }
    }

    /// The estimate: this CPU family's measured preferences, or the conservative default, over
    /// the kernels that run here and passed their self-test.
    pub fn estimate() -> Plan {
        Plan::estimate_for(&CpuIdentity::of_this_cpu())
    }

    /// The estimate for a CPU of the given identity, over the kernels that run on this one.
    pub fn estimate_for(identity: &CpuIdentity) -> Plan {
        match evidence::for_cpu(identity) {
            Some(family) => Plan::with(family.contiguous, family.masked, Source::CpuFamily(family)),
            // `with` falls back from avx2 to scalar where avx2 cannot run or failed.
            None => Plan::with(Kernel::Avx2, Kernel::Avx2, Source::NoEvidence),
        }
    }

    /// A measured plan: every available single-thread kernel that passed its self-test, timed at
    /// 4 Ki IDs (in L1/L2) and 256 Ki IDs (out of L2), contiguous and masked, the fastest of
    /// five calls each; the kernel with the least total time per form wins. Made once per
    /// process and cached; costs a few milliseconds (`dcsum kernels --measure` prints it).
    pub fn measure() -> &'static Plan {
        static MEASURED: OnceLock<Plan> = OnceLock::new();
        MEASURED.get_or_init(|| {
            let candidates: Vec<Kernel> = Kernel::all()
                .iter()
                .copied()
                .filter(|&k| {
                    k.is_single_thread()
                        && k != Kernel::Naive
                        && k.is_available()
                        && self_test::passed(k)
                })
                .collect();
            let (contiguous, masked) = measure_fastest(&candidates);
            Plan::with(contiguous, masked, Source::Measured)
        })
    }

    /// A plan running `contiguous` and `masked`, each replaced by the conservative default
    /// (avx2, else scalar) where it cannot run (a `no_avx512` build, valgrind's CPU) or failed
    /// its self-test, with the compiled parallel threshold.
    fn with(contiguous: Kernel, masked: Kernel, source: Source) -> Plan {
        let self_tests = self_test::report().clone();
        let trusted = |kernel: Kernel| {
            [kernel, Kernel::Avx2, Kernel::Scalar]
                .into_iter()
                .find(|&k| k.is_available() && self_test::passed(k))
                .unwrap_or(Kernel::Scalar)
        };
        let (contiguous, masked) = (trusted(contiguous), trusted(masked));
        let parallel_min_ids = if Kernel::Parallel.is_available() {
            PARALLEL_MIN_IDS
        } else {
            usize::MAX
        };
        Plan {
            contiguous,
            masked,
            parallel_min_ids,
            source,
            self_tests,
            pin_error: None,
            contiguous_fn: contiguous.function().unwrap_or(scalar::fingerprint),
            masked_fn: masked
                .masked_function()
                .unwrap_or(scalar::fingerprint_masked),
        }
    }

    /// The single-thread contiguous entry point of this plan.
    #[inline]
    pub fn contiguous_function(&self) -> FingerprintFn {
        self.contiguous_fn
    }

    /// The single-thread masked entry point of this plan.
    #[inline]
    pub fn masked_function(&self) -> MaskedFingerprintFn {
        self.masked_fn
    }

    /// Whether `len` IDs go to rayon under this plan.
    #[inline]
    fn goes_parallel(&self, len: usize) -> bool {
        len >= self.parallel_min_ids
            && parallel::threads() > 1
            && self_test::passed(Kernel::Parallel)
    }

    /// What this plan runs for `len` IDs of the given form, and why.
    pub fn decision_for(&self, len: usize, masked: bool) -> Decision {
        let single = if masked { self.masked } else { self.contiguous };
        if len < SHORT_INPUT_IDS {
            Decision {
                kernel: Kernel::Scalar,
                reason: format!("short input (< {SHORT_INPUT_IDS} IDs): the scalar loop inline"),
            }
        } else if self.goes_parallel(len) {
            Decision {
                kernel: Kernel::Parallel,
                reason: format!(
                    "at least {} IDs and {} rayon threads: chunks of {} IDs over rayon, each by {}",
                    self.parallel_min_ids,
                    parallel::threads(),
                    parallel::CHUNK_IDS,
                    single
                ),
            }
        } else {
            Decision {
                kernel: single,
                reason: format!(
                    "the plan's {} kernel ({})",
                    if masked { "masked" } else { "contiguous" },
                    self.source.short()
                ),
            }
        }
    }
}

/// What the current plan ([`Plan::current`]) runs for `len` IDs of contiguous input, and why:
/// the kernel choice's "why" (`dcsum kernels` prints it).
pub fn decision_for(len: usize) -> Decision {
    Plan::current().decision_for(len, false)
}

/// As [`decision_for`], for masked input.
pub fn masked_decision_for(len: usize) -> Decision {
    Plan::current().decision_for(len, true)
}

/// Times `candidates` and returns the fastest (contiguous, masked); scalar if there are none.
fn measure_fastest(candidates: &[Kernel]) -> (Kernel, Kernel) {
    const SIZES: [usize; 2] = [4 * 1024, 256 * 1024];
    const CALLS: usize = 5;
    let longest = SIZES[SIZES.len() - 1];
    let ids: Vec<[u64; 2]> = (0..longest as u64)
        .map(|i| [self_test::scramble(i), self_test::scramble(!i)])
        .collect();
    let states: Vec<u8> = (0..longest).map(|i| (i % 7) as u8).collect();
    let included = StateSet::DEFAULT_INCLUDED.bits();
    let fastest = |run: &dyn Fn(usize) -> Duration| -> Duration {
        (0..CALLS).map(|_| run(0)).min().unwrap_or(Duration::MAX)
    };
    let mut best = [(Duration::MAX, Kernel::Scalar); 2];
    for &kernel in candidates {
        let (Some(contiguous), Some(masked)) = (kernel.function(), kernel.masked_function()) else {
            continue;
        };
        let mut totals = [Duration::ZERO; 2];
        for &n in &SIZES {
            let (ids, states) = (&ids[..n], &states[..n]);
            totals[0] += fastest(&|_| {
                let start = Instant::now();
                std::hint::black_box(contiguous(std::hint::black_box(ids)));
                start.elapsed()
            });
            totals[1] += fastest(&|_| {
                let start = Instant::now();
                std::hint::black_box(masked(std::hint::black_box(ids), states, included));
                start.elapsed()
            });
        }
        for form in 0..2 {
            if totals[form] < best[form].0 {
                best[form] = (totals[form], kernel);
            }
        }
    }
    (best[0].1, best[1].1)
}

/// The fingerprint of `ids` by the automatic choice.
pub fn fingerprint(ids: &[DispatcherId]) -> Fingerprint {
    let words = DispatcherId::slice_words(ids);
    if words.len() < SHORT_INPUT_IDS {
        return scalar::fingerprint(words).into();
    }
    let plan = Plan::current();
    let raw = if plan.goes_parallel(words.len()) {
        parallel::fingerprint_with(words, plan.contiguous_fn, plan.parallel_min_ids)
    } else {
        (plan.contiguous_fn)(words)
    };
    raw.into()
}

/// The masked fingerprint by the automatic choice; `states` are wire numbers.
///
/// # Panics
/// If the two columns differ in length.
pub fn fingerprint_masked(ids: &[DispatcherId], states: &[u8], included: StateSet) -> Fingerprint {
    let words = DispatcherId::slice_words(ids);
    let raw = if words.len() < SHORT_INPUT_IDS {
        scalar::fingerprint_masked(words, states, included.bits())
    } else {
        let plan = Plan::current();
        parallel::fingerprint_masked_with(
            words,
            states,
            included.bits(),
            plan.masked_fn,
            if plan.goes_parallel(words.len()) {
                plan.parallel_min_ids
            } else {
                usize::MAX
            },
        )
    };
    raw.into()
}

/// The current plan's single-thread contiguous entry point (what the benches call "cached").
#[inline]
pub fn single_thread_function() -> FingerprintFn {
    Plan::current().contiguous_fn
}

/// The current plan's single-thread masked entry point.
#[inline]
pub fn single_thread_masked_function() -> MaskedFingerprintFn {
    Plan::current().masked_fn
}

/// Why an explicit kernel could not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelUnavailable(pub Kernel);

impl std::fmt::Display for KernelUnavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "kernel {} is not available on this CPU/build (see `dcsum kernels`)",
            self.0
        )
    }
}

impl std::error::Error for KernelUnavailable {}

/// The fingerprint of `ids` by an explicit kernel (for benchmarks and comparisons).
pub fn fingerprint_with(
    kernel: Kernel,
    ids: &[DispatcherId],
) -> Result<Fingerprint, KernelUnavailable> {
    kernel
        .fingerprint(DispatcherId::slice_words(ids))
        .map(Fingerprint::from)
        .ok_or(KernelUnavailable(kernel))
}

/// The masked fingerprint by an explicit kernel.
///
/// # Panics
/// If the two columns differ in length.
pub fn fingerprint_masked_with(
    kernel: Kernel,
    ids: &[DispatcherId],
    states: &[u8],
    included: StateSet,
) -> Result<Fingerprint, KernelUnavailable> {
    kernel
        .fingerprint_masked(DispatcherId::slice_words(ids), states, included.bits())
        .map(Fingerprint::from)
        .ok_or(KernelUnavailable(kernel))
}

/// Why a kernel cannot run in this process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unavailability {
    /// The CPU lacks the named instruction-set feature.
    CpuLacks(&'static str),
    /// The CPU has the feature but this build switched the kernel off with the named cargo
    /// feature (`no_avx2`, `no_avx512`).
    DisabledByBuildFeature(&'static str),
    /// The kernel exists only on x86-64.
    NotX86_64,
}

impl std::fmt::Display for Unavailability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unavailability::CpuLacks(feature) => write!(f, "this CPU lacks {feature}"),
            Unavailability::DisabledByBuildFeature(feature) => {
                write!(f, "disabled by the build feature `{feature}`")
            }
            Unavailability::NotX86_64 => f.write_str("only on x86-64"),
        }
    }
}

/// `None` when `kernel` runs here, else why not.
pub fn unavailability(kernel: Kernel) -> Option<Unavailability> {
    if kernel.is_available() {
        return None;
    }
    // The portable kernels are always available, so only the runtime-detected ones get here.
    #[cfg(target_arch = "x86_64")]
    {
        let (features, build_feature): (&[&'static str], &'static str) = match kernel {
            Kernel::Avx512 => (&["avx512f", "avx512bw"], "no_avx512"),
            _ => (&["avx2"], "no_avx2"),
        };
        let missing = features.iter().copied().find(|&feature| match feature {
            "avx512f" => !std::arch::is_x86_feature_detected!("avx512f"),
            "avx512bw" => !std::arch::is_x86_feature_detected!("avx512bw"),
            _ => !std::arch::is_x86_feature_detected!("avx2"),
        });
        Some(match missing {
            Some(feature) => Unavailability::CpuLacks(feature),
            None => Unavailability::DisabledByBuildFeature(build_feature),
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        Some(Unavailability::NotX86_64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_pin_is_refused_with_a_clear_error_and_the_estimate_runs() {
        let plan = Plan::from_pin("avx1024");
        let error = plan.pin_error.clone().expect("refused");
        assert_eq!(error, PinError::UnknownKernel("avx1024".into()));
        assert!(
            error.to_string().contains("expected one of naive, scalar"),
            "{error}"
        );
        let estimate = Plan::estimate();
        assert_eq!(
            (plan.contiguous, plan.masked),
            (estimate.contiguous, estimate.masked)
        );
        for kernel in Kernel::all() {
            if let Some(why) = unavailability(*kernel) {
                let plan = Plan::from_pin(kernel.name());
                assert_eq!(plan.pin_error, Some(PinError::Unavailable(*kernel, why)));
            }
        }
    }

    #[test]
    fn a_pin_runs_the_named_kernel_at_every_length() {
        let plan = Plan::from_pin(" scalar ");
        assert_eq!(
            (plan.contiguous, plan.masked),
            (Kernel::Scalar, Kernel::Scalar)
        );
        assert_eq!(plan.source, Source::Pinned(Kernel::Scalar));
        assert_eq!(plan.parallel_min_ids, usize::MAX);
        assert_eq!(plan.decision_for(1 << 24, true).kernel, Kernel::Scalar);
        if Kernel::Parallel.is_available() {
            assert_eq!(Plan::from_pin("parallel").parallel_min_ids, 0);
        }
        assert_eq!(Plan::from_pin("auto").source, Plan::estimate().source);
    }

    #[test]
    fn without_evidence_the_estimate_never_assumes_wider_is_faster() {
        // Zen 3 and Ice Lake-SP have no evidence: avx2 where it runs, never avx512.
        for (vendor, family, model) in [("AuthenticAMD", 0x19, 0x01), ("GenuineIntel", 6, 0x6a)] {
            let mut bytes = [0u8; 12];
            bytes.copy_from_slice(vendor.as_bytes());
            let cpu = CpuIdentity {
                vendor: bytes,
                family,
                model,
            };
            let plan = Plan::estimate_for(&cpu);
            assert_eq!(plan.source, Source::NoEvidence);
            let expected = if Kernel::Avx2.is_available() && self_test::passed(Kernel::Avx2) {
                Kernel::Avx2
            } else {
                Kernel::Scalar
            };
            assert_eq!(
                (plan.contiguous, plan.masked),
                (expected, expected),
                "{cpu}"
            );
        }
    }

    #[test]
    fn every_plan_runs_only_available_trusted_kernels_and_agrees_with_naive() {
        let ids: Vec<DispatcherId> = (0..3000u64)
            .map(|i| DispatcherId::new(self_test::scramble(i), i))
            .collect();
        let states: Vec<u8> = (0..3000).map(|i| (i % 9) as u8).collect();
        let words = DispatcherId::slice_words(&ids);
        let included = StateSet::DEFAULT_INCLUDED;
        for plan in [
            Plan::estimate(),
            Plan::measure().clone(),
            Plan::current().clone(),
        ] {
            for kernel in [plan.contiguous, plan.masked] {
                assert!(
                    kernel.is_available() && self_test::passed(kernel),
                    "{kernel}"
                );
            }
            assert_eq!(
                plan.contiguous_function()(words),
                dispatcher_checksum_kernels::naive::fingerprint(words)
            );
            assert_eq!(
                plan.masked_function()(words, &states, included.bits()),
                dispatcher_checksum_kernels::naive::fingerprint_masked(
                    words,
                    &states,
                    included.bits()
                )
            );
        }
    }

    #[cfg(not(dcsum_planted_kernel_fault))]
    #[test]
    fn every_runtime_kernel_passes_its_self_test_here() {
        let report = self_test::report();
        let failed: Vec<String> = report.failed().map(|o| format!("{o:?}")).collect();
        assert!(failed.is_empty(), "{failed:?}");
        for kernel in [Kernel::Avx2, Kernel::Avx512] {
            assert_eq!(
                report
                    .outcomes
                    .iter()
                    .any(|o| o.kernel == kernel && !o.keyed),
                kernel.is_available(),
                "{kernel} is tested exactly where it runs"
            );
        }
        assert_eq!(
            self_test::parallel().map(|o| o.result.is_ok()),
            Kernel::Parallel.is_available().then_some(true)
        );
    }

    #[test]
    fn measuring_takes_well_under_100_ms() {
        let _ = self_test::report();
        let start = Instant::now();
        let plan = Plan::measure();
        let took = start.elapsed();
        assert_eq!(plan.source, Source::Measured);
        // Generous for a debug build on a shared machine; the release cost is printed by
        // `dcsum kernels --measure`.
        assert!(took < Duration::from_secs(5), "{took:?}");
    }
}
