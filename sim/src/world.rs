//! The truth the checks judge against, which no simulated process can see: which spans the
//! changefeed must replicate right now (its *schedule*) and how far each span's data has been
//! written downstream (its *progress*).
//!
//! A span is named by the ID of the dispatcher that replicates it (a move keeps the ID; a split
//! or a merge makes new spans with new IDs). Its progress is the highest checkpoint any of its
//! dispatchers has reached: a dispatcher moved to another node restarts from the span's stored
//! checkpoint and replays, which duplicates data but loses none, so the span's progress does
//! not go back. Split halves inherit the origin's progress, a merged span the lowest of its
//! sources', a new table starts at the changefeed checkpoint. A dropped table leaves the
//! schedule at once.
//!
//! **The safety property**: whenever the maintainer's checkpoint is `C`, every span of the
//! schedule has progress `>= C`. If not, a restart from `C` would skip that span's data between
//! its progress and `C`: that is data loss, the `checkpoint-ahead` violation.

use dispatcher_checksum::protocol::Mode;
use dispatcher_checksum::DispatcherId;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// A hash map with fixed seeds: the same operations give the same layout on every run, and
/// nothing iterates it where the order could reach a run's outcome (see [`World::ids`]).
type Map<K, V> = HashMap<K, V, ahash::RandomState>;

fn map<K, V>() -> Map<K, V> {
    HashMap::with_hasher(ahash::RandomState::with_seeds(1, 2, 3, 4))
}

/// Simulated time 0 is this upstream timestamp, so checkpoints read as `ORIGIN_TS + ms`.
pub const ORIGIN_TS: u64 = 1_000_000;

/// The upstream timestamp at simulated time `now_ms`.
pub const fn upstream_ts(now_ms: u64) -> u64 {
    ORIGIN_TS + now_ms
}

/// One span of the schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpanTruth {
    /// Its mode.
    pub mode: Mode,
    /// The highest checkpoint any of its dispatchers reached.
    pub progress: u64,
}

/// The schedule and every span's progress, with the lowest progress per mode at hand.
///
/// The lowest progress is a min-heap with lazy deletion: every advance pushes the span's new
/// progress, and a query first drops entries that no longer match their span (it advanced, or
/// left). A dispatcher advances at every heartbeat, so this costs one push per advance instead of
/// the remove and insert an ordered set would take; the heap is rebuilt when stale entries
/// outnumber live ones.
#[derive(Clone, Debug)]
pub struct World {
    spans: Map<DispatcherId, SpanTruth>,
    by_progress: [BinaryHeap<Reverse<(u64, DispatcherId)>>; 2],
    counts: [usize; 2],
    /// What dispatchers of spans not (yet) in the schedule wrote: a merged span's dispatcher
    /// runs before the merge finishes, and that data counts once the span joins.
    unscheduled: Map<DispatcherId, u64>,
}

impl Default for World {
    fn default() -> Self {
        World {
            spans: map(),
            by_progress: Default::default(),
            counts: [0; 2],
            unscheduled: map(),
        }
    }
}

impl World {
    /// An empty schedule.
    pub fn new() -> World {
        World::default()
    }

    /// Puts a span into the schedule, at `progress` or what its dispatcher already wrote.
    pub fn add(&mut self, id: DispatcherId, mode: Mode, progress: u64) {
        let progress = self
            .unscheduled
            .remove(&id)
            .map_or(progress, |p| p.max(progress));
        if let Some(old) = self.spans.insert(id, SpanTruth { mode, progress }) {
            self.counts[old.mode as usize] -= 1;
        }
        self.counts[mode as usize] += 1;
        self.push(mode, progress, id);
    }

    fn push(&mut self, mode: Mode, progress: u64, id: DispatcherId) {
        let heap = &mut self.by_progress[mode as usize];
        heap.push(Reverse((progress, id)));
        if heap.len() > 4 * self.counts[mode as usize] + 64 {
            let live: BinaryHeap<Reverse<(u64, DispatcherId)>> = self
                .spans
                .iter()
                .filter(|(_, span)| span.mode == mode)
                .map(|(id, span)| Reverse((span.progress, *id)))
                .collect();
            self.by_progress[mode as usize] = live;
        }
    }

    /// Takes a span out of the schedule (its table was dropped, or a split or merge replaced it).
    pub fn remove(&mut self, id: DispatcherId) -> Option<SpanTruth> {
        self.unscheduled.remove(&id);
        let span = self.spans.remove(&id)?;
        self.counts[span.mode as usize] -= 1;
        Some(span)
    }

    /// A dispatcher of span `id` reached `checkpoint`.
    pub fn advance(&mut self, id: DispatcherId, checkpoint: u64) {
        let Some(span) = self.spans.get_mut(&id) else {
            let written = self.unscheduled.entry(id).or_insert(checkpoint);
            *written = (*written).max(checkpoint);
            return;
        };
        if checkpoint <= span.progress {
            return;
        }
        span.progress = checkpoint;
        let mode = span.mode;
        self.push(mode, checkpoint, id);
    }

    /// The span, if in the schedule.
    pub fn span(&self, id: DispatcherId) -> Option<SpanTruth> {
        self.spans.get(&id).copied()
    }

    /// Whether the span is in the schedule.
    pub fn contains(&self, id: DispatcherId) -> bool {
        self.spans.contains_key(&id)
    }

    /// The span of `mode` with the lowest progress.
    pub fn slowest(&mut self, mode: Mode) -> Option<(u64, DispatcherId)> {
        let heap = &mut self.by_progress[mode as usize];
        while let Some(Reverse((progress, id))) = heap.peek().copied() {
            match self.spans.get(&id) {
                Some(span) if span.progress == progress && span.mode == mode => {
                    return Some((progress, id))
                }
                _ => {
                    heap.pop();
                }
            }
        }
        None
    }

    /// The lowest progress over the given modes.
    pub fn slowest_of(&mut self, modes: &[Mode]) -> Option<(u64, DispatcherId)> {
        modes.iter().filter_map(|mode| self.slowest(*mode)).min()
    }

    /// Every span of `mode`, in ID order.
    pub fn ids(&self, mode: Mode) -> impl Iterator<Item = DispatcherId> {
        let mut ids: Vec<DispatcherId> = self
            .spans
            .iter()
            .filter(|(_, span)| span.mode == mode)
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        ids.into_iter()
    }

    /// How many spans of `mode` the schedule holds.
    pub fn count(&self, mode: Mode) -> usize {
        self.counts[mode as usize]
    }

    /// How many spans the schedule holds.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether the schedule is empty.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_only_goes_up_and_the_slowest_span_is_tracked_per_mode() {
        let (a, b, c) = (
            DispatcherId::new(0, 1),
            DispatcherId::new(0, 2),
            DispatcherId::new(0, 3),
        );
        let mut world = World::new();
        world.add(a, Mode::Default, 10);
        world.add(b, Mode::Default, 20);
        world.add(c, Mode::Redo, 5);
        assert_eq!(world.slowest(Mode::Default), Some((10, a)));
        world.advance(a, 30);
        world.advance(b, 15);
        assert_eq!(world.slowest(Mode::Default), Some((20, b)));
        assert_eq!(world.slowest_of(&Mode::ALL), Some((5, c)));
        world.remove(b);
        assert_eq!(world.slowest(Mode::Default), Some((30, a)));
        world.advance(b, 99);
        assert!(!world.contains(b), "a dropped span does not come back");
        let merged = DispatcherId::new(0, 4);
        world.advance(merged, 40);
        world.add(merged, Mode::Default, 25);
        assert_eq!(
            world.span(merged).map(|s| s.progress),
            Some(40),
            "what it wrote before counts"
        );
    }
}
