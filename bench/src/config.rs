//! What a run of the main job measures: sizes, timing budgets and the profile name.

use crate::measure::MeasureConfig;
use dispatcher_checksum::Kernel;
use std::time::Duration;
/// What to measure.
#[derive(Clone, Debug, PartialEq)]
pub struct HeadlineConfig {
    /// Dispatchers per node for the per-heartbeat comparison.
    pub heartbeat_sizes: Vec<usize>,
    /// IDs per kernel call for the kernel throughput comparison.
    pub kernel_sizes: Vec<usize>,
    /// Dispatchers per node for the churn loop.
    pub churn_size: usize,
    /// Lifecycle changes per heartbeat interval in the churn loop.
    pub churn_changes: Vec<usize>,
    /// Lengths at which the short-input bypass is weighed against the cached kernel.
    pub short_input_sizes: Vec<usize>,
    /// Lengths at which the parallel kernel is weighed against one thread.
    pub parallel_sizes: Vec<usize>,
    /// Dispatchers the maintainer tracks for its per-dispatcher operations.
    pub maintainer_size: usize,
    /// The Go reference program's time budget per measurement (see
    /// [`crate::go_reference::GoRunConfig::budget`]).
    pub go_budget: Duration,
    /// Timing settings.
    pub measure: MeasureConfig,
    /// `default` or `quick`, for the report's header.
    pub profile: &'static str,
}

impl HeadlineConfig {
    /// The default run: up to 10M dispatchers, about two minutes on a 2-core machine (plus about
    /// a minute for the Go reference program when `go` is on `PATH`).
    pub fn default_run() -> HeadlineConfig {
        HeadlineConfig {
            heartbeat_sizes: vec![10_000, 100_000, 1_000_000, 10_000_000],
            kernel_sizes: vec![1_000, 16_000, 256_000, 1_000_000, 4_000_000, 16_000_000],
            churn_size: 1_000_000,
            churn_changes: vec![0, 100, 10_000],
            short_input_sizes: vec![1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 128],
            parallel_sizes: (14..=24).map(|shift| 1usize << shift).collect(),
            maintainer_size: 1_000_000,
            go_budget: Duration::from_secs(10),
            measure: MeasureConfig::DEFAULT,
            profile: "default",
        }
    }

    /// `--quick`: up to 1M dispatchers, fewer sizes, shorter batches; under 30 s.
    pub fn quick() -> HeadlineConfig {
        HeadlineConfig {
            heartbeat_sizes: vec![10_000, 100_000, 1_000_000],
            kernel_sizes: vec![1_000, 256_000, 4_000_000],
            churn_size: 100_000,
            churn_changes: vec![0, 100, 10_000],
            short_input_sizes: vec![1, 4, 8, 16, 32, 64],
            parallel_sizes: vec![1 << 15, 1 << 17, 1 << 19, 1 << 21],
            maintainer_size: 100_000,
            go_budget: Duration::from_secs(2),
            measure: MeasureConfig::QUICK,
            profile: "quick",
        }
    }

    /// How many progress steps [`crate::experiments::run`] reports, for a progress bar's length.
    pub fn step_count(&self) -> u64 {
        let kernels = Kernel::all().iter().filter(|k| k.is_available()).count() + 3;
        (self.heartbeat_sizes.len() * 6
            + self.churn_changes.len() * 3
            + self.kernel_sizes.len() * 2 * kernels
            + self.short_input_sizes.len() * 2
            + self.parallel_sizes.len() * 4
            + 2
            + self.go_reference_steps()) as u64
    }

    /// The Go reference program's progress steps: one per heartbeat size and one for the
    /// maintainer (reported as skipped when it does not run, so the count never changes).
    pub fn go_reference_steps(&self) -> usize {
        self.heartbeat_sizes.len() + 1
    }
}
