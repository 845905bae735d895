//! The workload: the operators the scheduler starts (add, remove, move, split, merge, a table
//! dropped during an operator) and the rebalance, drawn at every workload tick from the
//! configuration's rates.

use super::*;
use crate::maintainer::operator::split::SplitPlan;

impl Simulation<'_> {
    pub(super) fn workload_tick(&mut self) {
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
    pub(super) fn draw_count(&mut self, mean: f64) -> u64 {
        let whole = mean.floor();
        whole as u64 + u64::from(self.workload_rng.chance(mean - whole))
    }

    /// The changefeed's checkpoint of `mode` as the coordinator persisted it (the highest any
    /// maintainer reported): where a new table starts.
    pub(super) fn current_checkpoint(&self, mode: Mode) -> u64 {
        self.coordinator.persisted(mode)
    }

    pub(super) fn random_operator(&mut self) {
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

    pub(super) fn try_operator(&mut self, kind: OperatorKind, mode: Mode) -> bool {
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
                let (new_spans, plan) = if self.config.splits_with_plans() {
                    let members: Vec<NodeId> = maintainer.members.iter().copied().collect();
                    self.draw_split_plan(&members)
                } else {
                    let halves = vec![
                        self.workload_rng.dispatcher_id(),
                        self.workload_rng.dispatcher_id(),
                    ];
                    (halves, None)
                };
                self.with_maintainer(|m, world, tracer| {
                    m.start_split(id, new_spans, plan, world, now, tracer)
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

    /// A balance split's plan (TiCDC `maintainer/scheduler/balance_splits.go` `Execute`): 2 or
    /// 3 spans asked of the splitter, each with a node among `members`; the splitter returns
    /// between 2 and that many (`split.Splitter.Split` may return fewer: #4077; more panicked
    /// before #4078 and is not drawn); per new span, whether the basic scheduler races the
    /// split's callback for it (even odds: the maintainer's schedulers run concurrently). Drawn
    /// the same under either rule, so the two runs of a seed share their workload. Under the
    /// model checker, where the race matters (fewer spans than planned, and a rule whose
    /// callback then runs), each span's race is its decision instead ([`crate::network::Network::interleaving`]:
    /// `delay`, the callback's push delayed past the basic scheduler's check, is the race).
    fn draw_split_plan(&mut self, members: &[NodeId]) -> (Vec<DispatcherId>, Option<SplitPlan>) {
        let rng = &mut self.workload_rng;
        let planned = rng.inclusive(2, 3);
        let targets: Vec<NodeId> = (0..planned)
            .filter_map(|_| rng.pick(members).copied())
            .collect();
        let actual = rng.inclusive(2, planned);
        let new_spans: Vec<DispatcherId> = (0..actual).map(|_| rng.dispatcher_id()).collect();
        let mut races: Vec<Option<u64>> = (0..actual)
            .map(|_| rng.chance(0.5).then(|| rng.next_u64()))
            .collect();
        if actual < planned && self.config.zoo.split_post_finish_places(false) {
            for race in &mut races {
                if let Some(out_of_order) = self.network.interleaving() {
                    *race = out_of_order.then(|| race.unwrap_or(0));
                }
            }
        }
        (new_spans, Some(SplitPlan { targets, races }))
    }

    pub(super) fn random_move(&mut self) {
        let mode = *self.workload_rng.pick(&self.modes.clone()).expect("a mode");
        if self.try_operator(OperatorKind::Move, mode) {
            *self.operator_counts.entry(OperatorKind::Move).or_default() += 1;
        }
    }

    pub(super) fn other_member(&mut self, from: NodeId) -> Option<NodeId> {
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
    pub(super) fn with_maintainer(
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

    pub(super) fn drop_table(&mut self, id: DispatcherId) {
        let now = self.now;
        self.world.remove(id);
        self.tracer.log(now, "user", || {
            format!("drops the table of span {}", short(id))
        });
        self.with_maintainer(|m, world, tracer| m.drop_table(id, world, now, tracer));
    }
}

/// An index drawn with probability proportional to its weight.
pub(super) fn pick_weighted(rng: &mut SimRng, weights: &[u64]) -> usize {
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
