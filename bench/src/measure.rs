//! The measurement harness of the main job: warm-up, calibrated batches, several repetitions,
//! median and spread.
//!
//! criterion is the tool for `cargo bench`; the main job needs something smaller that fits a
//! whole comparison into a fixed time budget and whose results feed the report directly. The
//! method is criterion's in miniature: run the routine for a warm-up period (which also estimates
//! its cost), choose a batch size so one batch lasts about [`MeasureConfig::batch_time`], time
//! [`MeasureConfig::repetitions`] batches, and report per-call medians with the spread across
//! batches. Batching keeps the timer's own cost (tens of nanoseconds) out of sub-microsecond
//! routines.

use serde::Serialize;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// How long and how often to measure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeasureConfig {
    /// Time spent running the routine before measuring (caches, page faults, CPU clocks).
    pub warm_up: Duration,
    /// Target duration of one timed batch.
    pub batch_time: Duration,
    /// Timed batches; the median is over these.
    pub repetitions: usize,
}

impl MeasureConfig {
    /// The default run's setting: 21 batches of 8 ms after a 60 ms warm-up. Many short batches
    /// rather than a few long ones: on a shared machine a burst of other work spoils a batch, and
    /// with many of them the fastest and the median still describe the undisturbed routine.
    pub const DEFAULT: MeasureConfig = MeasureConfig {
        warm_up: Duration::from_millis(60),
        batch_time: Duration::from_millis(8),
        repetitions: 21,
    };

    /// The `--quick` setting: 9 batches of 4 ms after 20 ms of warm-up.
    pub const QUICK: MeasureConfig = MeasureConfig {
        warm_up: Duration::from_millis(20),
        batch_time: Duration::from_millis(4),
        repetitions: 9,
    };
}

/// Per-call timings of one routine, in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Measurement {
    /// Median over the batches of the per-call time.
    pub median: f64,
    /// Fastest batch's per-call time.
    pub min: f64,
    /// Slowest batch's per-call time.
    pub max: f64,
    /// First quartile of the batches' per-call times.
    pub q1: f64,
    /// Third quartile of the batches' per-call times.
    pub q3: f64,
    /// Calls per timed batch.
    pub calls_per_batch: u64,
    /// Timed batches.
    pub batches: usize,
}

impl Measurement {
    /// The spread across batches relative to the median: the interquartile range over the
    /// median, `(q3 - q1) / median` (robust to the odd batch a burst of other work spoiled; `min`
    /// and `max` keep the extremes).
    pub fn relative_spread(&self) -> f64 {
        if self.median > 0.0 {
            (self.q3 - self.q1) / self.median
        } else {
            0.0
        }
    }

    /// Bytes per second at the median, for a routine that reads `bytes` per call.
    pub fn throughput(&self, bytes: f64) -> f64 {
        bytes / self.median
    }

    /// `median (±half the interquartile range, %)` with a unit fitted to the magnitude.
    pub fn display(&self) -> String {
        format!(
            "{} (±{:.0}%)",
            format_seconds(self.median),
            self.relative_spread() * 50.0
        )
    }
}

/// Measures `routine` under `config`; its result goes through `black_box` so it is not optimised
/// away.
pub fn measure<R>(config: &MeasureConfig, mut routine: impl FnMut() -> R) -> Measurement {
    let per_call = warm_up(config.warm_up, &mut routine);
    let calls_per_batch = calls_for(config.batch_time, per_call);
    let mut batches: Vec<f64> = (0..config.repetitions.max(1))
        .map(|_| {
            let start = Instant::now();
            for _ in 0..calls_per_batch {
                black_box(routine());
            }
            start.elapsed().as_secs_f64() / calls_per_batch as f64
        })
        .collect();
    summarise(&mut batches, calls_per_batch)
}

/// Measures several routines that will be compared with one another, interleaved: every
/// repetition times one batch of each in turn, so a burst of load from elsewhere on a shared
/// machine slows all of them alike instead of whichever happened to be running.
pub fn measure_interleaved(
    config: &MeasureConfig,
    routines: &mut [&mut dyn FnMut()],
) -> Vec<Measurement> {
    let calls: Vec<u64> = routines
        .iter_mut()
        .map(|routine| calls_for(config.batch_time, warm_up(config.warm_up, routine)))
        .collect();
    let mut batches = vec![Vec::with_capacity(config.repetitions); routines.len()];
    for _ in 0..config.repetitions.max(1) {
        for ((routine, &calls), times) in routines.iter_mut().zip(&calls).zip(&mut batches) {
            let start = Instant::now();
            for _ in 0..calls {
                routine();
            }
            times.push(start.elapsed().as_secs_f64() / calls as f64);
        }
    }
    batches
        .iter_mut()
        .zip(calls)
        .map(|(times, calls)| summarise(times, calls))
        .collect()
}

/// Measures a routine that needs fresh input per call: `setup` runs outside the timer before each
/// call of `routine` (for steps that consume or mutate their input). Each batch times calls one by
/// one, so use it only for routines long enough (microseconds) for the timer not to matter.
pub fn measure_with_setup<I, R>(
    config: &MeasureConfig,
    mut setup: impl FnMut() -> I,
    mut routine: impl FnMut(I) -> R,
) -> Measurement {
    let mut timed = |calls: u64| {
        let mut total = Duration::ZERO;
        for _ in 0..calls {
            let input = setup();
            let start = Instant::now();
            black_box(routine(black_box(input)));
            total += start.elapsed();
        }
        total.as_secs_f64() / calls as f64
    };
    let warm_up_start = Instant::now();
    let mut warm_calls = 0u64;
    let mut warm_time = 0.0;
    while warm_calls == 0 || warm_up_start.elapsed() < config.warm_up {
        warm_time += timed(1);
        warm_calls += 1;
    }
    let calls_per_batch = calls_for(config.batch_time, warm_time / warm_calls as f64);
    let mut batches: Vec<f64> = (0..config.repetitions.max(1))
        .map(|_| timed(calls_per_batch))
        .collect();
    summarise(&mut batches, calls_per_batch)
}

/// Measures two operations that must alternate to keep a structure's size steady, such as adds of
/// fresh IDs and then removes of the same IDs. `round` performs one round (its untimed setup
/// included) of `ops_per_round` of each and returns the time spent in each timed part; a batch is
/// as many rounds as fill [`MeasureConfig::batch_time`], and the per-op times are each part's
/// total over the batch's operations. The Go reference program (`comparisons/go-reference`)
/// measures its maintainer the same way.
pub fn measure_paired_rounds(
    config: &MeasureConfig,
    ops_per_round: usize,
    mut round: impl FnMut() -> (Duration, Duration),
) -> (Measurement, Measurement) {
    let start = Instant::now();
    let mut rounds = 0u64;
    while rounds == 0 || start.elapsed() < config.warm_up {
        black_box(round());
        rounds += 1;
    }
    let rounds_per_batch = calls_for(
        config.batch_time,
        start.elapsed().as_secs_f64() / rounds as f64,
    );
    let ops = (rounds_per_batch * ops_per_round.max(1) as u64) as f64;
    let (mut first, mut second): (Vec<f64>, Vec<f64>) = (0..config.repetitions.max(1))
        .map(|_| {
            let (mut a, mut b) = (Duration::ZERO, Duration::ZERO);
            for _ in 0..rounds_per_batch {
                let (da, db) = round();
                a += da;
                b += db;
            }
            (a.as_secs_f64() / ops, b.as_secs_f64() / ops)
        })
        .unzip();
    let calls = rounds_per_batch * ops_per_round.max(1) as u64;
    (summarise(&mut first, calls), summarise(&mut second, calls))
}

/// Runs the routine for at least `duration` (and at least once); returns the mean per-call time.
fn warm_up<R>(duration: Duration, routine: &mut impl FnMut() -> R) -> f64 {
    let start = Instant::now();
    let mut calls = 0u64;
    let mut batch = 1u64;
    while calls == 0 || start.elapsed() < duration {
        for _ in 0..batch {
            black_box(routine());
        }
        calls += batch;
        batch = batch.saturating_mul(2);
    }
    start.elapsed().as_secs_f64() / calls as f64
}

fn calls_for(batch_time: Duration, per_call: f64) -> u64 {
    if per_call <= 0.0 {
        return 1_000_000;
    }
    ((batch_time.as_secs_f64() / per_call).ceil() as u64).clamp(1, 100_000_000)
}

fn summarise(batches: &mut [f64], calls_per_batch: u64) -> Measurement {
    batches.sort_by(f64::total_cmp);
    let quartile = |fraction: f64| {
        let position = fraction * (batches.len() - 1) as f64;
        let (low, high) = (position.floor() as usize, position.ceil() as usize);
        batches[low] + (batches[high] - batches[low]) * (position - low as f64)
    };
    Measurement {
        median: median_of_sorted(batches),
        min: batches[0],
        max: batches[batches.len() - 1],
        q1: quartile(0.25),
        q3: quartile(0.75),
        calls_per_batch,
        batches: batches.len(),
    }
}

/// The median of a sorted, non-empty slice.
pub fn median_of_sorted(sorted: &[f64]) -> f64 {
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    }
}

/// Seconds as `812 ns`, `3.41 µs`, `27.0 ms`, `1.20 s`.
pub fn format_seconds(seconds: f64) -> String {
    let (value, unit) = if seconds < 1e-6 {
        (seconds * 1e9, "ns")
    } else if seconds < 1e-3 {
        (seconds * 1e6, "µs")
    } else if seconds < 1.0 {
        (seconds * 1e3, "ms")
    } else {
        (seconds, "s")
    };
    if value >= 100.0 {
        format!("{value:.0} {unit}")
    } else if value >= 10.0 {
        format!("{value:.1} {unit}")
    } else {
        format!("{value:.2} {unit}")
    }
}

/// A count as `10K`, `1M`, `16M`, `1.5M` (powers of ten, the way the sizes are named).
pub fn format_count(count: usize) -> String {
    let (value, unit) = match count {
        c if c >= 1_000_000_000 => (c as f64 / 1e9, "G"),
        c if c >= 1_000_000 => (c as f64 / 1e6, "M"),
        c if c >= 1_000 => (c as f64 / 1e3, "K"),
        c => (c as f64, ""),
    };
    if value.fract() == 0.0 {
        format!("{value:.0}{unit}")
    } else {
        format!("{value:.1}{unit}")
    }
}

/// Parses `10K`, `1M`, `16M`, `2.5M`, `100000`, `1Ki`, `16Mi` into a count.
pub fn parse_count(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let (digits, multiplier) = [
        ("Ki", 1u64 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("K", 1_000),
        ("k", 1_000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
    ]
    .iter()
    .find_map(|(suffix, multiplier)| text.strip_suffix(suffix).map(|d| (d, *multiplier)))
    .unwrap_or((text, 1));
    let value: f64 = digits.parse().map_err(|_| {
        format!("{text:?} is not a size: expected a number with an optional K, M, G, Ki, Mi or Gi")
    })?;
    if !(value.is_finite() && value >= 0.0) {
        return Err(format!(
            "{text:?} is not a size: expected a non-negative number"
        ));
    }
    Ok((value * multiplier as f64).round() as usize)
}

/// Parses a comma-separated size list (`10K,1M,10M`).
pub fn parse_counts(text: &str) -> Result<Vec<usize>, String> {
    text.split(',')
        .filter(|part| !part.trim().is_empty())
        .map(parse_count)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_print_back() {
        assert_eq!(
            parse_counts("10K, 1M,16Mi,2.5M,7").unwrap(),
            vec![10_000, 1_000_000, 16 << 20, 2_500_000, 7]
        );
        assert!(parse_count("ten").unwrap_err().contains("\"ten\""));
        assert!(parse_count("-1K").is_err());
        assert_eq!(format_count(10_000), "10K");
        assert_eq!(format_count(2_500_000), "2.5M");
        assert_eq!(format_seconds(3.2e-7), "320 ns");
        assert_eq!(format_seconds(0.0271), "27.1 ms");
    }

    #[test]
    fn measuring_a_routine_reports_consistent_statistics() {
        let config = MeasureConfig {
            warm_up: Duration::from_millis(2),
            batch_time: Duration::from_millis(2),
            repetitions: 3,
        };
        let data: Vec<u64> = (0..4096).collect();
        let m = measure(&config, || data.iter().fold(0u64, |a, b| a ^ b));
        assert_eq!(m.batches, 3);
        assert!(m.min <= m.q1 && m.q1 <= m.median && m.median <= m.q3 && m.q3 <= m.max);
        assert!(m.min > 0.0);
        let with_setup = measure_with_setup(&config, || data.clone(), |v| v.len());
        assert!(with_setup.median > 0.0);
        let (mut short, mut long) = (0u64, 0u64);
        let both = measure_interleaved(
            &config,
            &mut [
                &mut || short = black_box(data[..16].iter().sum()),
                &mut || long = black_box(data.iter().sum()),
            ],
        );
        assert_eq!(both.len(), 2);
        assert!(both[0].median < both[1].median, "{both:?}");
        let (fast, slow) = measure_paired_rounds(&config, 10, || {
            let start = Instant::now();
            black_box(data[..64].iter().sum::<u64>());
            let fast = start.elapsed();
            let start = Instant::now();
            black_box(data.iter().sum::<u64>());
            (fast, start.elapsed())
        });
        assert_eq!(fast.calls_per_batch, slow.calls_per_batch);
        assert_eq!(fast.batches, 3);
        assert!(fast.median < slow.median, "{fast:?} {slow:?}");
    }
}
