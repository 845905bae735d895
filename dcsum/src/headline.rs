//! The main job (`cargo run --release`, no subcommand): the headline comparison of what one
//! heartbeat's verification costs a node under each strategy, the maintainer's per-dispatcher
//! bookkeeping, both against the reference (Go) program when `go` is on `PATH`, the kernels
//! against the read ceiling, the evidence for the automatic choice, and reading ID lists as
//! `dcsum fingerprint` does ([`dcsum::ingest_measure`]); prints the tables and writes the report.

use dcsum::ingest_measure;
use dispatcher_checksum_bench::config::HeadlineConfig;
use dispatcher_checksum_bench::experiments;
use dispatcher_checksum_bench::go_reference::{self, GoReferenceMode, Prepared};
use dispatcher_checksum_bench::measure::{parse_count, MeasureConfig};
use dispatcher_checksum_bench::profiling::FlamegraphRecorder;
use dispatcher_checksum_bench::report::summary;
use indicatif::{ProgressBar, ProgressStyle};
use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;

/// Memory per dispatcher ID of the largest `--sizes` value, over-estimated: the IDs and their
/// states, the maintainer's tracker and the node's verifier over them, a copy for the recompute.
const HEADLINE_BYTES_PER_ID: u128 = 128;

/// Progress steps of the ingestion rows: three routines for each of two forms.
const INGEST_STEPS: u64 = 6;

/// Timed batches of the ingestion rows, at most: the simple reader takes about half a second
/// per call at 1M lines, so the default run's 21 batches would add 20 s for little.
const INGEST_MAX_REPETITIONS: usize = 7;

#[derive(clap::Args)]
pub struct Args {
    /// A shorter run (under 30 s): sizes up to 1M, shorter batches.
    #[arg(long)]
    quick: bool,
    /// Dispatchers per node for the per-heartbeat comparison, comma-separated (`10K,1M,10M`);
    /// also the largest kernel size measured.
    #[arg(long, value_name = "N,N,..", value_delimiter = ',', value_parser = parse_count)]
    sizes: Vec<usize>,
    /// rayon threads for the parallel kernel and the all-threads ceiling (default: all CPUs).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// The reference (Go) rows (comparisons/go-reference): `auto` runs the Go program when `go` is
    /// on PATH, `require` fails without it, `skip` leaves it out.
    #[arg(long, value_name = "auto|require|skip", default_value_t = GoReferenceMode::Auto)]
    go_reference: GoReferenceMode,
    /// Print the results as JSON on stdout instead of the tables.
    #[arg(long)]
    json: bool,
    /// Where to write summary.md, kernels.md, the SVG charts and headline.json.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    out_dir: PathBuf,
    /// Profile the whole run and write a flamegraph SVG here.
    #[arg(long, value_name = "FILE")]
    flamegraph: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<ExitCode, Box<dyn Error>> {
    if let Some(threads) = args.threads {
        if !(1..=1024).contains(&threads) {
            return Err(format!("--threads {threads}: expected 1..=1024").into());
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .map_err(|error| format!("--threads {threads}: {error}"))?;
    }
    let mut config = if args.quick {
        HeadlineConfig::quick()
    } else {
        HeadlineConfig::default_run()
    };
    if !args.sizes.is_empty() {
        let sizes = args.sizes;
        if sizes.contains(&0) {
            return Err("--sizes: expected sizes above zero, such as 10K,1M".into());
        }
        let largest = sizes.iter().copied().max().unwrap_or(1);
        dcsum::limits::check_fits(
            &format!(
                "--sizes {largest} (about {HEADLINE_BYTES_PER_ID} bytes per ID across the rows)"
            ),
            largest as u128 * HEADLINE_BYTES_PER_ID,
        )?;
        config.kernel_sizes.retain(|&n| n < largest);
        config.kernel_sizes.push(largest);
        config.churn_size = config.churn_size.min(largest);
        config.maintainer_size = config.maintainer_size.min(largest);
        config.heartbeat_sizes = sizes;
        config.profile = "custom";
    }

    eprintln!(
        "dcsum: the headline comparison ({} profile), writing {}; `--quick` runs a shorter one",
        config.profile,
        args.out_dir.display()
    );
    // Built before anything is measured, so a missing `go` under `require` (or a broken build)
    // fails in seconds rather than after the whole run.
    let go = go_reference::prepare(args.go_reference)?;
    match &go {
        Prepared::Ready(program) => eprintln!("reference (Go): {}", program.toolchain),
        Prepared::Absent(reason) => eprintln!("reference (Go): {reason}"),
    }

    let bar = ProgressBar::new(config.step_count() + INGEST_STEPS);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} {msg}")
            .map_err(|error| format!("progress bar template: {error}"))?
            .progress_chars("=> "),
    );
    let profiler = args
        .flamegraph
        .as_deref()
        .map(FlamegraphRecorder::start)
        .transpose()?;
    let results = experiments::run(&config, &go, &mut |message: &str| {
        bar.set_message(message.to_string());
        bar.inc(1);
    });
    let mut results = match results {
        Ok(results) => results,
        Err(error) => {
            bar.abandon();
            return Err(error.into());
        }
    };
    // The reader lives in this crate, so its rows are measured here and added to the results.
    let ingest_start = std::time::Instant::now();
    let ingest_config = MeasureConfig {
        repetitions: config.measure.repetitions.min(INGEST_MAX_REPETITIONS),
        ..config.measure
    };
    let ingest = ingest_measure::ingest_rows(
        &ingest_config,
        ingest_measure::MAIN_JOB_LINES,
        &mut |message| {
            bar.set_message(message.to_string());
            bar.inc(1);
        },
    );
    results.ingest = match ingest {
        Ok(rows) => rows,
        Err(error) => {
            bar.abandon();
            return Err(format!("ingestion rows: {error}").into());
        }
    };
    results.elapsed_seconds += ingest_start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    if let Some(profiler) = profiler {
        eprintln!("{}", profiler.finish()?);
    }

    let written = summary::write_report(&results, &args.out_dir)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    } else {
        let largest = config.kernel_sizes.last().copied().unwrap_or(0);
        println!("Per-heartbeat verification (median ± half the interquartile range)\n");
        println!("{}", summary::heartbeat_table(&results));
        println!("Against the reference (Go)\n");
        match summary::go_heartbeat_table(&results) {
            Some(table) => println!("{table}"),
            None => println!("{}", summary::go_reference_note(&results)),
        }
        println!("The whole loop under churn\n");
        println!("{}", summary::churn_table(&results));
        println!(
            "The maintainer's bookkeeping ({} dispatchers over {} nodes)\n",
            results.maintainer.dispatchers, results.maintainer.nodes
        );
        println!("{}", summary::maintainer_table(&results));
        println!("Kernels against the read ceiling at {largest} IDs\n");
        println!("{}", summary::ceiling_table(&results, largest));
        println!("The automatic choice against the fastest kernel\n");
        println!("{}", summary::choice_table(&results));
        println!("Reading ID lists (`dcsum fingerprint`)\n");
        println!("{}", summary::ingest_table(&results));
    }
    eprintln!(
        "wrote {} in {:.0} s",
        written
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        results.elapsed_seconds
    );
    Ok(ExitCode::SUCCESS)
}
