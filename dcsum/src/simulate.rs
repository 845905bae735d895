//! `dcsum simulate`: the fault-injection simulator over many seeds (see `dispatcher_checksum_sim`).
//! Prints the summary and exits 1 on any violation; `--trace SEED` prints one run's event trace
//! up to its first violation instead; `--verdict` and `--rebalance` run the experiments the
//! documentation reports and print them as Markdown, with `--svg DIR` also as pictures
//! ([`charts`]) the Markdown links.

mod charts;

use dispatcher_checksum_sim::network::{Fate, Script};
use dispatcher_checksum_sim::{experiments, zoo};
use dispatcher_checksum_sim::{
    run_seeds, trace_seed_from, CheckDepth, FaultConfig, GateKind, NetworkConfig, Ordering,
    PlantedBug, Protocol, SimConfig, Timing, ViolationKind, WorkloadConfig, ZooBug,
};
use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// The protocol, as a command-line value.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ProtocolArg {
    /// This project's protocol.
    Ours,
    /// TiCDC's pull request 3782 as intended (as written its head cannot run: finding 0).
    Reference,
}

/// The operator ordering, as a command-line value.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum OrderingArg {
    /// The expected set changes before the command.
    Eager,
    /// The expected set changes in the operator's PostFinish (TiCDC's order).
    Reference,
}

/// The checkpoint gate, as a command-line value.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum GateArg {
    /// The protocol's own gate.
    Plain,
    /// Ours only: a mismatch explained by the operators in flight passes.
    Explained,
    /// No checksum gate (the baseline).
    None,
    /// Ours' heartbeats with issue 3's rule (MATCH from every tracked node, any version).
    Contract,
}

impl From<ProtocolArg> for Protocol {
    fn from(arg: ProtocolArg) -> Protocol {
        match arg {
            ProtocolArg::Ours => Protocol::Ours,
            ProtocolArg::Reference => Protocol::Reference,
        }
    }
}

impl From<OrderingArg> for Ordering {
    fn from(arg: OrderingArg) -> Ordering {
        match arg {
            OrderingArg::Eager => Ordering::Eager,
            OrderingArg::Reference => Ordering::Reference,
        }
    }
}

impl From<GateArg> for GateKind {
    fn from(arg: GateArg) -> GateKind {
        match arg {
            GateArg::Plain => GateKind::Plain,
            GateArg::Explained => GateKind::Explained,
            GateArg::None => GateKind::None,
            GateArg::Contract => GateKind::Contract,
        }
    }
}

/// Seeds one invocation may run: every run's outcome is kept for the summary's percentiles (a few
/// KB each), so a larger sweep is split into invocations with `--seed`.
const MAX_SEEDS: u64 = 1_000_000;

/// Dispatchers per mode, at most: the simulator keeps every dispatcher's state on every side
/// (about 1 KB each); the rebalance experiment runs 1M.
const MAX_DISPATCHERS: u64 = 10_000_000;

/// Memory one simulated dispatcher costs a run, rounded up (measured: 70 MB peak for one run of
/// 100,000 dispatchers on 4 nodes, both sides' state, the schedule and the checks' views).
const BYTES_PER_SIMULATED_DISPATCHER: u128 = 1024;

/// A run's estimated memory from which `dcsum simulate` says up front what it will allocate.
const ANNOUNCE_BYTES: u128 = 256 << 20;

/// Faults of one kind per run, at most (the fault schedule is drawn up front).
const MAX_FAULTS: u64 = 10_000;

/// Threads, at most (rayon starts them all up front).
const MAX_THREADS: u64 = 1024;

/// The flags that configure one simulated cluster: `--verdict` runs its own fixed cells and
/// `--rebalance` its own workload, so either one with any of these would ignore it (a check that
/// silently does not run what was asked).
const CLUSTER_FLAGS: [&str; 25] = [
    "protocol",
    "ordering",
    "gate",
    "nodes",
    "dispatchers",
    "redo",
    "loss",
    "dup",
    "reorder",
    "max_delay_ms",
    "failovers",
    "error_restarts",
    "moves",
    "move_dest_fails",
    "restarts",
    "leaves",
    "replacements",
    "drifts",
    "coordinator_failovers",
    "zombie",
    "operators_per_second",
    "realistic_timing",
    "plant_bug",
    "zoo",
    "split_plans",
];

/// `dcsum simulate`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    /// First seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of seeds (runs): seed, seed+1, ... (1..=1000000; a larger sweep is several runs
    /// with --seed).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=MAX_SEEDS))]
    seeds: u64,
    /// Print the event trace of this one seed, up to its first violation, instead of a summary.
    #[arg(long, value_name = "SEED", conflicts_with_all = ["seeds", "threads"])]
    trace: Option<u64>,
    /// With --trace: print every event from the start, not only from the last moment every node
    /// was at MATCH.
    #[arg(long, requires = "trace")]
    whole_trace: bool,
    /// With --trace: stop at the first violation of this kind (e.g. checkpoint-ahead) rather
    /// than the first of any kind.
    #[arg(long, requires = "trace", value_parser = violation_kind)]
    until: Option<ViolationKind>,
    /// With --trace: also write the trace as JSON lines to this file, one event per line with the
    /// stable fields `seed`, `at_ms` (simulated milliseconds), `who` (`maintainer`, `node-N`,
    /// `network`, `check`, `coordinator`) and `text`.
    #[arg(long, requires = "trace", value_name = "FILE")]
    trace_json: Option<std::path::PathBuf>,
    /// With --trace: replay the model checker's decisions for the lossy messages sent while loss
    /// is on, as `dcsum check` prints them (`7:lose,19:delay`: the 8th such message lost, the
    /// 20th delayed; every other one delivered). The network's loss, duplication and reordering
    /// rates then no longer apply to them.
    #[arg(long, requires = "trace", value_name = "DECISIONS", value_parser = decisions)]
    decisions: Option<Decisions>,
    /// The protocol under test.
    #[arg(long, value_enum, default_value_t = ProtocolArg::Ours)]
    protocol: ProtocolArg,
    /// When the maintainer changes its expected sets.
    #[arg(long, value_enum, default_value_t = OrderingArg::Eager)]
    ordering: OrderingArg,
    /// The checkpoint gate.
    #[arg(long, value_enum, default_value_t = GateArg::Plain)]
    gate: GateArg,
    /// Nodes at the start.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(2..=100_000))]
    nodes: u64,
    /// Dispatchers per mode at the start (1..=10000000).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=MAX_DISPATCHERS))]
    dispatchers: u64,
    /// Run the redo mode beside the default mode.
    #[arg(long)]
    redo: bool,
    /// Probability that a checksum message (update, ack, heartbeat) is lost.
    #[arg(long, default_value_t = 0.1, value_parser = probability)]
    loss: f64,
    /// Probability that a checksum message is duplicated.
    #[arg(long, default_value_t = 0.1, value_parser = probability)]
    dup: f64,
    /// Probability that a message takes a random delay up to --max-delay-ms (reordering).
    #[arg(long, default_value_t = 0.3, value_parser = probability)]
    reorder: f64,
    /// Longest network delay in milliseconds.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(5..=60_000))]
    max_delay_ms: u64,
    /// Maintainer failovers per run (the maintainer's node is lost; a new one starts on another).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(0..=MAX_FAULTS))]
    failovers: u64,
    /// Changefeed error restarts per run (a new maintainer with a new epoch).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=MAX_FAULTS))]
    error_restarts: u64,
    /// Clean maintainer moves per run.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=MAX_FAULTS))]
    moves: u64,
    /// Maintainer moves whose destination fails per run (re-added on the origin, same epoch).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=MAX_FAULTS))]
    move_dest_fails: u64,
    /// Node restarts per run (the process comes back under a new node ID, as TiCDC's does).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=MAX_FAULTS))]
    restarts: u64,
    /// Nodes leaving per run.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=MAX_FAULTS))]
    leaves: u64,
    /// Table drops replacing a running move, split or merge, per run.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(0..=MAX_FAULTS))]
    replacements: u64,
    /// Silent drifts per run: a node loses a dispatcher without telling anyone.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=MAX_FAULTS))]
    drifts: u64,
    /// Coordinator failovers per run: the new coordinator adopts the maintainer's reported
    /// checkpoint without comparing it with etcd (TiCDC's `finishBootstrap`).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=MAX_FAULTS))]
    coordinator_failovers: u64,
    /// Probability that a failed maintainer lingers as a zombie.
    #[arg(long, default_value_t = 0.05, value_parser = probability)]
    zombie: f64,
    /// Length of the fault phase in seconds.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400), conflicts_with = "verdict")]
    fault_seconds: u64,
    /// Operators started per second in the fault phase.
    #[arg(long, default_value_t = 1.0, value_parser = rate(1000.0))]
    operators_per_second: f64,
    /// Fraction of the dispatchers a rebalance moves per minute (0..=10).
    #[arg(long, default_value_t = 0.0, value_parser = rate(10.0), conflicts_with = "verdict")]
    rebalance_per_minute: f64,
    /// Make every split a balance split with a plan (2 or 3 target nodes; the splitter may
    /// return fewer spans), the path of zoo bug #4077; implied by `--zoo
    /// 4077-split-postfinish-on-count-mismatch`, so this runs its fixed rule on the same workload.
    #[arg(long)]
    split_plans: bool,
    /// Use the scale experiment's timings (the reference's cadences; dispatchers take up to 2 s
    /// to initialize instead of 1 s).
    #[arg(long)]
    realistic_timing: bool,
    /// Check only the checkpoint properties (for large clusters).
    #[arg(long)]
    progress_checks_only: bool,
    /// Plant a deliberate bug (the run must then report violations): one of the simulator's
    /// planted bugs (`dispatcher_checksum_sim::PlantedBug`), e.g. no-monotone-guard.
    #[arg(long, value_parser = str::parse::<PlantedBug>)]
    plant_bug: Option<PlantedBug>,
    /// Run a TiCDC bug's pre-fix rule (`dispatcher_checksum_sim::ZooBug`, docs/zoo.md), e.g.
    /// 3846-start-at-stored-checkpoint; without it every rule is as fixed on TiCDC master.
    #[arg(long, value_parser = str::parse::<ZooBug>)]
    zoo: Option<ZooBug>,
    /// Worker threads (0: one per core; at most 1024).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=MAX_THREADS))]
    threads: u64,
    /// Run the bug zoo's prevention table instead (docs/zoo.md: each TiCDC bug's pre-fix rule
    /// under no checksum, PR 3782's gate, our plain and our explained gate; --seeds seeds per
    /// cell from --seed) and print it as Markdown.
    #[arg(long, conflicts_with_all = ["trace", "rebalance", "verdict"], conflicts_with_all = CLUSTER_FLAGS)]
    zoo_table: bool,
    /// Run the verdict table instead (protocol × gate × ordering × fault mix, --seeds seeds
    /// each from --seed) and print it as Markdown.
    #[arg(long, conflicts_with_all = ["trace", "rebalance"], conflicts_with_all = CLUSTER_FLAGS)]
    verdict: bool,
    /// Run the rebalance experiment instead, at these sizes (`DISPATCHERS/NODES`, comma-
    /// separated, e.g. `100000/100`), moving --rebalance-per-minute of the dispatchers per minute
    /// (3% when not given) for --fault-seconds, each gate beside the run without it.
    #[arg(long, value_delimiter = ',', value_parser = size, conflicts_with_all = ["trace", "seeds", "threads"], conflicts_with_all = CLUSTER_FLAGS)]
    rebalance: Vec<(usize, usize)>,
    /// With --verdict or --rebalance: also draw the result as SVG in this directory (created if
    /// missing): `verdict.svg`, or `rebalance-lag.svg` and `rebalance-not-match.svg`; the
    /// Markdown links them by this path (`--svg reports` for the README, which is assembled at
    /// the repository's root).
    #[arg(long, value_name = "DIR")]
    svg: Option<PathBuf>,
}

fn size(text: &str) -> Result<(usize, usize), String> {
    let (dispatchers, nodes) = text
        .split_once('/')
        .ok_or_else(|| format!("expected DISPATCHERS/NODES such as 100000/100, got {text:?}"))?;
    let number = |part: &str| {
        part.trim()
            .replace('_', "")
            .parse::<usize>()
            .map_err(|_| format!("{part:?} in {text:?} is not a whole number"))
    };
    let (dispatchers, nodes) = (number(dispatchers)?, number(nodes)?);
    if !(1..=MAX_DISPATCHERS as usize).contains(&dispatchers) || !(2..=100_000).contains(&nodes) {
        return Err(format!(
            "{text:?}: expected 1..={MAX_DISPATCHERS} dispatchers and 2..=100000 nodes"
        ));
    }
    Ok((dispatchers, nodes))
}

fn violation_kind(text: &str) -> Result<ViolationKind, String> {
    ViolationKind::ALL
        .into_iter()
        .find(|kind| kind.name() == text)
        .ok_or_else(|| {
            let names: Vec<&str> = ViolationKind::ALL.iter().map(|k| k.name()).collect();
            format!(
                "unknown violation kind {text:?}: expected one of {}",
                names.join(", ")
            )
        })
}

/// A parser of a finite rate in `0..=max`.
fn rate(max: f64) -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync + 'static {
    move |text: &str| {
        let value: f64 = text
            .parse()
            .map_err(|_| format!("expected a number between 0 and {max}, got {text:?}"))?;
        if (0.0..=max).contains(&value) {
            Ok(value)
        } else {
            Err(format!(
                "expected a number between 0 and {max}, got {value}"
            ))
        }
    }
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

/// The model checker's decisions for the lossy messages, as `--decisions` takes them.
#[derive(Clone, Debug)]
pub struct Decisions(Vec<Fate>);

fn decisions(text: &str) -> Result<Decisions, String> {
    Script::parse(text).map(Decisions)
}

impl Args {
    /// ` --svg DIR` when given, for the command the Markdown names as its regenerator.
    fn svg_flag(&self) -> String {
        self.svg
            .as_ref()
            .map_or_else(String::new, |dir| format!(" --svg {}", dir.display()))
    }

    fn config(&self) -> Result<SimConfig, Box<dyn Error>> {
        Ok(SimConfig {
            nodes: self.nodes as usize,
            dispatchers: self.dispatchers as usize,
            redo: self.redo,
            protocol: self.protocol.into(),
            ordering: self.ordering.into(),
            gate: self.gate.into(),
            timing: if self.realistic_timing {
                Timing::realistic()
            } else {
                Timing::REFERENCE
            },
            network: NetworkConfig {
                loss: self.loss,
                duplicate: self.dup,
                reorder: self.reorder,
                max_delay_ms: self.max_delay_ms,
                ..NetworkConfig::default()
            },
            faults: FaultConfig {
                failovers: self.failovers as usize,
                error_restarts: self.error_restarts as usize,
                moves: self.moves as usize,
                move_dest_fails: self.move_dest_fails as usize,
                restarts: self.restarts as usize,
                leaves: self.leaves as usize,
                replacements: self.replacements as usize,
                zombie: self.zombie,
                drifts: self.drifts as usize,
                coordinator_failovers: self.coordinator_failovers as usize,
            },
            workload: WorkloadConfig {
                operators_per_second: self.operators_per_second,
                rebalance_per_minute: self.rebalance_per_minute,
                split_plans: self.split_plans,
            },
            fault_phase_ms: self.fault_seconds * 1000,
            checks: if self.progress_checks_only {
                CheckDepth::Progress
            } else {
                CheckDepth::Full
            },
            planted_bug: self.plant_bug.unwrap_or_default(),
            zoo: self.zoo.unwrap_or_default(),
            trace: false,
            script: self
                .decisions
                .clone()
                .map(|Decisions(fates)| Script::new(fates, false)),
            not_match_series: false,
        })
    }
}

/// Checks that the runs in flight at once fit this machine's memory, and says up front what a
/// large run will allocate (a 10M-dispatcher run is quiet for minutes otherwise).
fn check_memory(args: &Args) -> Result<(), String> {
    let modes: u128 = if args.redo { 2 } else { 1 };
    let (per_run, in_flight, what) = if let Some(&(dispatchers, _)) = args
        .rebalance
        .iter()
        .max_by_key(|(dispatchers, _)| *dispatchers)
    {
        // One size at a time: a gated run beside the baseline it is compared with.
        (
            dispatchers as u128 * BYTES_PER_SIMULATED_DISPATCHER,
            2,
            "--rebalance".to_string(),
        )
    } else {
        let threads = match args.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get() as u64),
            threads => threads,
        };
        let in_flight = if args.trace.is_some() {
            1
        } else {
            threads.min(args.seeds)
        };
        (
            u128::from(args.dispatchers) * modes * BYTES_PER_SIMULATED_DISPATCHER,
            u128::from(in_flight),
            format!("--dispatchers {}", args.dispatchers),
        )
    };
    let total = per_run * in_flight;
    dcsum::limits::check_fits(
        &format!("{what} ({in_flight} runs at once, about {BYTES_PER_SIMULATED_DISPATCHER} bytes per simulated dispatcher)"),
        total,
    )?;
    if total >= ANNOUNCE_BYTES {
        eprintln!(
            "dcsum simulate: about {} per run, {in_flight} at once ({} in all)",
            dcsum::limits::human_bytes(per_run),
            dcsum::limits::human_bytes(total)
        );
    }
    Ok(())
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<ExitCode, Box<dyn Error>> {
    let config = args.config()?;
    check_memory(&args)?;
    if args.zoo_table {
        return zoo_table(&args);
    }
    if let Some(dir) = &args.svg {
        if !args.verdict && args.rebalance.is_empty() {
            return Err(
                "--svg draws the result of --verdict or --rebalance: give one of them".into(),
            );
        }
        // Before the experiment runs, not after it has taken its minutes.
        charts::create_dir(dir)?;
    }
    if args.verdict {
        return verdict(&args);
    }
    if !args.rebalance.is_empty() {
        return rebalance(&args);
    }
    if let Some(seed) = args.trace {
        let (outcome, lines) = trace_seed_from(&config, seed, args.whole_trace, args.until);
        println!("trace of seed {seed}: {}", config.describe());
        for line in &lines {
            println!("{line}");
        }
        if let Some(path) = &args.trace_json {
            write_trace_json(path, seed, &lines)
                .map_err(|error| format!("--trace-json {}: {error}", path.display()))?;
        }
        return Ok(if outcome.violations.is_empty() {
            println!("no violation in this run");
            ExitCode::SUCCESS
        } else {
            for violation in &outcome.violations {
                println!("{violation}");
            }
            ExitCode::FAILURE
        });
    }
    let started = Instant::now();
    let summary = run_seeds(&config, args.seed, args.seeds, args.threads as usize);
    print!("{summary}");
    let wall = started.elapsed();
    let simulated: u64 = summary.outcomes.iter().map(|o| o.simulated_ms).sum();
    println!(
        "wall time: {:.2?} ({:.0} simulated seconds per wall second)",
        wall,
        simulated as f64 / 1000.0 / wall.as_secs_f64().max(1e-9)
    );
    Ok(if summary.violation_count() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The trace as JSON lines (one event per line; see `--trace-json`).
fn write_trace_json(
    path: &std::path::Path,
    seed: u64,
    lines: &[dispatcher_checksum_sim::trace::TraceLine],
) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for line in lines {
        let event = serde_json::json!({
            "seed": seed,
            "at_ms": line.at_ms,
            "who": line.who,
            "text": line.text,
        });
        writeln!(out, "{event}")?;
    }
    out.flush()
}

fn zoo_table(args: &Args) -> Result<ExitCode, Box<dyn Error>> {
    eprintln!(
        "dcsum simulate --zoo-table: {} seeds per cell from seed {}; each cell prints here as it finishes",
        args.seeds, args.seed
    );
    let started = Instant::now();
    let table = zoo::prevention_table(
        args.seed,
        args.seeds,
        args.threads as usize,
        |row, column, cell| {
            eprintln!("{row} / {column}: {cell}");
        },
    );
    println!("## Does the dispatcher-set checksum prevent the damage? The bug zoo\n");
    println!(
        "Each row: a TiCDC bug's pre-fix rule (docs/zoo.md; the baseline row: every rule as fixed), 4 nodes and 32 dispatchers, 1 operator a second for 60 s, under the network faults only (10% loss and duplication, 30% reordering up to 1 s), so the no-checksum column's damage is the bug's; the #4703 row: 2 nodes, 1 dispatcher (a changefeed that empties) under the default fault mix; the #4077 rows: every split a balance split planned for 2 or 3 nodes whose splitter may return fewer spans (`--split-plans`, implied by its `--zoo`), under the pre-fix and the fixed rule; findings 1 and 5: the mixes of their replays in docs/zoo.md section E. Each cell: {} seeds from {} (`cargo run --release -- simulate --zoo-table --seed {} --seeds {}`, {:.0} s here); **DAMAGE** names the row's check, the runs it fired in and the first seed (replay: `dcsum simulate --trace SEED --until KIND --zoo NAME` with the column's `--protocol`, `--gate` and `--ordering`); *also* lists the other user-visible violations. n/r: the rule has no place in our protocol (why, in the cell); the run shows our fixed behaviour. n/m: the model lacks what the verdict depends on (what, and what the Go code says, in the cell); no run is shown, since it would be the model's artifact.\n",
        args.seeds,
        args.seed,
        args.seed,
        args.seeds,
        started.elapsed().as_secs_f64()
    );
    print!("{table}");
    println!(
        "\nThe issues: [#2943](https://github.com/pingcap/ticdc/issues/2943), [#3045](https://github.com/pingcap/ticdc/issues/3045), [#3846](https://github.com/pingcap/ticdc/issues/3846), [#4703](https://github.com/pingcap/ticdc/issues/4703), [#4077](https://github.com/pingcap/ticdc/issues/4077) (fix [PR #4078](https://github.com/pingcap/ticdc/pull/4078); its damage is a span placed twice and an add operator that never ends, not a held checkpoint: the orphan operator's floor is not read, docs/zoo.md section D). The model checker finds each modelled bug from one message fault, #4077 from one decision of its `AddOperator` race: docs/model-checking.md."
    );
    Ok(ExitCode::SUCCESS)
}

fn verdict(args: &Args) -> Result<ExitCode, Box<dyn Error>> {
    eprintln!(
        "dcsum simulate --verdict: {} seeds per cell from seed {}; each cell prints here as it finishes",
        args.seeds, args.seed
    );
    let started = Instant::now();
    let cells = experiments::verdict(args.seed, args.seeds, args.threads as usize, |cell| {
        eprintln!(
            "{} / {} / {}: {}",
            cell.variant(),
            cell.ordering.name(),
            cell.faults,
            cell.describe()
        );
    });
    println!("## The verdict: both protocols under faults\n");
    println!(
        "Each cell: {} seeds from {} (`cargo run --release -- simulate --verdict --seed {} --seeds {}{}`, {:.0} s here); 4 nodes, 32 dispatchers, 1 operator a second for 60 s; what each violation kind means, and the fidelity table every reference rule comes from: [docs/simulator.md](docs/simulator.md). The reference rows model the pull request's evident intent: as written at its head (ece3f130) a maintainer bootstrap unlocks a mutex twice, a fatal error in Go, and nodes never dispatch the checksum update (finding 0). The eager rows of the reference are a what-if (TiCDC changes expected sets in `PostFinish`). *Internal dips*: runs in which the maintainer's in-memory checkpoint went down, an observation (TiCDC's coordinator persists only a larger value); `checkpoint-regressed` judges the persisted checkpoint.\n",
        args.seeds,
        args.seed,
        args.seed,
        args.seeds,
        args.svg_flag(),
        started.elapsed().as_secs_f64()
    );
    if let Some(dir) = &args.svg {
        let grid = charts::verdict_grid(&cells, args.seed).render();
        for path in charts::write(dir, &[(charts::VERDICT, grid)])? {
            println!(
                "{}\n",
                charts::markdown_image(
                    "the verdict: a row per protocol and ordering, a column per fault mix, each cell coloured by its worst violation kind",
                    &path
                )
            );
        }
    }
    print!("{}", experiments::verdict_matrix(&cells));
    println!(
        "\nA cell names each violation kind with the runs it affected and the first seed that replays it: `dcsum simulate --trace SEED --until KIND` with the row's `--protocol`, `--ordering` and `--gate` and the column's flags:\n"
    );
    print!("{}", experiments::verdict_mixes());
    println!("\n### Every replay command\n");
    print!("{}", experiments::verdict_details(&cells));
    Ok(ExitCode::SUCCESS)
}

fn rebalance(args: &Args) -> Result<ExitCode, Box<dyn Error>> {
    let percent = if args.rebalance_per_minute > 0.0 {
        args.rebalance_per_minute * 100.0
    } else {
        3.0
    };
    let mut rows = Vec::new();
    for &(dispatchers, nodes) in &args.rebalance {
        rows.extend(experiments::rebalance(
            nodes,
            dispatchers,
            percent,
            args.fault_seconds,
            args.seed,
            |row| {
                eprintln!(
                    "{dispatchers}/{nodes} {} {}: held {:.1}%, {:.1} simulated s per wall s",
                    row.ordering.name(),
                    row.gate.name(),
                    100.0 * row.held,
                    row.speed
                )
            },
        ));
    }
    println!("## The cost of the gate at scale\n");
    println!(
        "A rebalance moving {percent}% of the dispatchers per minute for {} s, seed {} (`cargo run --release -- simulate --rebalance {} --fault-seconds {} --seed {}{}`); the reference's timings (heartbeat 200 ms with a complete status list every 50th, flush 100 ms, resend 1 s); each gate beside a run without it on the same workload. *held*: checkpoint steps the gate held; *lag*: the checkpoint behind the upstream; *extra lag*: over the run without the gate.\n",
        args.fault_seconds,
        args.seed,
        args.rebalance.iter().map(|(d, n)| format!("{d}/{n}")).collect::<Vec<_>>().join(","),
        args.fault_seconds,
        args.seed,
        args.svg_flag()
    );
    print!("{}", experiments::rebalance_table(&rows));
    if let Some(dir) = &args.svg {
        let files = [
            (
                charts::REBALANCE_LAG,
                charts::rebalance_lag(&rows, percent).render(),
            ),
            (
                charts::REBALANCE_NOT_MATCH,
                charts::rebalance_not_match(&rows, percent).render(),
            ),
        ];
        let paths = charts::write(dir, &files)?;
        let alts = [
            "the checkpoint's lag over time: each gate beside the run without it",
            "the fraction of the nodes not at MATCH over time",
        ];
        println!();
        for (alt, path) in alts.iter().zip(&paths) {
            println!("{}\n", charts::markdown_image(alt, path));
        }
    }
    let violations: usize = rows.iter().map(|r| r.violations).sum();
    Ok(if violations == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
