//! The workload: the scheduler's operators, the cluster's intended assignment (the exact-set
//! oracle of what the maintainer expects), and the faults that are not network faults.
//!
//! An operator is planned here as two things: the *deltas* the maintainer applies to its
//! expected sets (always before anything is sent to a node: see the safety argument in
//! [`super`]), and the *commands* the nodes carry out, each a script of lifecycle steps per
//! dispatcher with delays between steps:
//!
//! | operator | maintainer delta | node scripts |
//! |---|---|---|
//! | add | `+x` on n | x: Initializing → Working |
//! | remove | `-x` on n | x: Stopped → Removed → deleted |
//! | move | `+x` on m (moves it off n) | m: x Initializing → Working; n: x Removed → deleted |
//! | split | `+a +b -x` on n | a, b: Initializing → Working; x: Stopped → Removed → deleted |
//! | merge | `+c -a -b` on n | c: Preparing → MergeReady → Working; a, b: WaitingMerge → Removed (when c works) → deleted |
//!
//! A dispatcher touched by an unfinished operator is *busy*: no other operator touches it until
//! every script of the first has run to its end, as the reference scheduler runs one operator
//! per span at a time.

use super::rng::SimRng;
use dispatcher_checksum::protocol::{Mode, NodeId};
use dispatcher_checksum::{ComponentState, DispatcherId};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The scheduler's operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OperatorKind {
    /// Create one dispatcher.
    Add,
    /// Remove one dispatcher.
    Remove,
    /// Move one dispatcher to another node.
    Move,
    /// Replace one dispatcher by two new ones on its node.
    Split,
    /// Replace two dispatchers of one node by one new one.
    Merge,
}

impl OperatorKind {
    /// Every operator.
    pub const ALL: [OperatorKind; 5] = [
        OperatorKind::Add,
        OperatorKind::Remove,
        OperatorKind::Move,
        OperatorKind::Split,
        OperatorKind::Merge,
    ];

    /// Lower-case name.
    pub const fn name(self) -> &'static str {
        match self {
            OperatorKind::Add => "add",
            OperatorKind::Remove => "remove",
            OperatorKind::Move => "move",
            OperatorKind::Split => "split",
            OperatorKind::Merge => "merge",
        }
    }
}

impl fmt::Display for OperatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Faults other than the network's. The list may grow; code that matches on it handles every
/// kind explicitly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultKind {
    /// The maintainer dies; after a pause a new one starts with the next epoch, rebuilds its
    /// expected sets with `reset_full` and tells every node, which resets its verifiers.
    Failover,
    /// A node leaves with all its dispatchers; the maintainer moves them to the others and
    /// forgets the node. A fresh node joins later.
    NodeLeave,
    /// A node silently loses a dispatcher it should run, or keeps (runs) one nobody assigned to
    /// it, without telling anyone. The node stays MISMATCH; once it has been so for a while the
    /// difference sketch names the IDs (see `dispatcher_checksum::diagnosis::protocol`), and the node repairs
    /// them.
    SilentDrift,
}

impl FaultKind {
    /// Every fault kind.
    pub const ALL: [FaultKind; 3] = [
        FaultKind::Failover,
        FaultKind::NodeLeave,
        FaultKind::SilentDrift,
    ];

    /// Lower-case name.
    pub const fn name(self) -> &'static str {
        match self {
            FaultKind::Failover => "failover",
            FaultKind::NodeLeave => "node-leave",
            FaultKind::SilentDrift => "silent-drift",
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What one lifecycle step does to a dispatcher on a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepAction {
    /// The dispatcher appears in this state.
    Create(ComponentState),
    /// The dispatcher changes to this state.
    Set(ComponentState),
    /// The dispatcher is deleted from the node.
    Delete,
}

/// One step of a script: `delay` ticks after the previous step (the first after delivery).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// Ticks after the previous step.
    pub delay: u64,
    /// What happens.
    pub action: StepAction,
}

/// The lifecycle steps one node runs for one dispatcher of one operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    /// The operator this belongs to.
    pub operator: u64,
    /// The dispatcher's mode.
    pub mode: Mode,
    /// The dispatcher.
    pub id: DispatcherId,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// A change to the maintainer's expected set of one node in one mode (one `apply_delta` call).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delta {
    /// The mode.
    pub mode: Mode,
    /// The node whose set changes.
    pub node: NodeId,
    /// IDs to add (an ID owned by another node moves).
    pub add: Vec<DispatcherId>,
    /// IDs to remove.
    pub remove: Vec<DispatcherId>,
}

/// The scripts sent to one node in one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// The node that runs them.
    pub node: NodeId,
    /// The scripts.
    pub scripts: Vec<Script>,
}

/// A planned operator: deltas first, then commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Serial number.
    pub operator: u64,
    /// Which operator (`None` for the moves that follow a node leaving).
    pub kind: Option<OperatorKind>,
    /// The maintainer's deltas.
    pub deltas: Vec<Delta>,
    /// The nodes' commands.
    pub commands: Vec<Command>,
}

/// The workload's knobs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadConfig {
    /// The modes with dispatchers (default, and redo when enabled).
    pub modes: Vec<Mode>,
    /// Dispatchers per mode at the start; operators keep the count near it.
    pub dispatchers: usize,
    /// Longest delay between two lifecycle steps, in ticks.
    pub max_step_delay: u64,
}

/// The cluster as the scheduler intends it, and the operators in flight.
#[derive(Clone, Debug)]
pub struct Workload {
    config: WorkloadConfig,
    assignment: BTreeMap<Mode, BTreeMap<DispatcherId, NodeId>>,
    members: BTreeSet<NodeId>,
    busy: BTreeMap<u64, Vec<(Mode, DispatcherId)>>,
    busy_ids: BTreeSet<(Mode, DispatcherId)>,
    open_scripts: BTreeMap<u64, usize>,
    node_open_scripts: BTreeMap<NodeId, usize>,
    next_node: u32,
    next_operator: u64,
    operators: BTreeMap<OperatorKind, u64>,
}

impl Workload {
    /// `nodes` nodes and `config.dispatchers` Working dispatchers per mode placed at random.
    /// Returns the workload and the initial placement `(node, mode, id)`, which exists on the
    /// nodes before the first tick.
    pub fn new(
        config: WorkloadConfig,
        nodes: usize,
        rng: &mut SimRng,
    ) -> (Workload, Vec<(NodeId, Mode, DispatcherId)>) {
        let members: BTreeSet<NodeId> = (0..nodes as u32).map(NodeId).collect();
        let member_list: Vec<NodeId> = members.iter().copied().collect();
        let mut assignment = BTreeMap::new();
        let mut placement = Vec::new();
        for &mode in &config.modes {
            let mut owners = BTreeMap::new();
            for _ in 0..config.dispatchers {
                let id = rng.dispatcher_id();
                let node = *rng.pick(&member_list).expect("at least one node");
                owners.insert(id, node);
                placement.push((node, mode, id));
            }
            assignment.insert(mode, owners);
        }
        let workload = Workload {
            config,
            assignment,
            members,
            busy: BTreeMap::new(),
            busy_ids: BTreeSet::new(),
            open_scripts: BTreeMap::new(),
            node_open_scripts: BTreeMap::new(),
            next_node: nodes as u32,
            next_operator: 0,
            operators: BTreeMap::new(),
        };
        (workload, placement)
    }

    /// The modes in play.
    pub fn modes(&self) -> &[Mode] {
        &self.config.modes
    }

    /// The nodes in the cluster.
    pub fn members(&self) -> &BTreeSet<NodeId> {
        &self.members
    }

    /// The exact set the maintainer must expect on `node` in `mode`.
    pub fn expected_set(&self, mode: Mode, node: NodeId) -> BTreeSet<DispatcherId> {
        self.assignment
            .get(&mode)
            .into_iter()
            .flatten()
            .filter(|(_, owner)| **owner == node)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Every member's expected set in `mode` (members without dispatchers get an empty list).
    pub fn expected_by_node(&self, mode: Mode) -> BTreeMap<NodeId, Vec<DispatcherId>> {
        let mut sets: BTreeMap<NodeId, Vec<DispatcherId>> = self
            .members
            .iter()
            .map(|node| (*node, Vec::new()))
            .collect();
        for (id, node) in self.assignment.get(&mode).into_iter().flatten() {
            sets.entry(*node).or_default().push(*id);
        }
        sets
    }

    /// Dispatchers in `mode`.
    pub fn dispatcher_count(&self, mode: Mode) -> usize {
        self.assignment.get(&mode).map_or(0, BTreeMap::len)
    }

    /// Whether no operator is in flight.
    pub fn idle(&self) -> bool {
        self.open_scripts.is_empty()
    }

    /// Operators started so far, by kind.
    pub fn operator_counts(&self) -> &BTreeMap<OperatorKind, u64> {
        &self.operators
    }

    /// Records that the last step of one script of `operator` on `node` has run.
    pub fn script_finished(&mut self, operator: u64, node: NodeId) {
        if let Some(open) = self.node_open_scripts.get_mut(&node) {
            *open -= 1;
            if *open == 0 {
                self.node_open_scripts.remove(&node);
            }
        }
        if let Some(open) = self.open_scripts.get_mut(&operator) {
            *open -= 1;
            if *open == 0 {
                self.open_scripts.remove(&operator);
                for key in self.busy.remove(&operator).unwrap_or_default() {
                    self.busy_ids.remove(&key);
                }
            }
        }
    }

    /// Plans a random operator, updating the intended assignment; `None` when no operator is
    /// possible right now (everything busy).
    pub fn plan_operator(&mut self, rng: &mut SimRng) -> Option<Plan> {
        let mode = *rng.pick(&self.config.modes)?;
        let count = self.dispatcher_count(mode);
        let target = self.config.dispatchers.max(2);
        let weights: [u64; 5] = if count < target / 2 {
            [3, 1, 2, 2, 1]
        } else if count > target * 2 {
            [1, 3, 2, 1, 3]
        } else {
            [2, 2, 2, 2, 2]
        };
        let first = pick_weighted(rng, &weights);
        for offset in 0..OperatorKind::ALL.len() {
            let kind = OperatorKind::ALL[(first + offset) % OperatorKind::ALL.len()];
            if let Some(plan) = self.try_plan(kind, mode, rng) {
                *self.operators.entry(kind).or_default() += 1;
                return Some(plan);
            }
        }
        None
    }

    fn try_plan(&mut self, kind: OperatorKind, mode: Mode, rng: &mut SimRng) -> Option<Plan> {
        let members: Vec<NodeId> = self.members.iter().copied().collect();
        let stable: Vec<(DispatcherId, NodeId)> = self.assignment[&mode]
            .iter()
            .filter(|(id, _)| !self.busy_ids.contains(&(mode, **id)))
            .map(|(id, node)| (*id, *node))
            .collect();
        let operator = self.next_operator;
        let mut plan = Plan {
            operator,
            kind: Some(kind),
            deltas: Vec::new(),
            commands: Vec::new(),
        };
        match kind {
            OperatorKind::Add => {
                let node = *rng.pick(&members)?;
                let id = rng.dispatcher_id();
                plan.deltas.push(delta(mode, node, vec![id], vec![]));
                let script = self.create_script(operator, mode, id, rng);
                plan.commands.push(command(node, vec![script]));
            }
            OperatorKind::Remove => {
                let (id, node) = *rng.pick(&stable)?;
                plan.deltas.push(delta(mode, node, vec![], vec![id]));
                let script = self.retire_script(operator, mode, id, true, rng);
                plan.commands.push(command(node, vec![script]));
            }
            OperatorKind::Move => {
                let (id, from) = *rng.pick(&stable)?;
                let others: Vec<NodeId> = members.into_iter().filter(|n| *n != from).collect();
                let to = *rng.pick(&others)?;
                plan.deltas.push(delta(mode, to, vec![id], vec![]));
                let create = self.create_script(operator, mode, id, rng);
                let retire = self.retire_script(operator, mode, id, false, rng);
                plan.commands.push(command(to, vec![create]));
                plan.commands.push(command(from, vec![retire]));
            }
            OperatorKind::Split => {
                let (id, node) = *rng.pick(&stable)?;
                let (left, right) = (rng.dispatcher_id(), rng.dispatcher_id());
                plan.deltas
                    .push(delta(mode, node, vec![left, right], vec![id]));
                let scripts = vec![
                    self.create_script(operator, mode, left, rng),
                    self.create_script(operator, mode, right, rng),
                    self.retire_script(operator, mode, id, true, rng),
                ];
                plan.commands.push(command(node, scripts));
            }
            OperatorKind::Merge => {
                let mut by_node: BTreeMap<NodeId, Vec<DispatcherId>> = BTreeMap::new();
                for (id, node) in &stable {
                    by_node.entry(*node).or_default().push(*id);
                }
                let candidates: Vec<NodeId> = by_node
                    .iter()
                    .filter(|(_, ids)| ids.len() >= 2)
                    .map(|(node, _)| *node)
                    .collect();
                let node = *rng.pick(&candidates)?;
                let ids = &by_node[&node];
                let first = rng.below(ids.len() as u64) as usize;
                let mut second = rng.below(ids.len() as u64 - 1) as usize;
                if second >= first {
                    second += 1;
                }
                let sources = [ids[first], ids[second]];
                let target = rng.dispatcher_id();
                plan.deltas
                    .push(delta(mode, node, vec![target], sources.to_vec()));
                let to_ready = rng.inclusive(1, self.config.max_step_delay);
                let to_working = rng.inclusive(1, self.config.max_step_delay);
                let mut scripts = vec![Script {
                    operator,
                    mode,
                    id: target,
                    steps: vec![
                        step(0, StepAction::Create(ComponentState::Preparing)),
                        step(to_ready, StepAction::Set(ComponentState::MergeReady)),
                        step(to_working, StepAction::Set(ComponentState::Working)),
                    ],
                }];
                for source in sources {
                    let to_delete = rng.inclusive(1, self.config.max_step_delay);
                    scripts.push(Script {
                        operator,
                        mode,
                        id: source,
                        steps: vec![
                            step(0, StepAction::Set(ComponentState::WaitingMerge)),
                            step(
                                to_ready + to_working,
                                StepAction::Set(ComponentState::Removed),
                            ),
                            step(to_delete, StepAction::Delete),
                        ],
                    });
                }
                plan.commands.push(command(node, scripts));
            }
        }
        self.commit(&plan);
        Some(plan)
    }

    /// A node leaves: its dispatchers move to the remaining members, which create them. `None`
    /// when only one member is left or every member has work in flight.
    pub fn plan_leave(&mut self, rng: &mut SimRng) -> Option<(NodeId, Plan)> {
        let busy_nodes: BTreeSet<NodeId> = self
            .busy_ids
            .iter()
            .filter_map(|(mode, id)| self.assignment[mode].get(id).copied())
            .chain(self.node_open_scripts.keys().copied())
            .collect();
        let candidates: Vec<NodeId> = self
            .members
            .iter()
            .copied()
            .filter(|node| !busy_nodes.contains(node))
            .collect();
        if self.members.len() < 2 {
            return None;
        }
        let leaving = *rng.pick(&candidates)?;
        let remaining: Vec<NodeId> = self
            .members
            .iter()
            .copied()
            .filter(|node| *node != leaving)
            .collect();
        let operator = self.next_operator;
        let mut plan = Plan {
            operator,
            kind: None,
            deltas: Vec::new(),
            commands: Vec::new(),
        };
        for mode in self.config.modes.clone() {
            let mut moved: BTreeMap<NodeId, Vec<DispatcherId>> = BTreeMap::new();
            for id in self.expected_set(mode, leaving) {
                moved.entry(*rng.pick(&remaining)?).or_default().push(id);
            }
            for (node, ids) in moved {
                plan.deltas.push(delta(mode, node, ids.clone(), vec![]));
                let scripts = ids
                    .into_iter()
                    .map(|id| self.create_script(operator, mode, id, rng))
                    .collect();
                plan.commands.push(command(node, scripts));
            }
        }
        self.members.remove(&leaving);
        self.commit(&plan);
        Some((leaving, plan))
    }

    /// A fresh node joins (empty; operators start using it).
    pub fn join(&mut self) -> NodeId {
        let node = NodeId(self.next_node);
        self.next_node += 1;
        self.members.insert(node);
        node
    }

    fn commit(&mut self, plan: &Plan) {
        self.next_operator += 1;
        for delta in &plan.deltas {
            let owners = self.assignment.entry(delta.mode).or_default();
            for id in &delta.remove {
                if owners.get(id) == Some(&delta.node) {
                    owners.remove(id);
                }
            }
            for id in &delta.add {
                owners.insert(*id, delta.node);
            }
        }
        let mut touched = Vec::new();
        let mut scripts = 0;
        for command in &plan.commands {
            *self.node_open_scripts.entry(command.node).or_default() += command.scripts.len();
            scripts += command.scripts.len();
            for script in &command.scripts {
                touched.push((script.mode, script.id));
                self.busy_ids.insert((script.mode, script.id));
            }
        }
        if scripts > 0 {
            self.open_scripts.insert(plan.operator, scripts);
            self.busy.insert(plan.operator, touched);
        }
    }

    fn create_script(
        &self,
        operator: u64,
        mode: Mode,
        id: DispatcherId,
        rng: &mut SimRng,
    ) -> Script {
        Script {
            operator,
            mode,
            id,
            steps: vec![
                step(0, StepAction::Create(ComponentState::Initializing)),
                step(
                    rng.inclusive(1, self.config.max_step_delay),
                    StepAction::Set(ComponentState::Working),
                ),
            ],
        }
    }

    /// Removal on a node: `Stopped → Removed → deleted` when `stop_first`, else `Removed → deleted`
    /// (a moved-away dispatcher).
    fn retire_script(
        &self,
        operator: u64,
        mode: Mode,
        id: DispatcherId,
        stop_first: bool,
        rng: &mut SimRng,
    ) -> Script {
        let mut steps = Vec::new();
        if stop_first {
            steps.push(step(0, StepAction::Set(ComponentState::Stopped)));
        }
        let to_removed = if stop_first {
            rng.inclusive(1, self.config.max_step_delay)
        } else {
            0
        };
        steps.push(step(to_removed, StepAction::Set(ComponentState::Removed)));
        steps.push(step(
            rng.inclusive(1, self.config.max_step_delay),
            StepAction::Delete,
        ));
        Script {
            operator,
            mode,
            id,
            steps,
        }
    }
}

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

fn step(delay: u64, action: StepAction) -> Step {
    Step { delay, action }
}

fn delta(mode: Mode, node: NodeId, add: Vec<DispatcherId>, remove: Vec<DispatcherId>) -> Delta {
    Delta {
        mode,
        node,
        add,
        remove,
    }
}

fn command(node: NodeId, scripts: Vec<Script>) -> Command {
    Command { node, scripts }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload(seed: u64) -> (Workload, SimRng) {
        let mut rng = SimRng::new(seed, 0);
        let config = WorkloadConfig {
            modes: vec![Mode::Default, Mode::Redo],
            dispatchers: 8,
            max_step_delay: 3,
        };
        let (workload, placement) = Workload::new(config, 3, &mut rng);
        assert_eq!(placement.len(), 16);
        (workload, rng)
    }

    #[test]
    fn every_operator_kind_is_planned_and_busy_ids_are_released() {
        let (mut workload, mut rng) = workload(11);
        let mut plans = Vec::new();
        for _ in 0..200 {
            if let Some(plan) = workload.plan_operator(&mut rng) {
                plans.push(plan);
            }
        }
        for kind in OperatorKind::ALL {
            assert!(
                workload.operator_counts().get(&kind).copied().unwrap_or(0) > 0,
                "{kind}"
            );
        }
        assert!(!workload.idle());
        for plan in &plans {
            for command in &plan.commands {
                for _ in &command.scripts {
                    workload.script_finished(plan.operator, command.node);
                }
            }
        }
        assert!(workload.idle());
        assert!(workload.busy_ids.is_empty());
    }

    #[test]
    fn a_leaving_node_hands_every_dispatcher_to_the_others() {
        let (mut workload, mut rng) = workload(12);
        let (leaving, plan) = workload.plan_leave(&mut rng).expect("nobody is busy");
        assert!(!workload.members().contains(&leaving));
        for mode in [Mode::Default, Mode::Redo] {
            assert!(workload.expected_set(mode, leaving).is_empty());
            assert_eq!(workload.dispatcher_count(mode), 8);
        }
        assert!(plan.deltas.iter().all(|delta| delta.node != leaving));
        let joined = workload.join();
        assert!(workload.members().contains(&joined));
    }
}
