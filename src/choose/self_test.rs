//! The known-answer self-test: before the automatic choice first trusts a runtime-detected
//! kernel, the kernel runs once on a fixed input and must agree with the scalar kernel, bit for
//! bit (FIPS 140's power-on self-tests are the model). A kernel that disagrees is never chosen
//! ([`super::Plan`] replaces it by scalar) and `dcsum kernels` names it as failed.
//!
//! The input exercises every kernel's main loop, lane fold and tail: 1061 IDs (sixteen 64-ID
//! blocks and a 37-ID tail; 33 of the AVX2 masked loop's 32-ID blocks and 5 left over), at a
//! whole-ID and a half-ID offset (so the slices are unaligned), contiguous and masked under three
//! included sets (the reference rule, every state, and high states only), with every state byte
//! 0..=255 present. The parallel kernel is tested on its split and merge: 2 chunks and 37 IDs,
//! threshold forced to zero, scalar per chunk. The keyed AES-NI and VAES kernels
//! ([`passed_keyed`]) get the same input under a fixed key, against the keyed scalar kernel.
//!
//! It runs once per process, on first use (`dcsum kernels` prints the measured cost; see
//! `docs/kernels.md`); the parallel kernel's test runs apart, when an input first reaches the
//! parallel threshold ([`parallel()`]).
//!
//! Building with `--cfg dcsum_planted_kernel_fault` plants a wrong answer in the AVX2 and AVX-512
//! masked kernels (see the kernels crate); `tests/kernel_self_test_fault.rs` then shows the
//! choice falling back.

use dispatcher_checksum_kernels::{parallel, scalar, IdWords, Kernel, RawFingerprint};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// One case of the fixed input: contiguous (`None`) or masked with these states and set.
type Case<'a> = Option<(&'a [u8], u64)>;
/// A kernel's two forms as one function of the case.
type Form<'f> = dyn for<'a, 'b> Fn(&'a [IdWords], Case<'b>) -> RawFingerprint + 'f;
/// One kernel's test, run and timed by the recorder.
type Test<'t> = &'t (dyn Fn() -> Result<(), SelfTestFailure> + 't);

/// IDs in the fixed input.
const IDS: usize = 16 * 64 + 37;
/// Included sets the masked forms are tested under.
const INCLUDED: [u64; 3] = [0b100_0111, u64::MAX, 0xffff_0000_0001_0000];

/// One kernel's wrong answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelfTestFailure {
    /// What disagreed: the form, the input and the included set.
    pub case: String,
    /// The kernel's answer.
    pub got: RawFingerprint,
    /// Scalar's answer.
    pub expected: RawFingerprint,
}

impl std::fmt::Display for SelfTestFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: got {:?}, scalar gives {:?}",
            self.case, self.got, self.expected
        )
    }
}

/// One kernel's self-test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelfTestOutcome {
    /// The kernel.
    pub kernel: Kernel,
    /// `true` for the keyed form (AES-NI for avx2, VAES for avx512).
    pub keyed: bool,
    /// `Ok` when it agreed with scalar everywhere.
    pub result: Result<(), SelfTestFailure>,
    /// How long the test took.
    pub took: Duration,
}

/// Every single-thread runtime-detected kernel's self-test on this machine (plain and keyed; the
/// parallel kernel's is [`parallel()`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SelfTestReport {
    /// One entry per single-thread runtime-detected kernel (and keyed form) this CPU and build
    /// run.
    pub outcomes: Vec<SelfTestOutcome>,
    /// The whole self-test's cost, input generation included.
    pub total: Duration,
}

impl SelfTestReport {
    /// The kernels (and forms) that failed.
    pub fn failed(&self) -> impl Iterator<Item = &SelfTestOutcome> {
        self.outcomes
            .iter()
            .filter(|outcome| outcome.result.is_err())
    }
}

/// The single-thread kernels' self-test report, run on the first call and cached for the process.
pub fn report() -> &'static SelfTestReport {
    static REPORT: OnceLock<SelfTestReport> = OnceLock::new();
    REPORT.get_or_init(run)
}

/// Whether `kernel` (plain form) may be trusted: a portable kernel always, a runtime-detected
/// one when it passed (and is available). For `parallel` this runs its test on first use
/// ([`parallel()`]).
pub fn passed(kernel: Kernel) -> bool {
    if kernel == Kernel::Parallel {
        return parallel().is_none_or(|outcome| outcome.result.is_ok());
    }
    passed_form(kernel, false)
}

/// Whether the keyed form of `kernel` may be trusted.
pub fn passed_keyed(kernel: Kernel) -> bool {
    passed_form(kernel, true)
}

fn passed_form(kernel: Kernel, keyed: bool) -> bool {
    report()
        .outcomes
        .iter()
        .find(|outcome| outcome.kernel == kernel && outcome.keyed == keyed)
        .is_none_or(|outcome| outcome.result.is_ok())
}

/// The parallel kernel's self-test (`None` where it cannot run), run on first use and cached.
/// Apart from [`report`] because it is the one that costs: it starts rayon's pool (which the
/// first parallel call would start anyway) and folds 2 chunks; the automatic choice runs it only
/// when an input first reaches the parallel threshold.
pub fn parallel() -> Option<&'static SelfTestOutcome> {
    static OUTCOME: OnceLock<Option<SelfTestOutcome>> = OnceLock::new();
    OUTCOME
        .get_or_init(|| {
            Kernel::Parallel.is_available().then(|| {
                let began = Instant::now();
                let len = 2 * parallel::CHUNK_IDS + 37;
                let (words, states) = input(len);
                let scalar = plain(scalar::fingerprint, scalar::fingerprint_masked);
                let split = |ids: &[IdWords], case: Case<'_>| match case {
                    None => parallel::fingerprint_with(ids, scalar::fingerprint, 0),
                    Some((states, set)) => parallel::fingerprint_masked_with(
                        ids,
                        states,
                        set,
                        scalar::fingerprint_masked,
                        0,
                    ),
                };
                SelfTestOutcome {
                    kernel: Kernel::Parallel,
                    keyed: false,
                    result: compare(&words, &states, len, &[1], &split, &scalar),
                    took: began.elapsed(),
                }
            })
        })
        .as_ref()
}

/// A fixed, well-mixed 64-bit value for `i` (splitmix64's finaliser).
pub(crate) fn scramble(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The fixed input as flat words (one spare word for the half-ID offset) and its states.
fn input(ids: usize) -> (Vec<u64>, Vec<u8>) {
    let words = (0..2 * ids as u64 + 1).map(scramble).collect();
    let states = (0..ids + 1).map(|i| ((i * 37 + 11) % 256) as u8).collect();
    (words, states)
}

/// The IDs of `words` from word `offset`, `len` of them.
fn ids_at(words: &[u64], offset: usize, len: usize) -> &[IdWords] {
    words[offset..offset + 2 * len].as_chunks::<2>().0
}

/// Compares `kernel` with `scalar` on the fixed input: contiguous, then masked under each set.
fn compare(
    words: &[u64],
    states: &[u8],
    len: usize,
    offsets: &[usize],
    kernel: &Form<'_>,
    scalar: &Form<'_>,
) -> Result<(), SelfTestFailure> {
    for &offset in offsets {
        let ids = ids_at(words, offset, len);
        let states = &states[offset..offset + len];
        let cases = std::iter::once(None).chain(INCLUDED.iter().map(|&set| Some((states, set))));
        for case in cases {
            let (got, expected) = (kernel(ids, case), scalar(ids, case));
            if got != expected {
                return Err(SelfTestFailure {
                    case: match case {
                        None => format!("contiguous, {len} IDs at word offset {offset}"),
                        Some((_, set)) => {
                            format!("masked, {len} IDs at word offset {offset}, included {set:#x}")
                        }
                    },
                    got,
                    expected,
                });
            }
        }
    }
    Ok(())
}

fn plain(
    contiguous: fn(&[IdWords]) -> RawFingerprint,
    masked: fn(&[IdWords], &[u8], u64) -> RawFingerprint,
) -> impl Fn(&[IdWords], Case<'_>) -> RawFingerprint {
    move |ids, case| match case {
        None => contiguous(ids),
        Some((states, set)) => masked(ids, states, set),
    }
}

fn run() -> SelfTestReport {
    let start = Instant::now();
    let (words, states) = input(IDS);
    let scalar = plain(scalar::fingerprint, scalar::fingerprint_masked);
    let mut outcomes = Vec::new();
    let mut record =
        |kernel: Kernel, keyed: bool, test: &dyn Fn() -> Result<(), SelfTestFailure>| {
            let began = Instant::now();
            let result = test();
            outcomes.push(SelfTestOutcome {
                kernel,
                keyed,
                result,
                took: began.elapsed(),
            });
        };
    for kernel in [Kernel::Avx2, Kernel::Avx512] {
        if let (Some(contiguous), Some(masked)) = (kernel.function(), kernel.masked_function()) {
            record(kernel, false, &|| {
                compare(
                    &words,
                    &states,
                    IDS,
                    &[0, 1],
                    &plain(contiguous, masked),
                    &scalar,
                )
            });
        }
    }
    #[cfg(feature = "keyed")]
    keyed(&words, &states, &mut record);
    SelfTestReport {
        outcomes,
        total: start.elapsed(),
    }
}

/// The keyed AES-NI (avx2) and VAES (avx512) kernels and the keyed split, against keyed scalar.
#[cfg(feature = "keyed")]
fn keyed(words: &[u64], states: &[u8], record: &mut dyn FnMut(Kernel, bool, Test<'_>)) {
    use dispatcher_checksum_kernels::keyed::{self, KeySchedule};
    let schedule = KeySchedule::new([0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210]);
    let keyed_scalar = |ids: &[IdWords], case: Case<'_>| match case {
        None => keyed::scalar::fingerprint(&schedule, ids),
        Some((states, set)) => keyed::scalar::fingerprint_masked(&schedule, ids, states, set),
    };
    for kernel in [Kernel::Avx2, Kernel::Avx512] {
        if let (Some(contiguous), Some(masked)) =
            (kernel.keyed_function(), kernel.keyed_masked_function())
        {
            let run = |ids: &[IdWords], case: Case<'_>| match case {
                None => contiguous(&schedule, ids),
                Some((states, set)) => masked(&schedule, ids, states, set),
            };
            record(kernel, true, &|| {
                compare(words, states, IDS, &[0, 1], &run, &keyed_scalar)
            });
        }
    }
}
