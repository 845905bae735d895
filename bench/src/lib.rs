//! The measurement harness behind `cargo bench` and the main job (`cargo run --release`), kept
//! out of the library so that a service embedding `dispatcher-checksum` builds none of it.
//!
//! - run configuration, measured rows, the experiments and the threshold derivation:
//!   [`config`], [`rows`], [`experiments`], [`thresholds`];
//! - how things are timed and against what: [`measure`] (warm-up, calibrated batches, medians),
//!   [`ceiling`] (the fastest plain read of the same bytes), [`aligned`] (cache-line-aligned
//!   inputs), [`memory`] (a counting allocator), [`churn`] (lifecycle events then a heartbeat);
//! - [`fixtures`]: the reference-node dispatcher stores (the hash map a reference node walks at
//!   every heartbeat, and the columnar form the masked kernels read), with synthetic workloads;
//! - [`maintainer`]: the maintainer's per-dispatcher bookkeeping (move, add, remove) as the main
//!   job measures it;
//! - [`go_reference`]: the "reference (Go)" rows, from a Go program of the reference's shape
//!   (`comparisons/go-reference`) built and run on the same machine, its answers checked against
//!   the naive oracle;
//! - [`machine`]: CPU model and features, cores, rustc, git revision, date;
//! - [`report`]: the Markdown reports and SVG charts;
//! - [`profiling`] (Unix only): flamegraphs of this process.

pub mod aligned;
pub mod ceiling;
pub mod churn;
pub mod config;
pub mod experiments;
pub mod fixtures;
pub mod go_reference;
pub mod machine;
pub mod maintainer;
pub mod measure;
pub mod memory;
#[cfg(unix)]
pub mod profiling;
pub mod report;
pub mod rows;
pub mod thresholds;
