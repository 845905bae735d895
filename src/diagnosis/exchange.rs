//! The difference-sketch exchange: a node that stays MISMATCH asks for the maintainer's
//! sketch of what it should run, and both sides name the dispatchers that differ.
//!
//! ```text
//!  maintainer                                               node
//!  ExpectedSketches (one sketch per node,                    SketchedActualSet (the verifier's
//!   O(k) per delta beside the fingerprint)                    actual set + a sketch, O(k) per event)
//!                                                            NodeDiagnoser: MISMATCH for
//!                                                             `request_after` -> request
//!        ◀── SketchRequest{epoch, mode, seq, node's actual sketch} ──┘
//!  MaintainerDiagnoser: decode (expected sketch - actual sketch), remember the named IDs for the
//!   gate's blocked reason ([`MaintainerDiagnoser::describe_decision`])
//!        ── SketchResponse{epoch, mode, seq, expected sketch} ──▶ NodeDiagnoser::on_response:
//!                                                             decode, a log line naming the IDs
//! ```
//!
//! The wire forms are `DispatcherSetSketchRequest` / `DispatcherSetSketchResponse` in
//! [`crate::wire`]. Both sides must hold the changefeed's [`FingerprintKey`] (never sent) and use
//! the same [`SketchShape`]. A decode that cannot finish says so (too many differences for the
//! sketch); it never names a wrong ID.
//!
//! Everything here is additive: it drives the protocol's own types ([`ExpectedSetTracker`],
//! [`DispatcherSetVerifier`](crate::protocol::DispatcherSetVerifier) through the [`ActualSet`] trait, [`GateDecision`]) without changing
//! them.

use crate::keyed::FingerprintKey;
use crate::lifecycle::ComponentState;
use crate::protocol::{
    ActualSet, ChecksumState, ExpectedSetTracker, GateDecision, IncrementalActualSet, Mode, NodeId,
    Verdict,
};
use crate::sketch::{DecodeError, DifferenceSketch, SketchDifference, SketchShape};
use crate::{DispatcherId, Fingerprint};
use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

/// When a node asks for the sketch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiagnosisConfig {
    /// Ask once the node has been MISMATCH this long (default 30 s: the verifier's first log).
    pub request_after: Duration,
    /// Then ask again at most this often while it stays MISMATCH (default 120 s).
    pub request_every: Duration,
    /// The sketch's shape on both sides (default 4 KiB: 64 differences at >= 99.9%).
    pub shape: SketchShape,
}

impl Default for DiagnosisConfig {
    fn default() -> Self {
        DiagnosisConfig {
            request_after: Duration::from_secs(30),
            request_every: Duration::from_secs(120),
            shape: SketchShape::with_byte_budget(crate::sketch::DEFAULT_BYTE_BUDGET)
                .expect("the default budget is a valid shape"),
        }
    }
}

/// The node's actual set with a sketch of its included dispatchers kept beside the fingerprint:
/// an [`ActualSet`] for [`DispatcherSetVerifier::with_actual_set`](crate::protocol::DispatcherSetVerifier::with_actual_set).
/// O(1) + O(k) per lifecycle event.
#[derive(Clone, Debug)]
pub struct SketchedActualSet {
    inner: IncrementalActualSet,
    sketch: DifferenceSketch,
}

impl SketchedActualSet {
    /// An empty set under the changefeed's key, counting the reference node's included states.
    pub fn new(key: &FingerprintKey, shape: SketchShape) -> SketchedActualSet {
        SketchedActualSet {
            inner: IncrementalActualSet::new(),
            sketch: DifferenceSketch::new(key, shape),
        }
    }

    /// The sketch of the included dispatchers.
    pub fn sketch(&self) -> &DifferenceSketch {
        &self.sketch
    }

    /// The wrapped incremental set.
    pub fn inner(&self) -> &IncrementalActualSet {
        &self.inner
    }

    fn counted(&self, id: DispatcherId) -> bool {
        self.inner
            .state(id)
            .is_some_and(|state| self.inner.included().contains(state))
    }

    fn track(&mut self, id: DispatcherId, was: bool) {
        match (was, self.counted(id)) {
            (false, true) => self.sketch.insert(id),
            (true, false) => self.sketch.remove(id),
            _ => {}
        }
    }
}

impl ActualSet for SketchedActualSet {
    fn on_dispatcher_added(&mut self, id: DispatcherId, state: ComponentState) {
        let was = self.counted(id);
        self.inner.on_dispatcher_added(id, state);
        self.track(id, was);
    }

    fn on_state_changed(&mut self, id: DispatcherId, state: ComponentState) {
        let was = self.counted(id);
        self.inner.on_state_changed(id, state);
        self.track(id, was);
    }

    fn on_dispatcher_removed(&mut self, id: DispatcherId) {
        let was = self.counted(id);
        self.inner.on_dispatcher_removed(id);
        self.track(id, was);
    }

    fn actual_fingerprint(&self) -> Fingerprint {
        self.inner.actual_fingerprint()
    }

    fn len(&self) -> usize {
        self.inner.len()
    }
}

/// The maintainer's sketch of every node's expected set for one mode, kept beside the tracker's
/// fingerprints: O(k) per changed ID.
#[derive(Clone, Debug)]
pub struct ExpectedSketches {
    key: FingerprintKey,
    shape: SketchShape,
    sketches: HashMap<NodeId, DifferenceSketch>,
}

impl ExpectedSketches {
    /// No node yet.
    pub fn new(key: &FingerprintKey, shape: SketchShape) -> ExpectedSketches {
        ExpectedSketches {
            key: *key,
            shape,
            sketches: HashMap::new(),
        }
    }

    fn sketch_mut(&mut self, node: NodeId) -> &mut DifferenceSketch {
        let (key, shape) = (self.key, self.shape);
        self.sketches
            .entry(node)
            .or_insert_with(|| DifferenceSketch::new(&key, shape))
    }

    /// Applies a delta through the tracker and mirrors its effect: every ID whose owner the call
    /// changed leaves its old owner's sketch and enters its new owner's. Returns the tracker's
    /// summary.
    pub fn apply_delta(
        &mut self,
        tracker: &mut ExpectedSetTracker,
        node: NodeId,
        add: &[DispatcherId],
        remove: &[DispatcherId],
    ) -> crate::protocol::DeltaSummary {
        let mut ids: Vec<DispatcherId> = add.iter().chain(remove).copied().collect();
        ids.sort_unstable();
        ids.dedup();
        let before: Vec<Option<NodeId>> = ids.iter().map(|id| tracker.owner(*id)).collect();
        let summary = tracker.apply_delta(node, add, remove);
        for (id, before) in ids.iter().zip(before) {
            let after = tracker.owner(*id);
            if before != after {
                if let Some(old) = before {
                    self.sketch_mut(old).remove(*id);
                }
                if let Some(new) = after {
                    self.sketch_mut(new).insert(*id);
                }
            }
        }
        summary
    }

    /// Rebuilds every sketch from the tracker (after `reset_full`): O(N) once per epoch.
    pub fn rebuild(&mut self, tracker: &ExpectedSetTracker) {
        self.sketches.clear();
        let nodes: Vec<NodeId> = tracker.nodes().collect();
        for node in nodes {
            let ids = tracker.ids_owned_by(node);
            self.sketches
                .insert(node, DifferenceSketch::of(&self.key, self.shape, &ids));
        }
    }

    /// Forgets nodes (after `remove_nodes`).
    pub fn remove_nodes(&mut self, nodes: &[NodeId]) {
        for node in nodes {
            self.sketches.remove(node);
        }
    }

    /// The sketch of what `node` should run (empty if it owns nothing).
    pub fn sketch(&self, node: NodeId) -> DifferenceSketch {
        self.sketches
            .get(&node)
            .cloned()
            .unwrap_or_else(|| DifferenceSketch::new(&self.key, self.shape))
    }
}

/// A node's request for the maintainer's sketch, carrying its own actual sketch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SketchRequest {
    /// The asking node.
    pub node: NodeId,
    /// The mode.
    pub mode: Mode,
    /// The expected version the node holds (epoch, seq).
    pub epoch: u64,
    /// See `epoch`.
    pub seq: u64,
    /// The node's actual sketch ([`DifferenceSketch::to_bytes`]).
    pub sketch: Vec<u8>,
}

/// The maintainer's answer: its sketch of what the node should run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SketchResponse {
    /// The node it is for.
    pub node: NodeId,
    /// The mode.
    pub mode: Mode,
    /// The maintainer's current version for the node.
    pub epoch: u64,
    /// See `epoch`.
    pub seq: u64,
    /// The expected sketch ([`DifferenceSketch::to_bytes`]).
    pub sketch: Vec<u8>,
}

/// A named difference (or why it could not be named), as both sides log it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnosis {
    /// The node.
    pub node: NodeId,
    /// The mode.
    pub mode: Mode,
    /// The expected version the sketches compare against.
    pub epoch: u64,
    /// See `epoch`.
    pub seq: u64,
    /// The missing and extra IDs, or why the sketch could not name them.
    pub result: Result<SketchDifference, DecodeError>,
}

impl fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (mode {}) against epoch {} seq {}: ",
            self.node, self.mode, self.epoch, self.seq
        )?;
        match &self.result {
            Ok(difference) => write!(
                f,
                "{} missing, {} extra: {difference}",
                difference.missing.len(),
                difference.extra.len()
            ),
            Err(error) => write!(f, "{error}"),
        }
    }
}

fn decode(
    key: &FingerprintKey,
    expected: &[u8],
    actual: &[u8],
) -> Result<SketchDifference, DecodeError> {
    let parse = |bytes: &[u8]| {
        DifferenceSketch::from_bytes(key, bytes)
            .map_err(|error| DecodeError::Incompatible(error.to_string()))
    };
    DifferenceSketch::decode(&parse(expected)?, &parse(actual)?)
}

/// The node side: when to ask, and what the answer names.
#[derive(Clone, Debug)]
pub struct NodeDiagnoser {
    node: NodeId,
    mode: Mode,
    key: FingerprintKey,
    config: DiagnosisConfig,
    mismatch_since: Option<Duration>,
    last_request: Option<Duration>,
    latest: Option<Diagnosis>,
}

impl NodeDiagnoser {
    /// A diagnoser for `node`'s `mode` under the changefeed's key.
    pub fn new(node: NodeId, mode: Mode, key: &FingerprintKey, config: DiagnosisConfig) -> Self {
        NodeDiagnoser {
            node,
            mode,
            key: *key,
            config,
            mismatch_since: None,
            last_request: None,
            latest: None,
        }
    }

    /// Feeds one heartbeat's verdict; returns a request when the node has been MISMATCH for
    /// `request_after` and has not asked in the last `request_every`.
    pub fn observe(
        &mut self,
        verdict: &Verdict,
        actual: &SketchedActualSet,
        now: Duration,
    ) -> Option<SketchRequest> {
        if verdict.state != ChecksumState::Mismatch {
            self.mismatch_since = None;
            self.last_request = None;
            return None;
        }
        let since = *self.mismatch_since.get_or_insert(now);
        let due = now.saturating_sub(since) >= self.config.request_after
            && self
                .last_request
                .is_none_or(|last| now.saturating_sub(last) >= self.config.request_every);
        if !due {
            return None;
        }
        self.last_request = Some(now);
        Some(SketchRequest {
            node: self.node,
            mode: self.mode,
            epoch: verdict.verified_against.epoch,
            seq: verdict.verified_against.seq,
            sketch: actual.sketch().to_bytes(),
        })
    }

    /// Decodes the maintainer's answer against the node's current actual sketch; the result is
    /// the log line naming the IDs (also kept as [`NodeDiagnoser::latest`]).
    pub fn on_response(
        &mut self,
        response: &SketchResponse,
        actual: &SketchedActualSet,
    ) -> Diagnosis {
        let diagnosis = Diagnosis {
            node: self.node,
            mode: self.mode,
            epoch: response.epoch,
            seq: response.seq,
            result: decode(&self.key, &response.sketch, &actual.sketch().to_bytes()),
        };
        self.latest = Some(diagnosis.clone());
        diagnosis
    }

    /// The latest diagnosis.
    pub fn latest(&self) -> Option<&Diagnosis> {
        self.latest.as_ref()
    }
}

/// The maintainer side: answers requests and remembers what each node's difference is, for the
/// gate's blocked reason.
#[derive(Clone, Debug)]
pub struct MaintainerDiagnoser {
    key: FingerprintKey,
    diagnoses: HashMap<(NodeId, Mode), Diagnosis>,
}

impl MaintainerDiagnoser {
    /// Under the changefeed's key.
    pub fn new(key: &FingerprintKey) -> MaintainerDiagnoser {
        MaintainerDiagnoser {
            key: *key,
            diagnoses: HashMap::new(),
        }
    }

    /// Answers a node's request with the expected sketch, and decodes the node's sketch against
    /// it so the gate can name the IDs.
    pub fn on_request(
        &mut self,
        request: &SketchRequest,
        tracker: &ExpectedSetTracker,
        sketches: &ExpectedSketches,
    ) -> SketchResponse {
        let expected = sketches.sketch(request.node).to_bytes();
        let seq = tracker.seq(request.node).unwrap_or(0);
        let diagnosis = Diagnosis {
            node: request.node,
            mode: request.mode,
            epoch: tracker.epoch(),
            seq,
            result: decode(&self.key, &expected, &request.sketch),
        };
        self.diagnoses
            .insert((request.node, request.mode), diagnosis);
        SketchResponse {
            node: request.node,
            mode: request.mode,
            epoch: tracker.epoch(),
            seq,
            sketch: expected,
        }
    }

    /// The latest diagnosis of a node's mode.
    pub fn diagnosis(&self, node: NodeId, mode: Mode) -> Option<&Diagnosis> {
        self.diagnoses.get(&(node, mode))
    }

    /// Forgets a node (it left, or its set changed so much the diagnosis is moot).
    pub fn forget(&mut self, node: NodeId) {
        self.diagnoses.retain(|(n, _), _| *n != node);
    }

    /// The gate's decision in words, naming the dispatchers of a held node when a diagnosis
    /// exists: `hold: node-3 (mode default): dispatcher set checksum is MISMATCH; diagnosed ...`.
    pub fn describe_decision(&self, decision: &GateDecision) -> String {
        match decision {
            GateDecision::Hold { node, mode, .. } => match self.diagnosis(*node, *mode) {
                Some(diagnosis) => format!("{decision}; diagnosed {diagnosis}"),
                None => decision.to_string(),
            },
            _ => decision.to_string(),
        }
    }
}

fn mode_from_wire(number: i64, message: &str) -> Result<Mode, crate::wire::WireError> {
    Mode::from_wire(number).ok_or_else(|| crate::wire::WireError {
        message: format!("{message}: mode {number} is neither 0 (default) nor 1 (redo)"),
    })
}

fn changefeed_from_wire(
    changefeed: &Option<crate::wire::ChangefeedIdMessage>,
    message: &str,
) -> Result<crate::protocol::ChangefeedId, crate::wire::WireError> {
    changefeed
        .clone()
        .map(Into::into)
        .ok_or_else(|| crate::wire::WireError {
            message: format!("{message}: changefeedID (field 1) is missing"),
        })
}

/// Stamps `to_wire` / `from_wire` for a sketch message: the request and the response carry the
/// same fields (node, mode, expected version, sketch bytes) in messages of the same shape.
macro_rules! sketch_wire_conversions {
    ($message:ident, $wire:ident) => {
        impl $message {
            #[doc = concat!("The wire message (`", stringify!($wire), "`).")]
            pub fn to_wire(
                &self,
                changefeed: &crate::protocol::ChangefeedId,
            ) -> crate::wire::$wire {
                crate::wire::$wire {
                    changefeed_id: Some(changefeed.into()),
                    epoch: self.epoch,
                    mode: self.mode.wire(),
                    seq: self.seq,
                    node: self.node.0,
                    sketch: self.sketch.clone(),
                }
            }

            /// The message a wire message carries, with its changefeed.
            pub fn from_wire(
                message: &crate::wire::$wire,
            ) -> Result<(crate::protocol::ChangefeedId, $message), crate::wire::WireError> {
                const NAME: &str = stringify!($wire);
                Ok((
                    changefeed_from_wire(&message.changefeed_id, NAME)?,
                    $message {
                        node: NodeId(message.node),
                        mode: mode_from_wire(message.mode, NAME)?,
                        epoch: message.epoch,
                        seq: message.seq,
                        sketch: message.sketch.clone(),
                    },
                ))
            }
        }
    };
}

sketch_wire_conversions!(SketchRequest, DispatcherSetSketchRequest);
sketch_wire_conversions!(SketchResponse, DispatcherSetSketchResponse);
