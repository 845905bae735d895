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
use std::collections::{BTreeMap, BTreeSet};

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
#[derive(Clone, Debug, Default)]
pub struct World {
    spans: BTreeMap<DispatcherId, SpanTruth>,
    by_progress: [BTreeSet<(u64, DispatcherId)>; 2],
    /// What dispatchers of spans not (yet) in the schedule wrote: a merged span's dispatcher
    /// runs before the merge finishes, and that data counts once the span joins.
    unscheduled: BTreeMap<DispatcherId, u64>,
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
            self.by_progress[old.mode as usize].remove(&(old.progress, id));
        }
        self.by_progress[mode as usize].insert((progress, id));
    }

    /// Takes a span out of the schedule (its table was dropped, or a split or merge replaced it).
    pub fn remove(&mut self, id: DispatcherId) -> Option<SpanTruth> {
        self.unscheduled.remove(&id);
        let span = self.spans.remove(&id)?;
        self.by_progress[span.mode as usize].remove(&(span.progress, id));
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
        let set = &mut self.by_progress[span.mode as usize];
        set.remove(&(span.progress, id));
        set.insert((checkpoint, id));
        span.progress = checkpoint;
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
    pub fn slowest(&self, mode: Mode) -> Option<(u64, DispatcherId)> {
        self.by_progress[mode as usize].first().copied()
    }

    /// The lowest progress over the given modes.
    pub fn slowest_of(&self, modes: &[Mode]) -> Option<(u64, DispatcherId)> {
        modes.iter().filter_map(|mode| self.slowest(*mode)).min()
    }

    /// Every span of `mode`, in ID order.
    pub fn ids(&self, mode: Mode) -> impl Iterator<Item = DispatcherId> + '_ {
        self.spans
            .iter()
            .filter(move |(_, span)| span.mode == mode)
            .map(|(id, _)| *id)
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
