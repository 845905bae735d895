//! `dcsum check`: the exhaustive, bounded model checker over the simulator's own state machines
//! (see `dispatcher_checksum_sim::model_check`). For each seed's workload and fault plan, every
//! placement of up to `--budget` message faults (lose, duplicate, delay) among the protocol's
//! lossy messages; prints what it explored and the shortest counterexample of each property that
//! fails, with the command that replays it in the simulator. Exits 1 on a counterexample.

use crate::simulate::{GateArg, OrderingArg, ProtocolArg};
use dispatcher_checksum_sim::experiments::fault_mixes;
use dispatcher_checksum_sim::model_check::{check, BoundedModel, CheckReport};
use dispatcher_checksum_sim::zoo::ZooBug;
use dispatcher_checksum_sim::{PlantedBug, SimConfig, WorkloadConfig};
use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

/// `dcsum check`'s arguments: a small cluster, the seeds, the bound.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The protocol under test.
    #[arg(long, value_enum, default_value_t = ProtocolArg::Ours)]
    protocol: ProtocolArg,
    /// When the maintainer changes its expected sets.
    #[arg(long, value_enum, default_value_t = OrderingArg::Reference)]
    ordering: OrderingArg,
    /// The checkpoint gate.
    #[arg(long, value_enum, default_value_t = GateArg::Plain)]
    gate: GateArg,
    /// Nodes at the start.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(2..=6))]
    nodes: u64,
    /// Dispatchers at the start.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=16))]
    dispatchers: u64,
    /// Seconds of the fault phase (operators and faults happen in it; message faults too).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=10))]
    fault_seconds: u64,
    /// Operators started per second of the fault phase.
    #[arg(long, default_value_t = 2.0, value_parser = operators_per_second)]
    operators_per_second: f64,
    /// The faults other than the network's, as the verdict's mixes name them: none, maintainer,
    /// nodes, replacement, drift, coordinator, all (their network part is replaced by the
    /// checker's decisions).
    #[arg(long, default_value = "maintainer", value_parser = fault_mix)]
    faults: String,
    /// The first seed (its workload and fault plan start the search).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of seeds.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=256))]
    seeds: u64,
    /// The most message faults (lose, duplicate, delay) on one path.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=4))]
    budget: u64,
    /// Worker threads (default: every core).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=256))]
    threads: Option<u64>,
    /// Stop after this many seconds (the report then says the search is incomplete).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    timeout_seconds: Option<u64>,
    /// Also print each counterexample's trace (the simulator's, from the last moment every node
    /// was MATCH up to the violation).
    #[arg(long)]
    traces: bool,
    /// Run a TiCDC bug's pre-fix rule (the bug zoo, docs/zoo.md), e.g.
    /// 2943-watermark-needs-higher-checkpoint.
    #[arg(long, value_parser = str::parse::<ZooBug>)]
    zoo: Option<ZooBug>,
    /// Make every split a balance split with a plan (the path of zoo bug #4077, which implies
    /// it): runs its fixed rule on the same workload.
    #[arg(long)]
    split_plans: bool,
    /// Plant a deliberate bug (the checker must then find a counterexample).
    #[arg(long, value_parser = str::parse::<PlantedBug>)]
    plant_bug: Option<PlantedBug>,
}

fn operators_per_second(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if (0.0..=20.0).contains(&value) => Ok(value),
        _ => Err(format!("expected a rate between 0 and 20, got {text:?}")),
    }
}

fn fault_mix(text: &str) -> Result<String, String> {
    let names: Vec<&str> = fault_mixes().iter().map(|mix| mix.name).collect();
    if names.contains(&text) {
        Ok(text.to_string())
    } else {
        Err(format!(
            "unknown fault mix {text:?}: expected one of {}",
            names.join(", ")
        ))
    }
}

impl Args {
    fn model(&self) -> BoundedModel {
        let mix = fault_mixes()
            .into_iter()
            .find(|mix| mix.name == self.faults)
            .expect("validated by the parser");
        let config = SimConfig {
            nodes: self.nodes as usize,
            dispatchers: self.dispatchers as usize,
            protocol: self.protocol.into(),
            ordering: self.ordering.into(),
            gate: self.gate.into(),
            faults: mix.faults,
            workload: WorkloadConfig {
                operators_per_second: self.operators_per_second,
                rebalance_per_minute: 0.0,
                split_plans: self.split_plans,
            },
            fault_phase_ms: self.fault_seconds * 1000,
            planted_bug: self.plant_bug.unwrap_or_default(),
            zoo: self.zoo.unwrap_or_default(),
            ..SimConfig::default()
        };
        BoundedModel::new(
            config,
            (0..self.seeds).map(|i| self.seed.wrapping_add(i)),
            self.budget as usize,
        )
    }
}

/// Runs the check and prints its report.
pub fn run(args: Args) -> Result<ExitCode, Box<dyn Error>> {
    let model = args.model();
    let threads = args.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |n| n as usize,
    );
    let describe = describe_model(&model, &args.faults);
    let replay_flags = replay_flags(&args);
    // Said up front: a larger bound searches for minutes before the report.
    eprintln!("dcsum check: searching {describe}");
    let report = check(
        model.clone(),
        threads,
        args.timeout_seconds.map(Duration::from_secs),
    );
    print!("{}", render(&describe, &report, &replay_flags));
    if args.traces {
        for found in &report.counterexamples {
            println!(
                "\ntrace of {} (seed {}, decisions {}):",
                found.kind, found.seed, found.decisions
            );
            for line in model.replay(found).1 {
                println!("{line}");
            }
        }
    }
    Ok(if report.counterexamples.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn describe_model(model: &BoundedModel, faults: &str) -> String {
    let config = &model.config;
    format!(
        "{}, fault phase {} s, {} operators/s, fault mix {faults}; seeds {}..={}; at most {} message faults per path{}",
        config.describe(),
        config.fault_phase_ms / 1000,
        config.workload.operators_per_second,
        model.seeds.first().copied().unwrap_or(0),
        model.seeds.last().copied().unwrap_or(0),
        model.budget,
        match config.planted_bug {
            PlantedBug::None => String::new(),
            bug => format!("; PLANTED BUG {bug}"),
        } + &match config.zoo {
            ZooBug::None => String::new(),
            bug => format!("; ZOO {}", bug.name()),
        }
    )
}

fn replay_flags(args: &Args) -> String {
    let mix = fault_mixes()
        .into_iter()
        .find(|mix| mix.name == args.faults)
        .expect("validated by the parser");
    let f = mix.faults;
    format!(
        "--protocol {} --ordering {} --gate {} --nodes {} --dispatchers {} --fault-seconds {} --operators-per-second {} --loss 0 --dup 0 --reorder 0 --max-delay-ms 1000 --failovers {} --error-restarts {} --moves {} --move-dest-fails {} --restarts {} --leaves {} --replacements {} --zombie {} --drifts {} --coordinator-failovers {}{}",
        value_name(&args.protocol),
        value_name(&args.ordering),
        value_name(&args.gate),
        args.nodes,
        args.dispatchers,
        args.fault_seconds,
        args.operators_per_second,
        f.failovers,
        f.error_restarts,
        f.moves,
        f.move_dest_fails,
        f.restarts,
        f.leaves,
        f.replacements,
        f.zombie,
        f.drifts,
        f.coordinator_failovers,
        args.plant_bug
            .map(|bug| format!(" --plant-bug {bug}"))
            .unwrap_or_default()
            + &args
                .zoo
                .map(|bug| format!(" --zoo {}", bug.name()))
                .unwrap_or_default()
            + if args.split_plans { " --split-plans" } else { "" },
    )
}

fn value_name(value: &impl clap::ValueEnum) -> String {
    value
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

/// The report: the bound, the search's size and speed, and each counterexample with its replay.
pub fn render(describe: &str, report: &CheckReport, replay_flags: &str) -> String {
    let mut out = format!("checked: {describe}\n");
    out.push_str(&format!(
        "search: {} states ({} unique), depth {}, {:.1} s with {} threads, {:.0} states/s, {}\n",
        report.states,
        report.unique_states,
        report.max_depth,
        report.elapsed.as_secs_f64(),
        report.threads,
        report.states_per_second(),
        if report.complete {
            "complete within the bound"
        } else {
            "INCOMPLETE (timed out)"
        }
    ));
    if report.counterexamples.is_empty() {
        out.push_str("counterexamples: none\n");
    } else {
        out.push_str("counterexamples (the shortest per property):\n");
        for found in &report.counterexamples {
            out.push_str(&format!(
                "  {}: seed {}, decisions {} (depth {}); replay: dcsum simulate {replay_flags} --trace {} --decisions {} --until {}\n",
                found.kind, found.seed, found.decisions, found.depth, found.seed, found.decisions, found.kind
            ));
        }
    }
    out
}
