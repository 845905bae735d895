//! The equivalence runner: every kernel of the family is checked against an oracle by the same
//! code, so a kernel gets the whole suite from one line in a [`kernel_equivalence_tests!`] table.
//!
//! The runner knows nothing about what a kernel computes: it takes the kernel's two entry points
//! (contiguous and masked) and an oracle's, as closures. The plain family uses `naive` as its
//! oracle; a family with another definition (a keyed fingerprint) passes its own oracle and its own
//! entry points, closing over the key, and reuses everything here unchanged.
//!
//! What is compared:
//! - every length `0..=`[`MAX_SHORT_LEN`] (lane, unroll and tail boundaries of every kernel), at
//!   every start offset in [`WORD_OFFSETS`] (whole-ID and half-ID shifts, so slices start
//!   unaligned), over every [`Pattern`], contiguous and masked under the masks of
//!   [`INCLUDE_MASKS`] (three per input, in rotation: [`mask_indices_for`]), with state bytes
//!   that include values of 7 and above and of 64 and above;
//! - the masked forms' state lookup ([`check_state_lookup`]): every byte value, states of 16 and
//!   of 64 and above, included sets of single states, of high states only (bits 16..63), all,
//!   none and random, at lengths around the masked loops' 16- and 32-ID blocks;
//! - lengths around the parallel chunk size and threshold ([`large_lengths`]);
//! - random slices (proptest, in the macro);
//! - the parallel split at small thresholds and 1, 2 and 4 rayon threads ([`Split`]).
//!
//! The oracle's answers for every prefix of an input come from one pass over it
//! ([`OraclePrefixes`]), so the suite costs the oracle O(n) rather than O(n^2) work: a slow
//! oracle (the keyed one mixes every ID) stays cheap.

// Each test binary that includes this module uses a different part of it.
#![allow(dead_code)]

use dispatcher_checksum_kernels::{parallel, IdWords, Kernel, RawFingerprint};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

/// Says, on the real standard error (not the test harness's captured output, so it shows in
/// every `cargo test` run), that `what` was skipped, naming this CPU and the instruction-set
/// features and build switches that decide which kernels run. A skipped test never passes silently.
pub fn announce_skip(what: &str) {
    use std::io::Write;
    let line = format!(
        "SKIPPED {what}: not available on this CPU/build; CPU: {}; {}",
        cpu_name(),
        feature_summary()
    );
    // Written to the process's stderr handle directly: `eprintln!` would be captured.
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// The CPU's model name, family and model (from `/proc/cpuinfo`), or what is known of it.
pub fn cpu_name() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        info.lines()
            .find(|line| line.split(':').next().map(str::trim) == Some(name))
            .and_then(|line| line.split_once(':'))
            .map(|(_, value)| value.trim().to_string())
    };
    match field("model name") {
        Some(model) => format!(
            "{model} (family {} model {})",
            field("cpu family").unwrap_or_else(|| "?".into()),
            field("model").unwrap_or_else(|| "?".into())
        ),
        None => format!("unknown {} CPU", std::env::consts::ARCH),
    }
}

/// Which of the features the runtime kernels need this CPU has, and which build switches are on.
pub fn feature_summary() -> String {
    #[cfg(target_arch = "x86_64")]
    let cpu = {
        let mut present = Vec::new();
        let mut absent = Vec::new();
        macro_rules! probe {
            ($($feature:tt),+) => {$(
                if std::arch::is_x86_feature_detected!($feature) {
                    present.push($feature);
                } else {
                    absent.push($feature);
                }
            )+};
        }
        probe!("avx2", "aes", "avx512f", "avx512bw", "avx512vbmi", "vaes");
        format!("has [{}], lacks [{}]", present.join(" "), absent.join(" "))
    };
    #[cfg(not(target_arch = "x86_64"))]
    let cpu = String::from("not x86-64: no runtime-detected kernel runs");
    let switches: Vec<&str> = [
        ("no_avx2", cfg!(feature = "no_avx2")),
        ("no_avx512", cfg!(feature = "no_avx512")),
        ("parallel", cfg!(feature = "parallel")),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect();
    format!("{cpu}; build features on: [{}]", switches.join(" "))
}

/// A contiguous entry point, as a shareable closure.
pub type ContiguousFn = Arc<dyn Fn(&[IdWords]) -> RawFingerprint + Send + Sync>;
/// A masked entry point `(ids, states, included)`, as a shareable closure.
pub type MaskedFn = Arc<dyn Fn(&[IdWords], &[u8], u64) -> RawFingerprint + Send + Sync>;

/// One kernel (or oracle) as the runner sees it: a name and its two entry points.
#[derive(Clone)]
pub struct Entry {
    /// Printed in every mismatch.
    pub name: String,
    /// The fingerprint of every ID.
    pub contiguous: ContiguousFn,
    /// The fingerprint of the IDs whose state byte is included.
    pub masked: MaskedFn,
}

impl Entry {
    /// An entry from any two entry points (plain functions or closures over a key).
    pub fn new(
        name: impl Into<String>,
        contiguous: impl Fn(&[IdWords]) -> RawFingerprint + Send + Sync + 'static,
        masked: impl Fn(&[IdWords], &[u8], u64) -> RawFingerprint + Send + Sync + 'static,
    ) -> Entry {
        Entry {
            name: name.into(),
            contiguous: Arc::new(contiguous),
            masked: Arc::new(masked),
        }
    }

    /// The plain family's kernel through the `Kernel` enum (what callers use), or `None` where
    /// this CPU or build cannot run it.
    pub fn from_kernel(kernel: Kernel) -> Option<Entry> {
        Some(Entry::new(
            kernel.name(),
            kernel.function()?,
            kernel.masked_function()?,
        ))
    }

    /// The plain family's oracle.
    pub fn naive() -> Entry {
        Entry::new(
            "naive",
            dispatcher_checksum_kernels::naive::fingerprint,
            dispatcher_checksum_kernels::naive::fingerprint_masked,
        )
    }
}

/// Lengths `0..=MAX_SHORT_LEN` are all tested: past every kernel's lane width times unroll
/// (at most 16 IDs per step) many times over, and past the masked loops' tails.
pub const MAX_SHORT_LEN: usize = 1100;

/// Start offsets in `u64` words: even offsets shift by whole IDs (0..4), odd ones by half an ID,
/// so the slice's first ID is only 8-byte aligned.
pub const WORD_OFFSETS: [usize; 8] = [0, 1, 2, 3, 4, 5, 6, 7];

/// Included-state masks for the masked forms (bit `s` includes state `s`).
pub const INCLUDE_MASKS: [u64; 8] = [
    // The reference node's rule: Working, Stopped, Removed, WaitingMerge.
    0b100_0111,
    // Every named state.
    0b111_1111,
    // Nothing.
    0,
    // Every state below 64: bytes 7..=63 count, 64 and above never do.
    u64::MAX,
    // Only state 63, the last one a mask can name.
    1 << 63,
    // Only state 0.
    1,
    0x5555_5555_5555_5555,
    0xdead_beef_0bad_f00d,
];

/// The value patterns every length is tested over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// Uniform random words (seeded).
    Random,
    /// Every word zero.
    Zeros,
    /// Every word `u64::MAX`.
    AllOnes,
    /// ID `i` is `[i, i + 2^32]`: small structured values.
    Sequential,
    /// Three distinct IDs, repeated in a random order (XOR cancels pairwise).
    Duplicates,
    /// Halves near `u64::MAX` and around `2^63`, so every sum wraps many times.
    WrappingHalves,
}

impl Pattern {
    /// Every pattern.
    pub const ALL: [Pattern; 6] = [
        Pattern::Random,
        Pattern::Zeros,
        Pattern::AllOnes,
        Pattern::Sequential,
        Pattern::Duplicates,
        Pattern::WrappingHalves,
    ];

    /// `id_count` IDs of this pattern as a flat word buffer (`low0 high0 low1 ...`), the same for
    /// the same arguments on every run.
    pub fn words(self, id_count: usize, seed: u64) -> Vec<u64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ self as u64);
        let duplicates: [[u64; 2]; 3] = [rng.random(), rng.random(), rng.random()];
        let mut words = Vec::with_capacity(2 * id_count);
        for i in 0..id_count as u64 {
            let id: [u64; 2] = match self {
                Pattern::Random => rng.random(),
                Pattern::Zeros => [0, 0],
                Pattern::AllOnes => [u64::MAX, u64::MAX],
                Pattern::Sequential => [i, i + (1 << 32)],
                Pattern::Duplicates => duplicates[rng.random_range(0..duplicates.len())],
                Pattern::WrappingHalves => [
                    u64::MAX - rng.random_range(0..1024),
                    (1 << 63) + rng.random_range(0..1u64 << 62),
                ],
            };
            words.extend_from_slice(&id);
        }
        words
    }
}

/// State bytes: half named states (0..7), a quarter 7..64 (includable only by masks that name
/// them), a quarter 64..=255 (never included).
pub fn states(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    (0..len)
        .map(|_| match rng.random_range(0..4u8) {
            0 | 1 => rng.random_range(0..7),
            2 => rng.random_range(7..64),
            _ => rng.random_range(64..=255),
        })
        .collect()
}

/// The IDs of `words` starting at word `word_offset`, `len` of them.
pub fn ids_at(words: &[u64], word_offset: usize, len: usize) -> &[IdWords] {
    let (ids, rest) = words[word_offset..word_offset + 2 * len].as_chunks::<2>();
    debug_assert!(rest.is_empty());
    ids
}

/// Compares `kernel` with `oracle` on one input, contiguous and under each of `masks`.
pub fn compare(
    kernel: &Entry,
    oracle: &Entry,
    ids: &[IdWords],
    states: &[u8],
    masks: &[u64],
    context: &dyn Fn() -> String,
) -> Result<(), String> {
    let expected = (oracle.contiguous)(ids);
    let got = (kernel.contiguous)(ids);
    if got != expected {
        return Err(format!(
            "{} != {} ({}, {} IDs):\n   got {got:?}\nwanted {expected:?}",
            kernel.name,
            oracle.name,
            context(),
            ids.len()
        ));
    }
    for &included in masks {
        compare_masked(kernel, oracle, ids, states, included, context)?;
    }
    Ok(())
}

/// Compares the masked forms of `kernel` and `oracle` on one input and one mask.
pub fn compare_masked(
    kernel: &Entry,
    oracle: &Entry,
    ids: &[IdWords],
    states: &[u8],
    included: u64,
    context: &dyn Fn() -> String,
) -> Result<(), String> {
    let expected = (oracle.masked)(ids, states, included);
    let got = (kernel.masked)(ids, states, included);
    if got != expected {
        return Err(format!(
            "masked {} != {} ({}, {} IDs, included {included:#x}):\n   got {got:?}\nwanted \
             {expected:?}",
            kernel.name,
            oracle.name,
            context(),
            ids.len()
        ));
    }
    Ok(())
}

/// Which masks (indices into [`INCLUDE_MASKS`]) one (length, offset) of
/// [`check_every_short_length`] runs: the reference rule always, and two of the others in
/// rotation. The rotation's period (7) is coprime to every kernel's step (a power of two), so each
/// mask still meets every tail length at every offset.
pub fn mask_indices_for(len: usize, offset: usize) -> [usize; 3] {
    let others = INCLUDE_MASKS.len() - 1;
    let turn = len + offset;
    [0, 1 + turn % others, 1 + (turn + 3) % others]
}

/// The oracle's fingerprints of `ids[..len]` for each of `lengths` (ascending): contiguous, and
/// under each of `masks` (`masked[m][i]` for `masks[m]` and `lengths[i]`).
///
/// Built by merging the oracle's results on the stretches between consecutive lengths, so every
/// prefix costs the oracle O(n) work in all rather than O(n^2). That relies on the fingerprint of
/// a concatenation being the merge of the parts' fingerprints, which holds for every family that
/// aggregates count, XOR and sum; it is checked here against a direct oracle call at the middle
/// length, so a family for which it failed would fail loudly, not pass silently.
pub struct OraclePrefixes {
    /// `contiguous[i]`: the oracle on `ids[..lengths[i]]`.
    pub contiguous: Vec<RawFingerprint>,
    /// `masked[m][i]`: the oracle's masked form under `masks[m]` on `ids[..lengths[i]]`.
    pub masked: Vec<Vec<RawFingerprint>>,
}

impl OraclePrefixes {
    /// See the type's docs.
    pub fn new(
        oracle: &Entry,
        ids: &[IdWords],
        states: &[u8],
        lengths: &[usize],
        masks: &[u64],
    ) -> OraclePrefixes {
        assert!(lengths.is_sorted(), "lengths must ascend");
        let mut contiguous = Vec::with_capacity(lengths.len());
        let mut masked = vec![Vec::with_capacity(lengths.len()); masks.len()];
        let mut running = RawFingerprint::EMPTY;
        let mut running_masked = vec![RawFingerprint::EMPTY; masks.len()];
        let mut done = 0;
        for &len in lengths {
            running = running.merge((oracle.contiguous)(&ids[done..len]));
            contiguous.push(running);
            for (m, &included) in masks.iter().enumerate() {
                let part = (oracle.masked)(&ids[done..len], &states[done..len], included);
                running_masked[m] = running_masked[m].merge(part);
                masked[m].push(running_masked[m]);
            }
            done = len;
        }
        // One direct call, at the middle length (a merge of many stretches, and cheap).
        if let Some(&len) = lengths.get(lengths.len() / 2) {
            let i = lengths.len() / 2;
            assert_eq!(
                (oracle.contiguous)(&ids[..len]),
                contiguous[i],
                "{} on {len} IDs differs from the merge of its parts: the runner's expectations \
                 assume it does not",
                oracle.name
            );
            for (m, &included) in masks.iter().enumerate() {
                assert_eq!(
                    (oracle.masked)(&ids[..len], &states[..len], included),
                    masked[m][i],
                    "masked {} on {len} IDs (included {included:#x}) differs from the merge of \
                     its parts",
                    oracle.name
                );
            }
        }
        OraclePrefixes { contiguous, masked }
    }
}

/// `Err` with both values and the context when `got != expected`.
fn expect_same(
    got: RawFingerprint,
    expected: RawFingerprint,
    describe: impl Fn() -> String,
) -> Result<(), String> {
    if got == expected {
        Ok(())
    } else {
        Err(format!(
            "{}:\n   got {got:?}\nwanted {expected:?}",
            describe()
        ))
    }
}

/// Every length `0..=MAX_SHORT_LEN` at every offset over every pattern, contiguous and masked
/// (three masks per input, see [`mask_indices_for`]).
pub fn check_every_short_length(kernel: &Entry, oracle: &Entry) {
    let max_offset = WORD_OFFSETS[WORD_OFFSETS.len() - 1];
    let lengths: Vec<usize> = (0..=MAX_SHORT_LEN).collect();
    for pattern in Pattern::ALL {
        // One buffer per pattern; every (offset, length) is a window of it.
        let words = pattern.words(MAX_SHORT_LEN + max_offset, 1);
        let all_states = states(MAX_SHORT_LEN + max_offset, 2);
        for offset in WORD_OFFSETS {
            let ids = ids_at(&words, offset, MAX_SHORT_LEN);
            let states = &all_states[offset..offset + MAX_SHORT_LEN];
            let expected = OraclePrefixes::new(oracle, ids, states, &lengths, &INCLUDE_MASKS);
            for len in 0..=MAX_SHORT_LEN {
                let (ids, states) = (&ids[..len], &states[..len]);
                let mut result =
                    expect_same((kernel.contiguous)(ids), expected.contiguous[len], || {
                        format!(
                            "{} != {} (pattern {pattern:?}, word offset {offset}, {len} IDs)",
                            kernel.name, oracle.name
                        )
                    });
                for m in mask_indices_for(len, offset) {
                    let included = INCLUDE_MASKS[m];
                    result = result.and_then(|()| {
                        expect_same(
                            (kernel.masked)(ids, states, included),
                            expected.masked[m][len],
                            || {
                                format!(
                                    "masked {} != {} (pattern {pattern:?}, word offset {offset}, \
                                     {len} IDs, included {included:#x})",
                                    kernel.name, oracle.name
                                )
                            },
                        )
                    });
                }
                if let Err(message) = result {
                    panic!("{message}");
                }
            }
        }
    }
}

/// Lengths around the parallel chunk size, its multiples and the real parallel threshold,
/// ascending.
pub fn large_lengths() -> Vec<usize> {
    let chunk = parallel::CHUNK_IDS;
    let threshold = parallel::MIN_PARALLEL_IDS;
    let mut lengths = Vec::new();
    for base in [chunk, 2 * chunk, 3 * chunk] {
        for delta in [-17isize, -16, -1, 0, 1, 15, 16, 17] {
            lengths.push(
                base.checked_add_signed(delta)
                    .expect("lengths stay positive"),
            );
        }
    }
    lengths.extend([threshold - 1, threshold, threshold + 1]);
    lengths.sort_unstable();
    lengths.dedup();
    lengths
}

/// [`large_lengths`] over the random and wrapping patterns, at a whole-ID and a half-ID offset,
/// contiguous and under two masks (the short lengths cover every mask at every tail).
pub fn check_large_lengths(kernel: &Entry, oracle: &Entry) {
    let lengths = large_lengths();
    let longest = lengths.iter().copied().max().unwrap_or(0);
    let masks = [INCLUDE_MASKS[0], INCLUDE_MASKS[3]];
    for pattern in [Pattern::Random, Pattern::WrappingHalves] {
        let words = pattern.words(longest + 2, 3);
        let all_states = states(longest + 2, 4);
        for offset in [1, 2] {
            let ids = ids_at(&words, offset, longest);
            let states = &all_states[offset..offset + longest];
            let expected = OraclePrefixes::new(oracle, ids, states, &lengths, &masks);
            for (i, &len) in lengths.iter().enumerate() {
                let (ids, states) = (&ids[..len], &states[..len]);
                let context = |what: &str| {
                    format!(
                        "{what}{} != {} (pattern {pattern:?}, word offset {offset}, {len} IDs)",
                        kernel.name, oracle.name
                    )
                };
                let mut result =
                    expect_same((kernel.contiguous)(ids), expected.contiguous[i], || {
                        context("")
                    });
                for (m, &included) in masks.iter().enumerate() {
                    result = result.and_then(|()| {
                        expect_same(
                            (kernel.masked)(ids, states, included),
                            expected.masked[m][i],
                            || context(&format!("included {included:#x}: masked ")),
                        )
                    });
                }
                if let Err(message) = result {
                    panic!("{message}");
                }
            }
        }
    }
}

/// State columns of [`check_state_lookup`]: what a vector lookup of the included set could get
/// wrong (the nibble split at 16, the cut at 64, the sign bit at 128).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateColumn {
    /// State `i` is `(i * 37 + 11) % 256`: every byte value within 256 IDs, in no tidy order.
    EveryByte,
    /// Uniform in `0..64`: under `u64::MAX` every ID counts.
    BelowSixtyFour,
    /// Uniform in `16..=255`: nothing from the low nibble table alone.
    SixteenAndAbove,
    /// Uniform in `64..=255`: no mask includes any ID.
    SixtyFourAndAbove,
}

impl StateColumn {
    /// Every column.
    pub const ALL: [StateColumn; 4] = [
        StateColumn::EveryByte,
        StateColumn::BelowSixtyFour,
        StateColumn::SixteenAndAbove,
        StateColumn::SixtyFourAndAbove,
    ];

    /// `len` state bytes of this column, the same on every run.
    pub fn states(self, len: usize, seed: u64) -> Vec<u8> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (self as u64).wrapping_mul(0x9e37));
        (0..len)
            .map(|i| match self {
                StateColumn::EveryByte => ((i * 37 + 11) % 256) as u8,
                StateColumn::BelowSixtyFour => rng.random_range(0..64),
                StateColumn::SixteenAndAbove => rng.random_range(16..=255),
                StateColumn::SixtyFourAndAbove => rng.random_range(64..=255),
            })
            .collect()
    }
}

/// The included sets of [`check_state_lookup`]: every single state, sets of only high states
/// (bits 16..63), all, none, and random sets.
pub fn lookup_masks() -> Vec<u64> {
    let mut masks: Vec<u64> = (0..64).map(|bit| 1u64 << bit).collect();
    masks.extend([
        0,
        u64::MAX,
        0xffff_ffff_ffff_0000,
        0x0000_0000_ffff_0000,
        0x0000_ffff_0000_0000,
        0xffff_0000_0000_0000,
        0x8000_8000_8000_8000,
        0x0001_0001_0001_0001,
        !0x8000_8000_8000_8000,
    ]);
    let mut rng = ChaCha8Rng::seed_from_u64(0x10_0c_0b);
    masks.extend((0..32).map(|_| rng.random::<u64>()));
    masks
}

/// Lengths of [`check_state_lookup`]: around every block size a masked kernel uses (16, 32 and
/// 64 IDs, and their multiples up to 320), and a few odd ones.
pub fn lookup_lengths() -> Vec<usize> {
    let mut lengths: Vec<usize> = (0..=20)
        .flat_map(|blocks: usize| {
            let base = 16 * blocks;
            [base.saturating_sub(1), base, base + 1]
        })
        .collect();
    lengths.extend([7, 100, 255, 256, 257, 300]);
    lengths.sort_unstable();
    lengths.dedup();
    lengths
}

/// The masked form against the oracle for every [`StateColumn`], every set of
/// [`lookup_masks`] and every length of [`lookup_lengths`], at a whole-ID and two half-ID
/// offsets. Also checks that the oracle counts every ID under `u64::MAX` below 64 and none at 64
/// and above, so the comparisons are not all of empty fingerprints.
pub fn check_state_lookup(kernel: &Entry, oracle: &Entry) {
    let lengths = lookup_lengths();
    let longest = lengths.iter().copied().max().unwrap_or(0);
    let masks = lookup_masks();
    let words = Pattern::Random.words(longest + 4, 20);
    for column in StateColumn::ALL {
        let all_states = column.states(longest + 4, 21);
        for offset in [0, 1, 3] {
            let ids = ids_at(&words, offset, longest);
            let states = &all_states[offset..offset + longest];
            for &len in &lengths {
                let (ids, states) = (&ids[..len], &states[..len]);
                if column == StateColumn::BelowSixtyFour {
                    assert_eq!((oracle.masked)(ids, states, u64::MAX).count, len as u64);
                }
                if column == StateColumn::SixtyFourAndAbove {
                    assert_eq!(
                        (oracle.masked)(ids, states, u64::MAX),
                        RawFingerprint::EMPTY
                    );
                }
                for &included in &masks {
                    let context =
                        || format!("state column {column:?}, word offset {offset}, lookup test");
                    if let Err(message) =
                        compare_masked(kernel, oracle, ids, states, included, &context)
                    {
                        panic!("{message}");
                    }
                }
            }
        }
    }
}

/// Whether a masked kernel panics when the columns differ in length (the documented
/// precondition), rather than reading past one of them.
pub fn check_rejects_mismatched_columns(kernel: &Entry) {
    let words = Pattern::Random.words(40, 5);
    let ids = ids_at(&words, 0, 40);
    for (id_count, state_count) in [(40, 39), (39, 40), (0, 1), (17, 0)] {
        let states = vec![0u8; state_count];
        let masked = kernel.masked.clone();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            masked(&ids[..id_count], &states, u64::MAX)
        }));
        assert!(
            outcome.is_err(),
            "masked {} accepted {id_count} IDs with {state_count} states",
            kernel.name
        );
    }
}

/// Runs `work` inside a fresh rayon pool of `threads` threads.
pub fn with_threads<R: Send>(threads: usize, work: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("building a rayon pool")
        .install(work)
}

/// The rayon thread counts the parallel forms must agree across.
pub const THREAD_COUNTS: [usize; 3] = [1, 2, 4];

/// A contiguous parallel split `(ids, min_parallel)`.
pub type SplitFn = Arc<dyn Fn(&[IdWords], usize) -> RawFingerprint + Send + Sync>;
/// A masked parallel split `(ids, states, included, min_parallel)`.
pub type MaskedSplitFn = Arc<dyn Fn(&[IdWords], &[u8], u64, usize) -> RawFingerprint + Send + Sync>;

/// A parallel split with an explicit threshold: `(ids, min_parallel)` and
/// `(ids, states, included, min_parallel)`, chunking by `chunk_ids`.
#[derive(Clone)]
pub struct Split {
    /// Printed in every mismatch.
    pub name: String,
    /// IDs per rayon task.
    pub chunk_ids: usize,
    /// The contiguous split.
    pub contiguous: SplitFn,
    /// The masked split.
    pub masked: MaskedSplitFn,
}

impl Split {
    /// The plain family's split with `chunk_kernel` run per chunk.
    pub fn plain(chunk_kernel: Kernel) -> Option<Split> {
        let contiguous = chunk_kernel.function()?;
        let masked = chunk_kernel.masked_function()?;
        Some(Split {
            name: format!("parallel over {chunk_kernel}"),
            chunk_ids: parallel::CHUNK_IDS,
            contiguous: Arc::new(move |ids, min_parallel| {
                parallel::fingerprint_with(ids, contiguous, min_parallel)
            }),
            masked: Arc::new(move |ids, states, included, min_parallel| {
                parallel::fingerprint_masked_with(ids, states, included, masked, min_parallel)
            }),
        })
    }
}

/// The split against the oracle with 1, 2 and 4 rayon threads, at lengths around every chunk
/// boundary up to three chunks, with thresholds that force the split (1), sit on a chunk
/// boundary, and sit just above the input (no split).
pub fn check_split_thread_counts(split: &Split, oracle: &Entry) {
    let chunk = split.chunk_ids;
    let mut lengths = vec![0, 1, 2, chunk / 2 + 3];
    for base in [chunk, 2 * chunk, 3 * chunk] {
        lengths.extend([base - 1, base, base + 1, base + 9]);
    }
    let longest = lengths.iter().copied().max().unwrap_or(0);
    for pattern in [
        Pattern::Random,
        Pattern::WrappingHalves,
        Pattern::Duplicates,
    ] {
        let words = pattern.words(longest + 1, 6);
        let all_states = states(longest + 1, 7);
        for offset in [0, 1] {
            for &len in &lengths {
                let ids = ids_at(&words, offset, len);
                let states = &all_states[offset..offset + len];
                let expected = (oracle.contiguous)(ids);
                let expected_masked = (oracle.masked)(ids, states, INCLUDE_MASKS[0]);
                for min_parallel in [1, chunk, len + 1] {
                    for threads in THREAD_COUNTS {
                        let (got, got_masked) = with_threads(threads, || {
                            (
                                (split.contiguous)(ids, min_parallel),
                                (split.masked)(ids, states, INCLUDE_MASKS[0], min_parallel),
                            )
                        });
                        let context = format!(
                            "pattern {pattern:?}, word offset {offset}, {len} IDs, min_parallel \
                             {min_parallel}, {threads} rayon threads"
                        );
                        assert_eq!(
                            got, expected,
                            "{} != {} ({context})",
                            split.name, oracle.name
                        );
                        assert_eq!(
                            got_masked, expected_masked,
                            "masked {} != {} ({context})",
                            split.name, oracle.name
                        );
                    }
                }
            }
        }
    }
}

/// A kernel (typically the parallel one, at its real threshold) gives the oracle's result with
/// 1, 2 and 4 rayon threads at lengths around the real threshold.
pub fn check_thread_counts_at_real_threshold(kernel: &Entry, oracle: &Entry) {
    let threshold = parallel::MIN_PARALLEL_IDS;
    let lengths = [
        threshold - 1,
        threshold,
        threshold + 2 * parallel::CHUNK_IDS + 3,
    ];
    let longest = lengths.iter().copied().max().unwrap_or(0);
    let words = Pattern::Random.words(longest + 1, 8);
    let all_states = states(longest + 1, 9);
    for len in lengths {
        let ids = ids_at(&words, 1, len);
        let states = &all_states[1..1 + len];
        let expected = (oracle.contiguous)(ids);
        let expected_masked = (oracle.masked)(ids, states, INCLUDE_MASKS[0]);
        for threads in THREAD_COUNTS {
            let (got, got_masked) = with_threads(threads, || {
                (
                    (kernel.contiguous)(ids),
                    (kernel.masked)(ids, states, INCLUDE_MASKS[0]),
                )
            });
            assert_eq!(
                got, expected,
                "{} != {} ({len} IDs, {threads} rayon threads)",
                kernel.name, oracle.name
            );
            assert_eq!(
                got_masked, expected_masked,
                "masked {} != {} ({len} IDs, {threads} rayon threads)",
                kernel.name, oracle.name
            );
        }
    }
}

/// Stamps the whole suite for each kernel of a table: one module per kernel, named as in the
/// table, with every-length, large-length, column-check and proptest tests, plus
/// `TESTED_KERNELS`, the table's names. An entry that evaluates to `None` (the CPU or the build
/// cannot run it) makes its tests print that they were skipped and pass.
///
/// ```ignore
/// kernel_equivalence_tests! {
///     oracle: Entry::naive(),
///     kernels: {
///         scalar => Entry::from_kernel(Kernel::Scalar),
///         keyed_scalar => Some(Entry::new("keyed scalar", |ids| .., |ids, states, included| ..)),
///     }
/// }
/// ```
macro_rules! kernel_equivalence_tests {
    (
        oracle: $oracle:expr,
        kernels: { $($name:ident => $entry:expr),+ $(,)? } $(,)?
    ) => {
        /// The names of the kernels this table tests.
        pub const TESTED_KERNELS: &[&str] = &[$(stringify!($name)),+];

        $(
            #[allow(unused_imports)]
            mod $name {
                use super::*;
                use proptest::prelude::*;
                use $crate::common::{self, Entry};

                fn oracle() -> Entry {
                    $oracle
                }

                /// The kernel, or `None` after saying why its tests are skipped.
                fn kernel() -> Option<Entry> {
                    let entry: Option<Entry> = $entry;
                    // One line per kernel and test binary, however many of its tests skip.
                    static ANNOUNCED: std::sync::Once = std::sync::Once::new();
                    if entry.is_none() {
                        ANNOUNCED.call_once(|| {
                            common::announce_skip(&format!(
                                "the equivalence suite of kernel {} ({})",
                                stringify!($name),
                                module_path!(),
                            ))
                        });
                    }
                    entry
                }

                #[test]
                fn every_short_length_offset_pattern_and_mask() {
                    if let Some(kernel) = kernel() {
                        common::check_every_short_length(&kernel, &oracle());
                    }
                }

                #[test]
                fn lengths_around_chunk_and_threshold() {
                    if let Some(kernel) = kernel() {
                        common::check_large_lengths(&kernel, &oracle());
                    }
                }

                #[test]
                fn masked_state_lookup_every_byte_high_bits_all_and_none() {
                    if let Some(kernel) = kernel() {
                        common::check_state_lookup(&kernel, &oracle());
                    }
                }

                #[test]
                fn masked_rejects_mismatched_columns() {
                    if let Some(kernel) = kernel() {
                        common::check_rejects_mismatched_columns(&kernel);
                    }
                }

                proptest! {
                    #![proptest_config(ProptestConfig::with_cases(128))]

                    #[test]
                    fn random_slices_match_oracle(
                        words in proptest::collection::vec(any::<u64>(), 0..1200),
                        state_bytes in proptest::collection::vec(any::<u8>(), 600),
                        included in any::<u64>(),
                        skip in 0usize..8,
                    ) {
                        if let Some(kernel) = kernel() {
                            let oracle = oracle();
                            let (ids, _) = words.as_chunks::<2>();
                            let ids = &ids[skip.min(ids.len())..];
                            let states = &state_bytes[..ids.len()];
                            let context = || String::from("proptest");
                            let masks = common::INCLUDE_MASKS;
                            let result = common::compare(
                                &kernel, &oracle, ids, states, &masks, &context,
                            )
                                .and_then(|()| {
                                    common::compare_masked(
                                        &kernel, &oracle, ids, states, included, &context,
                                    )
                                });
                            prop_assert!(result.is_ok(), "{}", result.unwrap_err());
                        }
                    }
                }
            }
        )+
    };
}

pub(crate) use kernel_equivalence_tests;

/// Stamps the thread-count tests for a parallel split: one module named `$name` whose tests
/// check the split against the oracle with 1, 2 and 4 rayon threads. An entry that evaluates to
/// `None` is skipped with a message.
macro_rules! split_thread_count_tests {
    (
        oracle: $oracle:expr,
        splits: { $($name:ident => $split:expr),+ $(,)? } $(,)?
    ) => {
        $(
            #[allow(unused_imports)]
            mod $name {
                use super::*;
                use $crate::common::{self, Entry, Split};

                #[test]
                fn same_result_with_1_2_and_4_threads() {
                    let split: Option<Split> = $split;
                    match split {
                        Some(split) => common::check_split_thread_counts(&split, &$oracle),
                        None => common::announce_skip(&format!(
                            "split {} ({})",
                            stringify!($name),
                            module_path!()
                        )),
                    }
                }
            }
        )+
    };
}

pub(crate) use split_thread_count_tests;
