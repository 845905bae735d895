//! (being written: placeholder)
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    Err("dcsum diff: not built yet".into())
}
