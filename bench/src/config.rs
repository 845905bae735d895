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

/// The environment variable that picks the criterion benches' sizes (`cargo bench`):
/// - unset: each group's default sizes, so the default run of a group takes about five minutes
///   on a 2-core machine;
/// - `full`: the default sizes and the long ones (10M-100M IDs, 10M-dispatcher maintainers);
/// - a list such as `1K,1M,100M`: exactly those sizes, in every group that has sizes.
///
/// Benchmark ids (`group/routine/size`) name the size alone, so a size measured by default and
/// under `full` compares with the same saved baseline.
pub const BENCH_SIZES_VARIABLE: &str = "DCSUM_BENCH_SIZES";

/// Which sizes a criterion group runs, from [`BENCH_SIZES_VARIABLE`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BenchSizes {
    /// The variable is unset: each group's default sizes.
    Default,
    /// `full`: the default and the long sizes.
    Full,
    /// An explicit list.
    List(Vec<usize>),
}

impl BenchSizes {
    /// Reads the variable's value (`None`: unset).
    pub fn parse(value: Option<&str>) -> Result<BenchSizes, String> {
        let Some(text) = value else {
            return Ok(BenchSizes::Default);
        };
        if text.trim().eq_ignore_ascii_case("full") {
            return Ok(BenchSizes::Full);
        }
        match crate::measure::parse_counts(text) {
            Ok(sizes) if !sizes.is_empty() && !sizes.contains(&0) => Ok(BenchSizes::List(sizes)),
            Ok(_) => Err(format!(
                "{BENCH_SIZES_VARIABLE}={text:?}: expected `full` or sizes above zero, such as 1K,1M"
            )),
            Err(error) => Err(format!(
                "{BENCH_SIZES_VARIABLE}={text:?}: {error}, or `full`"
            )),
        }
    }

    /// The sizes a group with these `default` and `long` sizes runs, in increasing order.
    pub fn select(&self, default: &[usize], long: &[usize]) -> Vec<usize> {
        let mut sizes = match self {
            BenchSizes::Default => default.to_vec(),
            BenchSizes::Full => default.iter().chain(long).copied().collect(),
            BenchSizes::List(sizes) => sizes.clone(),
        };
        sizes.sort_unstable();
        sizes.dedup();
        sizes
    }

    /// The one line a group prints at its start: which sizes run and how to get the rest.
    pub fn announcement(&self, group: &str, default: &[usize], long: &[usize]) -> String {
        let list = |sizes: &[usize]| {
            sizes
                .iter()
                .map(|&n| crate::measure::format_count(n))
                .collect::<Vec<_>>()
                .join(",")
        };
        let running = list(&self.select(default, long));
        match self {
            BenchSizes::Default if long.is_empty() => format!(
                "{group}: sizes {running} (default); {BENCH_SIZES_VARIABLE}=1K,100M picks others"
            ),
            BenchSizes::Default => format!(
                "{group}: sizes {running} (default); {BENCH_SIZES_VARIABLE}=full adds {}, {BENCH_SIZES_VARIABLE}=1K,100M picks others",
                list(long)
            ),
            BenchSizes::Full => format!("{group}: sizes {running} ({BENCH_SIZES_VARIABLE}=full)"),
            BenchSizes::List(_) => format!(
                "{group}: sizes {running} ({BENCH_SIZES_VARIABLE}); unset it for the defaults ({})",
                list(default)
            ),
        }
    }
}

/// The sizes a criterion group runs: reads [`BENCH_SIZES_VARIABLE`] and prints
/// [`BenchSizes::announcement`] on stderr.
///
/// # Panics
/// When the variable is malformed, naming it and what was expected (a bench has no other way to
/// refuse its input).
pub fn bench_sizes(group: &str, default: &[usize], long: &[usize]) -> Vec<usize> {
    let value = std::env::var(BENCH_SIZES_VARIABLE).ok();
    let choice = BenchSizes::parse(value.as_deref()).unwrap_or_else(|error| panic!("{error}"));
    eprintln!("{}", choice.announcement(group, default, long));
    choice.select(default, long)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_leaves_the_long_sizes_out_and_says_how_to_get_them() {
        let (default, long) = (&[1_000, 1_000_000][..], &[10_000_000, 100_000_000][..]);
        let choice = BenchSizes::parse(None).unwrap();
        assert_eq!(choice.select(default, long), vec![1_000, 1_000_000]);
        assert_eq!(
            choice.announcement("heartbeat", default, long),
            "heartbeat: sizes 1K,1M (default); DCSUM_BENCH_SIZES=full adds 10M,100M, \
             DCSUM_BENCH_SIZES=1K,100M picks others"
        );
        let full = BenchSizes::parse(Some("FULL")).unwrap();
        assert_eq!(
            full.select(default, long),
            vec![1_000, 1_000_000, 10_000_000, 100_000_000]
        );
        let list = BenchSizes::parse(Some("16K,1K")).unwrap();
        assert_eq!(list.select(default, long), vec![1_000, 16_000]);
        for bad in ["", "0", "x", "1K,,y"] {
            assert!(BenchSizes::parse(Some(bad)).is_err(), "{bad:?}");
        }
    }
}
