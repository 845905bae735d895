//! The event loop of one seeded run: a queue of timed events (messages arriving, heartbeats,
//! lifecycle steps, maintainer periods, faults, operators), dispatched in time order, with ties
//! broken by the order they were scheduled, so a seed replays bit for bit.
//!
//! The checks run at every maintainer period, right after the checkpoint step (see
//! [`crate::checks`] for what each means); the MATCH-is-truthful check runs at each node
//! heartbeat, where the verdict is made.

use crate::checks::liveness::{Liveness, QuietPoint};
use crate::checks::{
    checks_for, liveness_bound_ms, Check, CheckpointOf, ClusterView, Findings, Violation,
    ViolationKind,
};
use crate::config::{GateKind, SimConfig};
use crate::faults::{self, FaultKind};
use crate::maintainer::{short, Command, OperatorKind, Outbox, SimMaintainer};
use crate::network::{Delivery, Network};
use crate::node::{Heartbeat, HeartbeatBody, MaintainerRef, NodeOutput, Reported, SimNode, Step};
use crate::planted::PlantedBug;
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

/// What a message to a node carries.
#[derive(Clone, Debug)]
enum ToNode {
    Bootstrap,
    Update(ChecksumUpdate, Option<Rc<BTreeSet<DispatcherId>>>),
    Create {
        id: DispatcherId,
        mode: Mode,
        start_ts: u64,
    },
    Remove {
        id: DispatcherId,
        mode: Mode,
    },
    Merge {
        sources: Vec<DispatcherId>,
        merged: DispatcherId,
        mode: Mode,
    },
}

/// What a message to a maintainer carries.
#[derive(Clone, Debug)]
enum ToMaintainer {
    BootstrapResponse {
        node: NodeId,
        /// The answering process, so a restart after the answer is not mistaken for the
        /// process the maintainer built its view from.
        incarnation: u64,
        reported: Vec<Reported>,
    },
    Ack(ChecksumAck),
    Heartbeat(Box<Heartbeat>),
}

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
    /// Per mode, the highest checkpoint any maintainer reported (what the coordinator persists).
    persisted: [u64; 2],
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
            network: Network::new(config.network),
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
            persisted: [ORIGIN_TS; 2],
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

    /// Runs to the end and reports.
    pub(crate) fn run(mut self) -> (SeedOutcome, Tracer) {
        let cap = self.fault_end + QUIET_CAP_MS;
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

    // ---- messages ----------------------------------------------------------------------------

    fn send_to_node(&mut self, node: NodeId, from: MaintainerRef, body: ToNode) {
        let reliable = !matches!(body, ToNode::Update(..));
        let delivery = if reliable {
            Delivery::Reliable
        } else {
            Delivery::Lossy
        };
        if let ToNode::Update(update, _) = &body {
            if self.now < self.fault_end {
                self.metrics.updates_sent += 1;
            }
            self.tracer.log(self.now, "maintainer", || {
                format!(
                    "-> {node}: update {} seq {} ({} IDs)",
                    update.mode, update.seq, update.fingerprint.count
                )
            });
        }
        for at in self
            .network
            .arrivals(self.now, delivery, &mut self.network_rng)
            .times()
        {
            if reliable {
                self.reliable_in_flight += 1;
            }
            self.schedule(
                at,
                Event::ToNode {
                    node,
                    from,
                    body: body.clone(),
                    reliable,
                },
            );
        }
    }

    /// The maintainer of the changefeed running on `host` now (the current one, else the
    /// newest zombie there): where TiCDC delivers what a node addresses to that node
    /// (`downstreamadapter/dispatchermanager/task.go` sends heartbeats to the maintainer's node
    /// ID; acks answer the sender node).
    fn instance_on(&self, host: NodeId) -> Option<u64> {
        match &self.maintainer {
            Some(current) if current.me.host == host => Some(current.me.instance),
            _ => self
                .zombies
                .iter()
                .rev()
                .find(|z| z.me.host == host)
                .map(|z| z.me.instance),
        }
    }

    fn send_to_maintainer(&mut self, instance: u64, by_host: Option<NodeId>, body: ToMaintainer) {
        let reliable = matches!(body, ToMaintainer::BootstrapResponse { .. });
        let delivery = if reliable {
            Delivery::Reliable
        } else {
            Delivery::Lossy
        };
        for at in self
            .network
            .arrivals(self.now, delivery, &mut self.network_rng)
            .times()
        {
            if reliable {
                self.reliable_in_flight += 1;
            }
            self.schedule(
                at,
                Event::ToMaintainer {
                    instance,
                    by_host,
                    body: body.clone(),
                    reliable,
                },
            );
        }
    }

    fn send_outbox(&mut self, from: MaintainerRef, outbox: Outbox) {
        for command in outbox.commands {
            let (node, body) = match command {
                Command::Bootstrap { node } => (node, ToNode::Bootstrap),
                Command::Create {
                    node,
                    id,
                    mode,
                    start_ts,
                } => (node, ToNode::Create { id, mode, start_ts }),
                Command::Remove { node, id, mode } => (node, ToNode::Remove { id, mode }),
                Command::Merge {
                    node,
                    sources,
                    merged,
                    mode,
                } => (
                    node,
                    ToNode::Merge {
                        sources,
                        merged,
                        mode,
                    },
                ),
            };
            self.send_to_node(node, from, body);
        }
        for (update, oracle) in outbox.updates {
            self.send_to_node(update.node, from, ToNode::Update(update, oracle));
        }
    }

    fn node_receives(&mut self, node: NodeId, from: MaintainerRef, body: ToNode) {
        if self.down.contains(&node) {
            return;
        }
        let timing = self.config.timing;
        let now = self.now;
        let Some(sim_node) = self.nodes.get_mut(&node) else {
            return;
        };
        sim_node.now = now;
        let incarnation = sim_node.incarnation;
        let command = matches!(
            body,
            ToNode::Create { .. } | ToNode::Remove { .. } | ToNode::Merge { .. }
        );
        if command && sim_node.fences(from) {
            self.tracer.log(now, node, || {
                format!(
                    "drops a command from maintainer#{} (epoch {}): it follows a newer one",
                    from.instance, from.epoch
                )
            });
            return;
        }
        let output = match body {
            ToNode::Bootstrap => {
                let reported = sim_node.bootstrap(from);
                let incarnation = sim_node.incarnation;
                self.tracer.log(now, node, || {
                    format!(
                        "bootstrap from {} (epoch {} on {}): follows it",
                        from.instance, from.epoch, from.host
                    )
                });
                self.send_to_maintainer(
                    from.instance,
                    None,
                    ToMaintainer::BootstrapResponse {
                        node,
                        incarnation,
                        reported,
                    },
                );
                NodeOutput::default()
            }
            ToNode::Update(update, oracle) => {
                let ack = sim_node.update(from, &update, oracle);
                let held = sim_node.held_version(update.mode);
                self.tracer.log(now, node, || {
                    format!(
                        "update {} seq {} from maintainer#{}: {} (holds {:?})",
                        update.mode,
                        update.seq,
                        from.instance,
                        if ack.is_some() {
                            "applied/acked"
                        } else {
                            "dropped"
                        },
                        held.map(|v| (v.epoch, v.seq))
                    )
                });
                NodeOutput {
                    acks: ack.into_iter().collect(),
                    ..NodeOutput::default()
                }
            }
            ToNode::Create { id, mode, start_ts } => {
                self.tracer
                    .log(now, node, || format!("create {} at {start_ts}", short(id)));
                sim_node.create(id, mode, start_ts, &timing, &mut self.node_rng)
            }
            ToNode::Remove { id, mode } => {
                self.tracer
                    .log(now, node, || format!("remove {}", short(id)));
                sim_node.remove(id, mode, now, &timing, &mut self.node_rng)
            }
            ToNode::Merge {
                sources,
                merged,
                mode,
            } => {
                self.tracer
                    .log(now, node, || format!("merge into {}", short(merged)));
                sim_node.merge(&sources, merged, mode, &timing, &mut self.node_rng)
            }
        };
        // Acks go to the maintainer that sent the update.
        for ack in output.acks.clone() {
            self.send_to_maintainer(from.instance, Some(from.host), ToMaintainer::Ack(ack));
        }
        self.node_output(
            node,
            incarnation,
            NodeOutput {
                acks: Vec::new(),
                ..output
            },
        );
    }

    fn node_output(&mut self, node: NodeId, incarnation: u64, output: NodeOutput) {
        for (delay, step) in output.steps {
            self.schedule(
                self.now + delay,
                Event::NodeStep {
                    node,
                    incarnation,
                    step,
                },
            );
        }
        if output.status_flush {
            self.schedule(
                self.now + self.config.timing.status_batch_ms,
                Event::NodeStatusFlush { node, incarnation },
            );
        }
        if output.merge_check {
            self.schedule(
                self.now + self.config.timing.merge_check_ms,
                Event::NodeMergeCheck { node, incarnation },
            );
        }
    }

    fn node_heartbeat(&mut self, node: NodeId, incarnation: u64) {
        let timing = self.config.timing;
        let now = self.now;
        let Some(sim_node) = self
            .nodes
            .get_mut(&node)
            .filter(|n| n.incarnation == incarnation)
        else {
            return;
        };
        sim_node.now = now;
        let heartbeat = sim_node.periodic_heartbeat(
            now,
            &self.changefeed,
            &timing,
            &mut self.world,
            &mut self.node_rng,
        );
        self.schedule(
            now + timing.heartbeat_ms,
            Event::NodeHeartbeat { node, incarnation },
        );
        self.check_heartbeat(node);
        if let Some(sim_node) = self.nodes.get_mut(&node) {
            sim_node.now = now;
            sim_node.delete_closed();
        }
        self.send_heartbeat(node, heartbeat);
    }

    fn send_heartbeat(&mut self, node: NodeId, heartbeat: Heartbeat) {
        let Some(target) = self.nodes.get(&node).and_then(|n| n.follows) else {
            return;
        };
        self.tracer
            .log(self.now, node, || describe_heartbeat(&heartbeat));
        self.send_to_maintainer(
            target.instance,
            Some(target.host),
            ToMaintainer::Heartbeat(Box::new(heartbeat)),
        );
    }

    fn maintainer_receives(&mut self, instance: u64, body: ToMaintainer) {
        let now = self.now;
        let is_current = self
            .maintainer
            .as_ref()
            .is_some_and(|m| m.me.instance == instance);
        // A zombie's operators finishing change nothing real: what the changefeed must replicate
        // follows the current maintainer's decisions.
        let mut scratch = World::new();
        let world = if is_current {
            &mut self.world
        } else {
            &mut scratch
        };
        let tracer = &mut self.tracer;
        let maintainer = if is_current {
            self.maintainer.as_mut()
        } else {
            self.zombies.iter_mut().find(|z| z.me.instance == instance)
        };
        let Some(maintainer) = maintainer else {
            return;
        };
        let me = maintainer.me;
        let mut outboxes = Vec::new();
        match body {
            ToMaintainer::BootstrapResponse {
                node,
                incarnation,
                reported,
            } => {
                outboxes.push(maintainer.bootstrap_response(
                    node,
                    incarnation,
                    reported,
                    world,
                    now,
                    tracer,
                ));
            }
            ToMaintainer::Ack(ack) => {
                if now < self.fault_end {
                    self.metrics.acks_received += 1;
                }
                maintainer.ack(ack);
            }
            ToMaintainer::Heartbeat(heartbeat) => {
                if now < self.fault_end {
                    self.metrics.heartbeats_received += 1;
                }
                let node = heartbeat.node;
                if maintainer.bootstrapped()
                    && maintainer.members.contains(&node)
                    && maintainer.is_new_incarnation(&heartbeat)
                {
                    // Ours sees the restart in the heartbeat itself: the old process's spans are
                    // gone; bootstrap the new one.
                    tracer.log(now, "maintainer", || {
                        format!("{node} restarted (incarnation {})", heartbeat.incarnation)
                    });
                    outboxes.push(maintainer.node_removed(node, world, now, tracer));
                    outboxes.push(maintainer.node_added(node, now, tracer));
                }
                outboxes.push(maintainer.heartbeat(&heartbeat, world, now, tracer));
            }
        }
        for outbox in outboxes {
            self.send_outbox(me, outbox);
        }
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
            self.persisted,
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
            let before = self.persisted[*mode as usize];
            // The coordinator's guard (the planted bug takes it away with the maintainer's).
            let persisted = if self.config.planted_bug == PlantedBug::NoMonotoneGuard {
                checkpoint
            } else {
                before.max(checkpoint)
            };
            self.persisted[*mode as usize] = persisted;
            let judged = maintainer_judged(self.maintainer.as_ref(), *mode, &modes);
            let slowest = self.world.slowest_of(&judged);
            if let (Some((progress, _)), true) = (slowest, in_fault_phase) {
                self.metrics
                    .lag_slowest
                    .push(progress.saturating_sub(checkpoint));
                self.metrics
                    .lag_now
                    .push(upstream_ts(now).saturating_sub(checkpoint));
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

    // ---- faults ------------------------------------------------------------------------------

    fn inject(&mut self, kind: FaultKind) -> bool {
        let timing = self.config.timing;
        match kind {
            FaultKind::Failover
            | FaultKind::MaintainerMove
            | FaultKind::ErrorRestart
            | FaultKind::MoveDestFails => {
                let Some(old) = self.maintainer.take() else {
                    return false;
                };
                if !old.bootstrapped() {
                    self.maintainer = Some(old);
                    return false;
                }
                let description = old.describe();
                let old_host = old.me.host;
                let others: Vec<NodeId> = self
                    .nodes
                    .keys()
                    .copied()
                    .filter(|n| !self.down.contains(n) && *n != old_host)
                    .collect();
                // A failed move needs a destination that can leave and still leave two nodes.
                if kind == FaultKind::MoveDestFails && others.len() < 2 {
                    self.maintainer = Some(old);
                    return false;
                }
                if kind == FaultKind::Failover
                    && self.workload_rng.chance(self.config.faults.zombie)
                {
                    let linger = self
                        .workload_rng
                        .inclusive(timing.failover_pause_ms.0, timing.failover_pause_ms.1 * 2);
                    let instance = old.me.instance;
                    self.zombies.push(old);
                    self.schedule(self.now + linger, Event::ZombieEnd { instance });
                    self.tracer.log(self.now, "maintainer", || {
                        format!("{description} is deposed but lingers for {linger} ms")
                    });
                } else {
                    self.tracer.log(self.now, "maintainer", || {
                        format!(
                            "{description} {}",
                            match kind {
                                FaultKind::Failover => "fails",
                                FaultKind::ErrorRestart =>
                                    "stops after an error: the changefeed restarts with a new epoch",
                                FaultKind::MoveDestFails =>
                                    "moves away, but the destination fails before it stopped",
                                _ => "moves away",
                            }
                        )
                    });
                }
                let pause = |rng: &mut SimRng| {
                    rng.inclusive(timing.failover_pause_ms.0, timing.failover_pause_ms.1)
                };
                let (pause, host, avoid) = match kind {
                    FaultKind::Failover => {
                        self.failed_hosts.insert(old_host);
                        (pause(&mut self.workload_rng), None, Some(old_host))
                    }
                    FaultKind::ErrorRestart => {
                        self.reference_epoch += 1;
                        (pause(&mut self.workload_rng), None, None)
                    }
                    FaultKind::MoveDestFails => {
                        let dest = *self.workload_rng.pick(&others).expect("checked above");
                        self.node_dies(dest, FaultKind::Leave);
                        (timing.maintainer_tick_ms, Some(old_host), None)
                    }
                    _ => {
                        let healthy: Vec<NodeId> = others
                            .iter()
                            .copied()
                            .filter(|n| !self.failed_hosts.contains(n))
                            .collect();
                        let pool = if healthy.is_empty() {
                            &others
                        } else {
                            &healthy
                        };
                        (
                            timing.maintainer_tick_ms,
                            self.workload_rng.pick(pool).copied(),
                            None,
                        )
                    }
                };
                self.schedule(self.now + pause, Event::MaintainerStart { host, avoid });
                true
            }
            FaultKind::Restart | FaultKind::Leave => {
                let candidates: Vec<NodeId> = self
                    .nodes
                    .keys()
                    .copied()
                    .filter(|n| {
                        !self.down.contains(n)
                            && Some(*n) != self.maintainer.as_ref().map(|m| m.me.host)
                    })
                    .collect();
                if candidates.len() < 2 || self.maintainer.is_none() {
                    return false;
                }
                let node = *self.workload_rng.pick(&candidates).expect("candidates");
                self.node_dies(node, kind);
                true
            }
            FaultKind::Drift => {
                let nodes: Vec<NodeId> = self.nodes.keys().copied().collect();
                let Some(node) = self.workload_rng.pick(&nodes).copied() else {
                    return false;
                };
                let now = self.now;
                let Some(sim_node) = self.nodes.get_mut(&node) else {
                    return false;
                };
                sim_node.now = now;
                let Some(lost) = sim_node.lose_one(&mut self.workload_rng) else {
                    return false;
                };
                self.tracer
                    .log(now, node, || format!("silently loses {}", short(lost)));
                true
            }
            FaultKind::Replacement => {
                let Some(maintainer) = &self.maintainer else {
                    return false;
                };
                let candidates: Vec<DispatcherId> = self
                    .modes
                    .iter()
                    .flat_map(|m| self.world.ids(*m).collect::<Vec<_>>())
                    .filter(|id| maintainer.replaceable(*id))
                    .collect();
                let Some(&id) = self.workload_rng.pick(&candidates) else {
                    return false;
                };
                self.drop_table(id);
                true
            }
        }
    }

    /// `node`'s process ends: for good (`Leave`: membership notices within `detect_ms`, a fresh
    /// node joins later), or by a crash after which a new process starts under a fresh node ID
    /// (`Restart`: it joins when up; the old ID leaves when its session expires). Either way the
    /// dispatchers die with the process; their spans' progress stays what it was.
    fn node_dies(&mut self, node: NodeId, kind: FaultKind) {
        let timing = self.config.timing;
        self.nodes.remove(&node);
        let fresh = NodeId(self.next_node);
        self.next_node += 1;
        self.down.insert(fresh);
        let (notice, join) = if kind == FaultKind::Restart {
            let pause = self
                .workload_rng
                .inclusive(timing.restart_pause_ms.0, timing.restart_pause_ms.1);
            let notice = self.workload_rng.inclusive(
                timing.detect_ms.0,
                timing.session_ttl_ms.max(timing.detect_ms.0),
            );
            self.tracer.log(self.now, node, || {
                format!("crashes; restarts in {pause} ms as {fresh}; its session expires in {notice} ms")
            });
            (notice, pause)
        } else {
            let detect = self
                .workload_rng
                .inclusive(timing.detect_ms.0, timing.detect_ms.1);
            self.tracer
                .log(self.now, node, || "leaves the cluster for good".to_string());
            (detect, detect + self.workload_rng.inclusive(1_000, 10_000))
        };
        self.membership_pending += 1;
        self.schedule(
            self.now + notice,
            Event::Membership(Membership::Left { node }),
        );
        self.schedule(self.now + join, Event::NodeUp { node: fresh });
    }

    /// A fresh node process is up; membership reports it within 100 ms.
    fn node_up(&mut self, node: NodeId) {
        self.down.remove(&node);
        self.spawn_node(node, 1);
        self.tracer.log(self.now, node, || "up".to_string());
        let detect = self.workload_rng.inclusive(1, 100);
        self.membership_pending += 1;
        self.schedule(
            self.now + detect,
            Event::Membership(Membership::Joined { node }),
        );
    }

    fn membership(&mut self, change: Membership) {
        let now = self.now;
        let world = &mut self.world;
        let tracer = &mut self.tracer;
        let Some(maintainer) = self.maintainer.as_mut() else {
            return;
        };
        let me = maintainer.me;
        let outbox = match change {
            Membership::Left { node } => maintainer.node_removed(node, world, now, tracer),
            Membership::Joined { node } => maintainer.node_added(node, now, tracer),
        };
        self.send_outbox(me, outbox);
    }

    // ---- the workload ------------------------------------------------------------------------

    fn workload_tick(&mut self) {
        let period = self.config.timing.maintainer_tick_ms;
        if self.now >= self.fault_end {
            return;
        }
        self.schedule(self.now + period, Event::WorkloadTick);
        let Some(maintainer) = &self.maintainer else {
            return;
        };
        if !maintainer.bootstrapped() {
            return;
        }
        let seconds = period as f64 / 1000.0;
        let operators = self.config.workload.operators_per_second * seconds;
        let moves = self.config.workload.rebalance_per_minute
            * self.config.dispatchers as f64
            * self.modes.len() as f64
            / 60.0
            * seconds;
        for _ in 0..self.draw_count(operators) {
            self.random_operator();
        }
        for _ in 0..self.draw_count(moves) {
            self.random_move();
        }
    }

    /// A count with mean `mean`: its whole part, plus one with the fraction's probability.
    fn draw_count(&mut self, mean: f64) -> u64 {
        let whole = mean.floor();
        whole as u64 + u64::from(self.workload_rng.chance(mean - whole))
    }

    /// The changefeed's checkpoint of `mode` as the coordinator persisted it (the highest any
    /// maintainer reported): where a new table starts.
    fn current_checkpoint(&self, mode: Mode) -> u64 {
        self.persisted[mode as usize]
    }

    fn random_operator(&mut self) {
        let mode = *self.workload_rng.pick(&self.modes.clone()).expect("a mode");
        let count = self.world.count(mode);
        let target = self.config.dispatchers.max(2);
        let weights: [u64; 5] = if count < target / 2 {
            [3, 1, 2, 2, 1]
        } else if count > target * 2 {
            [1, 3, 2, 1, 3]
        } else {
            [2, 2, 2, 2, 2]
        };
        let first = pick_weighted(&mut self.workload_rng, &weights);
        for offset in 0..OperatorKind::ALL.len() {
            let kind = OperatorKind::ALL[(first + offset) % OperatorKind::ALL.len()];
            if self.try_operator(kind, mode) {
                *self.operator_counts.entry(kind).or_default() += 1;
                return;
            }
        }
    }

    fn try_operator(&mut self, kind: OperatorKind, mode: Mode) -> bool {
        let now = self.now;
        let Some(maintainer) = &self.maintainer else {
            return false;
        };
        let stable = maintainer.sample_stable(mode, &mut self.workload_rng);
        match kind {
            OperatorKind::Add => {
                let id = self.workload_rng.dispatcher_id();
                let checkpoint = self.current_checkpoint(mode);
                self.world.add(id, mode, checkpoint);
                if let Some(maintainer) = self.maintainer.as_mut() {
                    maintainer.add_table(id, mode, checkpoint);
                }
                self.tracer.log(now, "user", || {
                    format!("creates a table: span {} at {checkpoint}", short(id))
                });
                true
            }
            OperatorKind::Remove => {
                let Some((id, _)) = stable else {
                    return false;
                };
                self.drop_table(id);
                true
            }
            OperatorKind::Move => {
                let Some((id, from)) = stable else {
                    return false;
                };
                let Some(dest) = self.other_member(from) else {
                    return false;
                };
                self.with_maintainer(|m, world, tracer| m.start_move(id, dest, world, now, tracer))
            }
            OperatorKind::Split => {
                let Some((id, _)) = stable else {
                    return false;
                };
                let halves = [
                    self.workload_rng.dispatcher_id(),
                    self.workload_rng.dispatcher_id(),
                ];
                self.with_maintainer(|m, world, tracer| {
                    m.start_split(id, halves, world, now, tracer)
                })
            }
            OperatorKind::Merge => {
                let Some((first, node)) = stable else {
                    return false;
                };
                let Some(second) =
                    maintainer.sample_neighbour(node, mode, first, &mut self.workload_rng)
                else {
                    return false;
                };
                let merged = self.workload_rng.dispatcher_id();
                self.with_maintainer(|m, world, tracer| {
                    m.start_merge([first, second], merged, world, now, tracer)
                })
            }
        }
    }

    fn random_move(&mut self) {
        let mode = *self.workload_rng.pick(&self.modes.clone()).expect("a mode");
        if self.try_operator(OperatorKind::Move, mode) {
            *self.operator_counts.entry(OperatorKind::Move).or_default() += 1;
        }
    }

    fn other_member(&mut self, from: NodeId) -> Option<NodeId> {
        let maintainer = self.maintainer.as_ref()?;
        let others: Vec<NodeId> = maintainer
            .members
            .iter()
            .copied()
            .filter(|n| *n != from)
            .collect();
        self.workload_rng.pick(&others).copied()
    }

    /// Runs `start` on the maintainer and sends what it produced; whether it produced anything.
    fn with_maintainer(
        &mut self,
        start: impl FnOnce(&mut SimMaintainer, &mut World, &mut Tracer) -> Outbox,
    ) -> bool {
        let Some(maintainer) = self.maintainer.as_mut() else {
            return false;
        };
        let me = maintainer.me;
        let outbox = start(maintainer, &mut self.world, &mut self.tracer);
        let started = !outbox.commands.is_empty();
        self.send_outbox(me, outbox);
        started
    }

    fn drop_table(&mut self, id: DispatcherId) {
        let now = self.now;
        self.world.remove(id);
        self.tracer.log(now, "user", || {
            format!("drops the table of span {}", short(id))
        });
        self.with_maintainer(|m, world, tracer| m.drop_table(id, world, now, tracer));
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

fn describe_heartbeat(heartbeat: &Heartbeat) -> String {
    let statuses: Vec<String> = heartbeat
        .statuses()
        .iter()
        .filter_map(|s| {
            let id = DispatcherId::from(s.id?);
            let state = ComponentState::try_from(s.component_status).ok()?;
            Some(format!("{} {state}", short(id)))
        })
        .take(6)
        .collect();
    let more = heartbeat.statuses().len().saturating_sub(6);
    let checksum = match &heartbeat.body {
        HeartbeatBody::Ours { checksums, .. } => checksums
            .iter()
            .map(|b| {
                format!(
                    "{} {} (state seq {}, hb {}, on {}/{}) wm {}",
                    b.mode,
                    b.state,
                    b.state_seq,
                    b.seq,
                    b.verified_against.epoch,
                    b.verified_against.seq,
                    b.watermark.map_or("-".to_string(), |w| w.to_string())
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        HeartbeatBody::Reference(r) => format!(
            "default {} (seq {}) wm {}",
            ChecksumState::try_from(r.checksum_state).unwrap_or_default(),
            r.checksum_state_seq,
            r.watermark.map_or("-".to_string(), |w| format!(
                "{} (seq {})",
                w.checkpoint_ts, w.seq
            ))
        ),
    };
    format!(
        "heartbeat{}: {checksum}{}{}",
        if heartbeat.complete {
            " (complete)"
        } else {
            ""
        },
        if statuses.is_empty() {
            String::new()
        } else {
            format!("; statuses {}", statuses.join(", "))
        },
        if more > 0 {
            format!(" +{more}")
        } else {
            String::new()
        }
    )
}

/// An index drawn with probability proportional to its weight.
fn pick_weighted(rng: &mut SimRng, weights: &[u64]) -> usize {
    let total: u64 = weights.iter().sum();
    let mut roll = rng.below(total.max(1));
    for (index, weight) in weights.iter().enumerate() {
        if roll < *weight {
            return index;
        }
        roll -= weight;
    }
    weights.len() - 1
}
