//! The scheduler's book of spans: where each span is (absent, scheduling, replicating), the node
//! it is bound to, its stored checkpoint and last reported state, with the indexes the
//! maintainer reads every period kept in step by one function ([`SpanBook::set`]): the
//! non-replicating floor, the bound-span counts, the absent set, the spans by node, and an order
//! to draw a span from at random.

use crate::rng::SimRng;
use dispatcher_checksum::protocol::{Mode, NodeId};
use dispatcher_checksum::{ComponentState, DispatcherId};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Where the scheduler thinks a span is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanStatus {
    /// No node runs it.
    Absent,
    /// An operator is placing or moving it.
    Scheduling,
    /// It runs on its node.
    Replicating,
}

/// The scheduler's view of one span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpanView {
    /// Its mode.
    pub mode: Mode,
    /// Where it is.
    pub status: SpanStatus,
    /// The node it is bound to.
    pub node: Option<NodeId>,
    /// Its stored checkpoint (the last one its bound node reported; only goes up).
    pub checkpoint: u64,
    /// The last state its bound node reported.
    pub last_state: Option<ComponentState>,
    /// When the node made the report the scheduler last took for it (a report made before is
    /// stale: a complete list sent before the span arrived does not mean it left).
    pub reported_at: u64,
}

/// Every span the maintainer knows, and its indexes.
#[derive(Clone, Debug, Default)]
pub struct SpanBook {
    spans: BTreeMap<DispatcherId, SpanView>,
    /// Spans with no node.
    absent: BTreeSet<DispatcherId>,
    /// Spans by the node they are bound to.
    by_node: BTreeMap<NodeId, BTreeSet<DispatcherId>>,
    /// Every span, in an order that allows drawing one at random, and where each is in it.
    order: Vec<DispatcherId>,
    position: HashMap<DispatcherId, usize>,
    non_replicating: [BTreeSet<(u64, DispatcherId)>; 2],
    bound: BTreeMap<(NodeId, Mode), usize>,
    /// Per mode, the maintainer's committed checkpoint every Create is clamped to (TiCDC
    /// #4548: `maintainer/span/span_controller.go` `maintainerCommittedCheckpointTs`, bound to
    /// every span), and whether the clamp applies (not under the zoo bug #3846).
    committed: [u64; 2],
    clamps: bool,
}

impl SpanBook {
    /// A book whose Creates start no lower than `committed` (per mode) when `clamps`.
    pub fn new(committed: [u64; 2], clamps: bool) -> SpanBook {
        SpanBook {
            committed,
            clamps,
            ..SpanBook::default()
        }
    }

    /// The start ts of a Create for span `id`: its stored checkpoint, raised to the committed
    /// checkpoint of its mode (`maintainer/replica/replication_span.go`
    /// `NewAddDispatcherMessage` since #4548; the stored one alone before).
    pub fn start_ts(&self, id: &DispatcherId) -> u64 {
        self.spans.get(id).map_or(0, |v| {
            if self.clamps {
                v.checkpoint.max(self.committed[v.mode as usize])
            } else {
                v.checkpoint
            }
        })
    }

    /// The committed checkpoint of `mode`.
    pub fn committed(&self, mode: Mode) -> u64 {
        self.committed[mode as usize]
    }

    /// Sets the committed checkpoint of `mode` (the maintainer advances it each round).
    pub fn set_committed(&mut self, mode: Mode, committed: u64) {
        self.committed[mode as usize] = committed;
    }

    /// The view of span `id`.
    pub fn get(&self, id: &DispatcherId) -> Option<&SpanView> {
        self.spans.get(id)
    }

    /// Every span, in ID order.
    pub fn iter(&self) -> impl Iterator<Item = (&DispatcherId, &SpanView)> {
        self.spans.iter()
    }

    /// Every view, in ID order.
    pub fn values(&self) -> impl Iterator<Item = &SpanView> {
        self.spans.values()
    }

    /// The absent spans, in ID order.
    pub fn absent(&self) -> &BTreeSet<DispatcherId> {
        &self.absent
    }

    /// The lowest stored checkpoint of an absent span of `mode` (TiCDC before #3044:
    /// `GetMinCheckpointTsForAbsentSpans`, scheduling spans left out).
    pub fn lowest_absent(&self, mode: Mode) -> Option<u64> {
        self.absent
            .iter()
            .filter_map(|id| self.spans.get(id))
            .filter(|v| v.mode == mode)
            .map(|v| v.checkpoint)
            .min()
    }

    /// The spans bound to `node`.
    pub fn on_node(&self, node: NodeId) -> Option<&BTreeSet<DispatcherId>> {
        self.by_node.get(&node)
    }

    /// The lowest stored checkpoint of an absent or scheduling span of `mode`.
    pub fn lowest_non_replicating(&self, mode: Mode) -> Option<u64> {
        self.non_replicating[mode as usize].first().map(|(c, _)| *c)
    }

    /// Spans bound to `node` in `mode` (scheduling or replicating).
    pub fn bound_spans(&self, node: NodeId, mode: Mode) -> usize {
        self.bound.get(&(node, mode)).copied().unwrap_or(0)
    }

    /// The one place a span's view changes (`None`: it leaves); it keeps every index in step.
    pub fn set(&mut self, id: DispatcherId, view: Option<SpanView>) {
        let old = self.spans.get(&id).copied();
        if let Some(old) = old {
            if old.status != SpanStatus::Replicating {
                self.non_replicating[old.mode as usize].remove(&(old.checkpoint, id));
            }
            if let (Some(node), true) = (old.node, old.status != SpanStatus::Absent) {
                if let Some(count) = self.bound.get_mut(&(node, old.mode)) {
                    *count -= 1;
                }
            }
            if old.status == SpanStatus::Absent {
                self.absent.remove(&id);
            }
            if let Some(node) = old.node {
                if let Some(ids) = self.by_node.get_mut(&node) {
                    ids.remove(&id);
                }
            }
        }
        match view {
            Some(view) => {
                if view.status != SpanStatus::Replicating {
                    self.non_replicating[view.mode as usize].insert((view.checkpoint, id));
                }
                if let (Some(node), true) = (view.node, view.status != SpanStatus::Absent) {
                    *self.bound.entry((node, view.mode)).or_default() += 1;
                }
                if view.status == SpanStatus::Absent {
                    self.absent.insert(id);
                }
                if let Some(node) = view.node {
                    self.by_node.entry(node).or_default().insert(id);
                }
                if old.is_none() {
                    self.position.insert(id, self.order.len());
                    self.order.push(id);
                }
                self.spans.insert(id, view);
            }
            None => {
                self.spans.remove(&id);
                if let Some(index) = self.position.remove(&id) {
                    self.order.swap_remove(index);
                    if let Some(moved) = self.order.get(index) {
                        self.position.insert(*moved, index);
                    }
                }
            }
        }
    }

    /// Changes the view of a known span.
    pub fn update(&mut self, id: DispatcherId, change: impl FnOnce(&mut SpanView)) {
        if let Some(mut view) = self.spans.get(&id).copied() {
            change(&mut view);
            self.set(id, Some(view));
        }
    }

    /// The span is on no node.
    pub fn mark_absent(&mut self, id: DispatcherId) {
        self.update(id, |view| {
            view.status = SpanStatus::Absent;
            view.node = None;
            view.last_state = None;
        });
    }

    /// A new table: its span joins, absent, at `checkpoint`.
    pub fn add_table(&mut self, id: DispatcherId, mode: Mode, checkpoint: u64) {
        self.set(
            id,
            Some(SpanView {
                mode,
                status: SpanStatus::Absent,
                node: None,
                checkpoint,
                last_state: None,
                reported_at: 0,
            }),
        );
    }

    /// A random replicating span of `mode` for which `free` holds, and its node (a few random
    /// draws; `None` when they all miss).
    pub fn sample_stable(
        &self,
        mode: Mode,
        rng: &mut SimRng,
        free: impl Fn(&DispatcherId) -> bool,
    ) -> Option<(DispatcherId, NodeId)> {
        for _ in 0..32 {
            let id = *rng.pick(&self.order)?;
            let view = self.spans[&id];
            if view.mode == mode && view.status == SpanStatus::Replicating && free(&id) {
                return view.node.map(|node| (id, node));
            }
        }
        None
    }

    /// Another replicating span of `mode` on `node` for which `free` holds, if any (the first
    /// in ID order after a random one).
    pub fn sample_neighbour(
        &self,
        node: NodeId,
        mode: Mode,
        not: DispatcherId,
        rng: &mut SimRng,
        free: impl Fn(&DispatcherId) -> bool,
    ) -> Option<DispatcherId> {
        let ids = self.by_node.get(&node)?;
        let eligible = |id: &&DispatcherId| {
            **id != not
                && self
                    .spans
                    .get(*id)
                    .is_some_and(|v| v.mode == mode && v.status == SpanStatus::Replicating)
                && free(id)
        };
        let start = rng.dispatcher_id();
        ids.range(start..)
            .find(eligible)
            .or_else(|| ids.range(..start).find(eligible))
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_indexes_follow_every_change_of_a_view() {
        let mut book = SpanBook::default();
        let (a, b) = (DispatcherId::new(0, 1), DispatcherId::new(0, 2));
        book.add_table(a, Mode::Default, 10);
        book.add_table(b, Mode::Default, 20);
        assert_eq!(book.absent().len(), 2);
        assert_eq!(book.lowest_non_replicating(Mode::Default), Some(10));
        book.update(a, |v| {
            v.status = SpanStatus::Replicating;
            v.node = Some(NodeId(1));
        });
        assert_eq!(book.lowest_non_replicating(Mode::Default), Some(20));
        assert_eq!(book.bound_spans(NodeId(1), Mode::Default), 1);
        assert!(book.on_node(NodeId(1)).is_some_and(|ids| ids.contains(&a)));
        book.mark_absent(a);
        assert_eq!(book.bound_spans(NodeId(1), Mode::Default), 0);
        assert_eq!(book.lowest_non_replicating(Mode::Default), Some(10));
        book.set(b, None);
        book.set(a, None);
        assert!(book.absent().is_empty());
        assert_eq!(book.lowest_non_replicating(Mode::Default), None);
    }

    #[test]
    fn a_create_starts_at_the_stored_checkpoint_raised_to_the_committed_one() {
        let id = DispatcherId::new(0, 1);
        let mut clamped = SpanBook::new([100, 0], true);
        clamped.add_table(id, Mode::Default, 80);
        assert_eq!(clamped.start_ts(&id), 100);
        clamped.set_committed(Mode::Default, 70);
        assert_eq!(clamped.start_ts(&id), 80);
        let mut stale = SpanBook::new([100, 0], false);
        stale.add_table(id, Mode::Default, 80);
        assert_eq!(stale.start_ts(&id), 80, "#3846's pre-fix rule");
    }
}
