//! `dcsum fingerprint [FILE|-] [--kernel NAME] [--exclude-state STATE ...]`: the fingerprint of
//! an ID list, printed as one JSON object with the reference system's field names.
//!
//! The list is read by [`dcsum::ingest`], in blocks and in constant memory, with the simple
//! parser's results and errors.
//!
//! Exit codes: 0 the fingerprint was printed; 2 a usage error (clap's message), an input that
//! cannot be opened or read, or a malformed line (`dcsum: FILE:LINE: what was expected` on
//! stderr, nothing on stdout; at most 64 characters of the line quoted); 3 the `--kernel` named
//! cannot run on this CPU or build.

use dcsum::ingest::{self, Fold};
use dispatcher_checksum::choose;
use dispatcher_checksum::{ComponentState, Kernel, StateSet};
use std::error::Error;
use std::process::ExitCode;

/// Exit code for a `--kernel` this CPU or build cannot run.
const KERNEL_UNAVAILABLE: u8 = 3;

#[derive(clap::Args)]
#[command(
    after_help = "Exit codes: 0 printed; 2 usage error, unreadable file or malformed line \
    (`dcsum: FILE:LINE: ...` on stderr, nothing on stdout); 3 the --kernel cannot run on this \
    CPU/build."
)]
pub struct Args {
    /// The ID list: one ID per line as UUID, `HIGH LOW` (decimal or 0x-hex) or a JSON object
    /// `{"low":..,"high":..}`, optionally followed by a lifecycle state (a `state` field in JSON).
    /// Blank lines and `#` comments are skipped. `-` reads standard input.
    #[arg(value_name = "FILE|-", default_value = "-")]
    input: String,

    /// Run this kernel instead of the automatic choice (`dcsum kernels` lists them).
    #[arg(long, value_name = "NAME", value_parser = parse_kernel)]
    kernel: Option<Kernel>,

    /// A lifecycle state (name or wire number) whose dispatchers are not counted; repeat it or
    /// separate states with commas. Default: Initializing, Preparing, MergeReady (the reference
    /// node's rule). `none` counts every state. Lines without a state always count.
    #[arg(
        long = "exclude-state",
        value_name = "STATE",
        value_delimiter = ',',
        value_parser = parse_exclusion
    )]
    exclude_state: Vec<Exclusion>,
}

/// One `--exclude-state` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exclusion {
    /// `none`: count every state.
    Nothing,
    State(ComponentState),
}

fn parse_exclusion(text: &str) -> Result<Exclusion, String> {
    if text.trim().eq_ignore_ascii_case("none") {
        return Ok(Exclusion::Nothing);
    }
    text.parse()
        .map(Exclusion::State)
        .map_err(|error| format!("{error}, or `none` to count every state"))
}

fn parse_kernel(name: &str) -> Result<Kernel, String> {
    Kernel::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Kernel::all().iter().map(|kernel| kernel.name()).collect();
        format!(
            "unknown kernel {name:?}: expected one of {}",
            names.join(", ")
        )
    })
}

/// The states that count, from the `--exclude-state` values.
fn included_states(exclusions: &[Exclusion]) -> Result<StateSet, String> {
    if exclusions.is_empty() {
        return Ok(StateSet::DEFAULT_INCLUDED);
    }
    if exclusions.contains(&Exclusion::Nothing) {
        if exclusions.len() > 1 {
            return Err(
                "--exclude-state none means every state counts; it cannot be combined with states"
                    .into(),
            );
        }
        return Ok(StateSet::ALL);
    }
    Ok(StateSet::excluding(exclusions.iter().filter_map(
        |exclusion| match exclusion {
            Exclusion::State(state) => Some(*state),
            Exclusion::Nothing => None,
        },
    )))
}

pub fn run(args: Args) -> Result<ExitCode, Box<dyn Error>> {
    let included = included_states(&args.exclude_state)?;
    if let Some(kernel) = args.kernel {
        if let Some(why) = choose::unavailability(kernel) {
            eprintln!("dcsum: kernel {kernel} cannot run here: {why} (see `dcsum kernels`)");
            return Ok(ExitCode::from(KERNEL_UNAVAILABLE));
        }
    }
    let fold = match args.kernel {
        Some(kernel) => Fold::with(kernel)?,
        None => Fold::AUTO,
    };
    // Streaming, in constant memory: the IDs are folded block by block, never all kept.
    let fingerprint = ingest::fingerprint_path(&args.input, included, fold)?;
    println!("{}", serde_json::to_string(&fingerprint)?);
    Ok(ExitCode::SUCCESS)
}
