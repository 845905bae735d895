//! `dcsum`: the command-line face of the library. One file per subcommand; no logic here that the
//! library lacks. With no subcommand it runs the headline comparison (the main job).

use clap::error::ErrorKind;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod check;
mod decode;
mod diff;
mod fingerprint;
mod headline;
mod kernels;
mod simulate;

/// Order-independent dispatcher-set fingerprints: kernels, protocol, benchmarks.
#[derive(Parser)]
#[command(name = "dcsum", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    headline: headline::Args,
}

#[derive(Subcommand)]
enum Command {
    /// Print the fingerprint of an ID list as JSON.
    Fingerprint(fingerprint::Args),
    /// List every kernel, whether this CPU runs it, and what the automatic choice takes.
    Kernels(kernels::Args),
    /// Run the deterministic fault-injection simulator over many seeds.
    Simulate(simulate::Args),
    /// Check every placement of a few message faults exhaustively (a bounded model checker over
    /// the simulator's state machines).
    Check(check::Args),
    /// Decode a wire message and print it as JSON.
    Decode(decode::Args),
    /// Name the dispatchers that differ between two ID lists, through the difference sketch.
    Diff(diff::Args),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(error),
    };
    let result = match cli.command {
        None => headline::run(cli.headline),
        Some(Command::Fingerprint(args)) => fingerprint::run(args),
        Some(Command::Kernels(args)) => kernels::run(args),
        Some(Command::Simulate(args)) => simulate::run(args),
        Some(Command::Check(args)) => check::run(args),
        Some(Command::Decode(args)) => decode::run(args),
        Some(Command::Diff(args)) => diff::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("dcsum: {error}");
            ExitCode::from(2)
        }
    }
}

/// A usage error as one line on stderr (exit 2): clap's first line, without its usage block, and
/// where to read more. `--help` and `--version` print as clap prints them.
fn usage_error(error: clap::Error) -> ExitCode {
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        error.exit();
    }
    let rendered = error.render().to_string();
    let first = rendered
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("invalid arguments");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    eprintln!("dcsum: {first} (`--help` lists the options)");
    ExitCode::from(2)
}
