//! `dcsum simulate`: the fault-injection simulator over many seeds (see
//! `dispatcher_checksum_sim`). Prints the summary; exits 1 on any violation.

use dispatcher_checksum::protocol::TrackerConfig;
use dispatcher_checksum_sim::network::NetworkConfig;
use dispatcher_checksum_sim::{run_seeds, GateRule, Sabotage, SimConfig};
use std::error::Error;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The gate rule, as a command-line value.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum GateRuleArg {
    /// MATCH must refer to the maintainer's latest (epoch, seq) of the node (recommended).
    VerifiedSeq,
    /// The protocol's gate alone (shows the stale-MATCH race).
    Contract,
}

/// A deliberate bug to plant, to see the checks fire.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum PlantedBug {
    /// The maintainer treats MISMATCH heartbeats as MATCH (caught by safety).
    GateTrustsMismatch,
    /// Nodes do not tell the incremental set when a dispatcher starts Working (equivalence).
    IncrementalMissesWorking,
    /// The maintainer never resends unacknowledged updates (liveness, under loss).
    NoResend,
    /// Nodes reset their verifiers on every bootstrap, even for the epoch they follow (liveness).
    ResetOnEveryBootstrap,
}

#[derive(clap::Args)]
pub struct Args {
    /// First seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of seeds (runs): seed, seed+1, ...
    #[arg(long, default_value_t = 1000)]
    seeds: u64,
    /// Nodes at the start.
    #[arg(long, default_value_t = 4)]
    nodes: usize,
    /// Dispatchers per mode at the start.
    #[arg(long, default_value_t = 32)]
    dispatchers: usize,
    /// Probability that a protocol message is lost.
    #[arg(long, default_value_t = 0.1, value_parser = probability)]
    loss: f64,
    /// Probability that a protocol message is duplicated.
    #[arg(long, default_value_t = 0.1, value_parser = probability)]
    dup: f64,
    /// Probability that a message gets a random delay up to --max-delay (and so is reordered).
    #[arg(long, default_value_t = 0.1, value_parser = probability)]
    reorder: f64,
    /// Longest network delay in ticks.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=1000))]
    max_delay: u64,
    /// Maintainer failovers per run.
    #[arg(long, default_value_t = 3)]
    failovers: usize,
    /// Nodes leaving per run.
    #[arg(long, default_value_t = 1)]
    leaves: usize,
    /// Silent drifts per run: a node loses or keeps a dispatcher without telling anyone; the
    /// summary says whether the difference sketch named exactly the planted IDs.
    #[arg(long, default_value_t = 1)]
    drifts: usize,
    /// Ticks of the fault phase (operators and faults); the quiet phase follows.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(2..))]
    ticks: u64,
    /// Probability that an operator starts in a tick.
    #[arg(long, default_value_t = 0.3, value_parser = probability)]
    operator_rate: f64,
    /// Heartbeat period (one tick) in milliseconds.
    #[arg(long, default_value_t = 250, value_parser = clap::value_parser!(u64).range(1..))]
    tick_ms: u64,
    /// The trackers' resend interval in milliseconds.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    resend_ms: u64,
    /// Run the redo mode beside the default mode.
    #[arg(long)]
    redo: bool,
    /// Which gate rule the maintainer applies.
    #[arg(long, value_enum, default_value_t = GateRuleArg::VerifiedSeq)]
    gate_rule: GateRuleArg,
    /// Plant a deliberate bug (the run must then report violations).
    #[arg(long, value_enum)]
    plant_bug: Option<PlantedBug>,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

fn probability(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("expected a probability between 0 and 1, got {text:?}"))?;
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "expected a probability between 0 and 1, got {value}"
        ))
    }
}

pub fn run(args: Args) -> Result<ExitCode, Box<dyn Error>> {
    if args.nodes == 0 {
        return Err("--nodes must be at least 1".into());
    }
    let config = SimConfig {
        nodes: args.nodes,
        dispatchers: args.dispatchers,
        redo: args.redo,
        network: NetworkConfig {
            loss: args.loss,
            duplicate: args.dup,
            reorder: args.reorder,
            max_delay: args.max_delay,
        },
        failovers: args.failovers,
        leaves: args.leaves,
        drifts: args.drifts,
        fault_ticks: args.ticks,
        operator_rate: args.operator_rate,
        heartbeat_period: Duration::from_millis(args.tick_ms),
        tracker: TrackerConfig {
            resend_interval: Duration::from_millis(args.resend_ms),
            ..TrackerConfig::default()
        },
        gate_rule: match args.gate_rule {
            GateRuleArg::VerifiedSeq => GateRule::VerifiedSeq,
            GateRuleArg::Contract => GateRule::Contract,
        },
        sabotage: match args.plant_bug {
            None => Sabotage::None,
            Some(PlantedBug::GateTrustsMismatch) => Sabotage::GateTrustsMismatch,
            Some(PlantedBug::IncrementalMissesWorking) => Sabotage::IncrementalMissesWorking,
            Some(PlantedBug::NoResend) => Sabotage::NoResend,
            Some(PlantedBug::ResetOnEveryBootstrap) => Sabotage::ResetOnEveryBootstrap,
        },
        ..SimConfig::default()
    };
    let started = Instant::now();
    let summary = run_seeds(&config, args.seed, args.seeds, args.threads);
    print!("{summary}");
    println!("wall time: {:.2?}", started.elapsed());
    Ok(if summary.violation_count() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
