//! The difference sketch in the protocol, end to end: a node that silently loses or keeps a
//! dispatcher stays MISMATCH, asks for the maintainer's sketch after the threshold, and both its
//! log and the gate's blocked reason name exactly the planted IDs, in every seeded run.
//!
//! Each run drives the protocol's real parts (tracker with `ExpectedSketches` beside it,
//! verifiers over `SketchedActualSet`, the checkpoint gate) through a random history of adds,
//! removes, moves and lifecycle changes that every node follows faithfully, then plants the fault
//! on one node: it silently drops one to three dispatchers it should run, keeps one to three that
//! were moved away from it, or both.

use dispatcher_checksum::diagnosis::exchange::{
    DiagnosisConfig, ExpectedSketches, MaintainerDiagnoser, NodeDiagnoser, SketchedActualSet,
};
use dispatcher_checksum::keyed::FingerprintKey;
use dispatcher_checksum::protocol::{
    ActualSet, ChangefeedId, CheckpointGate, ChecksumHeartbeat, ChecksumState,
    DispatcherSetVerifier, ExpectedSetTracker, GateDecision, Mode, NodeId, TrackerConfig,
    VerifierConfig,
};
use dispatcher_checksum::{ComponentState, DispatcherId};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const NODES: u32 = 4;
const RUNS: u64 = 200;

struct Node {
    verifier: DispatcherSetVerifier<SketchedActualSet>,
    diagnoser: NodeDiagnoser,
    /// What the node really runs (the test's truth).
    running: BTreeSet<DispatcherId>,
}

struct Run {
    tracker: ExpectedSetTracker,
    sketches: ExpectedSketches,
    maintainer: MaintainerDiagnoser,
    gate: CheckpointGate,
    nodes: BTreeMap<NodeId, Node>,
    rng: ChaCha8Rng,
    now: Duration,
}

fn fresh_id(rng: &mut ChaCha8Rng) -> DispatcherId {
    DispatcherId::new(rng.random(), rng.random())
}

impl Run {
    fn new(seed: u64) -> Run {
        let rng = ChaCha8Rng::seed_from_u64(seed);
        let key = FingerprintKey::new(u128::from(seed) << 64 | 0xd1a9);
        let config = DiagnosisConfig::default();
        let ids: Vec<NodeId> = (1..=NODES).map(NodeId).collect();
        let mut nodes = BTreeMap::new();
        for node in &ids {
            nodes.insert(
                *node,
                Node {
                    verifier: DispatcherSetVerifier::with_actual_set(
                        Mode::Default,
                        VerifierConfig::default(),
                        SketchedActualSet::new(&key, config.shape),
                    ),
                    diagnoser: NodeDiagnoser::new(*node, Mode::Default, &key, config),
                    running: BTreeSet::new(),
                },
            );
        }
        let mut run = Run {
            tracker: ExpectedSetTracker::new(
                ChangefeedId::new(seed, 1, "diagnosed", "default"),
                Mode::Default,
                TrackerConfig::default(),
            ),
            sketches: ExpectedSketches::new(&key, config.shape),
            maintainer: MaintainerDiagnoser::new(&key),
            gate: CheckpointGate::new(),
            nodes,
            rng,
            now: Duration::ZERO,
        };
        let mut expected: BTreeMap<NodeId, Vec<DispatcherId>> = BTreeMap::new();
        for _ in 0..300 {
            let node = *ids.choose(&mut run.rng).expect("nodes");
            expected
                .entry(node)
                .or_default()
                .push(fresh_id(&mut run.rng));
        }
        let report = run.tracker.reset_full(1, &ids, expected.clone(), run.now);
        run.sketches.rebuild(&run.tracker);
        for update in report.updates {
            let node = run.nodes.get_mut(&update.node).expect("known node");
            node.verifier
                .apply_update(update.epoch, update.seq, update.fingerprint);
        }
        for (node, ids) in expected {
            for id in ids {
                run.start(node, id);
            }
        }
        run
    }

    /// The node starts running `id`, sometimes passing through Initializing first.
    fn start(&mut self, node: NodeId, id: DispatcherId) {
        let initializing = self.rng.random_bool(0.3);
        let node = self.nodes.get_mut(&node).expect("known node");
        let actual = node.verifier.actual_set_mut();
        if initializing {
            actual.on_dispatcher_added(id, ComponentState::Initializing);
            actual.on_state_changed(id, ComponentState::Working);
        } else {
            actual.on_dispatcher_added(id, ComponentState::Working);
        }
        node.running.insert(id);
    }

    fn stop(&mut self, node: NodeId, id: DispatcherId) {
        let node = self.nodes.get_mut(&node).expect("known node");
        node.verifier.actual_set_mut().on_dispatcher_removed(id);
        node.running.remove(&id);
    }

    fn flush(&mut self) {
        for update in self.tracker.flush_dirty(self.now) {
            let node = self.nodes.get_mut(&update.node).expect("known node");
            node.verifier
                .apply_update(update.epoch, update.seq, update.fingerprint);
        }
    }

    fn owned(&self, node: NodeId) -> Vec<DispatcherId> {
        let mut ids = self.tracker.ids_owned_by(node);
        ids.sort();
        ids
    }

    /// One faithful operator step: add, remove or move, applied by maintainer and nodes alike.
    fn step(&mut self) {
        let nodes: Vec<NodeId> = self.nodes.keys().copied().collect();
        let node = *nodes.choose(&mut self.rng).expect("nodes");
        match self.rng.random_range(0..3) {
            0 => {
                let ids: Vec<DispatcherId> = (0..self.rng.random_range(1..5))
                    .map(|_| fresh_id(&mut self.rng))
                    .collect();
                self.sketches
                    .apply_delta(&mut self.tracker, node, &ids, &[]);
                for id in ids {
                    self.start(node, id);
                }
            }
            1 => {
                let owned = self.owned(node);
                let ids: Vec<DispatcherId> =
                    owned.choose_multiple(&mut self.rng, 3).copied().collect();
                self.sketches
                    .apply_delta(&mut self.tracker, node, &[], &ids);
                for id in ids {
                    self.stop(node, id);
                }
            }
            _ => {
                let to = *nodes.choose(&mut self.rng).expect("nodes");
                let owned = self.owned(node);
                let ids: Vec<DispatcherId> =
                    owned.choose_multiple(&mut self.rng, 3).copied().collect();
                self.sketches.apply_delta(&mut self.tracker, to, &ids, &[]);
                if to != node {
                    for id in ids {
                        self.stop(node, id);
                        self.start(to, id);
                    }
                }
            }
        }
        self.flush();
    }

    /// Heartbeats every 10 s until every node has asked, been answered and logged; returns the
    /// nodes' log lines and the gate's explanation at the end.
    fn heartbeats(&mut self, rounds: usize) -> (Vec<String>, String) {
        let mut logs = Vec::new();
        let required: Vec<(NodeId, Mode)> = self
            .nodes
            .keys()
            .map(|node| (*node, Mode::Default))
            .collect();
        let mut decision = GateDecision::NothingRequired;
        for _ in 0..rounds {
            self.now += Duration::from_secs(10);
            let node_ids: Vec<NodeId> = self.nodes.keys().copied().collect();
            for id in node_ids {
                let node = self.nodes.get_mut(&id).expect("known node");
                let verdict = node.verifier.verify(self.now);
                self.gate.observe(&ChecksumHeartbeat {
                    node: id,
                    incarnation: 1,
                    mode: Mode::Default,
                    seq: verdict.heartbeat_seq,
                    state: verdict.state,
                    state_seq: verdict.state_seq,
                    watermark: verdict.carries_watermark.then_some(100),
                    verified_against: verdict.verified_against,
                    actual: None,
                });
                if let Some(request) =
                    node.diagnoser
                        .observe(&verdict, node.verifier.actual_set(), self.now)
                {
                    let response =
                        self.maintainer
                            .on_request(&request, &self.tracker, &self.sketches);
                    let diagnosis = node
                        .diagnoser
                        .on_response(&response, node.verifier.actual_set());
                    logs.push(format!("node log: {diagnosis}"));
                }
            }
            decision = self.gate.decide(&required);
        }
        (logs, self.maintainer.describe_decision(&decision))
    }
}

#[test]
fn the_diagnosis_names_exactly_the_planted_ids_in_every_run() {
    let mut exact = 0;
    for seed in 0..RUNS {
        let mut run = Run::new(seed);
        for _ in 0..30 {
            run.step();
        }
        // Faithful so far: every node MATCHes and nobody asks.
        let (logs, explanation) = run.heartbeats(5);
        assert!(logs.is_empty(), "seed {seed}: {logs:?}");
        assert!(
            explanation.starts_with("advance"),
            "seed {seed}: {explanation}"
        );

        // Plant the fault on one node.
        let nodes: Vec<NodeId> = run.nodes.keys().copied().collect();
        let victim = *nodes.choose(&mut run.rng).expect("nodes");
        let kind = run.rng.random_range(0..3);
        let mut lost = Vec::new();
        let mut kept = Vec::new();
        if kind != 1 {
            // Silently loses dispatchers it should run.
            let owned = run.owned(victim);
            let count = run.rng.random_range(1..=3);
            lost = owned
                .choose_multiple(&mut run.rng, count)
                .copied()
                .collect();
            for id in &lost {
                run.stop(victim, *id);
            }
        }
        if kind != 0 {
            // Keeps dispatchers that were moved away from it.
            let to = *nodes
                .iter()
                .find(|node| **node != victim)
                .expect("another node");
            let owned: Vec<DispatcherId> = run
                .owned(victim)
                .into_iter()
                .filter(|id| !lost.contains(id))
                .collect();
            let count = run.rng.random_range(1..=3);
            kept = owned
                .choose_multiple(&mut run.rng, count)
                .copied()
                .collect();
            run.sketches.apply_delta(&mut run.tracker, to, &kept, &[]);
            for id in &kept {
                run.start(to, *id);
            }
            run.flush();
        }
        lost.sort();
        kept.sort();

        let (logs, explanation) = run.heartbeats(5);
        assert_eq!(
            logs.len(),
            1,
            "seed {seed}: one request after 30 s: {logs:?}"
        );
        let node = &run.nodes[&victim];
        let diagnosis = node.diagnoser.latest().expect("diagnosed");
        let difference = diagnosis.result.as_ref().expect("decoded");
        assert_eq!(difference.missing, lost, "seed {seed}");
        assert_eq!(difference.extra, kept, "seed {seed}");
        let maintainer_view = run
            .maintainer
            .diagnosis(victim, Mode::Default)
            .expect("maintainer diagnosed");
        assert_eq!(maintainer_view.result, diagnosis.result, "seed {seed}");
        assert!(
            explanation.starts_with(&format!("hold: {victim}")),
            "seed {seed}: {explanation}"
        );
        for id in lost.iter().chain(&kept) {
            assert!(
                logs[0].contains(&id.to_string()),
                "seed {seed}: {}",
                logs[0]
            );
            assert!(
                explanation.contains(&id.to_string()),
                "seed {seed}: {explanation}"
            );
        }
        assert_eq!(
            node.verifier.runtime().state,
            ChecksumState::Mismatch,
            "seed {seed}"
        );
        // The truth agrees: what the node runs is exactly expected - lost + kept.
        let mut truth: BTreeSet<DispatcherId> = run.owned(victim).into_iter().collect();
        for id in &lost {
            truth.remove(id);
        }
        truth.extend(kept.iter().copied());
        assert_eq!(truth, node.running, "seed {seed}");
        exact += 1;
    }
    println!("diagnosis named exactly the planted IDs in {exact} of {RUNS} runs");
    assert_eq!(exact, RUNS);
}

#[test]
fn the_node_asks_again_only_after_request_every() {
    let mut run = Run::new(1000);
    let victim = NodeId(1);
    let owned = run.owned(victim);
    run.stop(victim, owned[0]);
    // 30 s threshold: asks at the 3rd or 4th heartbeat, then not again within 120 s.
    let (logs, explanation) = run.heartbeats(14);
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert!(explanation.contains(&owned[0].to_string()), "{explanation}");
    let (logs, _) = run.heartbeats(12);
    assert_eq!(logs.len(), 1, "asks again after 120 s: {logs:?}");
}

#[test]
fn the_sketch_messages_round_trip_on_the_wire_and_reject_bad_bytes() {
    use dispatcher_checksum::diagnosis::exchange::{SketchRequest, SketchResponse};
    use dispatcher_checksum::wire::{
        self, DispatcherSetSketchRequest, DispatcherSetSketchResponse,
    };
    use prost::Message;

    let mut run = Run::new(7);
    let victim = NodeId(2);
    let owned = run.owned(victim);
    run.stop(victim, owned[0]);
    let node = &run.nodes[&victim];
    let changefeed = ChangefeedId::new(7, 1, "diagnosed", "default");
    let request = SketchRequest {
        node: victim,
        mode: Mode::Redo,
        epoch: 3,
        seq: 9,
        sketch: node.verifier.actual_set().sketch().to_bytes(),
    };
    let bytes = request.to_wire(&changefeed).encode_to_vec();
    // The sketch dominates: 4,080 bytes plus a few dozen of framing.
    assert!(bytes.len() > 4080 && bytes.len() < 4180, "{}", bytes.len());
    let decoded: DispatcherSetSketchRequest = wire::decode(&bytes).unwrap();
    assert_eq!(
        SketchRequest::from_wire(&decoded).unwrap(),
        (changefeed.clone(), request.clone())
    );

    let response = run
        .maintainer
        .on_request(&request, &run.tracker, &run.sketches);
    let bytes = response.to_wire(&changefeed).encode_to_vec();
    let decoded: DispatcherSetSketchResponse = wire::decode(&bytes).unwrap();
    assert_eq!(
        SketchResponse::from_wire(&decoded).unwrap(),
        (changefeed.clone(), response)
    );

    assert!(wire::decode::<DispatcherSetSketchRequest>(&[0xff, 0xff, 0xff]).is_err());
    let mut bad_mode = request.to_wire(&changefeed);
    bad_mode.mode = 7;
    assert!(SketchRequest::from_wire(&bad_mode).is_err());
    let mut no_changefeed = request.to_wire(&changefeed);
    no_changefeed.changefeed_id = None;
    assert!(SketchRequest::from_wire(&no_changefeed).is_err());
}
