//! The node side: [`DispatcherSetVerifier`] compares the maintainer's expected fingerprint with
//! the fingerprint of the dispatchers the node actually runs, once per heartbeat, and decides the
//! heartbeat's [`ChecksumState`], whether it carries the watermark, and whether to log.
//!
//! The actual fingerprint sits behind the [`ActualSet`] trait, with two strategies:
//! - [`IncrementalActualSet`]: O(1) per lifecycle event and O(1) per read. It keeps one hash-map
//!   entry per dispatcher (ID → one state byte; 17 bytes, the ID stored unaligned) only to know a
//!   dispatcher's previous state when it changes or leaves, and the running fingerprint of the
//!   included ones.
//! - [`RecomputeActualSet`]: what the reference system does, walking every dispatcher at each
//!   read; the oracle in tests and the baseline in benchmarks.
//!
//! Both count a dispatcher only while its state is in the included set
//! ([`StateSet::DEFAULT_INCLUDED`] unless told otherwise: Initializing, Preparing and MergeReady
//! are left out).

use super::packed::PackedId;
use super::{ChecksumState, ExpectedVersion, Mode};
use crate::lifecycle::{ComponentState, StateSet};
use crate::{DispatcherId, Fingerprint};
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

/// The set of dispatchers a node runs, and the fingerprint of those in an included state.
///
/// Events for a dispatcher the set does not hold are tolerated the same way by every
/// implementation: a state change of an unknown ID adds it, an add of a known ID is a state
/// change, and removing an unknown ID does nothing.
pub trait ActualSet {
    /// A dispatcher was created (or re-created) in `state`.
    fn on_dispatcher_added(&mut self, id: DispatcherId, state: ComponentState);
    /// A dispatcher moved to `state`.
    fn on_state_changed(&mut self, id: DispatcherId, state: ComponentState);
    /// A dispatcher is gone from the node.
    fn on_dispatcher_removed(&mut self, id: DispatcherId);
    /// The fingerprint of the dispatchers in an included state.
    fn actual_fingerprint(&self) -> Fingerprint;
    /// How many dispatchers the node holds, whatever their state.
    fn len(&self) -> usize;
    /// Whether the node holds no dispatcher.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The actual set kept incrementally: O(1) per event and per read. See the module docs.
#[derive(Clone, Debug)]
pub struct IncrementalActualSet {
    states: HashMap<PackedId, ComponentState, ahash::RandomState>,
    included: StateSet,
    fingerprint: Fingerprint,
}

impl IncrementalActualSet {
    /// An empty set with the reference inclusion rule.
    pub fn new() -> Self {
        IncrementalActualSet::with_included(StateSet::DEFAULT_INCLUDED)
    }

    /// An empty set counting the states in `included`.
    pub fn with_included(included: StateSet) -> Self {
        IncrementalActualSet {
            states: HashMap::default(),
            included,
            fingerprint: Fingerprint::EMPTY,
        }
    }

    /// Room for `additional` more dispatchers without growing.
    pub fn reserve(&mut self, additional: usize) {
        self.states.reserve(additional);
    }

    /// The state of `id`, if held.
    pub fn state(&self, id: DispatcherId) -> Option<ComponentState> {
        self.states.get(&PackedId::new(id)).copied()
    }

    /// Every held dispatcher and its state, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (DispatcherId, ComponentState)> + '_ {
        self.states.iter().map(|(id, state)| (id.id(), *state))
    }

    /// The states counted.
    pub fn included(&self) -> StateSet {
        self.included
    }

    fn set_state(&mut self, id: DispatcherId, state: ComponentState) {
        let now_included = self.included.contains(state);
        match self.states.entry(PackedId::new(id)) {
            Entry::Vacant(entry) => {
                entry.insert(state);
                if now_included {
                    self.fingerprint.add(id);
                }
            }
            Entry::Occupied(mut entry) => {
                let was_included = self.included.contains(entry.insert(state));
                match (was_included, now_included) {
                    (false, true) => self.fingerprint.add(id),
                    (true, false) => self.fingerprint.remove(id),
                    _ => {}
                }
            }
        }
    }
}

impl Default for IncrementalActualSet {
    fn default() -> Self {
        IncrementalActualSet::new()
    }
}

impl ActualSet for IncrementalActualSet {
    #[inline]
    fn on_dispatcher_added(&mut self, id: DispatcherId, state: ComponentState) {
        self.set_state(id, state);
    }

    #[inline]
    fn on_state_changed(&mut self, id: DispatcherId, state: ComponentState) {
        self.set_state(id, state);
    }

    #[inline]
    fn on_dispatcher_removed(&mut self, id: DispatcherId) {
        if let Some(state) = self.states.remove(&PackedId::new(id)) {
            if self.included.contains(state) {
                self.fingerprint.remove(id);
            }
        }
    }

    #[inline]
    fn actual_fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    fn len(&self) -> usize {
        self.states.len()
    }
}

/// The actual set as the reference system computes it: every read walks every dispatcher and
/// fingerprints the included ones. O(N) per read; the oracle and the benchmark baseline.
#[derive(Clone, Debug)]
pub struct RecomputeActualSet {
    states: HashMap<PackedId, ComponentState, ahash::RandomState>,
    included: StateSet,
}

impl RecomputeActualSet {
    /// An empty set with the reference inclusion rule.
    pub fn new() -> Self {
        RecomputeActualSet::with_included(StateSet::DEFAULT_INCLUDED)
    }

    /// An empty set counting the states in `included`.
    pub fn with_included(included: StateSet) -> Self {
        RecomputeActualSet {
            states: HashMap::default(),
            included,
        }
    }

    /// The state of `id`, if held.
    pub fn state(&self, id: DispatcherId) -> Option<ComponentState> {
        self.states.get(&PackedId::new(id)).copied()
    }

    /// Every held dispatcher and its state, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (DispatcherId, ComponentState)> + '_ {
        self.states.iter().map(|(id, state)| (id.id(), *state))
    }

    /// The IDs in an included state (the exact set the fingerprint stands for).
    pub fn included_ids(&self) -> Vec<DispatcherId> {
        self.iter()
            .filter(|(_, state)| self.included.contains(*state))
            .map(|(id, _)| id)
            .collect()
    }
}

impl Default for RecomputeActualSet {
    fn default() -> Self {
        RecomputeActualSet::new()
    }
}

impl ActualSet for RecomputeActualSet {
    fn on_dispatcher_added(&mut self, id: DispatcherId, state: ComponentState) {
        self.states.insert(PackedId::new(id), state);
    }

    fn on_state_changed(&mut self, id: DispatcherId, state: ComponentState) {
        self.states.insert(PackedId::new(id), state);
    }

    fn on_dispatcher_removed(&mut self, id: DispatcherId) {
        self.states.remove(&PackedId::new(id));
    }

    fn actual_fingerprint(&self) -> Fingerprint {
        let mut fingerprint = Fingerprint::EMPTY;
        for (id, state) in &self.states {
            if self.included.contains(*state) {
                fingerprint.add(id.id());
            }
        }
        fingerprint
    }

    fn len(&self) -> usize {
        self.states.len()
    }
}

/// The verifier's timing rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifierConfig {
    /// Log once the node has been non-MATCH this long (reference: 30 s).
    pub log_after: Duration,
    /// Then at most once per this interval (reference: 30 s).
    pub log_every: Duration,
}

impl VerifierConfig {
    /// The reference system's values: log after 30 s non-MATCH, then every 30 s.
    pub const REFERENCE: VerifierConfig = VerifierConfig {
        log_after: Duration::from_secs(30),
        log_every: Duration::from_secs(30),
    };
}

impl Default for VerifierConfig {
    fn default() -> Self {
        VerifierConfig::REFERENCE
    }
}

/// The latest expected value the maintainer sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExpectedChecksum {
    /// The maintainer's epoch.
    pub epoch: u64,
    /// The update's seq.
    pub seq: u64,
    /// The expected fingerprint.
    pub fingerprint: Fingerprint,
    /// Whether any update arrived since the last reset.
    pub initialized: bool,
}

/// The verifier's running verdict.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VerifierRuntime {
    /// The latest verdict.
    pub state: ChecksumState,
    /// Goes up by one at every change of `state` and at every reset.
    pub state_seq: u64,
    /// Since when the node has been continuously non-MATCH (`None` at MATCH or before any
    /// verification since the last reset).
    pub non_ok_since: Option<Duration>,
    /// When the last mismatch log was emitted in this non-MATCH stretch.
    pub last_log: Option<Duration>,
}

/// A log line's content: a node non-MATCH for too long, with both fingerprints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MismatchLog {
    /// The mode.
    pub mode: Mode,
    /// UNINITIALIZED or MISMATCH.
    pub state: ChecksumState,
    /// How long the node has been non-MATCH.
    pub non_ok_for: Duration,
    /// What the maintainer expects (`initialized == false` when nothing arrived).
    pub expected: ExpectedChecksum,
    /// What the node runs.
    pub actual: Fingerprint,
}

impl fmt::Display for MismatchLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "dispatcher set checksum {} for {:?} (mode {}): expected [epoch={} seq={} {}] \
             actual [{}]",
            self.state,
            self.non_ok_for,
            self.mode,
            self.expected.epoch,
            self.expected.seq,
            self.expected.fingerprint,
            self.actual
        )
    }
}

/// What one [`DispatcherSetVerifier::verify`] decided for this heartbeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The state to report.
    pub state: ChecksumState,
    /// The state's sequence number to report.
    pub state_seq: u64,
    /// Whether the heartbeat may carry the watermark (only at MATCH).
    pub carries_watermark: bool,
    /// A log to emit now, if the non-MATCH logging rule says so.
    pub log: Option<MismatchLog>,
    /// The expected value the state was computed against (0, 0 when UNINITIALIZED).
    pub verified_against: ExpectedVersion,
    /// This verification's number (1, 2, ...): the heartbeat's `seq`. It never starts over
    /// within the verifier's life, resets included.
    pub heartbeat_seq: u64,
    /// The actual fingerprint the state was computed from.
    pub actual: Fingerprint,
}

/// The node-side verifier for one changefeed and mode. See the module docs.
#[derive(Clone, Debug)]
pub struct DispatcherSetVerifier<A: ActualSet = IncrementalActualSet> {
    mode: Mode,
    config: VerifierConfig,
    expected: ExpectedChecksum,
    runtime: VerifierRuntime,
    /// Heartbeats whose watermark was withheld, by [`ChecksumState`] wire number.
    withheld: [u64; 3],
    /// Verifications so far (the last heartbeat's `seq`).
    heartbeats: u64,
    actual: A,
}

impl DispatcherSetVerifier<IncrementalActualSet> {
    /// A verifier with an empty [`IncrementalActualSet`].
    pub fn new(mode: Mode, config: VerifierConfig) -> Self {
        DispatcherSetVerifier::with_actual_set(mode, config, IncrementalActualSet::new())
    }
}

impl<A: ActualSet> DispatcherSetVerifier<A> {
    /// A verifier over `actual`, UNINITIALIZED at state_seq 0.
    pub fn with_actual_set(mode: Mode, config: VerifierConfig, actual: A) -> Self {
        DispatcherSetVerifier {
            mode,
            config,
            expected: ExpectedChecksum::default(),
            runtime: VerifierRuntime::default(),
            withheld: [0; 3],
            heartbeats: 0,
            actual,
        }
    }

    /// Takes an update from the maintainer. Updates may be resent and reordered: one with the
    /// stored epoch and a lower seq is ignored (returns `false`); any other is stored and marks
    /// the expected value initialized (returns `true`). Filtering updates from a deposed
    /// maintainer (another epoch) is the caller's job: see [`super::NodeChecksums`].
    pub fn apply_update(&mut self, epoch: u64, seq: u64, fingerprint: Fingerprint) -> bool {
        if self.expected.initialized && epoch == self.expected.epoch && seq < self.expected.seq {
            return false;
        }
        self.expected = ExpectedChecksum {
            epoch,
            seq,
            fingerprint,
            initialized: true,
        };
        true
    }

    /// The maintainer changed: clears the expected and runtime values; the state becomes
    /// UNINITIALIZED and `state_seq` goes up by one. The actual set is untouched.
    pub fn reset(&mut self) {
        self.expected = ExpectedChecksum::default();
        self.runtime = VerifierRuntime {
            state: ChecksumState::Uninitialized,
            state_seq: self.runtime.state_seq + 1,
            non_ok_since: None,
            last_log: None,
        };
    }

    /// This heartbeat's verdict, in O(1): UNINITIALIZED when nothing expected arrived, MISMATCH
    /// when the fingerprints differ, MATCH otherwise. `state_seq` goes up when the state changes.
    /// The watermark rides along only at MATCH; otherwise it is withheld and the counter for the
    /// state goes up. Non-MATCH for `log_after` yields a log, then at most every `log_every`.
    pub fn verify(&mut self, now: Duration) -> Verdict {
        self.heartbeats += 1;
        let actual = self.actual.actual_fingerprint();
        let state = if !self.expected.initialized {
            ChecksumState::Uninitialized
        } else if self.expected.fingerprint != actual {
            ChecksumState::Mismatch
        } else {
            ChecksumState::Match
        };
        let runtime = &mut self.runtime;
        if state != runtime.state {
            runtime.state = state;
            runtime.state_seq += 1;
        }
        let carries_watermark = state == ChecksumState::Match;
        let mut log = None;
        if carries_watermark {
            runtime.non_ok_since = None;
            runtime.last_log = None;
        } else {
            self.withheld[state.wire() as usize] += 1;
            let since = *runtime.non_ok_since.get_or_insert(now);
            let non_ok_for = now.saturating_sub(since);
            let due = non_ok_for >= self.config.log_after
                && runtime
                    .last_log
                    .is_none_or(|last| now.saturating_sub(last) >= self.config.log_every);
            if due {
                runtime.last_log = Some(now);
                log = Some(MismatchLog {
                    mode: self.mode,
                    state,
                    non_ok_for,
                    expected: self.expected,
                    actual,
                });
            }
        }
        Verdict {
            state,
            state_seq: runtime.state_seq,
            carries_watermark,
            log,
            verified_against: ExpectedVersion {
                epoch: self.expected.epoch,
                seq: self.expected.seq,
            },
            heartbeat_seq: self.heartbeats,
            actual,
        }
    }

    /// How many heartbeats withheld their watermark while in `state` (always 0 for MATCH).
    pub fn withheld_heartbeats(&self, state: ChecksumState) -> u64 {
        self.withheld[state.wire() as usize]
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The timing rules.
    pub fn config(&self) -> &VerifierConfig {
        &self.config
    }

    /// The latest expected value.
    pub fn expected(&self) -> &ExpectedChecksum {
        &self.expected
    }

    /// The running verdict.
    pub fn runtime(&self) -> &VerifierRuntime {
        &self.runtime
    }

    /// The node's actual set.
    pub fn actual_set(&self) -> &A {
        &self.actual
    }

    /// The node's actual set, to feed lifecycle events.
    pub fn actual_set_mut(&mut self) -> &mut A {
        &mut self.actual
    }
}
