//! The simulated network: a discrete-event queue that loses, duplicates, delays and reorders.
//!
//! Time is counted in ticks (one heartbeat period each). A message sent at tick `t` arrives at
//! tick `t + d` with `1 <= d <= max_delay`: `d = 1` normally, and with probability `reorder` a
//! delay drawn uniformly from `1..=max_delay`, so it can arrive after messages sent later.
//! Messages due at the same tick arrive in the order they were sent. *Lossy* messages (the
//! checksum protocol's updates, acks and heartbeats) are also dropped with probability `loss` and
//! duplicated with probability `duplicate` (the copy draws its own delay). *Reliable* messages
//! (the scheduler's commands and the new maintainer's bootstrap, which the reference system
//! retries at the operator level, outside this protocol) are only delayed and reordered.
//!
//! [`Network::set_lossy_faults`] turns loss and duplication off for the quiet phase; reordering
//! stays on, so the liveness bound is tested with delays still varying up to `max_delay`.

use super::rng::SimRng;
use std::collections::BTreeMap;

/// The network's fault rates and delay bound.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NetworkConfig {
    /// Probability that a lossy message is dropped.
    pub loss: f64,
    /// Probability that a lossy message is delivered twice.
    pub duplicate: f64,
    /// Probability that a message gets a random delay in `1..=max_delay` instead of 1 tick.
    pub reorder: f64,
    /// The longest delay in ticks (at least 1).
    pub max_delay: u64,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            loss: 0.1,
            duplicate: 0.1,
            reorder: 0.1,
            max_delay: 4,
        }
    }
}

/// Whether a message may be lost or duplicated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// May be dropped, duplicated, delayed, reordered.
    Lossy,
    /// Only delayed and reordered.
    Reliable,
}

/// What the network did, for the summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetworkStats {
    /// Messages handed to [`Network::send`].
    pub sent: u64,
    /// Messages dropped.
    pub lost: u64,
    /// Extra copies made.
    pub duplicated: u64,
    /// Copies given a random delay.
    pub delayed: u64,
    /// Copies delivered.
    pub delivered: u64,
}

impl NetworkStats {
    /// The sum of two runs' statistics.
    pub fn merged(self, other: NetworkStats) -> NetworkStats {
        NetworkStats {
            sent: self.sent + other.sent,
            lost: self.lost + other.lost,
            duplicated: self.duplicated + other.duplicated,
            delayed: self.delayed + other.delayed,
            delivered: self.delivered + other.delivered,
        }
    }
}

/// The in-flight messages, ordered by (arrival tick, send order).
#[derive(Debug)]
pub struct Network<M> {
    config: NetworkConfig,
    lossy_faults: bool,
    queue: BTreeMap<(u64, u64), (Delivery, M)>,
    next_serial: u64,
    reliable_in_flight: usize,
    stats: NetworkStats,
}

impl<M: Clone> Network<M> {
    /// An empty network with these rates; loss and duplication start switched on.
    pub fn new(config: NetworkConfig) -> Network<M> {
        Network {
            config,
            lossy_faults: true,
            queue: BTreeMap::new(),
            next_serial: 0,
            reliable_in_flight: 0,
            stats: NetworkStats::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> NetworkConfig {
        self.config
    }

    /// Switches loss and duplication on or off (reordering is unaffected).
    pub fn set_lossy_faults(&mut self, on: bool) {
        self.lossy_faults = on;
    }

    /// Sends `message` at tick `now`.
    pub fn send(&mut self, now: u64, message: M, delivery: Delivery, rng: &mut SimRng) {
        self.stats.sent += 1;
        let faulty = delivery == Delivery::Lossy && self.lossy_faults;
        if faulty && rng.chance(self.config.loss) {
            self.stats.lost += 1;
            return;
        }
        if faulty && rng.chance(self.config.duplicate) {
            self.stats.duplicated += 1;
            self.enqueue(now, message.clone(), delivery, rng);
        }
        self.enqueue(now, message, delivery, rng);
    }

    fn enqueue(&mut self, now: u64, message: M, delivery: Delivery, rng: &mut SimRng) {
        let max_delay = self.config.max_delay.max(1);
        let delay = if max_delay > 1 && rng.chance(self.config.reorder) {
            self.stats.delayed += 1;
            rng.inclusive(1, max_delay)
        } else {
            1
        };
        if delivery == Delivery::Reliable {
            self.reliable_in_flight += 1;
        }
        self.queue
            .insert((now + delay, self.next_serial), (delivery, message));
        self.next_serial += 1;
    }

    /// Removes and returns every message due at or before `now`, in arrival order.
    pub fn deliver_due(&mut self, now: u64) -> Vec<M> {
        let later = self.queue.split_off(&(now + 1, 0));
        let due = std::mem::replace(&mut self.queue, later);
        let mut messages = Vec::with_capacity(due.len());
        for (_, (delivery, message)) in due {
            if delivery == Delivery::Reliable {
                self.reliable_in_flight -= 1;
            }
            messages.push(message);
        }
        self.stats.delivered += messages.len() as u64;
        messages
    }

    /// Whether a reliable message is still in flight (the quiet phase waits for none).
    pub fn has_reliable_in_flight(&self) -> bool {
        self.reliable_in_flight > 0
    }

    /// Messages in flight.
    pub fn in_flight(&self) -> usize {
        self.queue.len()
    }

    /// What the network did so far.
    pub fn stats(&self) -> NetworkStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(loss: f64, duplicate: f64, reorder: f64) -> NetworkConfig {
        NetworkConfig {
            loss,
            duplicate,
            reorder,
            max_delay: 4,
        }
    }

    #[test]
    fn without_faults_messages_arrive_next_tick_in_order() {
        let mut rng = SimRng::new(3, 0);
        let mut network = Network::new(config(0.0, 0.0, 0.0));
        for value in 0..5u32 {
            network.send(10, value, Delivery::Lossy, &mut rng);
        }
        assert!(network.deliver_due(10).is_empty());
        assert_eq!(network.deliver_due(11), vec![0, 1, 2, 3, 4]);
        assert_eq!(network.in_flight(), 0);
    }

    #[test]
    fn reliable_messages_are_never_lost_or_duplicated_and_delays_are_bounded() {
        let mut rng = SimRng::new(4, 0);
        let mut network = Network::new(config(1.0, 1.0, 1.0));
        for value in 0..1000u32 {
            network.send(0, value, Delivery::Reliable, &mut rng);
        }
        assert!(network.has_reliable_in_flight());
        let mut seen = network.deliver_due(4);
        assert!(!network.has_reliable_in_flight());
        seen.sort_unstable();
        assert_eq!(seen, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn lossy_messages_are_lost_duplicated_and_reordered_at_the_given_rates() {
        let mut rng = SimRng::new(5, 0);
        let mut network = Network::new(config(0.1, 0.1, 0.1));
        for value in 0..10_000u32 {
            network.send(0, value, Delivery::Lossy, &mut rng);
        }
        let stats = network.stats();
        assert!((800..1200).contains(&stats.lost), "{stats:?}");
        assert!((700..1100).contains(&stats.duplicated), "{stats:?}");
        assert!((800..1300).contains(&stats.delayed), "{stats:?}");
        let delivered = network.deliver_due(4);
        assert_eq!(
            delivered.len() as u64,
            10_000 - stats.lost + stats.duplicated
        );
        network.set_lossy_faults(false);
        network.send(0, 7, Delivery::Lossy, &mut rng);
        assert_eq!(network.stats().lost, stats.lost);
    }
}
