//! criterion's `--profile-time` hook: one flamegraph SVG per benchmark.
//!
//! `cargo bench --bench NAME -- --profile-time 5 FILTER` runs each matching benchmark for five
//! seconds without analysis; with [`criterion_config`] in the group's `config = ...`, criterion
//! calls [`FlamegraphProfiler`] around that run and the SVG lands in
//! `target/criterion/<benchmark id>/profile/flamegraph.svg` (`scripts/flamegraph` copies them into
//! `reports/flamegraphs/`). Outside `--profile-time` the profiler is never called.
//!
//! Why here and not in the library: criterion is a dev-dependency, so its `Profiler` trait can
//! only be implemented by the benches; the sampling and drawing is the library's
//! `dispatcher_checksum_bench::profiling`, shared with `dcsum --flamegraph FILE`.
//!
//! The criterion benches reach it through `benches/common/mod.rs` (`pub mod profiler;`), whose
//! `criterion()` starts from [`criterion_config`]; every `criterion_group!` passes
//! `config = common::criterion()`.

use criterion::profiler::Profiler;
use criterion::Criterion;
use dispatcher_checksum_bench::profiling::{FlamegraphRecorder, DEFAULT_FREQUENCY_HZ};
use std::path::Path;

/// Records a pprof flamegraph of each benchmark criterion profiles.
#[derive(Debug, Default)]
pub struct FlamegraphProfiler {
    running: Option<FlamegraphRecorder>,
}

impl Profiler for FlamegraphProfiler {
    fn start_profiling(&mut self, benchmark_id: &str, benchmark_dir: &Path) {
        let output = benchmark_dir.join("flamegraph.svg");
        match FlamegraphRecorder::start_with(output, benchmark_id, DEFAULT_FREQUENCY_HZ) {
            Ok(recorder) => self.running = Some(recorder),
            // criterion's trait has no error channel; say why and let the benchmark run on.
            Err(error) => eprintln!("flamegraph: {benchmark_id}: {error}"),
        }
    }

    fn stop_profiling(&mut self, benchmark_id: &str, _benchmark_dir: &Path) {
        if let Some(recorder) = self.running.take() {
            match recorder.finish() {
                Ok(written) => eprintln!("flamegraph: {benchmark_id}: {written}"),
                Err(error) => eprintln!("flamegraph: {benchmark_id}: {error}"),
            }
        }
    }
}

/// The `Criterion` every bench group uses: defaults plus the flamegraph profiler.
pub fn criterion_config() -> Criterion {
    Criterion::default().with_profiler(FlamegraphProfiler::default())
}
