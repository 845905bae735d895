//! The churn loop: a heartbeat interval's dispatcher lifecycle events applied to a node's
//! bookkeeping, then the heartbeat's verification, under each strategy. Shared by the main job
//! and `benches/heartbeat.rs`.

use crate::fixtures::{AhashDispatcherStore, ColumnarStore, Dispatcher, IdStream};
use dispatcher_checksum::lifecycle::{ComponentState, StateSet};
use dispatcher_checksum::protocol::verifier::{ActualSet, DispatcherSetVerifier};
use dispatcher_checksum::{DispatcherId, Fingerprint};
use std::collections::VecDeque;
use std::hint::black_box;
use std::time::Duration;

/// The included-state rule: the reference node's.
const INCLUDED: StateSet = StateSet::DEFAULT_INCLUDED;

/// The node's bookkeeping under one strategy, as the churn loop drives it.
pub trait ChurnTarget {
    /// A dispatcher was created in `state`.
    fn add(&mut self, id: DispatcherId, state: ComponentState);
    /// A dispatcher changed state.
    fn set_state(&mut self, id: DispatcherId, state: ComponentState);
    /// A dispatcher left the node.
    fn remove(&mut self, id: DispatcherId);
    /// This heartbeat's verification; returns the actual fingerprint it compared.
    fn heartbeat(&mut self) -> Fingerprint;
    /// Every dispatcher and its state, for the oracle.
    fn store(&self) -> &AhashDispatcherStore;
}

/// Recompute over the hash-map store: events update the map, the heartbeat walks it.
pub struct MapRecompute(pub AhashDispatcherStore);

impl ChurnTarget for MapRecompute {
    fn add(&mut self, id: DispatcherId, state: ComponentState) {
        self.0.insert(Dispatcher::new(id, state, id.low as i64));
    }
    fn set_state(&mut self, id: DispatcherId, state: ComponentState) {
        self.0.set_state(&id, state);
    }
    fn remove(&mut self, id: DispatcherId) {
        self.0.remove(&id);
    }
    fn heartbeat(&mut self) -> Fingerprint {
        self.0.recompute_fingerprint(INCLUDED)
    }
    fn store(&self) -> &AhashDispatcherStore {
        &self.0
    }
}

/// Recompute over a columnar store kept beside the map: events update both, the heartbeat runs
/// the automatic masked kernel.
pub struct ColumnarRecompute(pub AhashDispatcherStore, pub ColumnarStore);

impl ChurnTarget for ColumnarRecompute {
    fn add(&mut self, id: DispatcherId, state: ComponentState) {
        self.0.insert(Dispatcher::new(id, state, id.low as i64));
        self.1.insert(id, state);
    }
    fn set_state(&mut self, id: DispatcherId, state: ComponentState) {
        self.0.set_state(&id, state);
        self.1.set_state(&id, state);
    }
    fn remove(&mut self, id: DispatcherId) {
        self.0.remove(&id);
        self.1.remove(&id);
    }
    fn heartbeat(&mut self) -> Fingerprint {
        self.1.fingerprint(INCLUDED)
    }
    fn store(&self) -> &AhashDispatcherStore {
        &self.0
    }
}

/// The incremental strategy: events update the map and the verifier's actual set, the heartbeat
/// is `verify` (O(1)).
pub struct Incremental {
    /// The node's dispatcher map.
    pub store: AhashDispatcherStore,
    /// The verifier over an incremental actual set.
    pub verifier: DispatcherSetVerifier,
    /// The injected clock, advanced one second per heartbeat.
    pub now: Duration,
}

impl ChurnTarget for Incremental {
    fn add(&mut self, id: DispatcherId, state: ComponentState) {
        self.store.insert(Dispatcher::new(id, state, id.low as i64));
        self.verifier
            .actual_set_mut()
            .on_dispatcher_added(id, state);
    }
    fn set_state(&mut self, id: DispatcherId, state: ComponentState) {
        self.store.set_state(&id, state);
        self.verifier.actual_set_mut().on_state_changed(id, state);
    }
    fn remove(&mut self, id: DispatcherId) {
        self.store.remove(&id);
        self.verifier.actual_set_mut().on_dispatcher_removed(id);
    }
    fn heartbeat(&mut self) -> Fingerprint {
        self.now += Duration::from_secs(1);
        black_box(self.verifier.verify(self.now));
        self.verifier.actual_set().actual_fingerprint()
    }
    fn store(&self) -> &AhashDispatcherStore {
        &self.store
    }
}

/// A heartbeat interval's lifecycle changes, in steady state: a quarter of them create
/// dispatchers (Initializing), a quarter promote earlier ones to Working, a quarter flip a
/// long-lived dispatcher between Working and Stopped, a quarter remove earlier ones. The node's
/// size stays constant, so every interval costs the same.
pub struct Churn {
    fresh: IdStream,
    initializing: VecDeque<DispatcherId>,
    working: VecDeque<DispatcherId>,
    long_lived: Vec<DispatcherId>,
    next_flip: usize,
    per_kind: usize,
}

impl Churn {
    /// A churn of `changes` events per interval, flipping states among `long_lived` (IDs held
    /// by `target`); adds two intervals' worth of young dispatchers to `target` first.
    pub fn new(
        changes: usize,
        long_lived: Vec<DispatcherId>,
        target: &mut dyn ChurnTarget,
    ) -> Churn {
        let mut churn = Churn {
            fresh: IdStream::new(0xC4u64 << 32 | changes as u64),
            initializing: VecDeque::new(),
            working: VecDeque::new(),
            long_lived,
            next_flip: 0,
            per_kind: changes / 4,
        };
        // Two intervals' worth of young dispatchers, so removals and promotions always find one.
        for _ in 0..churn.per_kind {
            let id = churn.fresh.next_id();
            target.add(id, ComponentState::Working);
            churn.working.push_back(id);
            let id = churn.fresh.next_id();
            target.add(id, ComponentState::Initializing);
            churn.initializing.push_back(id);
        }
        churn
    }

    /// Applies one interval's events to `target`, then runs its heartbeat.
    pub fn interval(&mut self, target: &mut dyn ChurnTarget) -> Fingerprint {
        for _ in 0..self.per_kind {
            let id = self.fresh.next_id();
            target.add(id, ComponentState::Initializing);
            self.initializing.push_back(id);

            if let Some(id) = self.initializing.pop_front() {
                target.set_state(id, ComponentState::Working);
                self.working.push_back(id);
            }

            if let Some(&flip) = self
                .long_lived
                .get(self.next_flip % self.long_lived.len().max(1))
            {
                // The first pass over the long-lived set stops them, the next restarts them.
                let pass = self.next_flip / self.long_lived.len();
                self.next_flip += 1;
                let state = if pass.is_multiple_of(2) {
                    ComponentState::Stopped
                } else {
                    ComponentState::Working
                };
                target.set_state(flip, state);
            }

            if let Some(id) = self.working.pop_front() {
                target.remove(id);
            }
        }
        target.heartbeat()
    }
}
