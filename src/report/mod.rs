//! Measurement and reporting for the main job (`cargo run --release`): the timing harness,
//! the memory-read ceiling the kernels are compared with, machine information, SVG charts, and
//! the Markdown report writer.
//!
//! - [`memory`]: a counting allocator, for bytes per dispatcher;
//! - [`measure`]: warm-up, calibrated batches, repetitions, median and spread;
//! - [`ceiling`]: the fastest plain read of the bytes a kernel reads (the bound it can approach);
//! - [`aligned`]: cache-line-aligned inputs, so results do not move with the allocator;
//! - [`churn`]: lifecycle events then a heartbeat, under each verification strategy;
//! - [`machine`]: CPU model and features, cores, rustc, git revision, date;
//! - [`headline`]: the comparison itself (per-heartbeat cost by strategy, kernel throughput,
//!   threshold evidence), every routine checked against the naive oracle before it is timed;
//! - [`svg`] and [`summary`]: the charts and `reports/summary.md` / `reports/kernels.md`.

pub mod aligned;
pub mod ceiling;
pub mod churn;
pub mod headline;
pub mod machine;
pub mod measure;
pub mod memory;
pub mod summary;
pub mod svg;
