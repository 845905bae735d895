//! The maintainer side: [`ExpectedSetTracker`] holds, for one changefeed and one [`Mode`], which
//! node is expected to run each dispatcher and the fingerprint of every node's expected set, and
//! turns changes into [`ChecksumUpdate`] messages with per-node sequence numbers, acknowledgements
//! and throttled resends.
//!
//! Layout, chosen for 10M tracked dispatchers:
//! - dispatcher → owner is one hash table (`ahash` by default; the hasher is a type parameter so
//!   the benchmarks can measure `std`'s against it) whose entries are 20 bytes: the 16-byte ID
//!   stored unaligned (no padding) and the 4-byte [`NodeId`]. It is a `hashbrown::HashTable`
//!   rather than a `HashMap` so that each ID is hashed once and found in one probe whatever the
//!   call does with it: an add finds the ID or its insertion slot in the same pass, a remove
//!   takes out the entry it found;
//! - the per-node state ([`TrackedNode`]) lives in a `Vec` sorted by node, so iteration (and thus
//!   every list of messages) is in node order, deterministic for the simulator. A node is found
//!   in O(1) through a dense node-number → position table when node numbers are small (as
//!   clusters number them), by binary search otherwise;
//! - the dirty set is a flag in each node plus a count, so marking is O(1) and allocation-free;
//!   [`apply_delta`](ExpectedSetTracker::apply_delta) allocates nothing (it returns a `Copy`
//!   [`DeltaSummary`]) except when it meets a new node or the hash table grows.
//!
//! At a million tracked dispatchers and more the table is far larger than the CPU's caches, so a
//! one-ID call on a dispatcher that was not touched recently waits on memory for the table's
//! control bytes and its entry; that latency, not the bookkeeping, is most of what such a call
//! costs. Batched calls (a reset, a delta of many IDs, [`remove_ids`](ExpectedSetTracker::remove_ids))
//! therefore hash each ID a fixed distance ahead and prefetch its table slot, as hash-join probes
//! do, so a batch's memory accesses overlap instead of each waiting on its own (`memory`: the
//! prefetch and the huge-page advice, both from `hashbrown`'s layout).
//!
//! Every change of a node's expected set goes through [`TrackedNode`]'s private `add_id` /
//! `remove_id`: a second per-node digest (for example a difference sketch) is one more field
//! there, updated in those two functions. The *settled* fingerprint is one such digest: the
//! expected set without the IDs an operator has in flight on the node
//! ([`begin_transition`](ExpectedSetTracker::begin_transition)), which the explained-mismatch
//! gate compares a node's actual fingerprint with (see [`super::in_flight`]).

use super::packed::PackedId;
use super::{ChangefeedId, ChecksumAck, ChecksumState, ChecksumUpdate, Mode, NodeId};
use crate::{DispatcherId, Fingerprint};
use hashbrown::hash_table::{Entry, HashTable};
use std::collections::BTreeMap;
use std::hash::BuildHasher;
use std::time::Duration;

mod memory;
use memory::{advise_huge_pages, HashesAhead};

/// The tracker's timing rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrackerConfig {
    /// An unacknowledged update is sent again at most this often (reference: 1 s).
    pub resend_interval: Duration,
    /// A node non-MATCH for this long gets a warning (reference: 2 min).
    pub warn_after: Duration,
    /// After the first warning, at most one warning per this interval (reference: 2 min).
    pub warn_every: Duration,
}

impl TrackerConfig {
    /// The reference system's values: resend after 1 s, warn after 2 min, then every 2 min.
    pub const REFERENCE: TrackerConfig = TrackerConfig {
        resend_interval: Duration::from_secs(1),
        warn_after: Duration::from_secs(120),
        warn_every: Duration::from_secs(120),
    };
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig::REFERENCE
    }
}

/// What the maintainer last saw in a node's heartbeats, for the "non-MATCH too long" warning.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeartbeatWatch {
    /// The state of the latest heartbeat, if any arrived.
    pub last_state: Option<ChecksumState>,
    /// Since when the node has been continuously in `last_state` (non-MATCH); `None` at MATCH.
    pub non_match_since: Option<Duration>,
    /// When the last warning was given in the current non-MATCH stretch.
    pub last_warn: Option<Duration>,
}

/// The maintainer's state for one node in one mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackedNode {
    /// The node.
    pub node: NodeId,
    /// The latest update number (1 after a reset; +1 per changing delta).
    pub seq: u64,
    /// The highest update number the node acknowledged in this epoch (from its current process).
    pub acked_seq: u64,
    /// The node process last heard from (`None` before its first ack or heartbeat in this
    /// epoch). A higher one means the node restarted and lost what it had acknowledged.
    pub incarnation: Option<u64>,
    /// The fingerprint of the node's expected set.
    pub expected: Fingerprint,
    /// The fingerprint of the expected set without the in-flight IDs.
    pub settled: Fingerprint,
    /// IDs an operator is changing on this node (expected or not): each may or may not be in the
    /// node's set yet. Few at a time, so a `Vec`.
    pub in_flight: Vec<DispatcherId>,
    /// Goes up at every change of `expected` or `in_flight` (a cache key for explanations).
    pub version: u64,
    /// The node's first change numbers its update above this: the last seq the tracker issued
    /// to this node in this epoch before it forgot it (0 for a node it never forgot).
    seq_floor: u64,
    /// When an update for this node was last handed out (`None`: never in this epoch).
    pub last_sent: Option<Duration>,
    /// Heartbeat observation for warnings.
    pub heartbeat: HeartbeatWatch,
    /// Whether the node changed since the last [`flush_dirty`](ExpectedSetTracker::flush_dirty).
    pub dirty: bool,
    /// The [`ExpectedSetTracker::apply_delta`] call that last changed this node, so a node's seq
    /// goes up once per call however many of its IDs the call touches.
    changed_in_call: u64,
}

impl TrackedNode {
    fn new(node: NodeId, seq_floor: u64) -> TrackedNode {
        TrackedNode {
            node,
            seq: 0,
            acked_seq: 0,
            incarnation: None,
            expected: Fingerprint::EMPTY,
            settled: Fingerprint::EMPTY,
            in_flight: Vec::new(),
            version: 0,
            seq_floor,
            last_sent: None,
            heartbeat: HeartbeatWatch::default(),
            dirty: false,
            changed_in_call: 0,
        }
    }

    /// The one place an ID enters a node's expected set.
    #[inline]
    fn add_id(&mut self, id: DispatcherId) {
        self.expected.add(id);
        if !self.is_in_flight(id) {
            self.settled.add(id);
        }
        self.version += 1;
    }

    /// The one place an ID leaves a node's expected set.
    #[inline]
    fn remove_id(&mut self, id: DispatcherId) {
        self.expected.remove(id);
        if !self.is_in_flight(id) {
            self.settled.remove(id);
        }
        self.version += 1;
    }

    #[inline]
    fn is_in_flight(&self, id: DispatcherId) -> bool {
        !self.in_flight.is_empty() && self.in_flight.contains(&id)
    }

    /// Follows `incarnation` if it is not older than the known one; a newer one means the node
    /// restarted, so nothing it acknowledged before still holds and the update is due now.
    /// Returns `false` for an older incarnation.
    fn follow_incarnation(&mut self, incarnation: u64) -> bool {
        match self.incarnation {
            Some(known) if incarnation < known => return false,
            Some(known) if incarnation > known => {
                self.acked_seq = 0;
                self.last_sent = None;
            }
            _ => {}
        }
        self.incarnation = Some(incarnation);
        true
    }

    fn update(&self, epoch: u64, mode: Mode) -> ChecksumUpdate {
        ChecksumUpdate {
            node: self.node,
            epoch,
            mode,
            seq: self.seq,
            fingerprint: self.expected,
        }
    }
}

/// An ID that [`ExpectedSetTracker::reset_full`] found under two nodes: the later one keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reassignment {
    /// The dispatcher.
    pub id: DispatcherId,
    /// The node listed first (the ID left its fingerprint).
    pub from: NodeId,
    /// The node listed later (the ID's owner).
    pub to: NodeId,
}

/// What [`ExpectedSetTracker::reset_full`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResetReport {
    /// One update per listed node, in node order, each with seq 1.
    pub updates: Vec<ChecksumUpdate>,
    /// IDs listed more than once for the same node (added once), with that node.
    pub duplicates: Vec<(NodeId, DispatcherId)>,
    /// IDs listed under two nodes.
    pub reassigned: Vec<Reassignment>,
    /// Nodes that had expected IDs but were not in the node list, in the order met.
    pub skipped: Vec<NodeId>,
    /// How many IDs those skipped nodes listed.
    pub skipped_ids: usize,
}

/// What one [`ExpectedSetTracker::apply_delta`] call did (a `Copy` value: the hot path allocates
/// nothing).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeltaSummary {
    /// IDs that entered the node's set (new, or moved from another node).
    pub added: usize,
    /// Of `added`, those moved from another node.
    pub moved: usize,
    /// IDs that left the node's set.
    pub removed: usize,
    /// Adds of IDs the node already owned (no-ops).
    pub already_owned: usize,
    /// Removes of IDs the node did not own (ignored).
    pub not_owned: usize,
    /// Nodes whose seq went up (the node itself and previous owners).
    pub changed_nodes: usize,
    /// Whether the call created the node's state.
    pub created_node: bool,
}

/// What [`ExpectedSetTracker::handle_ack`] did with an acknowledgement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckOutcome {
    /// `acked_seq` went up to the ack's seq.
    Advanced,
    /// Valid, but not above the `acked_seq` already held (a duplicate or reordered ack).
    AlreadyAcked,
    /// Ignored: from another epoch.
    OtherEpoch,
    /// Ignored: for the other mode.
    OtherMode,
    /// Ignored: the node is not tracked.
    UnknownNode,
    /// Ignored: acknowledges a seq the tracker never produced for this node.
    AheadOfSeq,
    /// Ignored: from a node process older than one already heard from (it has restarted since).
    OldIncarnation,
}

/// The maintainer's expected dispatcher sets for one changefeed and mode. See the module docs.
#[derive(Clone, Debug)]
pub struct ExpectedSetTracker<S = ahash::RandomState> {
    changefeed: ChangefeedId,
    mode: Mode,
    config: TrackerConfig,
    epoch: u64,
    /// Sorted by `node`.
    nodes: Vec<TrackedNode>,
    /// Where each node is in `nodes`.
    positions: NodePositions,
    /// Dispatcher → owner; every owner is in `nodes`.
    owners: HashTable<(PackedId, NodeId)>,
    hasher: S,
    dirty_count: usize,
    /// Numbers the `apply_delta` calls (see [`TrackedNode::changed_in_call`]).
    call: u64,
    /// In-flight IDs over all nodes.
    transitions: usize,
    /// The last seq issued in this epoch to each node the tracker forgot
    /// ([`remove_nodes`](ExpectedSetTracker::remove_nodes)). Met again, such a node numbers its
    /// updates above it, so an update to it still in flight from before cannot outrank the new
    /// ones (a node ignores an update of its epoch with a lower seq than the one it holds).
    forgotten: BTreeMap<NodeId, u64>,
}

impl ExpectedSetTracker {
    /// An empty tracker at epoch 0 with an `ahash` dispatcher map.
    pub fn new(changefeed: ChangefeedId, mode: Mode, config: TrackerConfig) -> Self {
        ExpectedSetTracker::with_hasher(changefeed, mode, config, ahash::RandomState::new())
    }
}

impl<S: BuildHasher> ExpectedSetTracker<S> {
    /// An empty tracker whose dispatcher map uses `hasher`.
    pub fn with_hasher(
        changefeed: ChangefeedId,
        mode: Mode,
        config: TrackerConfig,
        hasher: S,
    ) -> Self {
        ExpectedSetTracker {
            changefeed,
            mode,
            config,
            epoch: 0,
            nodes: Vec::new(),
            positions: NodePositions::default(),
            owners: HashTable::new(),
            hasher,
            dirty_count: 0,
            call: 0,
            transitions: 0,
            forgotten: BTreeMap::new(),
        }
    }

    /// Forgets everything, takes `epoch`, starts every node in `nodes` at seq 1 / acked 0 (sent
    /// at `now`), builds the fingerprints from `expected` and returns one update per listed node.
    ///
    /// An ID listed twice for one node is added once (reported in `duplicates`); an ID listed
    /// under two nodes ends with the later one and leaves the earlier one's fingerprint (reported
    /// in `reassigned`); IDs of nodes absent from `nodes` are skipped (reported in `skipped`).
    pub fn reset_full<V: AsRef<[DispatcherId]>>(
        &mut self,
        epoch: u64,
        nodes: &[NodeId],
        expected: impl IntoIterator<Item = (NodeId, V)>,
        now: Duration,
    ) -> ResetReport {
        self.epoch = epoch;
        self.owners.clear();
        self.dirty_count = 0;
        self.nodes.clear();
        self.nodes.extend(nodes.iter().map(|&node| TrackedNode {
            seq: 1,
            last_sent: Some(now),
            ..TrackedNode::new(node, 0)
        }));
        self.transitions = 0;
        self.forgotten.clear();
        self.nodes.sort_unstable_by_key(|tracked| tracked.node);
        self.nodes.dedup_by_key(|tracked| tracked.node);
        self.positions.rebuild(&self.nodes);

        let expected: Vec<(NodeId, V)> = expected.into_iter().collect();
        let listed: usize = expected
            .iter()
            .filter(|(node, _)| self.index_of(*node).is_ok())
            .map(|(_, ids)| ids.as_ref().len())
            .sum();
        self.reserve(listed);

        let mut report = ResetReport::default();
        let mut advised = false;
        let hasher = &self.hasher;
        for (node, ids) in &expected {
            let ids = ids.as_ref();
            let Ok(index) = self.positions.find(&self.nodes, *node) else {
                report.skipped.push(*node);
                report.skipped_ids += ids.len();
                continue;
            };
            let mut ahead = HashesAhead::start(hasher, &self.owners, ids);
            for (i, &id) in ids.iter().enumerate() {
                let key = PackedId::new(id);
                let hash = ahead.next(hasher, &self.owners, ids, i);
                match owner_entry_hashed(&mut self.owners, hasher, key, hash) {
                    Entry::Vacant(entry) => {
                        entry.insert((key, *node));
                        if !advised {
                            // The first entry anchors the table's address; the rest of its
                            // entries' pages are not touched yet.
                            advise_huge_pages(&self.owners);
                            advised = true;
                        }
                    }
                    Entry::Occupied(entry) if entry.get().1 == *node => {
                        report.duplicates.push((*node, id));
                        continue;
                    }
                    Entry::Occupied(mut entry) => {
                        let from = std::mem::replace(&mut entry.get_mut().1, *node);
                        let from_index = self.positions.get(&self.nodes, from);
                        self.nodes[from_index].remove_id(id);
                        report.reassigned.push(Reassignment {
                            id,
                            from,
                            to: *node,
                        });
                    }
                }
                self.nodes[index].add_id(id);
            }
        }
        report.updates = self
            .nodes
            .iter()
            .map(|tracked| tracked.update(self.epoch, self.mode))
            .collect();
        super::telemetry::expected_set_conflicts(self, &report);
        report
    }

    /// Applies one batch of changes for `node`: every remove of an ID `node` owns takes it out;
    /// every add of an ID `node` does not own puts it in (moving it from its previous owner,
    /// whose fingerprint loses it and which also counts as changed). Removes apply before adds.
    /// Each changed node's seq goes up by one for the whole call and it becomes dirty. A node met
    /// for the first time gets its state (seq 0 before this call's increment).
    pub fn apply_delta(
        &mut self,
        node: NodeId,
        add: &[DispatcherId],
        remove: &[DispatcherId],
    ) -> DeltaSummary {
        let mut summary = DeltaSummary::default();
        if add.is_empty() && remove.is_empty() {
            return summary;
        }
        self.call += 1;
        let target = self.positions.find(&self.nodes, node).ok();

        if !remove.is_empty() {
            match target {
                // The table names only tracked nodes, so an untracked node owns nothing.
                None => summary.not_owned += remove.len(),
                Some(index) => self.remove_many(Some(index), remove, &mut summary),
            }
        }

        if add.is_empty() {
            return summary;
        }
        let index = match target {
            Some(index) => index,
            None => {
                let (index, created) = self.track(node);
                summary.created_node = created;
                index
            }
        };
        self.add_ids(index, add, &mut summary);
        summary
    }

    /// Removes `ids`: those the node at position `only` owns, or with `None` (for
    /// [`remove_ids`](ExpectedSetTracker::remove_ids)) whoever owns them. Each ID's table slot is
    /// prefetched [`PREFETCH_AHEAD`](memory::PREFETCH_AHEAD) IDs before it is used (see
    /// [`HashesAhead`]), so a batch's memory accesses overlap instead of each waiting on its own.
    fn remove_many(
        &mut self,
        only: Option<usize>,
        ids: &[DispatcherId],
        summary: &mut DeltaSummary,
    ) {
        let only = only.map(|index| (index, self.nodes[index].node));
        let mut ahead = HashesAhead::start(&self.hasher, &self.owners, ids);
        for (i, &id) in ids.iter().enumerate() {
            let key = PackedId::new(id);
            let hash = ahead.next(&self.hasher, &self.owners, ids, i);
            let found = self.owners.find_entry(hash, |entry| entry.0 == key);
            let index = match (found, only) {
                (Ok(entry), Some((index, node))) if entry.get().1 == node => {
                    entry.remove();
                    index
                }
                (Ok(entry), None) => {
                    let ((_, owner), _) = entry.remove();
                    self.positions.get(&self.nodes, owner)
                }
                _ => {
                    summary.not_owned += 1;
                    continue;
                }
            };
            let tracked = &mut self.nodes[index];
            tracked.remove_id(id);
            mark_changed(tracked, self.call, &mut self.dirty_count, summary);
            summary.removed += 1;
        }
    }

    /// The adds of one [`apply_delta`](ExpectedSetTracker::apply_delta) call for the node at
    /// `index`, one probe per ID, each ID's slot prefetched
    /// [`PREFETCH_AHEAD`](memory::PREFETCH_AHEAD) IDs ahead (see [`HashesAhead`]).
    fn add_ids(&mut self, index: usize, ids: &[DispatcherId], summary: &mut DeltaSummary) {
        let node = self.nodes[index].node;
        let hasher = &self.hasher;
        let mut ahead = HashesAhead::start(hasher, &self.owners, ids);
        for (i, &id) in ids.iter().enumerate() {
            let key = PackedId::new(id);
            let hash = ahead.next(hasher, &self.owners, ids, i);
            match owner_entry_hashed(&mut self.owners, hasher, key, hash) {
                Entry::Vacant(entry) => {
                    entry.insert((key, node));
                }
                Entry::Occupied(entry) if entry.get().1 == node => {
                    summary.already_owned += 1;
                    continue;
                }
                Entry::Occupied(mut entry) => {
                    let from = std::mem::replace(&mut entry.get_mut().1, node);
                    let from_index = self.positions.get(&self.nodes, from);
                    let previous = &mut self.nodes[from_index];
                    previous.remove_id(id);
                    mark_changed(previous, self.call, &mut self.dirty_count, summary);
                    summary.moved += 1;
                }
            }
            let tracked = &mut self.nodes[index];
            tracked.add_id(id);
            mark_changed(tracked, self.call, &mut self.dirty_count, summary);
            summary.added += 1;
        }
    }

    /// The position of `node` in `nodes`, creating its state if it is new (seq 0, or above the
    /// last seq it was sent if the tracker forgot it in this epoch); whether it was created.
    fn track(&mut self, node: NodeId) -> (usize, bool) {
        match self.positions.find(&self.nodes, node) {
            Ok(index) => (index, false),
            Err(slot) => {
                let floor = self.forgotten.remove(&node).unwrap_or(0);
                self.nodes.insert(slot, TrackedNode::new(node, floor));
                self.positions.rebuild(&self.nodes);
                (slot, true)
            }
        }
    }

    /// Removes each of `ids` from whichever node is expected to run it (an ID nobody owns is
    /// ignored); each changed node's seq goes up once and it becomes dirty.
    ///
    /// This is what a table drop needs: the scheduler's idea of where a span runs can be ahead
    /// of the expected set (a move that rebinds the span to its destination before its final
    /// delta), and a removal addressed to that node would miss the ID, leaving it expected on the
    /// origin forever. The reference system's remove operator has exactly that hole.
    pub fn remove_ids(&mut self, ids: &[DispatcherId]) -> DeltaSummary {
        let mut summary = DeltaSummary::default();
        if ids.is_empty() {
            return summary;
        }
        self.call += 1;
        self.remove_many(None, ids, &mut summary);
        summary
    }

    /// Marks `id` as in flight on `node`: an operator is changing it there, so until
    /// [`end_transition`](ExpectedSetTracker::end_transition) the node may or may not have it
    /// whether or not it is expected there. A node met for the first time gets its state (seq 0:
    /// no update is due for it until a delta changes its expected set). Marking twice is one
    /// mark. Returns whether it was newly marked.
    pub fn begin_transition(&mut self, node: NodeId, id: DispatcherId) -> bool {
        let (index, _) = self.track(node);
        let owned = self.owner(id) == Some(node);
        let tracked = &mut self.nodes[index];
        if tracked.is_in_flight(id) {
            return false;
        }
        if owned {
            tracked.settled.remove(id);
        }
        tracked.in_flight.push(id);
        tracked.version += 1;
        self.transitions += 1;
        true
    }

    /// Ends `id`'s transition on `node` (the operator finished or gave up): from now on the node
    /// must have it exactly when it is expected there. Returns whether it was in flight.
    pub fn end_transition(&mut self, node: NodeId, id: DispatcherId) -> bool {
        let Ok(index) = self.index_of(node) else {
            return false;
        };
        let owned = self.owner(id) == Some(node);
        let tracked = &mut self.nodes[index];
        let Some(position) = tracked.in_flight.iter().position(|x| *x == id) else {
            return false;
        };
        tracked.in_flight.swap_remove(position);
        if owned {
            tracked.settled.add(id);
        }
        tracked.version += 1;
        self.transitions -= 1;
        true
    }

    /// How many IDs are in flight over all nodes.
    pub fn transitions(&self) -> usize {
        self.transitions
    }

    /// One update per dirty node (in node order) with its current seq and fingerprint, stamped as
    /// sent at `now`; clears the dirty set. Many deltas between two flushes cost one message.
    pub fn flush_dirty(&mut self, now: Duration) -> Vec<ChecksumUpdate> {
        let mut updates = Vec::with_capacity(self.dirty_count);
        if self.dirty_count == 0 {
            return updates;
        }
        for tracked in self.nodes.iter_mut().filter(|tracked| tracked.dirty) {
            tracked.dirty = false;
            tracked.last_sent = Some(now);
            updates.push(tracked.update(self.epoch, self.mode));
        }
        self.dirty_count = 0;
        updates
    }

    /// Records a node's acknowledgement. Ignored when it is for another epoch or mode, from an
    /// unknown node, from an older process of the node than one already heard from, or for a seq
    /// above the node's current seq; otherwise `acked_seq = max(acked_seq, seq)`. An ack from a
    /// newer process first forgets what the old one acknowledged (see
    /// [`observe_incarnation`](ExpectedSetTracker::observe_incarnation)).
    pub fn handle_ack(&mut self, ack: ChecksumAck) -> AckOutcome {
        if ack.epoch != self.epoch {
            return AckOutcome::OtherEpoch;
        }
        if ack.mode != self.mode {
            return AckOutcome::OtherMode;
        }
        let Ok(index) = self.index_of(ack.node) else {
            return AckOutcome::UnknownNode;
        };
        let tracked = &mut self.nodes[index];
        if !tracked.follow_incarnation(ack.incarnation) {
            return AckOutcome::OldIncarnation;
        }
        if ack.seq > tracked.seq {
            AckOutcome::AheadOfSeq
        } else if ack.seq > tracked.acked_seq {
            tracked.acked_seq = ack.seq;
            AckOutcome::Advanced
        } else {
            AckOutcome::AlreadyAcked
        }
    }

    /// Notes that `node`'s process `incarnation` is alive (from its heartbeat). If it is newer
    /// than the one the tracker knew, the node restarted and lost its expected value: its
    /// acknowledgement is forgotten and the latest update is due again at once. Returns whether
    /// that happened.
    pub fn observe_incarnation(&mut self, node: NodeId, incarnation: u64) -> bool {
        let Ok(index) = self.index_of(node) else {
            return false;
        };
        let tracked = &mut self.nodes[index];
        let restarted = tracked.incarnation.is_some_and(|known| incarnation > known);
        tracked.follow_incarnation(incarnation);
        restarted
    }

    /// The latest update again for every node with `acked_seq < seq` whose last send is at least
    /// the resend interval before `now` (or that was never sent), stamped as sent at `now`.
    pub fn resend_pending(&mut self, now: Duration) -> Vec<ChecksumUpdate> {
        let interval = self.config.resend_interval;
        let mut updates = Vec::new();
        for tracked in &mut self.nodes {
            let due = tracked
                .last_sent
                .is_none_or(|sent| now.saturating_sub(sent) >= interval);
            if tracked.seq > 0 && tracked.acked_seq < tracked.seq && due {
                tracked.last_sent = Some(now);
                updates.push(tracked.update(self.epoch, self.mode));
            }
        }
        updates
    }

    /// Drops the state, dirty marks and every dispatcher mapping of `nodes` (one walk over the
    /// dispatcher map, only if one of them was tracked).
    pub fn remove_nodes(&mut self, nodes: &[NodeId]) {
        let mut gone: Vec<NodeId> = nodes.to_vec();
        gone.sort_unstable();
        gone.dedup();
        let before = self.nodes.len();
        let dirty_count = &mut self.dirty_count;
        let transitions = &mut self.transitions;
        let forgotten = &mut self.forgotten;
        self.nodes.retain(|tracked| {
            let keep = gone.binary_search(&tracked.node).is_err();
            if !keep {
                if tracked.dirty {
                    *dirty_count -= 1;
                }
                *transitions -= tracked.in_flight.len();
                forgotten.insert(tracked.node, tracked.seq.max(tracked.seq_floor));
            }
            keep
        });
        if self.nodes.len() != before {
            self.positions.rebuild(&self.nodes);
            self.owners
                .retain(|(_, owner)| gone.binary_search(owner).is_err());
        }
    }

    /// Feeds one heartbeat state from `node` into the warning rule and says whether to warn now:
    /// once the node has been non-MATCH for `warn_after`, then at most every `warn_every`. A
    /// change of state restarts the timer; MATCH clears it. Unknown nodes never warn.
    pub fn observe_heartbeat(&mut self, node: NodeId, state: ChecksumState, now: Duration) -> bool {
        let Ok(index) = self.index_of(node) else {
            return false;
        };
        let watch = &mut self.nodes[index].heartbeat;
        if state == ChecksumState::Match {
            *watch = HeartbeatWatch {
                last_state: Some(state),
                non_match_since: None,
                last_warn: None,
            };
            return false;
        }
        if watch.last_state != Some(state) || watch.non_match_since.is_none() {
            watch.non_match_since = Some(now);
            watch.last_warn = None;
        }
        watch.last_state = Some(state);
        let since = watch.non_match_since.unwrap_or(now);
        if now.saturating_sub(since) < self.config.warn_after {
            return false;
        }
        let warn = watch
            .last_warn
            .is_none_or(|last| now.saturating_sub(last) >= self.config.warn_every);
        if warn {
            watch.last_warn = Some(now);
        }
        warn
    }

    /// Room for `additional` more tracked dispatchers without growing the map (a rehash of a
    /// 10M-entry map is a latency spike worth avoiding when the size is known).
    pub fn reserve(&mut self, additional: usize) {
        let hasher = &self.hasher;
        self.owners
            .reserve(additional, |entry| hasher.hash_one(entry.0));
    }

    /// How long `node` has been continuously non-MATCH as of `now` (`None` if it is not, or
    /// unknown).
    pub fn non_match_for(&self, node: NodeId, now: Duration) -> Option<Duration> {
        let tracked = self.node(node)?;
        tracked
            .heartbeat
            .non_match_since
            .map(|since| now.saturating_sub(since))
    }

    /// The latest update for `node` (what a resend would carry), if tracked.
    pub fn update_for(&self, node: NodeId) -> Option<ChecksumUpdate> {
        self.node(node)
            .map(|tracked| tracked.update(self.epoch, self.mode))
    }

    /// The changefeed.
    pub fn changefeed(&self) -> &ChangefeedId {
        &self.changefeed
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The timing rules.
    pub fn config(&self) -> &TrackerConfig {
        &self.config
    }

    /// The current epoch (0 before the first reset).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The fingerprint of `node`'s expected set, if tracked.
    pub fn expected(&self, node: NodeId) -> Option<Fingerprint> {
        self.node(node).map(|tracked| tracked.expected)
    }

    /// `node`'s latest update number, if tracked.
    pub fn seq(&self, node: NodeId) -> Option<u64> {
        self.node(node).map(|tracked| tracked.seq)
    }

    /// `node`'s highest acknowledged update number, if tracked.
    pub fn acked_seq(&self, node: NodeId) -> Option<u64> {
        self.node(node).map(|tracked| tracked.acked_seq)
    }

    /// Which node is expected to run `id`.
    pub fn owner(&self, id: DispatcherId) -> Option<NodeId> {
        let key = PackedId::new(id);
        self.owners
            .find(self.hasher.hash_one(key), |entry| entry.0 == key)
            .map(|entry| entry.1)
    }

    /// Every tracked node, in order.
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = NodeId> + '_ {
        self.nodes.iter().map(|tracked| tracked.node)
    }

    /// Tracked nodes whose expected set is not empty, in order.
    pub fn nodes_owning_dispatchers(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.nodes
            .iter()
            .filter(|tracked| tracked.expected.count != 0)
            .map(|tracked| tracked.node)
    }

    /// Dirty nodes, in order.
    pub fn dirty_nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.nodes
            .iter()
            .filter(|tracked| tracked.dirty)
            .map(|tracked| tracked.node)
    }

    /// The whole state of `node`, if tracked.
    pub fn node(&self, node: NodeId) -> Option<&TrackedNode> {
        self.index_of(node).ok().map(|index| &self.nodes[index])
    }

    /// The state of every tracked node, in order.
    pub fn tracked_nodes(&self) -> &[TrackedNode] {
        &self.nodes
    }

    /// How many dispatchers have an owner.
    pub fn dispatcher_count(&self) -> usize {
        self.owners.len()
    }

    /// The IDs expected on `node`, in no particular order (walks every tracked dispatcher: for
    /// diagnosis and exact-set checks, not for a hot path).
    pub fn ids_owned_by(&self, node: NodeId) -> Vec<DispatcherId> {
        self.owners
            .iter()
            .filter(|(_, owner)| *owner == node)
            .map(|(id, _)| id.id())
            .collect()
    }

    fn index_of(&self, node: NodeId) -> Result<usize, usize> {
        self.positions.find(&self.nodes, node)
    }
}

/// Node → position in the sorted `nodes` vector. Clusters number their nodes densely from a small
/// base, so positions are kept in a vector indexed by node number, one load per lookup instead of
/// a binary search's chain of dependent loads over node states hundreds of bytes apart (each one a
/// cache miss once the dispatcher table has pushed the states out of L1). Node numbers too sparse
/// for that (more than [`NodePositions::DENSE_SLACK`] per node, plus a fixed allowance) leave the
/// vector empty and every lookup binary-searches. Rebuilt whenever `nodes` changes, which only
/// happens when a node is met, forgotten or reset.
#[derive(Clone, Debug, Default)]
struct NodePositions {
    /// `dense[n]` is 1 + the position of node `n`, or 0 if node `n` is not tracked.
    dense: Vec<u32>,
}

impl NodePositions {
    /// Slots allowed per tracked node (beyond [`NodePositions::DENSE_BASE`]).
    const DENSE_SLACK: usize = 8;
    /// Slots allowed whatever the node count: 4 KiB.
    const DENSE_BASE: usize = 1024;

    fn rebuild(&mut self, nodes: &[TrackedNode]) {
        self.dense.clear();
        let Some(last) = nodes.last() else {
            return;
        };
        let len = last.node.0 as usize + 1;
        if len > nodes.len() * Self::DENSE_SLACK + Self::DENSE_BASE {
            return;
        }
        self.dense.resize(len, 0);
        for (position, tracked) in nodes.iter().enumerate() {
            // `nodes.len()` fits in u32: node numbers are u32 and distinct.
            self.dense[tracked.node.0 as usize] = position as u32 + 1;
        }
    }

    /// `Ok(position)` of a tracked node, else `Err(where it would be inserted)`.
    #[inline]
    fn find(&self, nodes: &[TrackedNode], node: NodeId) -> Result<usize, usize> {
        match self.dense.get(node.0 as usize) {
            Some(&slot) if slot != 0 => Ok(slot as usize - 1),
            // Untracked, or sparse numbering: the binary search answers both.
            _ => nodes.binary_search_by_key(&node, |tracked| tracked.node),
        }
    }

    /// The position of a node the dispatcher table names. The table only ever names tracked
    /// nodes (`remove_nodes` drops a node's mappings with it), so absence is a broken invariant.
    #[inline]
    fn get(&self, nodes: &[TrackedNode], node: NodeId) -> usize {
        self.find(nodes, node)
            .unwrap_or_else(|_| panic!("dispatcher table names {node}, which is not tracked"))
    }
}

/// Counts a change of `tracked` in call `call`: the first change in a call bumps its seq and
/// marks it dirty.
#[inline]
fn mark_changed(
    tracked: &mut TrackedNode,
    call: u64,
    dirty_count: &mut usize,
    summary: &mut DeltaSummary,
) {
    if tracked.changed_in_call == call {
        return;
    }
    tracked.changed_in_call = call;
    tracked.seq = tracked.seq.max(tracked.seq_floor) + 1;
    summary.changed_nodes += 1;
    if !tracked.dirty {
        tracked.dirty = true;
        *dirty_count += 1;
    }
}

/// The owner map's slot for `key` whose hash is `hash`: the entry to insert into or to read.
fn owner_entry_hashed<'a, S: BuildHasher>(
    owners: &'a mut HashTable<(PackedId, NodeId)>,
    hasher: &S,
    key: PackedId,
    hash: u64,
) -> Entry<'a, (PackedId, NodeId)> {
    owners.entry(
        hash,
        |entry| entry.0 == key,
        |entry| hasher.hash_one(entry.0),
    )
}

#[cfg(test)]
mod tests {
    //! The paths `tests/protocol_tracker.rs` reaches only lightly: batches longer than
    //! [`PREFETCH_AHEAD`](memory::PREFETCH_AHEAD) with duplicates further apart than it,
    //! `remove_ids`, and node numbers too sparse for the dense position table, against a plain
    //! model of owners and summaries.
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn id(n: u64) -> DispatcherId {
        DispatcherId::new(n.wrapping_mul(0x9e37_79b9_7f4a_7c15), n ^ 0x55)
    }

    #[derive(Clone, Debug)]
    enum Op {
        Delta(usize, Vec<u64>, Vec<u64>),
        RemoveIds(Vec<u64>),
        RemoveNode(usize),
        /// `reset_full` over nodes 0..5 (node 5 unlisted: its IDs are skipped) with these lists.
        Reset(Vec<(usize, Vec<u64>)>),
    }

    fn op() -> impl Strategy<Value = Op> {
        let ids = || proptest::collection::vec(0u64..48, 0..40);
        prop_oneof![
            6 => (0usize..6, ids(), ids()).prop_map(|(n, a, r)| Op::Delta(n, a, r)),
            2 => ids().prop_map(Op::RemoveIds),
            1 => (0usize..6).prop_map(Op::RemoveNode),
            1 => proptest::collection::vec((0usize..6, ids()), 0..4).prop_map(Op::Reset),
        ]
    }

    /// Runs `ops` with node `k` numbered `numbers[k]`, checking every summary, owner and
    /// fingerprint against the model.
    fn run(numbers: [u32; 6], ops: &[Op]) -> Result<(), TestCaseError> {
        let mut tracker = ExpectedSetTracker::new(
            ChangefeedId::default(),
            Mode::Default,
            TrackerConfig::default(),
        );
        let mut owners: BTreeMap<u64, NodeId> = BTreeMap::new();
        for op in ops {
            match op {
                Op::Delta(k, add, remove) => {
                    let node = NodeId(numbers[*k]);
                    let mut want = DeltaSummary::default();
                    let known = tracker.node(node).is_some();
                    for x in remove {
                        if owners.get(x) == Some(&node) {
                            owners.remove(x);
                            want.removed += 1;
                        } else {
                            want.not_owned += 1;
                        }
                    }
                    for x in add {
                        match owners.insert(*x, node) {
                            Some(previous) if previous == node => want.already_owned += 1,
                            Some(_) => {
                                want.moved += 1;
                                want.added += 1;
                            }
                            None => want.added += 1,
                        }
                    }
                    want.created_node = !known && !add.is_empty();
                    let add: Vec<_> = add.iter().map(|x| id(*x)).collect();
                    let remove: Vec<_> = remove.iter().map(|x| id(*x)).collect();
                    let got = tracker.apply_delta(node, &add, &remove);
                    prop_assert_eq!(
                        (got.added, got.moved, got.removed, got.already_owned),
                        (want.added, want.moved, want.removed, want.already_owned)
                    );
                    prop_assert_eq!(
                        (got.not_owned, got.created_node),
                        (want.not_owned, want.created_node)
                    );
                }
                Op::RemoveIds(ids) => {
                    let mut removed = 0;
                    for x in ids {
                        removed += usize::from(owners.remove(x).is_some());
                    }
                    let list: Vec<_> = ids.iter().map(|x| id(*x)).collect();
                    let got = tracker.remove_ids(&list);
                    prop_assert_eq!((got.removed, got.not_owned), (removed, ids.len() - removed));
                }
                Op::RemoveNode(k) => {
                    let node = NodeId(numbers[*k]);
                    owners.retain(|_, owner| *owner != node);
                    tracker.remove_nodes(&[node]);
                }
                Op::Reset(lists) => {
                    let nodes: Vec<NodeId> = numbers[..5].iter().map(|&n| NodeId(n)).collect();
                    owners.clear();
                    let (mut duplicates, mut reassigned, mut skipped_ids) = (0, 0, 0);
                    for (k, xs) in lists {
                        let node = NodeId(numbers[*k]);
                        if !nodes.contains(&node) {
                            skipped_ids += xs.len();
                            continue;
                        }
                        for x in xs {
                            match owners.insert(*x, node) {
                                Some(previous) if previous == node => duplicates += 1,
                                Some(_) => reassigned += 1,
                                None => {}
                            }
                        }
                    }
                    let lists: Vec<(NodeId, Vec<DispatcherId>)> = lists
                        .iter()
                        .map(|(k, xs)| (NodeId(numbers[*k]), xs.iter().map(|x| id(*x)).collect()))
                        .collect();
                    let report = tracker.reset_full(1, &nodes, lists, Duration::ZERO);
                    prop_assert_eq!(
                        (
                            report.duplicates.len(),
                            report.reassigned.len(),
                            report.skipped_ids
                        ),
                        (duplicates, reassigned, skipped_ids)
                    );
                }
            }
            prop_assert_eq!(tracker.dispatcher_count(), owners.len());
            for x in 0..48 {
                prop_assert_eq!(tracker.owner(id(x)), owners.get(&x).copied());
            }
            for tracked in tracker.tracked_nodes() {
                let mine = owners
                    .iter()
                    .filter(|(_, owner)| **owner == tracked.node)
                    .map(|(x, _)| id(*x));
                prop_assert_eq!(tracked.expected, Fingerprint::from_ids(mine));
                prop_assert_eq!(tracker.node(tracked.node), Some(tracked));
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn multi_chunk_deltas_and_remove_ids_match_the_model_with_dense_node_numbers(
            ops in proptest::collection::vec(op(), 1..30)
        ) {
            run([0, 1, 2, 3, 4, 5], &ops)?;
        }

        #[test]
        fn multi_chunk_deltas_and_remove_ids_match_the_model_with_sparse_node_numbers(
            ops in proptest::collection::vec(op(), 1..30)
        ) {
            run([7, 1 << 20, 1 << 31, u32::MAX, 2_000, 5], &ops)?;
        }
    }

    #[test]
    fn positions_are_dense_for_small_numbers_and_fall_back_to_search_for_sparse_ones() {
        let mut tracker = ExpectedSetTracker::new(
            ChangefeedId::default(),
            Mode::Default,
            TrackerConfig::default(),
        );
        let nodes: Vec<NodeId> = (0..64).map(NodeId).collect();
        tracker.reset_full(1, &nodes, [(NodeId(3), vec![id(1)])], Duration::ZERO);
        assert_eq!(tracker.positions.dense.len(), 64);
        tracker.apply_delta(NodeId(u32::MAX), &[id(2)], &[]);
        assert!(
            tracker.positions.dense.is_empty(),
            "too sparse: binary search"
        );
        assert_eq!(tracker.owner(id(2)), Some(NodeId(u32::MAX)));
        tracker.remove_nodes(&[NodeId(u32::MAX)]);
        assert_eq!(tracker.positions.dense.len(), 64);
        assert_eq!(tracker.index_of(NodeId(63)), Ok(63));
        assert_eq!(tracker.index_of(NodeId(64)), Err(64));
    }
}
