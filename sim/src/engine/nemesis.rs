//! The nemesis: what goes wrong, injected at the times the fault plan ([`crate::faults`]) drew:
//! maintainer failovers, moves and error restarts, zombies, node crashes (a restarted node comes
//! back under a new node ID, as TiCDC's do), leaves and replacements, moves whose destination
//! fails, and silently lost dispatchers (drift). Message loss, duplication and reordering are the
//! network's ([`crate::network`]).

use super::*;

impl Simulation<'_> {
    pub(super) fn inject(&mut self, kind: FaultKind) -> bool {
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
            FaultKind::CoordinatorFailover => {
                // The new coordinator asks the running maintainer for its status; with none
                // running it reads etcd, which changes nothing: retried until one runs.
                let Some(maintainer) = self.maintainer.as_ref().filter(|m| m.bootstrapped()) else {
                    return false;
                };
                let reported = maintainer.reported;
                let persisted: Vec<u64> = self
                    .modes
                    .iter()
                    .map(|m| self.coordinator.persisted(*m))
                    .collect();
                self.coordinator.failover(reported);
                self.tracer.log(self.now, "coordinator", || {
                    format!("fails over; adopts the maintainer's checkpoint {reported:?} (etcd holds {persisted:?})")
                });
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
    pub(super) fn node_dies(&mut self, node: NodeId, kind: FaultKind) {
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
    pub(super) fn node_up(&mut self, node: NodeId) {
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

    pub(super) fn membership(&mut self, change: Membership) {
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
}
