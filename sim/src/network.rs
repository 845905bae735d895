//! The simulated network's fault model: for each message sent, when (and how many times) it
//! arrives.
//!
//! A message normally takes a delay drawn from `base_delay_ms`; with probability `reorder` it
//! takes one drawn from `1..=max_delay_ms` instead, so it can arrive after messages sent later.
//! *Lossy* messages (the checksum protocol's updates, acks and heartbeats, which carry the
//! dispatcher statuses too) are also dropped with probability `loss` and duplicated with
//! probability `duplicate`, the copy drawing its own delay. *Reliable* messages (the scheduler's
//! commands, bootstraps and their responses, which the reference system retries at the
//! operator and bootstrap level, outside this protocol) are only delayed and reordered.
//!
//! [`Network::set_lossy_faults`] turns loss and duplication off at the quiet point; reordering
//! stays on, so the liveness bound is tested with delays still varying.
//!
//! Under the model checker ([`crate::model_check`]) a [`Script`] replaces the rates: the fate of
//! each message sent while loss is on is the checker's decision, in send order (a reliable one
//! can only be delivered or delayed), and the network asks for the next decision when the
//! script runs out. The same script decides one choice that is not a message, in send order with
//! them: how two concurrent steps of the maintainer interleave ([`Network::interleaving`], zoo
//! bug #4077's `AddOperator` race).

use crate::rng::SimRng;

/// The network's fault rates and delays.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NetworkConfig {
    /// Probability that a lossy message is dropped.
    pub loss: f64,
    /// Probability that a lossy message is delivered twice.
    pub duplicate: f64,
    /// Probability that a message takes a delay from `1..=max_delay_ms`.
    pub reorder: f64,
    /// The usual delay range, in milliseconds.
    pub base_delay_ms: (u64, u64),
    /// The longest delay, in milliseconds (at least the top of `base_delay_ms`).
    pub max_delay_ms: u64,
}

impl NetworkConfig {
    /// A network that neither loses, duplicates nor reorders.
    pub const PERFECT: NetworkConfig = NetworkConfig {
        loss: 0.0,
        duplicate: 0.0,
        reorder: 0.0,
        base_delay_ms: (1, 5),
        max_delay_ms: 5,
    };

    /// The longest any message can take.
    pub fn worst_delay_ms(&self) -> u64 {
        self.max_delay_ms.max(self.base_delay_ms.1).max(1)
    }
}

impl Default for NetworkConfig {
    /// The fault mix: 10% loss, 10% duplication, 30% reordering with delays up to 1 s.
    fn default() -> Self {
        NetworkConfig {
            loss: 0.1,
            duplicate: 0.1,
            reorder: 0.3,
            base_delay_ms: (1, 5),
            max_delay_ms: 1000,
        }
    }
}

/// Whether a message may be lost or duplicated, or (not a message) which way two concurrent
/// steps interleave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Delivery {
    /// May be dropped, duplicated, delayed, reordered.
    Lossy,
    /// Only delayed and reordered.
    Reliable,
    /// Two concurrent steps of the maintainer: in order (`deliver`), or the first delayed until
    /// the second has checked what it checks (`delay`): zoo bug #4077's `AddOperator` race,
    /// [`Network::interleaving`].
    Interleaving,
}

/// What becomes of one lossy message, as the model checker decides it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fate {
    /// Delivered once, within the usual delay.
    Deliver,
    /// Dropped.
    Lose,
    /// Delivered twice: once within the usual delay, once after the longest delay.
    Duplicate,
    /// Delivered once, after the longest delay (so after what is sent meanwhile).
    Delay,
}

impl Fate {
    /// Every fate, `Deliver` first.
    pub const ALL: [Fate; 4] = [Fate::Deliver, Fate::Lose, Fate::Duplicate, Fate::Delay];

    /// The lower-case name.
    pub const fn name(self) -> &'static str {
        match self {
            Fate::Deliver => "deliver",
            Fate::Lose => "lose",
            Fate::Duplicate => "dup",
            Fate::Delay => "delay",
        }
    }
}

/// The model checker's decisions for the messages of a run sent while loss is on, in send order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Script {
    /// The fate of the first messages sent while loss is on.
    pub fates: Vec<Fate>,
    /// Whether the network asks for a decision once the fates run out (otherwise it delivers).
    pub open: bool,
    taken: usize,
    wants_decision: Option<Delivery>,
}

impl Script {
    /// A script of `fates`, asking for more when `open`.
    pub fn new(fates: Vec<Fate>, open: bool) -> Script {
        Script {
            fates,
            open,
            taken: 0,
            wants_decision: None,
        }
    }

    /// The kind of the first message that found no decision while the script was open.
    pub fn wants_decision(&self) -> Option<Delivery> {
        self.wants_decision
    }

    /// The fates a message of `delivery` can have: a reliable one is never lost or duplicated,
    /// an interleaving is in order or not.
    pub fn fates_of(delivery: Delivery) -> &'static [Fate] {
        match delivery {
            Delivery::Lossy => &Fate::ALL,
            Delivery::Reliable | Delivery::Interleaving => &[Fate::Deliver, Fate::Delay],
        }
    }

    /// `7:lose,19:delay`: the decisions other than `deliver`, by message index.
    pub fn describe(fates: &[Fate]) -> String {
        let parts: Vec<String> = fates
            .iter()
            .enumerate()
            .filter(|(_, fate)| **fate != Fate::Deliver)
            .map(|(index, fate)| format!("{index}:{}", fate.name()))
            .collect();
        if parts.is_empty() {
            "none".to_string()
        } else {
            parts.join(",")
        }
    }

    /// Parses [`Script::describe`]'s form back into fates (`none` is no decision).
    pub fn parse(text: &str) -> Result<Vec<Fate>, String> {
        let mut fates = Vec::new();
        if text.trim() == "none" {
            return Ok(fates);
        }
        for part in text.split(',') {
            let (index, name) = part.trim().split_once(':').ok_or_else(|| {
                format!("bad decision {part:?}: expected INDEX:FATE, e.g. 7:lose")
            })?;
            let index: usize = index
                .parse()
                .ok()
                .filter(|i| *i < 1_000_000)
                .ok_or_else(|| {
                    format!("bad message index {index:?} in {part:?}: expected 0..1000000")
                })?;
            let fate = Fate::ALL
                .into_iter()
                .find(|f| f.name() == name)
                .ok_or_else(|| {
                    format!("bad fate {name:?} in {part:?}: expected lose, dup or delay")
                })?;
            if fates.len() <= index {
                fates.resize(index + 1, Fate::Deliver);
            }
            fates[index] = fate;
        }
        Ok(fates)
    }
}

/// What the network did, for the summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetworkStats {
    /// Messages sent.
    pub sent: u64,
    /// Messages dropped.
    pub lost: u64,
    /// Extra copies made.
    pub duplicated: u64,
    /// Copies given a reordering delay.
    pub delayed: u64,
}

impl NetworkStats {
    /// The sum of two runs' statistics.
    pub fn merged(self, other: NetworkStats) -> NetworkStats {
        NetworkStats {
            sent: self.sent + other.sent,
            lost: self.lost + other.lost,
            duplicated: self.duplicated + other.duplicated,
            delayed: self.delayed + other.delayed,
        }
    }
}

/// Decides arrival times; the engine's event queue holds the messages.
#[derive(Debug)]
pub struct Network {
    config: NetworkConfig,
    lossy_faults: bool,
    stats: NetworkStats,
    script: Option<Script>,
}

impl Network {
    /// A network with these rates; loss and duplication start switched on.
    pub fn new(config: NetworkConfig) -> Network {
        Network {
            config,
            lossy_faults: true,
            stats: NetworkStats::default(),
            script: None,
        }
    }

    /// A network whose lossy messages' fates, while loss is on, `script` decides (the model
    /// checker's; the rates apply without one).
    pub fn with_script(config: NetworkConfig, script: Option<Script>) -> Network {
        Network {
            script,
            ..Network::new(config)
        }
    }

    /// The script, if the model checker drives the network.
    pub fn script(&self) -> Option<&Script> {
        self.script.as_ref()
    }

    /// The configuration.
    pub fn config(&self) -> NetworkConfig {
        self.config
    }

    /// Switches loss and duplication on or off (reordering is unaffected).
    pub fn set_lossy_faults(&mut self, on: bool) {
        self.lossy_faults = on;
    }

    /// Whether loss and duplication are on.
    pub fn lossy_faults(&self) -> bool {
        self.lossy_faults
    }

    /// The script's next decision, for `delivery`, if a script decides now (while loss is on).
    fn scripted(&mut self, delivery: Delivery) -> Option<Fate> {
        let script = self.script.as_mut().filter(|_| self.lossy_faults)?;
        let fate = match script.fates.get(script.taken) {
            Some(fate) if Script::fates_of(delivery).contains(fate) => *fate,
            Some(_) => Fate::Deliver,
            None => {
                if script.open && script.wants_decision.is_none() {
                    script.wants_decision = Some(delivery);
                }
                Fate::Deliver
            }
        };
        script.taken += 1;
        Some(fate)
    }

    /// Under the model checker, whether two concurrent steps interleave out of order (its
    /// decision, in send order with the messages: `delay` is out of order); `None` without a
    /// script, when the caller draws it.
    pub fn interleaving(&mut self) -> Option<bool> {
        self.scripted(Delivery::Interleaving)
            .map(|fate| fate == Fate::Delay)
    }

    /// The arrival times of a message sent at `now`: none (lost), one, or two (duplicated).
    pub fn arrivals(&mut self, now: u64, delivery: Delivery, rng: &mut SimRng) -> Arrivals {
        self.stats.sent += 1;
        let faulty = delivery == Delivery::Lossy && self.lossy_faults;
        if let Some(fate) = self.scripted(delivery) {
            let late = now + self.config.worst_delay_ms();
            return match fate {
                Fate::Deliver => Arrivals([Some(now + self.delay(rng)), None]),
                Fate::Lose => {
                    self.stats.lost += 1;
                    Arrivals::default()
                }
                Fate::Duplicate => {
                    self.stats.duplicated += 1;
                    Arrivals([Some(now + self.delay(rng)), Some(late)])
                }
                Fate::Delay => {
                    self.stats.delayed += 1;
                    Arrivals([Some(late), None])
                }
            };
        }
        if faulty && rng.chance(self.config.loss) {
            self.stats.lost += 1;
            return Arrivals::default();
        }
        let first = now + self.delay(rng);
        if faulty && rng.chance(self.config.duplicate) {
            self.stats.duplicated += 1;
            return Arrivals([Some(first), Some(now + self.delay(rng))]);
        }
        Arrivals([Some(first), None])
    }

    fn delay(&mut self, rng: &mut SimRng) -> u64 {
        let (low, high) = self.config.base_delay_ms;
        if self.config.max_delay_ms > high && rng.chance(self.config.reorder) {
            self.stats.delayed += 1;
            rng.inclusive(1, self.config.max_delay_ms)
        } else {
            rng.inclusive(low.max(1), high.max(low).max(1))
        }
    }

    /// What the network did so far.
    pub fn stats(&self) -> NetworkStats {
        self.stats
    }
}

/// Up to two arrival times.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Arrivals([Option<u64>; 2]);

impl Arrivals {
    /// The arrival times, first copy first.
    pub fn times(self) -> impl Iterator<Item = u64> {
        self.0.into_iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interleaving_is_the_scripts_decision_in_send_order_and_drawn_without_one() {
        let mut free = Network::new(NetworkConfig::PERFECT);
        assert_eq!(free.interleaving(), None, "no script: the caller draws it");
        let script = Script::new(vec![Fate::Deliver, Fate::Delay, Fate::Lose], true);
        let mut network = Network::with_script(NetworkConfig::PERFECT, Some(script));
        let mut rng = SimRng::new(1, 0);
        assert_eq!(
            network
                .arrivals(0, Delivery::Lossy, &mut rng)
                .times()
                .count(),
            1
        );
        assert_eq!(network.interleaving(), Some(true), "delay: out of order");
        assert_eq!(
            network.interleaving(),
            Some(false),
            "a fate an interleaving cannot have is in order"
        );
        assert_eq!(network.interleaving(), Some(false));
        assert_eq!(
            network.script().and_then(Script::wants_decision),
            Some(Delivery::Interleaving)
        );
    }

    #[test]
    fn decisions_print_and_parse_back_and_bad_ones_say_why() {
        let fates = vec![
            Fate::Deliver,
            Fate::Lose,
            Fate::Deliver,
            Fate::Delay,
            Fate::Duplicate,
        ];
        let text = Script::describe(&fates);
        assert_eq!(text, "1:lose,3:delay,4:dup");
        assert_eq!(Script::parse(&text), Ok(fates));
        assert_eq!(Script::describe(&[Fate::Deliver]), "none");
        assert_eq!(Script::parse("none"), Ok(Vec::new()));
        for bad in ["", "7", "7:drop", "x:lose", "1000000:lose", "-1:lose"] {
            let error = Script::parse(bad).unwrap_err();
            assert!(error.starts_with("bad "), "{bad:?}: {error}");
        }
    }

    #[test]
    fn a_perfect_network_delivers_once_within_the_base_delay() {
        let mut rng = SimRng::new(3, 0);
        let mut network = Network::new(NetworkConfig::PERFECT);
        for _ in 0..1000 {
            let times: Vec<u64> = network
                .arrivals(100, Delivery::Lossy, &mut rng)
                .times()
                .collect();
            assert_eq!(times.len(), 1);
            assert!((101..=105).contains(&times[0]), "{times:?}");
        }
    }

    #[test]
    fn reliable_messages_are_never_lost_and_lossy_ones_at_the_given_rates() {
        let mut rng = SimRng::new(4, 0);
        let config = NetworkConfig {
            loss: 1.0,
            duplicate: 1.0,
            ..NetworkConfig::default()
        };
        let mut network = Network::new(config);
        for _ in 0..100 {
            assert_eq!(
                network
                    .arrivals(0, Delivery::Reliable, &mut rng)
                    .times()
                    .count(),
                1
            );
            assert_eq!(
                network
                    .arrivals(0, Delivery::Lossy, &mut rng)
                    .times()
                    .count(),
                0
            );
        }
        let mut network = Network::new(NetworkConfig::default());
        let copies: usize = (0..10_000)
            .map(|_| {
                network
                    .arrivals(0, Delivery::Lossy, &mut rng)
                    .times()
                    .count()
            })
            .sum();
        let stats = network.stats();
        assert!((800..1200).contains(&stats.lost), "{stats:?}");
        assert!((700..1100).contains(&stats.duplicated), "{stats:?}");
        assert!((2500..3500).contains(&stats.delayed), "{stats:?}");
        assert_eq!(copies as u64, 10_000 - stats.lost + stats.duplicated);
        network.set_lossy_faults(false);
        for _ in 0..100 {
            assert_eq!(
                network
                    .arrivals(0, Delivery::Lossy, &mut rng)
                    .times()
                    .count(),
                1
            );
        }
    }
}
