//! The event loop of one seeded run: a queue of timed events (messages arriving, heartbeats,
//! lifecycle steps, maintainer periods, faults, operators), dispatched in time order, with ties
//! broken by the order they were scheduled, so a seed replays bit for bit.
//!
//! The checks run at every maintainer period, right after the checkpoint step (see
//! [`crate::checks`] for what each means); the MATCH-is-truthful check runs at each node
//! heartbeat, where the verdict is made.
//!
//! Apart from the loop: [`messages`] (what travels and what its arrival does), [`nemesis`]
//! (the faults), [`workload`] (the operators); the checks are [`crate::checks`], the network
//! [`crate::network`].

use crate::checks::liveness::{Liveness, QuietPoint};
use crate::checks::{
    checks_for, liveness_bound_ms, Check, CheckpointOf, ClusterView, Findings, Violation,
    ViolationKind,
};
use crate::config::{GateKind, SimConfig};
use crate::coordinator::Coordinator;
use crate::faults::{self, FaultKind};
use crate::maintainer::{short, Command, OperatorKind, Outbox, SimMaintainer};
use crate::network::{Delivery, Network, Script};
use crate::node::{Heartbeat, HeartbeatBody, MaintainerRef, NodeOutput, Reported, SimNode, Step};
use crate::rng::SimRng;
use crate::trace::Tracer;
use crate::world::{upstream_ts, World, ORIGIN_TS};
use crate::{RunMetrics, SeedOutcome};
use dispatcher_checksum::protocol::{
    ChangefeedId, ChecksumAck, ChecksumState, ChecksumUpdate, Mode, NodeId,
};
use dispatcher_checksum::{ComponentState, DispatcherId};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

mod messages;
mod nemesis;
mod workload;

use messages::{ToMaintainer, ToNode};

#[derive(Clone, Debug)]
enum Event {
    ToNode {
        node: NodeId,
        from: MaintainerRef,
        body: ToNode,
        reliable: bool,
    },
    ToMaintainer {
        instance: u64,
        /// Heartbeats and acks are addressed to a node, and go to whichever maintainer runs
        /// there when they arrive (row H6); bootstrap responses to the instance.
        by_host: Option<NodeId>,
        body: ToMaintainer,
        reliable: bool,
    },
    NodeHeartbeat {
        node: NodeId,
        incarnation: u64,
    },
    NodeStatusFlush {
        node: NodeId,
        incarnation: u64,
    },
    NodeStep {
        node: NodeId,
        incarnation: u64,
        step: Step,
    },
    NodeMergeCheck {
        node: NodeId,
        incarnation: u64,
    },
    MaintainerTick {
        instance: u64,
    },
    MaintainerStart {
        /// Where (`None`: a random live node).
        host: Option<NodeId>,
        /// A node not to pick at random, if another is live (a failed maintainer's).
        avoid: Option<NodeId>,
    },
    ZombieEnd {
        instance: u64,
    },
    Fault(FaultKind),
    WorkloadTick,
    NodeUp {
        node: NodeId,
    },
    Membership(Membership),
    FaultPhaseEnd,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Membership {
    Left { node: NodeId },
    Joined { node: NodeId },
}

pub(crate) struct Simulation<'a> {
    config: &'a SimConfig,
    seed: u64,
    now: u64,
    queue: BTreeMap<(u64, u64), Event>,
    serial: u64,
    workload_rng: SimRng,
    network_rng: SimRng,
    node_rng: SimRng,
    network: Network,
    world: World,
    modes: Vec<Mode>,
    nodes: BTreeMap<NodeId, SimNode>,
    down: BTreeSet<NodeId>,
    maintainer: Option<SimMaintainer>,
    zombies: Vec<SimMaintainer>,
    next_instance: u64,
    epoch: u64,
    /// The reference's changefeed epoch (renewed by an error restart only).
    reference_epoch: u64,
    /// Nodes whose maintainer failed: a failover stands for the node's loss (TiCDC would see it
    /// come back, if at all, under a new ID), so none of them hosts a maintainer again while
    /// another live node can.
    failed_hosts: BTreeSet<NodeId>,
    next_node: u32,
    /// What the coordinator keeps and persists of the maintainers' checkpoints.
    coordinator: Coordinator,
    last_reported: [Option<u64>; 2],
    changefeed: ChangefeedId,
    reliable_in_flight: usize,
    membership_pending: usize,
    violations: BTreeMap<ViolationKind, (Violation, usize)>,
    tracer: Tracer,
    fault_end: u64,
    quiet: Option<QuietPoint>,
    bound: u64,
    checks: Vec<Box<dyn Check>>,
    liveness: Liveness,
    metrics: RunMetrics,
    fault_counts: BTreeMap<FaultKind, u64>,
    operator_counts: BTreeMap<OperatorKind, u64>,
    watermark_always: bool,
}

/// How many absent spans a maintainer places per period.
const PLACE_BATCH: usize = 64;
/// How long after the fault phase a run may take to become quiet before that is a violation.
const QUIET_CAP_MS: u64 = 300_000;
/// An operator waiting for a node resends its command this often (the reference's throttle).
const OPERATOR_RESEND_MS: u64 = 10_000;

impl<'a> Simulation<'a> {
    pub(crate) fn new(config: &'a SimConfig, seed: u64) -> Simulation<'a> {
        let mut modes = vec![Mode::Default];
        if config.redo {
            modes.push(Mode::Redo);
        }
        let watermark_always = matches!(config.gate, GateKind::Explained | GateKind::None)
            || config.planted_bug.needs_watermark_always();
        let mut simulation = Simulation {
            config,
            seed,
            now: 0,
            queue: BTreeMap::new(),
            serial: 0,
            workload_rng: SimRng::new(seed, 0),
            network_rng: SimRng::new(seed, 1),
            node_rng: SimRng::new(seed, 2),
            network: Network::with_script(config.network, config.script.clone()),
            world: World::new(),
            modes,
            nodes: BTreeMap::new(),
            down: BTreeSet::new(),
            maintainer: None,
            zombies: Vec::new(),
            next_instance: 1,
            epoch: 0,
            reference_epoch: 1,
            failed_hosts: BTreeSet::new(),
            next_node: config.nodes.max(1) as u32,
            coordinator: Coordinator::new(ORIGIN_TS),
            last_reported: [Some(ORIGIN_TS), config.redo.then_some(ORIGIN_TS)],
            changefeed: ChangefeedId::new(seed, 0, "simulated", "default"),
            reliable_in_flight: 0,
            membership_pending: 0,
            violations: BTreeMap::new(),
            tracer: Tracer::new(config.trace),
            fault_end: config.fault_phase_ms,
            quiet: None,
            bound: liveness_bound_ms(&config.timing, &config.network),
            checks: checks_for(config.checks),
            liveness: Liveness::new(liveness_bound_ms(&config.timing, &config.network)),
            metrics: RunMetrics::default(),
            fault_counts: BTreeMap::new(),
            operator_counts: BTreeMap::new(),
            watermark_always,
        };
        simulation.setup();
        simulation
    }

    fn setup(&mut self) {
        let count = self.config.nodes.max(1) as u32;
        for n in 0..count {
            self.spawn_node(NodeId(n), 1);
        }
        let members: Vec<NodeId> = self.nodes.keys().copied().collect();
        for mode in self.modes.clone() {
            for _ in 0..self.config.dispatchers {
                let id = self.workload_rng.dispatcher_id();
                let node = *self.workload_rng.pick(&members).expect("a node");
                self.world.add(id, mode, ORIGIN_TS);
                let sim_node = self.nodes.get_mut(&node).expect("spawned");
                let output =
                    sim_node.create(id, mode, ORIGIN_TS, &self.config.timing, &mut self.node_rng);
                drop(output);
                sim_node.step(Step::Working(id));
            }
        }
        // The initial Working statuses were never reported: nobody was listening yet.
        for node in self.nodes.values_mut() {
            let _ = node.status_heartbeat(0, &self.changefeed);
        }
        self.schedule(
            0,
            Event::MaintainerStart {
                host: Some(NodeId(0)),
                avoid: None,
            },
        );
        for (at, kind) in faults::schedule(
            &self.config.faults,
            self.config.fault_phase_ms,
            &mut self.workload_rng,
        ) {
            self.schedule(at, Event::Fault(kind));
        }
        self.schedule(self.config.timing.maintainer_tick_ms, Event::WorkloadTick);
        self.schedule(self.config.fault_phase_ms, Event::FaultPhaseEnd);
    }

    fn spawn_node(&mut self, id: NodeId, incarnation: u64) {
        let node = SimNode::new(
            id,
            incarnation,
            self.config.protocol,
            &self.modes,
            self.watermark_always,
            self.config.planted_bug,
        );
        let mut node = node;
        node.now = self.now;
        self.nodes.insert(id, node);
        let phase = self
            .node_rng
            .inclusive(1, self.config.timing.heartbeat_ms.max(1));
        self.schedule(
            self.now + phase,
            Event::NodeHeartbeat {
                node: id,
                incarnation,
            },
        );
    }

    fn schedule(&mut self, at: u64, event: Event) {
        self.queue.insert((at, self.serial), event);
        self.serial += 1;
    }

    fn violation(&mut self, kind: ViolationKind, detail: impl FnOnce() -> String) {
        if self.violations.contains_key(&kind) {
            return;
        }
        let detail = detail();
        let (seed, at_ms) = (self.seed, self.now);
        self.tracer
            .log(at_ms, "check", || format!("VIOLATION {kind}: {detail}"));
        let index = self.tracer.len().saturating_sub(1);
        self.violations.insert(
            kind,
            (
                Violation {
                    kind,
                    seed,
                    at_ms,
                    detail,
                },
                index,
            ),
        );
    }

    /// Runs `judge` over a read-only view of the cluster and records what it finds.
    fn run_checks(
        &mut self,
        judge: impl FnOnce(&mut Vec<Box<dyn Check>>, &ClusterView<'_>, &mut Findings<'_>),
    ) {
        let mut checks = std::mem::take(&mut self.checks);
        let found = {
            let view = ClusterView {
                now: self.now,
                config: self.config,
                nodes: &self.nodes,
                maintainer: self.maintainer.as_ref(),
                persisted: [Mode::Default, Mode::Redo].map(|m| self.coordinator.persisted(m)),
            };
            let violations = &self.violations;
            let recorded = |kind| violations.contains_key(&kind);
            let mut found = Findings::new(&recorded);
            judge(&mut checks, &view, &mut found);
            found.into_found()
        };
        self.checks = checks;
        for (kind, detail) in found {
            self.violation(kind, || detail);
        }
    }

    /// Runs to the end (or to a decision the script lacks) and reports.
    pub(crate) fn run(mut self) -> (SeedOutcome, Tracer) {
        let cap = self.fault_end + QUIET_CAP_MS;
        let mut awaits_decision = None;
        while let Some(((at, _), event)) = self.queue.pop_first() {
            self.now = at;
            if let Some(quiet) = self.quiet {
                if at > quiet.at + self.bound + 2 * self.config.timing.heartbeat_ms {
                    break;
                }
            }
            if at > cap {
                let pending = self.what_is_pending();
                self.violation(ViolationKind::LivenessNeverQuiet, || {
                    format!("the workload never became quiet after the faults stopped: {pending}")
                });
                break;
            }
            self.dispatch(event);
            awaits_decision = self.network.script().and_then(Script::wants_decision);
            if awaits_decision.is_some() {
                break;
            }
        }
        let first_violation = self.violations.values().map(|(_, index)| *index).min();
        let outcome = SeedOutcome {
            seed: self.seed,
            violations: self.violations.into_values().map(|(v, _)| v).collect(),
            convergence_ms: self.liveness.converged_after(),
            quiet_at_ms: self.quiet.map(|q| q.at),
            faults: self.fault_counts,
            operators: self.operator_counts,
            network: self.network.stats(),
            metrics: self.metrics,
            simulated_ms: self.now,
            awaits_decision,
        };
        let _ = first_violation;
        (outcome, self.tracer)
    }

    fn dispatch(&mut self, event: Event) {
        match event {
            Event::ToNode {
                node,
                from,
                body,
                reliable,
            } => {
                if reliable {
                    self.reliable_in_flight -= 1;
                }
                self.node_receives(node, from, body);
            }
            Event::ToMaintainer {
                instance,
                by_host,
                body,
                reliable,
            } => {
                if reliable {
                    self.reliable_in_flight -= 1;
                }
                let instance = match by_host {
                    None => Some(instance),
                    Some(host) => self.instance_on(host),
                };
                if let Some(instance) = instance {
                    self.maintainer_receives(instance, body);
                }
            }
            Event::NodeHeartbeat { node, incarnation } => self.node_heartbeat(node, incarnation),
            Event::NodeStatusFlush { node, incarnation } => {
                let (now, changefeed) = (self.now, self.changefeed.clone());
                let Some(sim_node) = self.live_node(node, incarnation) else {
                    return;
                };
                if let Some(heartbeat) = sim_node.status_heartbeat(now, &changefeed) {
                    self.check_heartbeat(node);
                    self.send_heartbeat(node, heartbeat);
                }
            }
            Event::NodeStep {
                node,
                incarnation,
                step,
            } => {
                let Some(sim_node) = self.live_node(node, incarnation) else {
                    return;
                };
                let output = sim_node.step(step);
                self.node_output(node, incarnation, output);
            }
            Event::NodeMergeCheck { node, incarnation } => {
                let timing = self.config.timing;
                let Some(sim_node) = self
                    .nodes
                    .get_mut(&node)
                    .filter(|n| n.incarnation == incarnation)
                else {
                    return;
                };
                let output = sim_node.merge_check(&timing, &mut self.node_rng);
                self.node_output(node, incarnation, output);
            }
            Event::MaintainerTick { instance } => self.maintainer_tick(instance),
            Event::MaintainerStart { host, avoid } => self.start_maintainer(host, avoid),
            Event::ZombieEnd { instance } => {
                self.zombies.retain(|z| z.me.instance != instance);
                self.tracer.log(self.now, "maintainer", || {
                    format!("zombie maintainer#{instance} stops")
                });
            }
            Event::Fault(kind) => {
                if self.now >= self.fault_end {
                    return;
                }
                if self.inject(kind) {
                    *self.fault_counts.entry(kind).or_default() += 1;
                } else {
                    let retry = self.now + self.config.timing.maintainer_tick_ms;
                    self.schedule(retry, Event::Fault(kind));
                }
            }
            Event::WorkloadTick => self.workload_tick(),
            Event::NodeUp { node } => self.node_up(node),
            Event::Membership(change) => {
                self.membership_pending -= 1;
                self.membership(change);
            }
            Event::FaultPhaseEnd => {
                self.tracer.log(self.now, "check", || {
                    "the fault phase ends: no more operators or faults".to_string()
                });
            }
        }
    }

    fn live_node(&mut self, node: NodeId, incarnation: u64) -> Option<&mut SimNode> {
        let now = self.now;
        let node = self
            .nodes
            .get_mut(&node)
            .filter(|n| n.incarnation == incarnation)?;
        node.now = now;
        Some(node)
    }

    // ---- the maintainer ----------------------------------------------------------------------

    fn start_maintainer(&mut self, host: Option<NodeId>, avoid: Option<NodeId>) {
        let live: Vec<NodeId> = self
            .nodes
            .keys()
            .copied()
            .filter(|n| !self.down.contains(n))
            .collect();
        let eligible: Vec<NodeId> = live
            .iter()
            .copied()
            .filter(|n| Some(*n) != avoid && !self.failed_hosts.contains(n))
            .collect();
        let host = match host.filter(|h| live.contains(h)) {
            Some(host) => host,
            None => match self.workload_rng.pick(if eligible.is_empty() {
                &live
            } else {
                &eligible
            }) {
                Some(host) => *host,
                None => {
                    let retry = self.now + self.config.timing.maintainer_tick_ms;
                    self.schedule(retry, Event::MaintainerStart { host: None, avoid });
                    return;
                }
            },
        };
        // Ours: a new epoch for every maintainer (a timestamp taken at its start). The
        // reference: the changefeed's epoch, which a failover or a move keeps and an error
        // restart renews.
        let epoch = if self.config.protocol.epoch_per_maintainer() {
            self.epoch += 1;
            self.epoch
        } else {
            self.reference_epoch
        };
        let me = MaintainerRef {
            instance: self.next_instance,
            host,
            epoch,
        };
        self.next_instance += 1;
        let members: BTreeSet<NodeId> = live.into_iter().collect();
        let (maintainer, outbox) = SimMaintainer::start(
            me,
            members,
            self.config,
            self.changefeed.clone(),
            self.coordinator.status(),
            self.now,
        );
        self.tracer.log(self.now, "maintainer", || {
            format!("{} starts, bootstrapping every node", maintainer.describe())
        });
        self.maintainer = Some(maintainer);
        self.send_outbox(me, outbox);
        let tick = self.now + self.config.timing.maintainer_tick_ms;
        self.schedule(
            tick,
            Event::MaintainerTick {
                instance: me.instance,
            },
        );
    }

    fn maintainer_tick(&mut self, instance: u64) {
        let now = self.now;
        let timing = self.config.timing;
        let is_current = self
            .maintainer
            .as_ref()
            .is_some_and(|m| m.me.instance == instance);
        let is_zombie = self.zombies.iter().any(|z| z.me.instance == instance);
        if !is_current && !is_zombie {
            return;
        }
        self.schedule(
            now + timing.maintainer_tick_ms,
            Event::MaintainerTick { instance },
        );
        let maintainer = if is_current {
            self.maintainer.as_mut().expect("current")
        } else {
            self.zombies
                .iter_mut()
                .find(|z| z.me.instance == instance)
                .expect("zombie")
        };
        let me = maintainer.me;
        // A zombie's operators change nothing real (see `maintainer_receives`).
        let mut scratch = World::new();
        let world = if is_current {
            &mut self.world
        } else {
            &mut scratch
        };
        let outbox = maintainer.tick(
            now,
            OPERATOR_RESEND_MS,
            PLACE_BATCH,
            world,
            &mut self.workload_rng,
            &mut self.tracer,
        );
        self.send_outbox(me, outbox);
        if is_current {
            self.checkpoint_step();
        }
    }

    fn checkpoint_step(&mut self) {
        let now = self.now;
        let Some(maintainer) = self.maintainer.as_mut() else {
            return;
        };
        if !maintainer.bootstrapped() {
            return;
        }
        let report = maintainer.checkpoint_step();
        let in_fault_phase = now < self.fault_end;
        if in_fault_phase {
            self.metrics.fault_ticks += 1;
            if report.held_by_gate {
                self.metrics.held_ticks += 1;
            }
        }
        let modes = self.modes.clone();
        for mode in &modes {
            let Some(checkpoint) = report.checkpoint[*mode as usize] else {
                continue;
            };
            if let Some(last) = self.last_reported[*mode as usize] {
                if checkpoint < last {
                    // An observation, not a violation: the coordinator keeps a status only when
                    // its checkpoint is not smaller and saves only a larger one
                    // (`coordinator/changefeed/changefeed.go` `UpdateStatus`,
                    // `coordinator/coordinator.go` `saveCheckpointTs`), so a dip reaches metrics
                    // and logs, not what a restart resumes from.
                    self.metrics.internal_dips += 1;
                    self.metrics.deepest_dip = self.metrics.deepest_dip.max(last - checkpoint);
                }
                if checkpoint != last {
                    self.tracer.log(now, "maintainer", || {
                        format!("checkpoint ({mode}) {last} -> {checkpoint}")
                    });
                }
            }
            self.last_reported[*mode as usize] = Some(checkpoint);
            let (before, persisted) =
                self.coordinator
                    .report(*mode, checkpoint, self.config.planted_bug);
            let judged = maintainer_judged(self.maintainer.as_ref(), *mode, &modes);
            let slowest = self.world.slowest_of(&judged);
            if let (Some((progress, _)), true) = (slowest, in_fault_phase) {
                self.metrics
                    .lag_slowest
                    .push(progress.saturating_sub(checkpoint));
                self.metrics
                    .lag_now
                    .push(upstream_ts(now).saturating_sub(checkpoint));
                if self.config.not_match_series {
                    let running = self.nodes.values().filter(|n| n.modes().contains(mode));
                    let not_match = running
                        .clone()
                        .filter(|n| n.verdicts[*mode as usize] != ChecksumState::Match);
                    let (running, not_match) = (running.count() as u32, not_match.count() as u32);
                    self.metrics.not_match.push((now, running, not_match));
                }
            }
            let step = CheckpointOf {
                mode: *mode,
                reported: checkpoint,
                persisted_before: before,
                persisted,
                slowest,
            };
            self.run_checks(|checks, view, found| {
                for check in checks.iter_mut() {
                    check.after_checkpoint(view, &step, found);
                }
            });
        }
        self.run_checks(|checks, view, found| {
            for check in checks.iter_mut() {
                check.after_step(view, report.gate_open, found);
            }
        });
        if self.all_nodes_match() {
            self.tracer.mark_all_match();
        }
        self.liveness();
    }

    fn all_nodes_match(&self) -> bool {
        self.nodes.values().all(|n| {
            n.modes()
                .iter()
                .all(|m| n.verdicts[*m as usize] == ChecksumState::Match)
        })
    }

    // ---- checks ------------------------------------------------------------------------------

    fn check_heartbeat(&mut self, node: NodeId) {
        self.run_checks(|checks, view, found| {
            for check in checks.iter_mut() {
                check.after_heartbeat(view, node, found);
            }
        });
    }

    /// Finds the quiet point once the faults stopped (from it on nothing is lost or duplicated),
    /// then judges liveness after every step.
    fn liveness(&mut self) {
        if self.now < self.fault_end {
            return;
        }
        let Some(quiet) = self.quiet else {
            if self.is_quiet() {
                self.network.set_lossy_faults(false);
                let target = self
                    .nodes
                    .values()
                    .flat_map(|n| n.dispatchers.values().map(|d| d.checkpoint))
                    .min();
                self.quiet = Some(QuietPoint {
                    at: self.now,
                    target,
                });
                self.tracer.log(self.now, "check", || format!("quiet point: no loss or duplication from here; the checkpoint must reach {target:?}"));
            }
            return;
        };
        let mut liveness = self.liveness;
        let (reported, modes) = (self.last_reported, self.modes.clone());
        self.run_checks(|_, view, found| liveness.judge(view, quiet, reported, &modes, found));
        self.liveness = liveness;
    }

    fn what_is_pending(&self) -> String {
        let mut pending = Vec::new();
        match &self.maintainer {
            None => pending.push("no maintainer".to_string()),
            Some(m) if !m.bootstrapped() => {
                pending.push(format!("{} still bootstrapping", m.describe()))
            }
            Some(m) => {
                if m.operators_in_flight() > 0 {
                    pending.push(format!(
                        "{} operators in flight ({})",
                        m.operators_in_flight(),
                        m.describe_operators()
                    ));
                }
                let unplaced = m
                    .spans
                    .values()
                    .filter(|v| v.status != crate::maintainer::SpanStatus::Replicating)
                    .count();
                if unplaced > 0 {
                    pending.push(format!("{unplaced} spans not replicating"));
                }
                if let Some(difference) = m.difference_from(&self.runs()) {
                    pending.push(format!(
                        "the scheduler's view differs from what the nodes run: {difference}"
                    ));
                }
                let strangers: Vec<String> = self
                    .nodes
                    .keys()
                    .filter(|n| !m.members.contains(n))
                    .map(|n| n.to_string())
                    .collect();
                if !strangers.is_empty() {
                    pending.push(format!(
                        "nodes the maintainer does not know: {}",
                        strangers.join(", ")
                    ));
                }
            }
        }
        if !self.zombies.is_empty() {
            pending.push(format!("{} zombies", self.zombies.len()));
        }
        if !self.down.is_empty() {
            pending.push(format!("{} nodes down", self.down.len()));
        }
        if self.reliable_in_flight > 0 {
            pending.push(format!("{} commands in flight", self.reliable_in_flight));
        }
        if self.membership_pending > 0 {
            pending.push(format!(
                "{} membership changes pending",
                self.membership_pending
            ));
        }
        for (id, node) in &self.nodes {
            if !node.settled() {
                let unsettled: Vec<String> = node
                    .dispatchers
                    .iter()
                    .filter(|(_, d)| d.state != ComponentState::Working || d.closing)
                    .take(3)
                    .map(|(x, d)| {
                        format!(
                            "{} {}{}",
                            short(*x),
                            d.state,
                            if d.closing { " closing" } else { "" }
                        )
                    })
                    .collect();
                pending.push(format!("{id} not settled [{}]", unsettled.join(", ")));
            }
        }
        pending.join("; ")
    }

    fn is_quiet(&self) -> bool {
        let Some(maintainer) = &self.maintainer else {
            return false;
        };
        maintainer.bootstrapped()
            && self.zombies.is_empty()
            && maintainer.idle()
            && self.down.is_empty()
            && self.reliable_in_flight == 0
            && self.membership_pending == 0
            && self.nodes.values().all(SimNode::settled)
            && self.nodes.keys().all(|n| maintainer.members.contains(n))
            && maintainer.consistent_with(&self.runs())
    }

    /// What every node runs.
    fn runs(&self) -> BTreeMap<NodeId, BTreeSet<DispatcherId>> {
        self.nodes
            .iter()
            .map(|(id, node)| (*id, node.dispatchers.keys().copied().collect()))
            .collect()
    }
}

/// The modes whose progress bounds the checkpoint of `mode` (all of them without a
/// maintainer).
fn maintainer_judged(maintainer: Option<&SimMaintainer>, mode: Mode, modes: &[Mode]) -> Vec<Mode> {
    match maintainer {
        Some(maintainer) => maintainer.side.judged_with(mode, modes),
        None => modes.to_vec(),
    }
}
