//! The headline comparison the main job runs: what one heartbeat's verification costs a node
//! holding N dispatchers under each strategy, what the kernels achieve against the memory-read
//! ceiling, and the evidence behind the automatic choice's thresholds.
//!
//! Every measurement goes through the public API users call ([`crate::store`], [`crate::choose`],
//! the kernels, [`crate::protocol::DispatcherSetVerifier`]), and every measured routine's answer
//! is checked against the naive oracle once, outside the timed region, before it is timed.

use super::aligned::{AlignedBytes, AlignedIds};
use super::ceiling;
use super::churn::{Churn, ChurnTarget, ColumnarRecompute, Incremental, MapRecompute};
use super::machine::MachineInfo;
use super::measure::{format_count, measure, measure_interleaved, MeasureConfig, Measurement};
use crate::kernels::{naive, parallel, scalar, IdWords, RawFingerprint};
use crate::lifecycle::{ComponentState, StateSet};
use crate::protocol::verifier::{ActualSet, DispatcherSetVerifier, VerifierConfig};
use crate::protocol::{ChecksumState, Mode};
use crate::store::{
    synthetic_dispatchers, synthetic_state, AhashDispatcherStore, ColumnarStore, Dispatcher,
    IdStream, StdDispatcherStore,
};
use crate::{choose, DispatcherId, Fingerprint, Kernel};
use serde::Serialize;
use std::hint::black_box;
use std::time::Duration;

/// What to measure.
#[derive(Clone, Debug, PartialEq)]
pub struct HeadlineConfig {
    /// Dispatchers per node for the per-heartbeat comparison.
    pub heartbeat_sizes: Vec<usize>,
    /// IDs per kernel call for the kernel throughput comparison.
    pub kernel_sizes: Vec<usize>,
    /// Dispatchers per node for the churn loop.
    pub churn_size: usize,
    /// Lifecycle changes per heartbeat interval in the churn loop.
    pub churn_changes: Vec<usize>,
    /// Lengths at which the short-input bypass is weighed against the cached kernel.
    pub short_input_sizes: Vec<usize>,
    /// Lengths at which the parallel kernel is weighed against one thread.
    pub parallel_sizes: Vec<usize>,
    /// Timing settings.
    pub measure: MeasureConfig,
    /// `default` or `quick`, for the report's header.
    pub profile: &'static str,
}

impl HeadlineConfig {
    /// The default run: up to 10M dispatchers, about two minutes on a 2-core machine.
    pub fn default_run() -> HeadlineConfig {
        HeadlineConfig {
            heartbeat_sizes: vec![10_000, 100_000, 1_000_000, 10_000_000],
            kernel_sizes: vec![1_000, 16_000, 256_000, 1_000_000, 4_000_000, 16_000_000],
            churn_size: 1_000_000,
            churn_changes: vec![0, 100, 10_000],
            short_input_sizes: vec![1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 128],
            parallel_sizes: (14..=24).map(|shift| 1usize << shift).collect(),
            measure: MeasureConfig::DEFAULT,
            profile: "default",
        }
    }

    /// `--quick`: up to 1M dispatchers, fewer sizes, shorter batches; under 30 s.
    pub fn quick() -> HeadlineConfig {
        HeadlineConfig {
            heartbeat_sizes: vec![10_000, 100_000, 1_000_000],
            kernel_sizes: vec![1_000, 256_000, 4_000_000],
            churn_size: 100_000,
            churn_changes: vec![0, 100, 10_000],
            short_input_sizes: vec![1, 4, 8, 16, 32, 64],
            parallel_sizes: vec![1 << 15, 1 << 17, 1 << 19, 1 << 21],
            measure: MeasureConfig::QUICK,
            profile: "quick",
        }
    }

    /// How many progress steps [`run`] reports, for a progress bar's length.
    pub fn step_count(&self) -> u64 {
        let kernels = Kernel::all().iter().filter(|k| k.is_available()).count() + 3;
        (self.heartbeat_sizes.len() * 6
            + self.churn_changes.len() * 3
            + self.kernel_sizes.len() * 2 * kernels
            + self.short_input_sizes.len() * 2
            + self.parallel_sizes.len() * 4) as u64
    }
}

/// One N of the per-heartbeat comparison.
#[derive(Clone, Debug, Serialize)]
pub struct HeartbeatRow {
    /// Dispatchers on the node.
    pub dispatchers: usize,
    /// Walk the hash-map store, std SipHash map.
    pub recompute_std: Measurement,
    /// Walk the hash-map store, ahash map.
    pub recompute_ahash: Measurement,
    /// The widest single-thread masked kernel over the columnar store.
    pub columnar_single_thread: Measurement,
    /// The parallel masked kernel over the columnar store.
    pub columnar_parallel: Measurement,
    /// The automatic choice over the columnar store (what [`ColumnarStore::fingerprint`] runs).
    pub columnar_auto: Measurement,
    /// The incremental verifier's `verify`.
    pub incremental_verify: Measurement,
}

impl HeartbeatRow {
    /// The faster of the two hash-map walks.
    pub fn recompute_map_best(&self) -> f64 {
        self.recompute_std.median.min(self.recompute_ahash.median)
    }

    /// The fastest columnar recompute.
    pub fn columnar_best(&self) -> f64 {
        self.columnar_single_thread
            .median
            .min(self.columnar_parallel.median)
            .min(self.columnar_auto.median)
    }
}

/// One (N, C) point of the churn loop: apply C lifecycle changes, then verify.
#[derive(Clone, Debug, Serialize)]
pub struct ChurnRow {
    /// Dispatchers on the node.
    pub dispatchers: usize,
    /// Lifecycle changes per heartbeat interval.
    pub changes: usize,
    /// Changes applied to the ahash dispatcher store, then a walk.
    pub recompute_map: Measurement,
    /// Changes applied to the store and the columnar store, then the automatic masked kernel.
    pub recompute_columnar: Measurement,
    /// Changes applied to the store and the incremental actual set, then `verify`.
    pub incremental: Measurement,
}

/// One kernel at one size.
#[derive(Clone, Debug, Serialize)]
pub struct KernelRow {
    /// `contiguous` or `masked`.
    pub form: &'static str,
    /// IDs per call.
    pub ids: usize,
    /// Kernel name, `auto` for the automatic choice, `ceiling-1t` / `ceiling-all` for the reads.
    pub kernel: String,
    /// Bytes read per call (16 per ID, plus 1 per ID for the state byte when masked).
    pub bytes: usize,
    /// Per-call timing.
    pub time: Measurement,
    /// GB/s (10^9 bytes per second) at the median.
    pub gigabytes_per_second: f64,
    /// Throughput over the single-thread read ceiling's at this size and form.
    pub of_single_thread_ceiling: f64,
    /// Throughput over the all-threads read ceiling's at this size and form.
    pub of_all_threads_ceiling: f64,
}

/// The short-input bypass against the cached kernel at one length.
#[derive(Clone, Debug, Serialize)]
pub struct ShortInputRow {
    /// IDs per call.
    pub ids: usize,
    /// The scalar loop called directly (the bypass).
    pub inline_scalar: Measurement,
    /// The cached widest kernel through its function pointer.
    pub cached_widest: Measurement,
    /// The same two, masked.
    pub inline_scalar_masked: Measurement,
    /// The cached widest masked kernel.
    pub cached_widest_masked: Measurement,
}

/// One thread against rayon at one length.
#[derive(Clone, Debug, Serialize)]
pub struct ParallelRow {
    /// IDs per call.
    pub ids: usize,
    /// The widest single-thread kernel.
    pub single_thread: Measurement,
    /// The parallel kernel with its threshold forced to zero.
    pub forced_parallel: Measurement,
    /// The same two, masked.
    pub single_thread_masked: Measurement,
    /// The parallel masked kernel with its threshold forced to zero.
    pub forced_parallel_masked: Measurement,
}

/// At one size and form: the automatic choice against the fastest kernel measured there.
#[derive(Clone, Debug, Serialize)]
pub struct ChoiceCheck {
    /// `contiguous` or `masked`.
    pub form: &'static str,
    /// IDs per call.
    pub ids: usize,
    /// What the automatic choice runs at this length.
    pub chosen: String,
    /// The fastest kernel measured.
    pub fastest: String,
    /// The automatic choice's fastest batch over the fastest kernel's (1.0 = as fast). Decisions
    /// compare fastest batches: on a shared machine noise only ever adds time, so the fastest of
    /// several interleaved batches is the closest estimate of the undisturbed cost.
    pub ratio: f64,
    /// Whether the ratio is within the 5% target.
    pub within_target: bool,
}

/// What the measurements say the thresholds should be.
#[derive(Clone, Debug, Serialize)]
pub struct Thresholds {
    /// Smallest length from which the cached widest kernel beats the inline scalar loop at every
    /// measured length (contiguous and masked).
    pub short_input_ids: Option<usize>,
    /// Smallest length from which forced-parallel beats one thread at every measured length
    /// (contiguous and masked); `None` when it never does (one thread, or too small a range).
    pub parallel_min_ids: Option<usize>,
    /// The fastest single-thread kernel at each kernel size and form, `form/size: kernel`.
    pub fastest_single_thread: Vec<String>,
    /// The thresholds compiled into this binary, for comparison.
    pub compiled_short_input_ids: usize,
    /// The parallel threshold compiled into this binary.
    pub compiled_parallel_min_ids: usize,
    /// What the automatic choice's single-thread kernel is on this CPU.
    pub widest_single_thread: String,
}

/// Everything one run measured.
#[derive(Clone, Debug, Serialize)]
pub struct HeadlineResults {
    /// `default`, `quick` or `custom`.
    pub profile: &'static str,
    /// The machine.
    pub machine: MachineInfo,
    /// The read ceiling's instruction set.
    pub ceiling_width: &'static str,
    /// Per-heartbeat cost at each N.
    pub heartbeat: Vec<HeartbeatRow>,
    /// The churn loop.
    pub churn: Vec<ChurnRow>,
    /// Kernel throughput at each size.
    pub kernels: Vec<KernelRow>,
    /// The short-input evidence.
    pub short_input: Vec<ShortInputRow>,
    /// The parallel-threshold evidence.
    pub parallel: Vec<ParallelRow>,
    /// The automatic choice against the fastest kernel.
    pub choice: Vec<ChoiceCheck>,
    /// The recommended thresholds.
    pub thresholds: Thresholds,
    /// Seconds the whole run took.
    pub elapsed_seconds: f64,
}

/// Reports progress: called once per finished measurement with what it was.
pub type ProgressFn<'a> = &'a mut dyn FnMut(&str);

/// The included-state rule every measurement uses: the reference node's.
const INCLUDED: StateSet = StateSet::DEFAULT_INCLUDED;

/// Runs everything in `config`. Panics only if a strategy disagrees with the oracle, which is a
/// bug in the library, never a property of the machine.
pub fn run(config: &HeadlineConfig, progress: ProgressFn<'_>) -> HeadlineResults {
    let start = std::time::Instant::now();
    let machine = MachineInfo::collect();
    let heartbeat = config
        .heartbeat_sizes
        .iter()
        .map(|&n| heartbeat_row(n, &config.measure, progress))
        .collect();
    let churn = churn_rows(config, progress);
    let kernels = kernel_rows(config, progress);
    let short_input = short_input_rows(config, progress);
    let parallel = parallel_rows(config, progress);
    let choice = choice_checks(&kernels);
    let thresholds = thresholds(&kernels, &short_input, &parallel);
    HeadlineResults {
        profile: config.profile,
        machine,
        ceiling_width: ceiling::width(),
        heartbeat,
        churn,
        kernels,
        short_input,
        parallel,
        choice,
        thresholds,
        elapsed_seconds: start.elapsed().as_secs_f64(),
    }
}

/// The naive oracle over `(id, state)` pairs.
pub fn oracle<'a>(
    entries: impl Iterator<Item = (&'a DispatcherId, ComponentState)>,
) -> Fingerprint {
    let included: Vec<IdWords> = entries
        .filter(|(_, state)| INCLUDED.contains(*state))
        .map(|(id, _)| id.words())
        .collect();
    naive::fingerprint(&included).into()
}

#[track_caller]
fn check(what: &str, got: Fingerprint, expected: Fingerprint) {
    assert_eq!(
        got, expected,
        "{what} disagrees with the naive oracle: a library bug"
    );
}

fn heartbeat_row(n: usize, config: &MeasureConfig, progress: ProgressFn<'_>) -> HeartbeatRow {
    let label = format_count(n);
    let dispatchers: Vec<Dispatcher> = synthetic_dispatchers(n, 1).collect();
    let expected = oracle(dispatchers.iter().map(|d| (&d.id, d.state)));

    // The two maps are walked interleaved (see `measure_interleaved`), and so are the three
    // columnar variants: the comparisons within each group are what the report draws.
    let (recompute_std, recompute_ahash) = {
        let std_store: StdDispatcherStore = dispatchers.iter().cloned().collect();
        let ahash_store: AhashDispatcherStore = dispatchers.iter().cloned().collect();
        check(
            "std map recompute",
            std_store.recompute_fingerprint(INCLUDED),
            expected,
        );
        check(
            "ahash map recompute",
            ahash_store.recompute_fingerprint(INCLUDED),
            expected,
        );
        let timed = measure_interleaved(
            config,
            &mut [
                &mut || sink(std_store.recompute_fingerprint(INCLUDED)),
                &mut || sink(ahash_store.recompute_fingerprint(INCLUDED)),
            ],
        );
        progress(&format!("heartbeat {label}: recompute, std hash map"));
        progress(&format!("heartbeat {label}: recompute, ahash map"));
        (timed[0], timed[1])
    };

    let columnar: ColumnarStore = dispatchers.iter().map(|d| (d.id, d.state)).collect();
    let widest = Kernel::widest_single_thread();
    let run = |kernel: Option<Kernel>| match kernel {
        Some(kernel) => columnar
            .fingerprint_with(kernel, INCLUDED)
            .expect("only available kernels are measured"),
        None => columnar.fingerprint(INCLUDED),
    };
    let variants = [
        (Some(widest), "columnar, single thread"),
        (Some(Kernel::Parallel), "columnar, parallel"),
        (None, "columnar, automatic choice"),
    ];
    for (kernel, what) in variants {
        check(what, run(kernel), expected);
    }
    let timed = measure_interleaved(
        config,
        &mut [
            &mut || sink(run(variants[0].0)),
            &mut || sink(run(variants[1].0)),
            &mut || sink(run(variants[2].0)),
        ],
    );
    for (_, what) in variants {
        progress(&format!("heartbeat {label}: {what}"));
    }
    let (columnar_single_thread, columnar_parallel, columnar_auto) = (timed[0], timed[1], timed[2]);
    drop(columnar);

    let incremental_verify = {
        let mut verifier = DispatcherSetVerifier::new(Mode::Default, VerifierConfig::REFERENCE);
        let actual = verifier.actual_set_mut();
        for d in &dispatchers {
            actual.on_dispatcher_added(d.id, d.state);
        }
        check(
            "incremental actual set",
            verifier.actual_set().actual_fingerprint(),
            expected,
        );
        verifier.apply_update(1, 1, expected);
        let now = Duration::from_secs(1);
        assert_eq!(verifier.verify(now).state, ChecksumState::Match);
        let m = measure(config, || verifier.verify(now));
        assert_eq!(verifier.verify(now).state, ChecksumState::Match);
        progress(&format!("heartbeat {label}: incremental verify"));
        m
    };

    HeartbeatRow {
        dispatchers: n,
        recompute_std,
        recompute_ahash,
        columnar_single_thread,
        columnar_parallel,
        columnar_auto,
        incremental_verify,
    }
}

fn churn_rows(config: &HeadlineConfig, progress: ProgressFn<'_>) -> Vec<ChurnRow> {
    let n = config.churn_size;
    let dispatchers: Vec<Dispatcher> = synthetic_dispatchers(n, 2).collect();
    let long_lived: Vec<DispatcherId> = dispatchers
        .iter()
        .filter(|d| d.state == ComponentState::Working)
        .map(|d| d.id)
        .take(1 << 16)
        .collect();
    let store: AhashDispatcherStore = dispatchers.iter().cloned().collect();
    drop(dispatchers);
    let mut rows = Vec::new();
    for &changes in &config.churn_changes {
        let mut churn_measure = |target: &mut dyn ChurnTarget, what: &str| {
            let mut churn = Churn::new(changes, long_lived.clone(), target);
            for _ in 0..2 {
                let got = churn.interval(target);
                check(&format!("churn, {what}"), got, store_oracle(target.store()));
            }
            let m = measure(&config.measure, || churn.interval(target));
            let got = churn.interval(target);
            check(&format!("churn, {what}"), got, store_oracle(target.store()));
            progress(&format!(
                "churn {}, {changes} changes: {what}",
                format_count(n)
            ));
            m
        };
        let recompute_map = churn_measure(&mut MapRecompute(store.clone()), "recompute, map");
        let columnar: ColumnarStore = store.iter().map(|d| (d.id, d.state)).collect();
        let recompute_columnar = churn_measure(
            &mut ColumnarRecompute(store.clone(), columnar),
            "recompute, columnar",
        );
        let mut verifier = DispatcherSetVerifier::new(Mode::Default, VerifierConfig::REFERENCE);
        verifier.actual_set_mut().reserve(store.len());
        for d in store.iter() {
            verifier.actual_set_mut().on_dispatcher_added(d.id, d.state);
        }
        let incremental = churn_measure(
            &mut Incremental {
                store: store.clone(),
                verifier,
                now: Duration::ZERO,
            },
            "incremental",
        );
        rows.push(ChurnRow {
            dispatchers: n,
            changes,
            recompute_map,
            recompute_columnar,
            incremental,
        });
    }
    rows
}

fn store_oracle(store: &AhashDispatcherStore) -> Fingerprint {
    oracle(store.iter().map(|d| (&d.id, d.state)))
}

/// The workload of one kernel size: aligned IDs and states.
struct KernelInput {
    ids: AlignedIds,
    states: AlignedBytes,
}

impl KernelInput {
    fn new(n: usize) -> KernelInput {
        let ids: Vec<DispatcherId> = IdStream::new(3).take(n).collect();
        let states: Vec<u8> = (0..n as u64).map(|i| synthetic_state(i).number()).collect();
        KernelInput {
            ids: AlignedIds::new(&ids),
            states: AlignedBytes::new(&states),
        }
    }

    fn words(&self) -> &[IdWords] {
        DispatcherId::slice_words(self.ids.as_slice())
    }
}

fn kernel_rows(config: &HeadlineConfig, progress: ProgressFn<'_>) -> Vec<KernelRow> {
    let mut rows = Vec::new();
    let kernels: Vec<Kernel> = Kernel::all()
        .iter()
        .copied()
        .filter(|k| k.is_available())
        .collect();
    for &n in &config.kernel_sizes {
        let input = KernelInput::new(n);
        let words = input.words();
        let flat = input.ids.words();
        let ids = input.ids.as_slice();
        let states = input.states.as_slice();
        let bits = INCLUDED.bits();
        let label = format_count(n);
        for masked in [false, true] {
            let form = if masked { "masked" } else { "contiguous" };
            let bytes = n * if masked { 17 } else { 16 };
            let expected = if masked {
                naive::fingerprint_masked(words, states, bits)
            } else {
                naive::fingerprint(words)
            };
            let run = |kernel: Kernel| -> RawFingerprint {
                let result = if masked {
                    kernel.fingerprint_masked(words, states, bits)
                } else {
                    kernel.fingerprint(words)
                };
                result.expect("only available kernels are measured")
            };
            let auto = || -> Fingerprint {
                if masked {
                    choose::fingerprint_masked(ids, states, INCLUDED)
                } else {
                    choose::fingerprint(ids)
                }
            };
            for kernel in &kernels {
                assert_eq!(
                    run(*kernel),
                    expected,
                    "kernel {kernel} disagrees with naive"
                );
            }
            check("the automatic choice", auto(), expected.into());

            let mut names = vec!["ceiling-1t".to_string(), "ceiling-all".to_string()];
            let mut ceiling_single = || {
                black_box(if masked {
                    ceiling::read_columns(flat, states)
                } else {
                    ceiling::read_words(flat)
                });
            };
            let mut ceiling_all = || {
                black_box(if masked {
                    ceiling::read_columns_parallel(flat, states)
                } else {
                    ceiling::read_words_parallel(flat)
                });
            };
            let mut kernel_routines: Vec<Box<dyn FnMut()>> = kernels
                .iter()
                .map(|&kernel| Box::new(move || sink(run(kernel))) as Box<dyn FnMut()>)
                .collect();
            names.extend(kernels.iter().map(|k| k.name().to_string()));
            let mut auto_routine = || sink(auto());
            names.push("auto".into());
            let mut routines: Vec<&mut dyn FnMut()> = vec![&mut ceiling_single, &mut ceiling_all];
            routines.extend(
                kernel_routines
                    .iter_mut()
                    .map(|r| &mut **r as &mut dyn FnMut()),
            );
            routines.push(&mut auto_routine);
            let timed = measure_interleaved(&config.measure, &mut routines);
            for name in &names {
                progress(&format!("kernels {label} {form}: {name}"));
            }
            let (ceiling_single, ceiling_all) = (timed[0].median, timed[1].median);
            for (kernel, time) in names.into_iter().zip(timed) {
                rows.push(KernelRow {
                    form,
                    ids: n,
                    kernel,
                    bytes,
                    time,
                    gigabytes_per_second: time.throughput(bytes as f64) / 1e9,
                    of_single_thread_ceiling: ceiling_single / time.median,
                    of_all_threads_ceiling: ceiling_all / time.median,
                });
            }
        }
    }
    rows
}

fn short_input_rows(config: &HeadlineConfig, progress: ProgressFn<'_>) -> Vec<ShortInputRow> {
    let cached = choose::single_thread_function();
    let cached_masked = choose::single_thread_masked_function();
    config
        .short_input_sizes
        .iter()
        .map(|&n| {
            let input = KernelInput::new(n);
            let words = input.words();
            let states = input.states.as_slice();
            let bits = INCLUDED.bits();
            assert_eq!(scalar::fingerprint(words), naive::fingerprint(words));
            assert_eq!(cached(words), naive::fingerprint(words));
            let expected_masked = naive::fingerprint_masked(words, states, bits);
            assert_eq!(
                scalar::fingerprint_masked(words, states, bits),
                expected_masked
            );
            assert_eq!(cached_masked(words, states, bits), expected_masked);
            let timed = measure_interleaved(
                &config.measure,
                &mut [
                    &mut || sink(scalar::fingerprint(black_box(words))),
                    &mut || sink(cached(black_box(words))),
                    &mut || sink(scalar::fingerprint_masked(black_box(words), states, bits)),
                    &mut || sink(cached_masked(black_box(words), states, bits)),
                ],
            );
            let label = format_count(n);
            progress(&format!("short input {label}: contiguous"));
            progress(&format!("short input {label}: masked"));
            ShortInputRow {
                ids: n,
                inline_scalar: timed[0],
                cached_widest: timed[1],
                inline_scalar_masked: timed[2],
                cached_widest_masked: timed[3],
            }
        })
        .collect()
}

fn parallel_rows(config: &HeadlineConfig, progress: ProgressFn<'_>) -> Vec<ParallelRow> {
    let single = choose::single_thread_function();
    let single_masked = choose::single_thread_masked_function();
    config
        .parallel_sizes
        .iter()
        .map(|&n| {
            let input = KernelInput::new(n);
            let words = input.words();
            let states = input.states.as_slice();
            let bits = INCLUDED.bits();
            let expected = naive::fingerprint(words);
            let expected_masked = naive::fingerprint_masked(words, states, bits);
            let forced = || parallel::fingerprint_with(words, single, 0);
            let forced_masked =
                || parallel::fingerprint_masked_with(words, states, bits, single_masked, 0);
            assert_eq!(single(words), expected);
            assert_eq!(forced(), expected);
            assert_eq!(single_masked(words, states, bits), expected_masked);
            assert_eq!(forced_masked(), expected_masked);
            let timed = measure_interleaved(
                &config.measure,
                &mut [
                    &mut || sink(single(words)),
                    &mut || sink(forced()),
                    &mut || sink(single_masked(words, states, bits)),
                    &mut || sink(forced_masked()),
                ],
            );
            let label = format_count(n);
            for what in ["one thread", "rayon", "one thread, masked", "rayon, masked"] {
                progress(&format!("parallel threshold {label}: {what}"));
            }
            ParallelRow {
                ids: n,
                single_thread: timed[0],
                forced_parallel: timed[1],
                single_thread_masked: timed[2],
                forced_parallel_masked: timed[3],
            }
        })
        .collect()
}

/// Keeps a measured result alive without a return value (the interleaved routines return `()`).
#[inline(always)]
fn sink<T>(value: T) {
    black_box(value);
}

/// The kernel names among `rows` that are real kernels (not ceilings, not `auto`).
fn is_kernel(name: &str) -> bool {
    Kernel::from_name(name).is_some()
}

fn choice_checks(rows: &[KernelRow]) -> Vec<ChoiceCheck> {
    let mut checks = Vec::new();
    let mut keys: Vec<(&'static str, usize)> = rows.iter().map(|r| (r.form, r.ids)).collect();
    keys.dedup();
    for (form, ids) in keys {
        let here: Vec<&KernelRow> = rows
            .iter()
            .filter(|r| r.form == form && r.ids == ids)
            .collect();
        let Some(fastest) = here
            .iter()
            .filter(|r| is_kernel(&r.kernel))
            .min_by(|a, b| a.time.min.total_cmp(&b.time.min))
        else {
            continue;
        };
        let Some(auto) = here.iter().find(|r| r.kernel == "auto") else {
            continue;
        };
        let ratio = auto.time.min / fastest.time.min;
        checks.push(ChoiceCheck {
            form,
            ids,
            chosen: choose::explain(ids).kernel.name().to_string(),
            fastest: fastest.kernel.clone(),
            ratio,
            within_target: ratio <= 1.05,
        });
    }
    checks
}

/// The smallest size from which `wins` holds at every larger measured size.
fn crossover(points: &[(usize, bool)]) -> Option<usize> {
    let mut answer = None;
    for &(size, wins) in points.iter().rev() {
        if wins {
            answer = Some(size);
        } else {
            break;
        }
    }
    answer
}

fn thresholds(
    kernels: &[KernelRow],
    short_input: &[ShortInputRow],
    parallel: &[ParallelRow],
) -> Thresholds {
    let short = |masked: bool| {
        let points: Vec<(usize, bool)> = short_input
            .iter()
            .map(|r| {
                let (inline, cached) = if masked {
                    (&r.inline_scalar_masked, &r.cached_widest_masked)
                } else {
                    (&r.inline_scalar, &r.cached_widest)
                };
                (r.ids, cached.min < inline.min)
            })
            .collect();
        crossover(&points)
    };
    let short_input_ids = match (short(false), short(true)) {
        (Some(a), Some(b)) => Some(a.max(b)),
        _ => None,
    };
    let threads = |masked: bool| {
        let points: Vec<(usize, bool)> = parallel
            .iter()
            .map(|r| {
                let (one, many) = if masked {
                    (&r.single_thread_masked, &r.forced_parallel_masked)
                } else {
                    (&r.single_thread, &r.forced_parallel)
                };
                (r.ids, many.min < one.min)
            })
            .collect();
        crossover(&points)
    };
    let parallel_min_ids = if rayon::current_num_threads() > 1 {
        match (threads(false), threads(true)) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        }
    } else {
        None
    };
    let mut fastest_single_thread = Vec::new();
    let mut keys: Vec<(&'static str, usize)> = kernels.iter().map(|r| (r.form, r.ids)).collect();
    keys.dedup();
    for (form, ids) in keys {
        if let Some(best) = kernels
            .iter()
            .filter(|r| r.form == form && r.ids == ids)
            .filter(|r| Kernel::from_name(&r.kernel).is_some_and(Kernel::is_single_thread))
            .min_by(|a, b| a.time.min.total_cmp(&b.time.min))
        {
            fastest_single_thread.push(format!("{form}/{}: {}", format_count(ids), best.kernel));
        }
    }
    Thresholds {
        short_input_ids,
        parallel_min_ids,
        fastest_single_thread,
        compiled_short_input_ids: choose::SHORT_INPUT_IDS,
        compiled_parallel_min_ids: choose::PARALLEL_MIN_IDS,
        widest_single_thread: Kernel::widest_single_thread().name().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossover_needs_every_larger_size_to_win() {
        assert_eq!(crossover(&[(1, false), (2, true), (4, true)]), Some(2));
        assert_eq!(crossover(&[(1, true), (2, false), (4, true)]), Some(4));
        assert_eq!(crossover(&[(1, true), (2, true), (4, false)]), None);
        assert_eq!(crossover(&[]), None);
    }

    #[test]
    fn a_tiny_run_measures_every_strategy_and_checks_the_choice() {
        let config = HeadlineConfig {
            heartbeat_sizes: vec![2_000],
            kernel_sizes: vec![1_000],
            churn_size: 3_000,
            churn_changes: vec![0, 40],
            short_input_sizes: vec![4, 32],
            parallel_sizes: vec![4_096],
            measure: MeasureConfig {
                warm_up: Duration::from_micros(200),
                batch_time: Duration::from_micros(200),
                repetitions: 2,
            },
            profile: "test",
        };
        let mut steps = 0u64;
        let results = run(&config, &mut |_| steps += 1);
        assert_eq!(steps, config.step_count());
        assert_eq!(results.heartbeat.len(), 1);
        assert_eq!(results.churn.len(), 2);
        assert_eq!(results.choice.len(), 2);
        let available = Kernel::all().iter().filter(|k| k.is_available()).count();
        assert_eq!(results.kernels.len(), 2 * (available + 3));
        assert!(results.kernels.iter().all(|r| r.gigabytes_per_second > 0.0));
    }
}
