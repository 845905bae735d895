//! `dcsum kernels [--sizes N,...] [--json]`: every kernel of the family, whether this CPU and
//! build run it (and why not), and what the automatic choice takes at a few input sizes, and why.
//!
//! Exit code 0, or 2 for a usage error.

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
    kernel: &'static str,
    reason: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    kernels: Vec<KernelRow>,
    widest_single_thread: &'static str,
    rayon_threads: usize,
    short_input_ids: usize,
    parallel_min_ids: usize,
    parallel_chunk_ids: usize,
    choice: Vec<ChoiceRow>,
}

fn report(sizes: &[usize]) -> Report {
    Report {
        kernels: Kernel::all()
            .iter()
            .map(|&kernel| KernelRow {
                name: kernel.name(),
                available: kernel.is_available(),
                unavailable_because: choose::unavailability(kernel).map(|why| why.to_string()),
            })
            .collect(),
        widest_single_thread: Kernel::widest_single_thread().name(),
        rayon_threads: rayon::current_num_threads(),
        short_input_ids: choose::SHORT_INPUT_IDS,
        parallel_min_ids: choose::PARALLEL_MIN_IDS,
        parallel_chunk_ids: parallel::CHUNK_IDS,
        choice: sizes
            .iter()
            .map(|&ids| {
                let choice = choose::explain(ids);
                ChoiceRow {
                    ids,
                    kernel: choice.kernel.name(),
                    reason: choice.reason,
                }
            })
            .collect(),
    }
}

pub fn run(args: Args) -> Result<ExitCode, Box<dyn Error>> {
    let report = report(&args.sizes);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{:<10} {:<10} note", "kernel", "available");
    for row in &report.kernels {
        let note = match (&row.unavailable_because, row.name) {
            (Some(why), _) => why.clone(),
            (None, "parallel") => format!(
                "rayon over chunks of {} IDs, each by {}",
                report.parallel_chunk_ids, report.widest_single_thread
            ),
            (None, "naive") => "the oracle".to_string(),
            (None, _) => String::new(),
        };
        let available = if row.available { "yes" } else { "no" };
        println!("{:<10} {:<10} {note}", row.name, available);
    }
    println!();
    println!(
        "automatic choice: short-input bypass below {} IDs, parallel from {} IDs with more than \
         one rayon thread (this process has {})",
        report.short_input_ids, report.parallel_min_ids, report.rayon_threads
    );
    println!("{:>12}  {:<10} why", "IDs", "kernel");
    for row in &report.choice {
        println!("{:>12}  {:<10} {}", row.ids, row.kernel, row.reason);
    }
    Ok(ExitCode::SUCCESS)
}
