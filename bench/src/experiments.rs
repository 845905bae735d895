//! The experiments of the main job: what one heartbeat's verification costs a node holding N
//! dispatchers under each strategy, what the kernels achieve against the memory-read ceiling,
//! and the short-input and parallel evidence behind the automatic choice's thresholds.
//!
//! Every measurement goes through the public API users call (the fixtures, the automatic choice,
//! the kernels, `DispatcherSetVerifier`, `ExpectedSetTracker`), and every measured routine's answer
//! is checked against the naive oracle once, outside the timed region, before it is timed.
//!
//! Last, when it is prepared, the Go reference program ([`crate::go_reference`]) measures the
//! reference's shape at the same heartbeat sizes and maintainer size, on the same generated sets.

use crate::aligned::{AlignedBytes, AlignedIds};
use crate::ceiling;
use crate::churn::{Churn, ChurnTarget, ColumnarRecompute, Incremental, MapRecompute};
use crate::config::HeadlineConfig;
use crate::fixtures::{
    synthetic_dispatchers, synthetic_state, AhashDispatcherStore, ColumnarStore, Dispatcher,
    IdStream, StdDispatcherStore,
};
use crate::go_reference::{GoReferenceError, GoRunConfig, Prepared};
use crate::machine::MachineInfo;
use crate::maintainer::{self, maintainer_row, MaintainerConfig};
use crate::measure::{format_count, measure, measure_interleaved, MeasureConfig};
use crate::rows::{ChurnRow, HeadlineResults, HeartbeatRow, KernelRow, ParallelRow, ShortInputRow};
use crate::thresholds::{choice_checks, thresholds};
use dispatcher_checksum::kernels::{naive, parallel, scalar, IdWords, RawFingerprint};
use dispatcher_checksum::lifecycle::{ComponentState, StateSet};
use dispatcher_checksum::protocol::verifier::{ActualSet, DispatcherSetVerifier, VerifierConfig};
use dispatcher_checksum::protocol::{ChecksumState, Mode};
use dispatcher_checksum::{choose, DispatcherId, Fingerprint, Kernel};
use std::hint::black_box;
use std::time::Duration;
/// Reports progress: called once per finished measurement with what it was.
pub type ProgressFn<'a> = &'a mut dyn FnMut(&str);

/// The included-state rule every measurement uses: the reference node's.
const INCLUDED: StateSet = StateSet::DEFAULT_INCLUDED;

/// Seed of the heartbeat rows' workload, `synthetic_dispatchers(n, HEARTBEAT_SEED)`; the Go
/// reference program generates the same set from it.
pub const HEARTBEAT_SEED: u64 = 1;

/// Runs everything in `config`, and the Go reference program if `go` is [`Prepared::Ready`].
/// Panics only if one of this crate's strategies disagrees with the oracle, which is a bug in the
/// library, never a property of the machine; an error means the Go program failed or computed a
/// wrong answer (its rows are then not reported at all).
pub fn run(
    config: &HeadlineConfig,
    go: &Prepared,
    progress: ProgressFn<'_>,
) -> Result<HeadlineResults, GoReferenceError> {
    let start = std::time::Instant::now();
    let machine = MachineInfo::collect();
    let heartbeat = config
        .heartbeat_sizes
        .iter()
        .map(|&n| heartbeat_row(n, &config.measure, progress))
        .collect();
    let churn = churn_rows(config, progress);
    let kernels = kernel_rows(&config.kernel_sizes, &config.measure, progress);
    let short_input = short_input_rows(config, progress);
    let parallel = parallel_rows(config, progress);
    let choice = choice_checks(&kernels);
    let thresholds = thresholds(&kernels, &short_input, &parallel);
    // At least one dispatcher per node, so that both implementations have something to move.
    let maintainer_size = config.maintainer_size.max(maintainer::NODES as usize);
    let maintainer = maintainer_row(&MaintainerConfig {
        dispatchers: maintainer_size,
        measure: config.measure,
    });
    progress(&format!(
        "maintainer {}: move",
        format_count(maintainer_size)
    ));
    progress(&format!(
        "maintainer {}: add, remove",
        format_count(maintainer_size)
    ));
    // The Go program runs last, as a process of its own: the Rust workloads have been dropped by
    // then, so the two never hold their (multi-gigabyte, at 10M) stores at the same time.
    let (go_reference, go_reference_absent) = match go {
        Prepared::Ready(program) => {
            let mut steps = 0;
            let results = program.run(
                &GoRunConfig {
                    heartbeat_sizes: config.heartbeat_sizes.clone(),
                    seed: HEARTBEAT_SEED,
                    maintainer_size,
                    measure: config.measure,
                    budget: config.go_budget,
                },
                &mut |what| {
                    steps += 1;
                    progress(what);
                },
            )?;
            for _ in steps..config.go_reference_steps() {
                progress("reference (Go)");
            }
            (Some(results), None)
        }
        Prepared::Absent(reason) => {
            for _ in 0..config.go_reference_steps() {
                progress("reference (Go): not run");
            }
            (None, Some(reason.clone()))
        }
    };
    Ok(HeadlineResults {
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
        maintainer,
        // Measured by the `dcsum` binary after this returns (the reader lives in `dcsum`).
        ingest: Vec::new(),
        go_reference,
        go_reference_absent,
        elapsed_seconds: start.elapsed().as_secs_f64(),
    })
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
    let dispatchers: Vec<Dispatcher> = synthetic_dispatchers(n, HEARTBEAT_SEED).collect();
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

/// Every available kernel, the automatic choice and the read ceilings (one thread and all) at
/// each of `sizes`, contiguous and masked, timed interleaved per size and form; every kernel's
/// answer is checked against `naive` first. The main job's kernel section, and `dcsum kernels
/// --ceiling` on its own.
pub fn kernel_rows(
    sizes: &[usize],
    measure: &MeasureConfig,
    progress: ProgressFn<'_>,
) -> Vec<KernelRow> {
    let mut rows = Vec::new();
    let kernels: Vec<Kernel> = Kernel::all()
        .iter()
        .copied()
        .filter(|k| k.is_available())
        .collect();
    for &n in sizes {
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
            let timed = measure_interleaved(measure, &mut routines);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tiny_run_measures_every_strategy_and_checks_the_choice() {
        let config = HeadlineConfig {
            heartbeat_sizes: vec![2_000],
            kernel_sizes: vec![1_000],
            churn_size: 3_000,
            churn_changes: vec![0, 40],
            short_input_sizes: vec![4, 32],
            parallel_sizes: vec![4_096],
            maintainer_size: 2_000,
            go_budget: Duration::from_millis(50),
            measure: MeasureConfig {
                warm_up: Duration::from_micros(200),
                batch_time: Duration::from_micros(200),
                repetitions: 2,
            },
            profile: "test",
        };
        let mut steps = 0u64;
        let go = Prepared::Absent("not in this test (see tests/go_reference.rs)".into());
        let results = run(&config, &go, &mut |_| steps += 1).expect("no Go program to fail");
        assert_eq!(steps, config.step_count());
        assert_eq!(results.maintainer.dispatchers, 2_000);
        assert!(results.go_reference.is_none() && results.go_reference_absent.is_some());
        assert_eq!(results.heartbeat.len(), 1);
        assert_eq!(results.churn.len(), 2);
        assert_eq!(results.choice.len(), 2);
        let available = Kernel::all().iter().filter(|k| k.is_available()).count();
        assert_eq!(results.kernels.len(), 2 * (available + 3));
        assert!(results.kernels.iter().all(|r| r.gigabytes_per_second > 0.0));
    }
}
