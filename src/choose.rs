//! The automatic kernel choice: made once per process, cached, with a short-input bypass.
//!
//! Three decisions, each from measurement (the numbers come from `reports/kernels.md`, made by
//! `cargo run --release` (the main job), and are re-checked by `cargo bench --bench kernels`):
//!
//! 1. **Which single-thread kernel.** The widest one the CPU runs ([`Kernel::widest_single_thread`]):
//!    avx512, else avx2, else scalar. Detected on the first call and cached in an `AtomicPtr`
//!    by the kernels crate's `ifunc!` (memchr's `unsafe_ifunc!` shape), so later calls pay one
//!    relaxed load and an indirect call.
//!    `reports/kernels.md` ("Decision 1"): on an AVX-512 Sapphire Rapids core avx512 was the
//!    fastest single-thread kernel (or within noise of it) at every measured size, 1K..16M IDs,
//!    contiguous and masked, 3-4x faster than the others on cache-resident masked input; on an
//!    AVX2-only Zen 1 core avx2 is the fastest masked kernel at every size and within 5% of
//!    scalar contiguous (`docs/performance.md` has both).
//! 2. **Short inputs** of fewer than [`SHORT_INPUT_IDS`] IDs skip the indirect call and run the
//!    scalar loop inline: below a few vectors of work the call and the lane fold cost more than
//!    the data. `reports/kernels.md` ("Decision 2"): the cached avx512 kernel beats the inline
//!    scalar loop at every length from 32 IDs on (masked from 12-16); below 32 the contiguous
//!    scalar loop wins (the avx512 loop takes 16 IDs per step and does the rest one by one).
//! 3. **When rayon pays off.** At [`PARALLEL_MIN_IDS`] IDs and more, with more than one rayon
//!    thread, the parallel kernel runs; below that its fork/join cost makes it lose to one thread
//!    (`reports/kernels.md`, "Decision 3"; the numbers and why 1 Mi are on
//!    `parallel::MIN_PARALLEL_IDS`). With one rayon thread it never runs.

use crate::lifecycle::StateSet;
use crate::{DispatcherId, Fingerprint};
use dispatcher_checksum_kernels::{parallel, scalar, FingerprintFn, Kernel, MaskedFingerprintFn};

/// Below this many IDs the scalar loop runs inline (see the module docs, decision 2: measured
/// crossover 32 IDs in `reports/kernels.md`).
pub const SHORT_INPUT_IDS: usize = 32;

/// From this many IDs on, the parallel kernel runs when rayon has more than one thread (decision
/// 3). It is the kernels crate's own threshold, so `parallel` and the automatic choice agree.
pub const PARALLEL_MIN_IDS: usize = parallel::MIN_PARALLEL_IDS;

/// What the automatic choice would run for an input length, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    /// The kernel.
    pub kernel: Kernel,
    /// Why, in one sentence.
    pub reason: &'static str,
}

/// The kernel the automatic choice runs for `len` IDs on this machine, with the reason.
pub fn explain(len: usize) -> Choice {
    if len < SHORT_INPUT_IDS {
        Choice {
            kernel: Kernel::Scalar,
            reason: "short input: runs the scalar loop inline, no dispatch",
        }
    } else if len >= PARALLEL_MIN_IDS && Kernel::Parallel.is_available() && parallel::threads() > 1
    {
        Choice {
            kernel: Kernel::Parallel,
            reason: "large input and more than one rayon thread: chunks over rayon",
        }
    } else {
        Choice {
            kernel: Kernel::widest_single_thread(),
            reason: if len >= PARALLEL_MIN_IDS {
                "large input but one rayon thread: the widest single-thread kernel"
            } else {
                "below the parallel threshold: the widest single-thread kernel"
            },
        }
    }
}

/// The cached widest single-thread kernel's contiguous entry point (the kernels crate's
/// [`dispatcher_checksum_kernels::widest_function`]: picked on the first call, then one relaxed
/// load).
#[inline]
pub fn single_thread_function() -> FingerprintFn {
    dispatcher_checksum_kernels::widest_function()
}

/// The cached widest single-thread kernel's masked entry point.
#[inline]
pub fn single_thread_masked_function() -> MaskedFingerprintFn {
    dispatcher_checksum_kernels::widest_masked_function()
}

/// The fingerprint of `ids` by the automatic choice.
pub fn fingerprint(ids: &[DispatcherId]) -> Fingerprint {
    let words = DispatcherId::slice_words(ids);
    let raw = if words.len() < SHORT_INPUT_IDS {
        scalar::fingerprint(words)
    } else if words.len() >= PARALLEL_MIN_IDS {
        parallel::fingerprint_with(words, single_thread_function(), PARALLEL_MIN_IDS)
    } else {
        single_thread_function()(words)
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
        parallel::fingerprint_masked_with(
            words,
            states,
            included.bits(),
            single_thread_masked_function(),
            PARALLEL_MIN_IDS,
        )
    };
    raw.into()
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
    let (cpu_feature, build_feature) = match kernel {
        Kernel::Avx512 => ("avx512f", "no_avx512"),
        _ => ("avx2", "no_avx2"),
    };
    #[cfg(target_arch = "x86_64")]
    {
        let cpu_has_it = match kernel {
            Kernel::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            _ => std::arch::is_x86_feature_detected!("avx2"),
        };
        Some(if cpu_has_it {
            Unavailability::DisabledByBuildFeature(build_feature)
        } else {
            Unavailability::CpuLacks(cpu_feature)
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (cpu_feature, build_feature);
        Some(Unavailability::NotX86_64)
    }
}
