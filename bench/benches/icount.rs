//! The performance gate: instruction counts (callgrind `Ir`) of the hot paths, via gungraun.
//!
//! Wall-clock time on a shared 2-core CI machine moves by tens of percent from run to run;
//! the number of instructions a call executes under callgrind does not (same binary, same
//! inputs, same count). `scripts/bench-gate` runs this target and compares every benchmark's
//! `Ir` with `bench/benches/icount-baseline.json`; see `docs/gating.md`.
//!
//! What is gated, and why this shape:
//! - every single-thread kernel (`scalar`, `lanes`, `avx2`) at fixed sizes, contiguous and
//!   masked, plus the automatic choice (`Fingerprint::of`) so its dispatch cost is gated too;
//! - **never `avx512`**: valgrind cannot execute AVX-512 and reports a CPU without it, so under
//!   callgrind the automatic choice takes the AVX2 path. For the same reason the gate must never be
//!   built with `-C target-cpu=native`;
//! - `parallel` only through its single-thread cores, contiguous and masked (one rayon chunk
//!   through the serial path):
//!   callgrind counts the calling thread, so work done on rayon's workers would be invisible;
//! - the node side: the incremental verifier's `verify` (MATCH, and MISMATCH with its log due)
//!   and one churn step (1,000 lifecycle events, then `verify`) over 100K dispatchers;
//! - the maintainer side: `ExpectedSetTracker::apply_delta` (add, remove, move, a batch of 64)
//!   and `flush_dirty` with 64 dirty nodes, over 100K dispatchers on 64 nodes.
//!
//! Hash maps: the tracker takes a fixed-seed `ahash` hasher here so its probe sequences, and so
//! its counts, repeat exactly. The verifier's map is always randomly seeded (its type fixes the
//! hasher), so the churn step's count moves a little between runs: about +-1% with 1,000 events
//! (ten runs), which is why the step is 1,000 events and not 100.
//!
//! Inputs are built in `setup` functions and checked in `teardown` functions, both outside the
//! measured call; each benchmark returns its input so that freeing it is not counted either (and
//! the tracker is boxed, so moving it in and out of the call is not counted).
//! Inputs are deterministic (a fixed-seed SplitMix64), so the count is the same on every run.

use dispatcher_checksum::kernels::{
    lanes, naive, parallel, scalar, x86_64::avx2::Avx2, FingerprintFn, IdWords, Kernel,
    MaskedFingerprintFn, RawFingerprint,
};
use dispatcher_checksum::protocol::{
    ActualSet, ChangefeedId, ChecksumState, ChecksumUpdate, DispatcherSetVerifier,
    ExpectedSetTracker, Mode, NodeId, TrackerConfig, Verdict, VerifierConfig,
};
use dispatcher_checksum::{ComponentState, DispatcherId, Fingerprint, StateSet};
use gungraun::{
    library_benchmark, library_benchmark_group, main, Callgrind, EventKind, LibraryBenchmarkConfig,
};
use std::hint::black_box;
use std::time::Duration;

/// SplitMix64: a tiny, well-mixed deterministic generator, so every run sees the same IDs.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// `len` pseudo-random IDs from a fixed seed.
fn random_ids(len: usize) -> Vec<IdWords> {
    let mut rng = SplitMix64(0x00C0_FFEE_D15C_0000 ^ len as u64);
    (0..len).map(|_| [rng.next(), rng.next()]).collect()
}

/// `len` pseudo-random lifecycle states (wire numbers 0..=6), so about 3/7 are excluded.
fn random_states(len: usize) -> Vec<u8> {
    let mut rng = SplitMix64(0x5747_E000 ^ len as u64);
    (0..len).map(|_| (rng.next() % 7) as u8).collect()
}

/// Setup of the contiguous kernel benches.
fn setup_ids(len: usize) -> Vec<IdWords> {
    random_ids(len)
}

/// The columnar input of the masked kernels.
struct MaskedInput {
    ids: Vec<IdWords>,
    states: Vec<u8>,
    /// The reference node's included-state set.
    included: u64,
}

/// Setup of the masked kernel benches.
fn setup_masked(len: usize) -> MaskedInput {
    MaskedInput {
        ids: random_ids(len),
        states: random_states(len),
        included: StateSet::DEFAULT_INCLUDED.bits(),
    }
}

/// Setup of the avx2 benches: the kernel handle (resolved here, not in the measured call).
fn setup_avx2(len: usize) -> (Avx2, Vec<IdWords>) {
    let kernel = Avx2::new().unwrap_or_else(|| {
        panic!(
            "the avx2 kernel is not available here (CPU without AVX2, or built with `no_avx2`); \
             the instruction-count gate needs it, see docs/gating.md"
        )
    });
    (kernel, random_ids(len))
}

fn setup_avx2_masked(len: usize) -> (Avx2, MaskedInput) {
    let (kernel, _) = setup_avx2(0);
    (kernel, setup_masked(len))
}

/// Setup of the automatic-choice benches: the root crate's `DispatcherId`s.
fn setup_dispatcher_ids(len: usize) -> Vec<DispatcherId> {
    // The plan (and the self-test of the kernels it may use) is made once per process on first
    // use; made here, so the measured call is the steady state, as before the planner.
    let _ = dispatcher_checksum::choose::Plan::current();
    random_ids(len)
        .into_iter()
        .map(|[low, high]| DispatcherId::new(high, low))
        .collect()
}

/// Setup of the parallel kernel's single-thread core: the chunk kernel `parallel` runs per rayon
/// task on this CPU, and one chunk's worth of IDs.
fn setup_parallel_core(len: usize) -> (FingerprintFn, Vec<IdWords>) {
    let kernel = Kernel::widest_single_thread();
    let function = kernel
        .function()
        .unwrap_or_else(|| panic!("the widest kernel {kernel} reports no entry point"));
    (function, random_ids(len))
}

fn check_contiguous((ids, fingerprint): (Vec<IdWords>, RawFingerprint)) {
    assert_eq!(
        fingerprint,
        naive::fingerprint(&ids),
        "kernel disagrees with the naive oracle over {} IDs",
        ids.len()
    );
}

fn check_masked((input, fingerprint): (MaskedInput, RawFingerprint)) {
    assert_eq!(
        fingerprint,
        naive::fingerprint_masked(&input.ids, &input.states, input.included),
        "masked kernel disagrees with the naive oracle over {} IDs",
        input.ids.len()
    );
}

fn check_auto((ids, fingerprint): (Vec<DispatcherId>, Fingerprint)) {
    let words = DispatcherId::slice_words(&ids);
    assert_eq!(
        RawFingerprint::from(fingerprint),
        naive::fingerprint(words),
        "automatic choice disagrees with the naive oracle over {} IDs",
        ids.len()
    );
}

#[library_benchmark(setup = setup_ids, teardown = check_contiguous)]
#[bench::n16(16)]
#[bench::n1024(1024)]
#[bench::n65536(65536)]
fn scalar_contiguous(ids: Vec<IdWords>) -> (Vec<IdWords>, RawFingerprint) {
    let fingerprint = black_box(scalar::fingerprint(black_box(&ids)));
    (ids, fingerprint)
}

#[library_benchmark(setup = setup_ids, teardown = check_contiguous)]
#[bench::n16(16)]
#[bench::n1024(1024)]
#[bench::n65536(65536)]
fn lanes_contiguous(ids: Vec<IdWords>) -> (Vec<IdWords>, RawFingerprint) {
    let fingerprint = black_box(lanes::fingerprint(black_box(&ids)));
    (ids, fingerprint)
}

#[library_benchmark(setup = setup_avx2, teardown = check_contiguous)]
#[bench::n16(16)]
#[bench::n1024(1024)]
#[bench::n65536(65536)]
fn avx2_contiguous((kernel, ids): (Avx2, Vec<IdWords>)) -> (Vec<IdWords>, RawFingerprint) {
    let fingerprint = black_box(kernel.fingerprint(black_box(&ids)));
    (ids, fingerprint)
}

#[library_benchmark(setup = setup_masked, teardown = check_masked)]
#[bench::n1024(1024)]
#[bench::n65536(65536)]
fn scalar_masked(input: MaskedInput) -> (MaskedInput, RawFingerprint) {
    let fingerprint = black_box(scalar::fingerprint_masked(
        black_box(&input.ids),
        black_box(&input.states),
        black_box(input.included),
    ));
    (input, fingerprint)
}

#[library_benchmark(setup = setup_masked, teardown = check_masked)]
#[bench::n1024(1024)]
#[bench::n65536(65536)]
fn lanes_masked(input: MaskedInput) -> (MaskedInput, RawFingerprint) {
    let fingerprint = black_box(lanes::fingerprint_masked(
        black_box(&input.ids),
        black_box(&input.states),
        black_box(input.included),
    ));
    (input, fingerprint)
}

#[library_benchmark(setup = setup_avx2_masked, teardown = check_masked)]
#[bench::n1024(1024)]
#[bench::n1055_tail(1055)]
#[bench::n65536(65536)]
fn avx2_masked((kernel, input): (Avx2, MaskedInput)) -> (MaskedInput, RawFingerprint) {
    let fingerprint = black_box(kernel.fingerprint_masked(
        black_box(&input.ids),
        black_box(&input.states),
        black_box(input.included),
    ));
    (input, fingerprint)
}

#[library_benchmark(setup = setup_parallel_core, teardown = check_contiguous)]
#[bench::one_chunk(parallel::CHUNK_IDS)]
fn parallel_core(
    (chunk_kernel, ids): (FingerprintFn, Vec<IdWords>),
) -> (Vec<IdWords>, RawFingerprint) {
    // `usize::MAX` keeps `parallel` on its serial path, which never touches rayon's pool.
    let fingerprint = black_box(parallel::fingerprint_with(
        black_box(&ids),
        chunk_kernel,
        usize::MAX,
    ));
    (ids, fingerprint)
}

/// Setup of the parallel kernel's masked single-thread core: the masked chunk kernel `parallel`
/// runs per rayon task on this CPU, and one chunk's worth of columnar input.
fn setup_parallel_core_masked(len: usize) -> (MaskedFingerprintFn, MaskedInput) {
    let kernel = Kernel::widest_single_thread();
    let function = kernel
        .masked_function()
        .unwrap_or_else(|| panic!("the widest kernel {kernel} reports no masked entry point"));
    (function, setup_masked(len))
}

#[library_benchmark(setup = setup_parallel_core_masked, teardown = check_masked)]
#[bench::one_chunk(parallel::CHUNK_IDS)]
fn parallel_core_masked(
    (chunk_kernel, input): (MaskedFingerprintFn, MaskedInput),
) -> (MaskedInput, RawFingerprint) {
    // `usize::MAX` keeps `parallel` on its serial path, which never touches rayon's pool.
    let fingerprint = black_box(parallel::fingerprint_masked_with(
        black_box(&input.ids),
        black_box(&input.states),
        black_box(input.included),
        chunk_kernel,
        usize::MAX,
    ));
    (input, fingerprint)
}

#[library_benchmark(setup = setup_dispatcher_ids, teardown = check_auto)]
#[bench::n15_short(15)]
#[bench::n1024(1024)]
#[bench::n65536(65536)]
fn automatic_choice(ids: Vec<DispatcherId>) -> (Vec<DispatcherId>, Fingerprint) {
    let fingerprint = black_box(Fingerprint::of(black_box(&ids)));
    (ids, fingerprint)
}

// --- node side: the incremental verifier -------------------------------------------------------

/// Dispatchers a node holds in the verifier benches.
const NODE_DISPATCHERS: usize = 100_000;
/// Lifecycle events in one churn step.
const CHURN_EVENTS: usize = 1000;

fn dispatcher_ids(len: usize, seed: u64) -> Vec<DispatcherId> {
    let mut rng = SplitMix64(seed);
    (0..len)
        .map(|_| DispatcherId::new(rng.next(), rng.next()))
        .collect()
}

fn state_of(value: u64) -> ComponentState {
    ComponentState::ALL[(value % ComponentState::ALL.len() as u64) as usize]
}

/// A verifier holding `len` dispatchers in pseudo-random states.
fn loaded_verifier(len: usize) -> DispatcherSetVerifier {
    let mut verifier = DispatcherSetVerifier::new(Mode::Default, VerifierConfig::REFERENCE);
    let mut rng = SplitMix64(0x0DE5_1DE0);
    let actual = verifier.actual_set_mut();
    actual.reserve(len);
    for id in dispatcher_ids(len, 0xD15_A7C4) {
        actual.on_dispatcher_added(id, state_of(rng.next()));
    }
    verifier
}

/// Setup: a verifier whose expected fingerprint equals its actual one (the steady state).
fn setup_verifier_match(len: usize) -> DispatcherSetVerifier {
    let mut verifier = loaded_verifier(len);
    let actual = verifier.actual_set().actual_fingerprint();
    verifier.apply_update(1, 1, actual);
    verifier.verify(Duration::from_secs(1));
    verifier
}

/// The time of the measured mismatch `verify`: past `log_after`, so the log is due.
const MISMATCH_NOW: Duration = Duration::from_secs(100);

/// Setup: a verifier that has been MISMATCH since t = 1 s; at [`MISMATCH_NOW`] a log is due.
fn setup_verifier_mismatch(len: usize) -> DispatcherSetVerifier {
    let mut verifier = loaded_verifier(len);
    let mut wrong = verifier.actual_set().actual_fingerprint();
    wrong.add(DispatcherId::new(7, 7));
    verifier.apply_update(1, 1, wrong);
    verifier.verify(Duration::from_secs(1));
    verifier
}

/// One lifecycle event of a churn step.
#[derive(Clone, Copy)]
enum LifecycleEvent {
    Added(DispatcherId, ComponentState),
    StateChanged(DispatcherId, ComponentState),
    Removed(DispatcherId),
}

/// Setup: a MATCH verifier and a heartbeat interval's worth of events (40% state changes of held
/// dispatchers, 30% new dispatchers, 30% removals of held ones).
fn setup_churn(len: usize) -> (DispatcherSetVerifier, Vec<LifecycleEvent>) {
    let verifier = setup_verifier_match(len);
    let held = dispatcher_ids(len, 0xD15_A7C4);
    let fresh = dispatcher_ids(CHURN_EVENTS, 0xF8E5_4000);
    let mut rng = SplitMix64(0xC4_0824);
    let events = (0..CHURN_EVENTS)
        .map(|i| {
            let held_id = held[(rng.next() % len as u64) as usize];
            match i % 10 {
                0..=3 => LifecycleEvent::StateChanged(held_id, state_of(rng.next())),
                4..=6 => LifecycleEvent::Added(fresh[i], state_of(rng.next())),
                _ => LifecycleEvent::Removed(held_id),
            }
        })
        .collect();
    (verifier, events)
}

fn check_verdict_match((verifier, verdict): (DispatcherSetVerifier, Verdict)) {
    assert_eq!(verdict.state, ChecksumState::Match);
    assert!(verdict.carries_watermark && verdict.log.is_none());
    assert_eq!(verifier.actual_set().len(), NODE_DISPATCHERS);
}

fn check_verdict_mismatch((verifier, verdict): (DispatcherSetVerifier, Verdict)) {
    assert_eq!(verdict.state, ChecksumState::Mismatch);
    let log = verdict.log.expect("the mismatch log is due");
    assert_eq!(log.actual, verifier.actual_set().actual_fingerprint());
}

/// The oracle for the churn step: recompute the included fingerprint from every held dispatcher.
fn check_churn((verifier, verdict): (DispatcherSetVerifier, Verdict)) {
    let actual = verifier.actual_set();
    let recomputed = Fingerprint::from_ids(
        actual
            .iter()
            .filter(|(_, state)| actual.included().contains(*state))
            .map(|(id, _)| id),
    );
    assert_eq!(actual.actual_fingerprint(), recomputed);
    assert_eq!(verdict.state, ChecksumState::Mismatch);
}

#[library_benchmark(setup = setup_verifier_match, teardown = check_verdict_match)]
#[bench::match_100k(NODE_DISPATCHERS)]
fn verifier_verify(mut verifier: DispatcherSetVerifier) -> (DispatcherSetVerifier, Verdict) {
    let verdict = black_box(verifier.verify(black_box(Duration::from_secs(2))));
    (verifier, verdict)
}

#[library_benchmark(setup = setup_verifier_mismatch, teardown = check_verdict_mismatch)]
#[bench::mismatch_log_due_100k(NODE_DISPATCHERS)]
fn verifier_verify_mismatch(
    mut verifier: DispatcherSetVerifier,
) -> (DispatcherSetVerifier, Verdict) {
    let verdict = black_box(verifier.verify(black_box(MISMATCH_NOW)));
    (verifier, verdict)
}

#[library_benchmark(setup = setup_churn, teardown = check_churn)]
#[bench::events_1000_of_100k(NODE_DISPATCHERS)]
fn verifier_churn_step(
    (mut verifier, events): (DispatcherSetVerifier, Vec<LifecycleEvent>),
) -> (DispatcherSetVerifier, Verdict) {
    let actual = verifier.actual_set_mut();
    for event in black_box(&events) {
        match *event {
            LifecycleEvent::Added(id, state) => actual.on_dispatcher_added(id, state),
            LifecycleEvent::StateChanged(id, state) => actual.on_state_changed(id, state),
            LifecycleEvent::Removed(id) => actual.on_dispatcher_removed(id),
        }
    }
    let verdict = black_box(verifier.verify(black_box(Duration::from_secs(2))));
    (verifier, verdict)
}

// --- maintainer side: the expected-set tracker -------------------------------------------------

/// Dispatchers and nodes the tracker benches track.
const TRACKED_DISPATCHERS: usize = 100_000;
const TRACKED_NODES: u32 = 64;

/// Boxed: a benchmark takes its input by value and returns it, so an unboxed tracker would be
/// copied in and out of the measured call, and `memcpy` of the struct (a third of `add_one`'s
/// count before it was boxed) would be gated as if it were the tracker's work, moving with every
/// field added to it.
type Tracker = Box<ExpectedSetTracker<ahash::RandomState>>;

/// A tracker after a full reset: `TRACKED_DISPATCHERS` IDs round-robin over `TRACKED_NODES`.
fn loaded_tracker() -> (Tracker, Vec<DispatcherId>) {
    let hasher = ahash::RandomState::with_seeds(1, 2, 3, 4);
    let mut tracker = ExpectedSetTracker::with_hasher(
        ChangefeedId::new(1, 2, "gate", "default"),
        Mode::Default,
        TrackerConfig::REFERENCE,
        hasher,
    );
    let ids = dispatcher_ids(TRACKED_DISPATCHERS, 0x7EAC_0000);
    let nodes: Vec<NodeId> = (0..TRACKED_NODES).map(NodeId).collect();
    let mut per_node = vec![Vec::new(); nodes.len()];
    for (i, id) in ids.iter().enumerate() {
        per_node[i % nodes.len()].push(*id);
    }
    tracker.reset_full(
        1,
        &nodes,
        nodes.iter().copied().zip(per_node),
        Duration::ZERO,
    );
    (Box::new(tracker), ids)
}

/// One `apply_delta` call's arguments.
struct Delta {
    node: NodeId,
    add: Vec<DispatcherId>,
    remove: Vec<DispatcherId>,
}

/// Setup of the `apply_delta` benches: a loaded tracker and the delta named by `kind`.
fn setup_delta(kind: &str) -> (Tracker, Delta) {
    let (tracker, ids) = loaded_tracker();
    let node = NodeId(7);
    // ids[i] belongs to node i % TRACKED_NODES.
    let owned_by = |node: NodeId| ids[node.0 as usize];
    let delta = match kind {
        "add_one" => Delta {
            node,
            add: dispatcher_ids(1, 0xADD),
            remove: Vec::new(),
        },
        "remove_one" => Delta {
            node,
            add: Vec::new(),
            remove: vec![owned_by(node)],
        },
        "move_one" => Delta {
            node,
            add: vec![owned_by(NodeId(3))],
            remove: Vec::new(),
        },
        "add_64" => Delta {
            node,
            add: dispatcher_ids(64, 0x0ADD_0064),
            remove: Vec::new(),
        },
        other => panic!("unknown delta kind {other}"),
    };
    (tracker, delta)
}

/// The oracle for `apply_delta`: every node's expected fingerprint equals the fingerprint of the
/// IDs the tracker says it owns, recomputed from scratch.
fn check_tracker_fingerprints(tracker: &Tracker) {
    for node in tracker.nodes() {
        assert_eq!(
            tracker.expected(node),
            Some(Fingerprint::from_ids(tracker.ids_owned_by(node))),
            "{node}'s expected fingerprint disagrees with its owned IDs"
        );
    }
}

fn check_delta((tracker, delta): (Tracker, Delta)) {
    for id in &delta.add {
        assert_eq!(tracker.owner(*id), Some(delta.node));
    }
    for id in &delta.remove {
        assert_eq!(tracker.owner(*id), None);
    }
    check_tracker_fingerprints(&tracker);
}

#[library_benchmark(setup = setup_delta, teardown = check_delta)]
#[bench::add_one("add_one")]
#[bench::remove_one("remove_one")]
#[bench::move_one("move_one")]
#[bench::add_64("add_64")]
fn tracker_apply_delta((mut tracker, delta): (Tracker, Delta)) -> (Tracker, Delta) {
    black_box(tracker.apply_delta(
        black_box(delta.node),
        black_box(&delta.add),
        black_box(&delta.remove),
    ));
    (tracker, delta)
}

/// Setup of `flush_dirty`: a loaded tracker in which each of the `dirty` first nodes gained one ID.
fn setup_flush(dirty: u32) -> Tracker {
    let (mut tracker, _) = loaded_tracker();
    let fresh = dispatcher_ids(dirty as usize, 0xF1_0500);
    for (node, id) in (0..dirty).map(NodeId).zip(fresh) {
        tracker.apply_delta(node, &[id], &[]);
    }
    tracker
}

fn check_flush((tracker, updates): (Tracker, Vec<ChecksumUpdate>)) {
    assert_eq!(updates.len(), TRACKED_NODES as usize);
    for update in &updates {
        assert_eq!(
            update.seq, 2,
            "{} should be one delta past its reset",
            update.node
        );
        assert_eq!(Some(update.fingerprint), tracker.expected(update.node));
    }
    assert_eq!(tracker.dirty_nodes().count(), 0);
}

#[library_benchmark(setup = setup_flush, teardown = check_flush)]
#[bench::dirty_64_of_64(TRACKED_NODES)]
fn tracker_flush_dirty(mut tracker: Tracker) -> (Tracker, Vec<ChecksumUpdate>) {
    let updates = black_box(tracker.flush_dirty(black_box(Duration::from_secs(5))));
    (tracker, updates)
}

library_benchmark_group!(
    name = kernels;
    benchmarks =
        scalar_contiguous,
        lanes_contiguous,
        avx2_contiguous,
        scalar_masked,
        lanes_masked,
        avx2_masked,
        parallel_core,
        parallel_core_masked,
        automatic_choice
);

library_benchmark_group!(
    name = protocol;
    benchmarks =
        verifier_verify,
        verifier_verify_mismatch,
        verifier_churn_step,
        tracker_apply_delta,
        tracker_flush_dirty
);

main!(
    // Only `Ir` is gated; the cache simulation would only slow the run down.
    config = LibraryBenchmarkConfig::default()
        .tool(Callgrind::with_args(["--cache-sim=no"]).format([EventKind::Ir]));
    library_benchmark_groups = kernels, protocol
);
