//! Writes the main job's ID lists (`dcsum::ingest_measure`: the same IDs, in both text forms) at
//! any length, for timing `dcsum fingerprint` as a whole process (`scripts/time-reading`).
//! `cargo run --release -p dcsum --example write_lists DIR LINES` writes
//! `DIR/dcsum-reading-uuid-LINES.txt` and `DIR/dcsum-reading-high-low-LINES.txt` and prints their
//! paths.

use dcsum::ingest_measure::{workload_ids, Form};
use std::path::PathBuf;

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let (Some(directory), Some(lines)) = (args.next(), args.next()) else {
        return Err("usage: write_lists DIR LINES".into());
    };
    let count: usize = lines
        .parse()
        .map_err(|_| format!("not a line count: {lines}"))?;
    let ids = workload_ids(count);
    for form in Form::ALL {
        let path =
            PathBuf::from(&directory).join(format!("dcsum-reading-{}-{lines}.txt", form.name()));
        std::fs::write(&path, form.text(&ids))
            .map_err(|error| format!("{}: cannot write: {error}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(())
}
