//! Node-side dispatcher stores: what a heartbeat's *recompute* walks, and the columnar form that
//! feeds the masked kernels.
//!
//! The reference node keeps its dispatchers in a hash map from ID to a dispatcher object and, at
//! every heartbeat, walks the whole map to rebuild its actual fingerprint. [`DispatcherStore`] is
//! that map, with a [`Dispatcher`] object carrying the fields a real dispatcher carries (table span
//! with heap-allocated keys, checkpoint and resolved timestamps, counters), so walking it costs
//! what walking a real one costs: one cache line or two per dispatcher, not 17 bytes. It is
//! generic over the hasher so the benchmarks measure both `std`'s SipHash and `ahash`.
//!
//! The objects are stored inline in the map (the natural Rust layout). The reference system keeps
//! pointers to heap objects, so its walk pays one more dependent load per dispatcher: the numbers
//! measured here are a lower bound for the recompute strategy, which makes every speedup quoted
//! against it conservative.
//!
//! [`ColumnarStore`] keeps the same information a heartbeat needs as two parallel columns, IDs and
//! state bytes, with an index map for O(1) lookup and swap-remove, so a recompute is one masked
//! kernel call over contiguous memory.
//!
//! [`synthetic_dispatchers`] makes a deterministic workload with a realistic mix of states for the
//! benchmarks and the main job.

use dispatcher_checksum::choose;
use dispatcher_checksum::lifecycle::{ComponentState, StateSet};
use dispatcher_checksum::{DispatcherId, Fingerprint, Kernel, KernelUnavailable};
use std::collections::HashMap;
use std::hash::BuildHasher;

/// The key range a dispatcher replicates: a table and a slice of its key space.
///
/// The keys are heap-allocated, as in the reference system (encoded TiKV keys of about 19 bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSpan {
    /// The table's ID.
    pub table_id: i64,
    /// First key of the span (inclusive).
    pub start_key: Box<[u8]>,
    /// End of the span (exclusive).
    pub end_key: Box<[u8]>,
}

impl TableSpan {
    /// The whole record range of `table_id`, encoded the way TiKV encodes table keys
    /// (`t` + big-endian table ID with the sign bit flipped + `_r`).
    pub fn whole_table(table_id: i64) -> TableSpan {
        let encode = |id: i64| {
            let mut key = Vec::with_capacity(11);
            key.push(b't');
            key.extend_from_slice(&((id as u64) ^ (1 << 63)).to_be_bytes());
            key.extend_from_slice(b"_r");
            key.into_boxed_slice()
        };
        TableSpan {
            table_id,
            start_key: encode(table_id),
            end_key: encode(table_id.wrapping_add(1)),
        }
    }
}

/// One dispatcher as a node holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dispatcher {
    /// The dispatcher's ID (also the store's key).
    pub id: DispatcherId,
    /// Its lifecycle state; the fingerprint counts it only in an included state.
    pub state: ComponentState,
    /// What it replicates.
    pub span: TableSpan,
    /// The schema (database) the table belongs to.
    pub schema_id: i64,
    /// Everything before this timestamp has been written downstream.
    pub checkpoint_ts: u64,
    /// Everything before this timestamp has been received from upstream.
    pub resolved_ts: u64,
    /// Events received since creation.
    pub events_received: u64,
    /// Rows written downstream since creation.
    pub rows_flushed: u64,
    /// Bytes written downstream since creation.
    pub bytes_flushed: u64,
    /// Milliseconds since the node started, at the last heartbeat that mentioned this dispatcher.
    pub last_heartbeat_ms: u64,
}

impl Dispatcher {
    /// A freshly created dispatcher for `table_id`, in `state`, with zeroed progress.
    pub fn new(id: DispatcherId, state: ComponentState, table_id: i64) -> Dispatcher {
        Dispatcher {
            id,
            state,
            span: TableSpan::whole_table(table_id),
            schema_id: table_id / 64,
            checkpoint_ts: 0,
            resolved_ts: 0,
            events_received: 0,
            rows_flushed: 0,
            bytes_flushed: 0,
            last_heartbeat_ms: 0,
        }
    }
}

/// The reference node's dispatcher store: a hash map from ID to dispatcher object.
#[derive(Clone, Debug)]
pub struct DispatcherStore<S = std::hash::RandomState> {
    dispatchers: HashMap<DispatcherId, Dispatcher, S>,
}

/// The store with `std`'s SipHash-1-3.
pub type StdDispatcherStore = DispatcherStore<std::hash::RandomState>;
/// The store with `ahash`.
pub type AhashDispatcherStore = DispatcherStore<ahash::RandomState>;

impl<S: BuildHasher + Default> Default for DispatcherStore<S> {
    fn default() -> Self {
        DispatcherStore {
            dispatchers: HashMap::default(),
        }
    }
}

impl<S: BuildHasher + Default> DispatcherStore<S> {
    /// An empty store with room for `capacity` dispatchers.
    pub fn with_capacity(capacity: usize) -> Self {
        DispatcherStore {
            dispatchers: HashMap::with_capacity_and_hasher(capacity, S::default()),
        }
    }
}

impl<S: BuildHasher> DispatcherStore<S> {
    /// Adds or replaces a dispatcher; returns the one it replaced.
    pub fn insert(&mut self, dispatcher: Dispatcher) -> Option<Dispatcher> {
        self.dispatchers.insert(dispatcher.id, dispatcher)
    }

    /// Removes a dispatcher; returns it if it was there.
    pub fn remove(&mut self, id: &DispatcherId) -> Option<Dispatcher> {
        self.dispatchers.remove(id)
    }

    /// Sets a dispatcher's state; returns the previous state, or `None` if it is unknown.
    pub fn set_state(
        &mut self,
        id: &DispatcherId,
        state: ComponentState,
    ) -> Option<ComponentState> {
        self.dispatchers
            .get_mut(id)
            .map(|dispatcher| std::mem::replace(&mut dispatcher.state, state))
    }

    /// The dispatcher with this ID.
    pub fn get(&self, id: &DispatcherId) -> Option<&Dispatcher> {
        self.dispatchers.get(id)
    }

    /// The dispatcher with this ID, to update its progress fields.
    pub fn get_mut(&mut self, id: &DispatcherId) -> Option<&mut Dispatcher> {
        self.dispatchers.get_mut(id)
    }

    /// Number of dispatchers held.
    pub fn len(&self) -> usize {
        self.dispatchers.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.dispatchers.is_empty()
    }

    /// Every dispatcher, in the map's order.
    pub fn iter(&self) -> impl Iterator<Item = &Dispatcher> {
        self.dispatchers.values()
    }

    /// The reference node's heartbeat: walk every dispatcher and fold the included ones.
    pub fn recompute_fingerprint(&self, included: StateSet) -> Fingerprint {
        let mut fingerprint = Fingerprint::EMPTY;
        for dispatcher in self.dispatchers.values() {
            if included.contains(dispatcher.state) {
                fingerprint.add(dispatcher.id);
            }
        }
        fingerprint
    }
}

impl<S: BuildHasher + Default> FromIterator<Dispatcher> for DispatcherStore<S> {
    fn from_iter<I: IntoIterator<Item = Dispatcher>>(dispatchers: I) -> Self {
        let dispatchers = dispatchers.into_iter();
        let mut store = DispatcherStore::with_capacity(dispatchers.size_hint().0);
        for dispatcher in dispatchers {
            store.insert(dispatcher);
        }
        store
    }
}

/// IDs and lifecycle states as two parallel columns, for the masked kernels.
///
/// An index map from ID to position gives O(1) lookup; removal swaps the last entry into the hole
/// (so the columns stay dense and the kernels see one contiguous slice) and fixes its index.
#[derive(Clone, Debug)]
pub struct ColumnarStore<S = ahash::RandomState> {
    ids: Vec<DispatcherId>,
    states: Vec<u8>,
    position: HashMap<DispatcherId, usize, S>,
}

impl<S: BuildHasher + Default> Default for ColumnarStore<S> {
    fn default() -> Self {
        ColumnarStore::with_capacity(0)
    }
}

impl<S: BuildHasher + Default> ColumnarStore<S> {
    /// An empty store with room for `capacity` dispatchers.
    pub fn with_capacity(capacity: usize) -> Self {
        ColumnarStore {
            ids: Vec::with_capacity(capacity),
            states: Vec::with_capacity(capacity),
            position: HashMap::with_capacity_and_hasher(capacity, S::default()),
        }
    }
}

impl<S: BuildHasher> ColumnarStore<S> {
    /// Adds a dispatcher, or sets its state if it is already there; returns whether it was new.
    pub fn insert(&mut self, id: DispatcherId, state: ComponentState) -> bool {
        match self.position.get(&id) {
            Some(&index) => {
                self.states[index] = state.number();
                false
            }
            None => {
                self.position.insert(id, self.ids.len());
                self.ids.push(id);
                self.states.push(state.number());
                true
            }
        }
    }

    /// Removes a dispatcher in O(1) (swap-remove); returns its state if it was there.
    pub fn remove(&mut self, id: &DispatcherId) -> Option<ComponentState> {
        let index = self.position.remove(id)?;
        self.ids.swap_remove(index);
        let state = self.states.swap_remove(index);
        if let Some(moved) = self.ids.get(index) {
            self.position.insert(*moved, index);
        }
        ComponentState::from_number(state)
    }

    /// Sets a dispatcher's state; returns the previous state, or `None` if it is unknown.
    pub fn set_state(
        &mut self,
        id: &DispatcherId,
        state: ComponentState,
    ) -> Option<ComponentState> {
        let index = *self.position.get(id)?;
        let previous = std::mem::replace(&mut self.states[index], state.number());
        ComponentState::from_number(previous)
    }

    /// The state of a dispatcher.
    pub fn state(&self, id: &DispatcherId) -> Option<ComponentState> {
        let index = *self.position.get(id)?;
        ComponentState::from_number(self.states[index])
    }

    /// Number of dispatchers held.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The ID column (positions match [`ColumnarStore::states`]).
    pub fn ids(&self) -> &[DispatcherId] {
        &self.ids
    }

    /// The state column, as wire numbers.
    pub fn states(&self) -> &[u8] {
        &self.states
    }

    /// The fingerprint of the included dispatchers, by the automatic kernel choice.
    pub fn fingerprint(&self, included: StateSet) -> Fingerprint {
        choose::fingerprint_masked(&self.ids, &self.states, included)
    }

    /// The fingerprint of the included dispatchers, by an explicit kernel.
    pub fn fingerprint_with(
        &self,
        kernel: Kernel,
        included: StateSet,
    ) -> Result<Fingerprint, KernelUnavailable> {
        dispatcher_checksum::fingerprint_masked_with(kernel, &self.ids, &self.states, included)
    }
}

impl<S: BuildHasher + Default> FromIterator<(DispatcherId, ComponentState)> for ColumnarStore<S> {
    fn from_iter<I: IntoIterator<Item = (DispatcherId, ComponentState)>>(entries: I) -> Self {
        let entries = entries.into_iter();
        let mut store = ColumnarStore::with_capacity(entries.size_hint().0);
        for (id, state) in entries {
            store.insert(id, state);
        }
        store
    }
}

/// A deterministic stream of well-mixed IDs (SplitMix64 over a counter), standing in for the
/// random UUIDs the reference system uses. Different seeds give disjoint-looking streams.
#[derive(Clone, Debug)]
pub struct IdStream {
    state: u64,
}

impl IdStream {
    /// A stream starting from `seed`.
    pub fn new(seed: u64) -> IdStream {
        IdStream {
            state: seed.wrapping_mul(0xD6E8_FEB8_6659_FD93),
        }
    }

    fn next_word(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The next ID.
    pub fn next_id(&mut self) -> DispatcherId {
        let high = self.next_word();
        let low = self.next_word();
        DispatcherId::new(high, low)
    }
}

impl Iterator for IdStream {
    type Item = DispatcherId;
    fn next(&mut self) -> Option<DispatcherId> {
        Some(self.next_id())
    }
}

/// The state of the `index`-th synthetic dispatcher: a steady node, mostly Working, with a few in
/// every other state (about 3% excluded from the fingerprint), spread without a pattern the
/// branch predictor could learn.
pub fn synthetic_state(index: u64) -> ComponentState {
    let spread = index.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 57; // 0..128
    match spread {
        0 => ComponentState::Initializing,
        1 => ComponentState::Preparing,
        2 => ComponentState::MergeReady,
        3 => ComponentState::Stopped,
        4 => ComponentState::Removed,
        5 => ComponentState::WaitingMerge,
        _ => ComponentState::Working,
    }
}

/// `count` synthetic dispatchers, deterministic in `seed`: IDs from [`IdStream`], states from
/// [`synthetic_state`], one table per dispatcher.
pub fn synthetic_dispatchers(count: usize, seed: u64) -> impl Iterator<Item = Dispatcher> {
    IdStream::new(seed)
        .take(count)
        .enumerate()
        .map(|(index, id)| Dispatcher::new(id, synthetic_state(index as u64), 100 + index as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oracle(dispatchers: &[Dispatcher], included: StateSet) -> Fingerprint {
        dispatchers
            .iter()
            .filter(|d| included.contains(d.state))
            .map(|d| d.id)
            .collect()
    }

    #[test]
    fn hash_map_store_recompute_matches_the_oracle_under_both_hashers() {
        let dispatchers: Vec<Dispatcher> = synthetic_dispatchers(5_000, 7).collect();
        let expected = oracle(&dispatchers, StateSet::DEFAULT_INCLUDED);
        assert!(
            expected.count < 5_000,
            "the workload must exclude some dispatchers"
        );
        let std_store: StdDispatcherStore = dispatchers.iter().cloned().collect();
        let ahash_store: AhashDispatcherStore = dispatchers.iter().cloned().collect();
        assert_eq!(
            std_store.recompute_fingerprint(StateSet::DEFAULT_INCLUDED),
            expected
        );
        assert_eq!(
            ahash_store.recompute_fingerprint(StateSet::DEFAULT_INCLUDED),
            expected
        );
    }

    #[test]
    fn columnar_store_tracks_inserts_removes_and_state_changes() {
        let dispatchers: Vec<Dispatcher> = synthetic_dispatchers(3_000, 11).collect();
        let mut columnar: ColumnarStore = dispatchers.iter().map(|d| (d.id, d.state)).collect();
        let mut map: AhashDispatcherStore = dispatchers.iter().cloned().collect();
        for (step, dispatcher) in dispatchers.iter().enumerate() {
            match step % 3 {
                0 => {
                    assert_eq!(columnar.remove(&dispatcher.id), Some(dispatcher.state));
                    map.remove(&dispatcher.id);
                }
                1 => {
                    let next = ComponentState::ALL[step % 7];
                    assert_eq!(
                        columnar.set_state(&dispatcher.id, next),
                        Some(dispatcher.state)
                    );
                    map.set_state(&dispatcher.id, next);
                }
                _ => {}
            }
        }
        assert_eq!(columnar.remove(&dispatchers[0].id), None);
        assert!(!columnar.insert(dispatchers[1].id, ComponentState::Stopped));
        map.set_state(&dispatchers[1].id, ComponentState::Stopped);
        assert_eq!(columnar.len(), map.len());
        for included in [StateSet::DEFAULT_INCLUDED, StateSet::ALL] {
            assert_eq!(
                columnar.fingerprint(included),
                map.recompute_fingerprint(included)
            );
            for kernel in Kernel::all().iter().filter(|k| k.is_available()) {
                assert_eq!(
                    columnar.fingerprint_with(*kernel, included),
                    Ok(map.recompute_fingerprint(included))
                );
            }
        }
        for (index, id) in columnar.ids().iter().enumerate() {
            assert_eq!(columnar.position[id], index);
            assert_eq!(columnar.state(id), map.get(id).map(|d| d.state));
        }
    }

    #[test]
    fn id_streams_are_deterministic_and_distinct() {
        let a: Vec<DispatcherId> = IdStream::new(1).take(100).collect();
        let b: Vec<DispatcherId> = IdStream::new(1).take(100).collect();
        let c: Vec<DispatcherId> = IdStream::new(2).take(100).collect();
        assert_eq!(a, b);
        assert!(a.iter().all(|id| !c.contains(id)));
        let unique: std::collections::HashSet<_> = a.iter().collect();
        assert_eq!(unique.len(), 100);
    }

    #[test]
    fn table_spans_are_encoded_keys_in_order() {
        let span = TableSpan::whole_table(42);
        assert_eq!(span.start_key.len(), 11);
        assert!(span.start_key < span.end_key);
        assert_eq!(&span.start_key[..1], b"t");
    }
}
