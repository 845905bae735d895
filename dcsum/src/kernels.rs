//! `dcsum kernels [--sizes N,...] [--json] [--measure]`: every kernel of the family, whether this
//! CPU and build run it (and why not), its known-answer self-test, the automatic choice's plan and
//! the evidence it came from, and what it takes at a few input sizes, and why.
//! `dcsum kernels --ceiling 1K,16K,1M,16M [--evidence FILE]` measures the kernels against the read
//! ceiling instead (the main job's kernel section on its own).
//!
//! Exit code 0, or 2 for a usage error (including a refused `DCSUM_KERNEL`).

use dispatcher_checksum::choose;
use dispatcher_checksum::kernels::parallel;
use dispatcher_checksum::Kernel;
use serde::Serialize;
use std::error::Error;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Input sizes (IDs) to show the automatic choice for; `K` and `M` suffixes are powers of 1024.
    #[arg(
        long,
        value_name = "N",
        value_delimiter = ',',
        value_parser = parse_size,
        default_value = "8,1K,64K,1M,16M"
    )]
    sizes: Vec<usize>,

    /// Print one JSON object instead of the tables.
    #[arg(long)]
    json: bool,

    /// Show the measured plan (`Plan::measure`: the available kernels timed at two sizes) instead
    /// of the current one, with what measuring cost.
    #[arg(long)]
    measure: bool,

    /// Measure instead: every available kernel and the automatic choice against the read ceiling
    /// of the same bytes at these sizes (the main job's kernel section on its own), contiguous
    /// and masked; prints each kernel's fraction of the one-thread ceiling and the automatic
    /// choice against the fastest kernel.
    #[arg(long, value_name = "N,N,..", value_delimiter = ',', value_parser = parse_size)]
    ceiling: Vec<usize>,

    /// With `--ceiling`: also write the tables, with this machine's description, as Markdown
    /// to this file (per-machine evidence for the automatic choice, see reports/kernels.md).
    #[arg(long, value_name = "FILE", requires = "ceiling")]
    evidence: Option<std::path::PathBuf>,
}

fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let (digits, scale) = match text.char_indices().last() {
        Some((at, 'K' | 'k')) => (&text[..at], 1 << 10),
        Some((at, 'M' | 'm')) => (&text[..at], 1 << 20),
        _ => (text, 1),
    };
    digits
        .parse::<usize>()
        .ok()
        .and_then(|number| number.checked_mul(scale))
        .ok_or_else(|| format!("{text:?} is not a size: expected a number, optionally with K or M"))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KernelRow {
    name: &'static str,
    available: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    unavailable_because: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChoiceRow {
    ids: usize,
    form: &'static str,
    kernel: &'static str,
    reason: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SelfTestRow {
    kernel: &'static str,
    keyed: bool,
    passed: bool,
    microseconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlanRow {
    contiguous: &'static str,
    masked: &'static str,
    keyed: &'static str,
    source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pin_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    measure_milliseconds: Option<f64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    cpu: String,
    kernels: Vec<KernelRow>,
    plan: PlanRow,
    self_tests: Vec<SelfTestRow>,
    self_test_microseconds: f64,
    rayon_threads: usize,
    short_input_ids: usize,
    parallel_min_ids: usize,
    parallel_chunk_ids: usize,
    choice: Vec<ChoiceRow>,
}

fn report(sizes: &[usize], measure: bool) -> Report {
    // The self-tests run first on their own, so their one-time cost is what is printed.
    let self_test = choose::self_test::report();
    let parallel_test = choose::self_test::parallel();
    let (plan, measure_milliseconds) = if measure {
        let start = std::time::Instant::now();
        let plan = choose::Plan::measure();
        (plan, Some(start.elapsed().as_secs_f64() * 1e3))
    } else {
        (choose::Plan::current(), None)
    };
    Report {
        cpu: format!(
            "{} ({})",
            dispatcher_checksum_bench::machine::MachineInfo::collect().cpu_model,
            choose::CpuIdentity::of_this_cpu()
        ),
        kernels: Kernel::all()
            .iter()
            .map(|&kernel| KernelRow {
                name: kernel.name(),
                available: kernel.is_available(),
                unavailable_because: choose::unavailability(kernel).map(|why| why.to_string()),
            })
            .collect(),
        plan: PlanRow {
            contiguous: plan.contiguous.name(),
            masked: plan.masked.name(),
            keyed: dispatcher_checksum::keyed::single_thread_kernel().name(),
            source: plan.source.to_string(),
            pin_error: plan.pin_error.as_ref().map(ToString::to_string),
            measure_milliseconds,
        },
        self_tests: self_test
            .outcomes
            .iter()
            .chain(choose::self_test::parallel())
            .map(|outcome| SelfTestRow {
                kernel: outcome.kernel.name(),
                keyed: outcome.keyed,
                passed: outcome.result.is_ok(),
                microseconds: outcome.took.as_secs_f64() * 1e6,
                failure: outcome.result.as_ref().err().map(ToString::to_string),
            })
            .collect(),
        self_test_microseconds: (self_test.total
            + parallel_test.map_or(std::time::Duration::ZERO, |test| test.took))
        .as_secs_f64()
            * 1e6,
        rayon_threads: rayon::current_num_threads(),
        short_input_ids: choose::SHORT_INPUT_IDS,
        parallel_min_ids: plan.parallel_min_ids,
        parallel_chunk_ids: parallel::CHUNK_IDS,
        choice: sizes
            .iter()
            .flat_map(|&ids| [(ids, false), (ids, true)])
            .map(|(ids, masked)| {
                let decision = plan.decision_for(ids, masked);
                ChoiceRow {
                    ids,
                    form: if masked { "masked" } else { "contiguous" },
                    kernel: decision.kernel.name(),
                    reason: decision.reason,
                }
            })
            .collect(),
    }
}

pub fn run(args: Args) -> Result<ExitCode, Box<dyn Error>> {
    if !args.ceiling.is_empty() {
        return measure_ceiling(&args.ceiling, args.evidence.as_deref());
    }
    let report = report(&args.sizes, args.measure);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(pin_exit_code(&report));
    }
    println!("CPU: {}\n", report.cpu);
    println!("{:<10} {:<10} note", "kernel", "available");
    for row in &report.kernels {
        let failed: Vec<&str> = report
            .self_tests
            .iter()
            .filter(|test| test.kernel == row.name && !test.passed)
            .map(|test| {
                if test.keyed {
                    "keyed form"
                } else {
                    "plain form"
                }
            })
            .collect();
        let note = match (&row.unavailable_because, row.name) {
            (Some(why), _) => why.clone(),
            _ if !failed.is_empty() => {
                format!("FAILED its self-test ({}): never chosen", failed.join(", "))
            }
            (None, "parallel") => format!(
                "rayon over chunks of {} IDs, each by the plan's kernel",
                report.parallel_chunk_ids
            ),
            (None, "naive") => "the oracle".to_string(),
            (None, _) => String::new(),
        };
        let available = if row.available { "yes" } else { "no" };
        println!("{:<10} {:<10} {note}", row.name, available);
    }
    println!(
        "\nself-test (known answers against scalar, once per process; parallel's includes \
         starting rayon's pool): {:.0} µs in all",
        report.self_test_microseconds
    );
    for test in &report.self_tests {
        println!(
            "  {:<8} {:<6} {:<6} {:>7.0} µs {}",
            test.kernel,
            if test.keyed { "keyed" } else { "plain" },
            if test.passed { "passed" } else { "FAILED" },
            test.microseconds,
            test.failure.as_deref().unwrap_or("")
        );
    }
    let plan = &report.plan;
    println!(
        "\nplan: contiguous {}, masked {}, keyed {}; from {}",
        plan.contiguous, plan.masked, plan.keyed, plan.source
    );
    if let Some(milliseconds) = plan.measure_milliseconds {
        println!("  (measured in {milliseconds:.1} ms)");
    }
    if let Some(error) = &plan.pin_error {
        println!("  {error}");
    }
    println!(
        "short-input bypass below {} IDs, parallel from {} IDs with more than one rayon thread \
         (this process has {})",
        report.short_input_ids, report.parallel_min_ids, report.rayon_threads
    );
    println!("{:>12}  {:<10} {:<10} why", "IDs", "form", "kernel");
    for row in &report.choice {
        println!(
            "{:>12}  {:<10} {:<10} {}",
            row.ids, row.form, row.kernel, row.reason
        );
    }
    Ok(pin_exit_code(&report))
}

/// A refused `DCSUM_KERNEL` is a usage error (exit 2), after the report says why.
fn pin_exit_code(report: &Report) -> ExitCode {
    if report.plan.pin_error.is_some() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// `--ceiling`: the kernel section of the main job at the given sizes, printed as fractions of
/// the read ceiling, and optionally written as Markdown evidence.
fn measure_ceiling(
    sizes: &[usize],
    evidence: Option<&std::path::Path>,
) -> Result<ExitCode, Box<dyn Error>> {
    use dispatcher_checksum_bench::experiments::kernel_rows;
    use dispatcher_checksum_bench::machine::MachineInfo;
    use dispatcher_checksum_bench::measure::{format_count, MeasureConfig};
    use std::fmt::Write as _;

    if sizes.contains(&0) {
        return Err("--ceiling: expected sizes above zero, such as 1K,16K,1M,16M".into());
    }
    let machine = MachineInfo::collect();
    let rows = kernel_rows(sizes, &MeasureConfig::DEFAULT, &mut |message: &str| {
        eprint!("\r{message:<60}");
    });
    eprintln!();
    let mut text = String::new();
    writeln!(
        text,
        "{}- CPUID: {}\n- plan: contiguous {}, masked {}, from {}\n",
        machine.markdown(),
        choose::CpuIdentity::of_this_cpu(),
        choose::Plan::current().contiguous,
        choose::Plan::current().masked,
        choose::Plan::current().source
    )?;
    writeln!(
        text,
        "Same-run medians (21 interleaved batches of 8 ms per routine); a fraction is the \
         one-thread read ceiling's time over the kernel's time on the same bytes (16 B per ID, \
         17 B masked).\n"
    )?;
    writeln!(text, "| form | IDs | {} |", column_names(&rows).join(" | "))?;
    writeln!(
        text,
        "|---|---:|{}",
        "---:|".repeat(column_names(&rows).len())
    )?;
    let mut fastest_table = format!(
        "| form | IDs | {} |\n|---|---:|{}\n",
        column_names(&rows).join(" | "),
        "---:|".repeat(column_names(&rows).len())
    );
    let mut choice = String::from(
        "| form | IDs | automatic choice | fastest kernel | auto ÷ fastest | within 5% |\n\
         |---|---:|---|---|---:|---|\n",
    );
    for form in ["contiguous", "masked"] {
        for &ids in sizes {
            let point: Vec<_> = rows
                .iter()
                .filter(|row| row.form == form && row.ids == ids)
                .collect();
            let cells: Vec<String> = point
                .iter()
                .map(|row| format!("{:.2}", row.of_single_thread_ceiling))
                .collect();
            writeln!(
                text,
                "| {form} | {} | {} |",
                format_count(ids),
                cells.join(" | ")
            )?;
            // The same from each routine's fastest batch: on a machine shared with other work
            // the medians move with the load, the fastest batches much less.
            if let Some(ceiling) = point.iter().find(|row| row.kernel == "ceiling-1t") {
                let cells: Vec<String> = point
                    .iter()
                    .map(|row| format!("{:.2}", ceiling.time.min / row.time.min))
                    .collect();
                writeln!(
                    fastest_table,
                    "| {form} | {} | {} |",
                    format_count(ids),
                    cells.join(" | ")
                )?;
            }
            let kernels = point
                .iter()
                .filter(|row| !row.kernel.starts_with("ceiling") && row.kernel != "auto");
            let fastest = kernels.min_by(|a, b| a.time.min.total_cmp(&b.time.min));
            let auto = point.iter().find(|row| row.kernel == "auto");
            if let (Some(fastest), Some(auto)) = (fastest, auto) {
                let ratio = auto.time.min / fastest.time.min;
                writeln!(
                    choice,
                    "| {form} | {} | {} | {} | {ratio:.3} | {} |",
                    format_count(ids),
                    choose::Plan::current()
                        .decision_for(ids, form == "masked")
                        .kernel,
                    fastest.kernel,
                    if ratio <= 1.05 { "yes" } else { "no" }
                )?;
            }
        }
    }
    writeln!(
        text,
        "\nThe same fractions from each routine's fastest batch (less sensitive to other work on \
         the machine):\n\n{fastest_table}"
    )?;
    writeln!(
        text,
        "\nThe automatic choice against the fastest kernel (fastest batches):\n"
    )?;
    text.push_str(&choice);
    print!("{text}");
    if let Some(path) = evidence {
        let header = format!(
            "# Kernel evidence: {} ({})\n\nWritten by `cargo run --release -p dcsum -- kernels \
             --ceiling {} --evidence {}`; referenced from reports/kernels.md and src/choose.rs.\n\n",
            machine.cpu_model,
            choose::CpuIdentity::of_this_cpu(),
            sizes
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
            path.display()
        );
        std::fs::write(path, header + &text)
            .map_err(|error| format!("--evidence {}: {error}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The routine names of one size and form, in the measured order.
fn column_names(rows: &[dispatcher_checksum_bench::rows::KernelRow]) -> Vec<String> {
    let Some(first) = rows.first() else {
        return Vec::new();
    };
    rows.iter()
        .filter(|row| row.form == first.form && row.ids == first.ids)
        .map(|row| row.kernel.clone())
        .collect()
}
