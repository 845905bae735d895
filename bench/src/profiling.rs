//! CPU flamegraphs of this process: pprof samples the stacks, inferno draws the SVG.
//!
//! Why it is in the library: the main binary profiles its own run (`dcsum --flamegraph FILE`)
//! and the criterion benches profile each benchmark under `--profile-time`; both go through
//! [`FlamegraphRecorder`]. criterion is only a dev-dependency, so the small
//! `criterion::profiler::Profiler` adapter lives with the benches (`benches/common/profiler.rs`)
//! and calls this module.
//!
//! Sampling is SIGPROF-driven (`setitimer(ITIMER_PROF)`): it counts CPU time of every thread of
//! the process, rayon's workers included, at [`DEFAULT_FREQUENCY_HZ`]. Only one recorder can run
//! at a time in a process; starting a second one is an error, not a panic.
//!
//! ```no_run
//! use dispatcher_checksum_bench::profiling::FlamegraphRecorder;
//! # fn work() {}
//! let recorder = FlamegraphRecorder::start("reports/flamegraphs/run.svg")?;
//! work();
//! let written = recorder.finish()?;
//! eprintln!("{written}");
//! # Ok::<(), dispatcher_checksum_bench::profiling::ProfilingError>(())
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

/// Samples per second of CPU time. A prime, so sampling does not fall into lockstep with periodic
/// work; high enough for a few thousand samples in a 5-second `--profile-time` run.
pub const DEFAULT_FREQUENCY_HZ: i32 = 997;

/// Shared objects whose frames are not unwound from the signal handler: unwinding through them
/// can deadlock or crash (pprof's own advice), and their frames say nothing about our code.
const BLOCKLIST: [&str; 4] = ["libc", "libgcc", "pthread", "vdso"];

/// A running CPU profile that becomes a flamegraph SVG at [`FlamegraphRecorder::finish`].
///
/// Dropping it without `finish` stops sampling and writes nothing.
pub struct FlamegraphRecorder {
    guard: pprof::ProfilerGuard<'static>,
    output: PathBuf,
    title: String,
}

/// What [`FlamegraphRecorder::finish`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlamegraphWritten {
    /// The SVG file.
    pub path: PathBuf,
    /// Stack samples in it (CPU time = samples / frequency).
    pub samples: u64,
}

impl fmt::Display for FlamegraphWritten {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "flamegraph written to {} ({} samples)",
            self.path.display(),
            self.samples
        )
    }
}

/// Why a flamegraph could not be recorded or written; each names the file concerned.
#[derive(Debug)]
pub enum ProfilingError {
    /// The sampler could not start (another recorder running, or the timer was refused).
    Start {
        /// The SVG that was asked for.
        output: PathBuf,
        /// pprof's reason.
        source: pprof::Error,
    },
    /// The collected samples could not be symbolized into a report.
    Report {
        /// The SVG that was asked for.
        output: PathBuf,
        /// pprof's reason.
        source: pprof::Error,
    },
    /// No sample was taken: the profiled work used less CPU than one sampling period.
    NoSamples {
        /// The SVG that was asked for (not written).
        output: PathBuf,
    },
    /// Drawing or writing the SVG failed.
    Write {
        /// The SVG that could not be written.
        output: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

impl fmt::Display for ProfilingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProfilingError::Start { output, source } => write!(
                f,
                "cannot start the CPU profiler for {}: {source} (is another profile running?)",
                output.display()
            ),
            ProfilingError::Report { output, source } => write!(
                f,
                "cannot build the profile report for {}: {source}",
                output.display()
            ),
            ProfilingError::NoSamples { output } => write!(
                f,
                "no CPU samples were collected for {}: the profiled work was shorter than one \
                 sampling period (1/{DEFAULT_FREQUENCY_HZ} s); profile longer",
                output.display()
            ),
            ProfilingError::Write { output, source } => {
                write!(f, "cannot write flamegraph {}: {source}", output.display())
            }
        }
    }
}

impl std::error::Error for ProfilingError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ProfilingError::Start { source, .. } | ProfilingError::Report { source, .. } => {
                Some(source)
            }
            ProfilingError::Write { source, .. } => Some(source),
            ProfilingError::NoSamples { .. } => None,
        }
    }
}

impl FlamegraphRecorder {
    /// Starts sampling at [`DEFAULT_FREQUENCY_HZ`]; the SVG goes to `output` at
    /// [`finish`](Self::finish), titled with the file name.
    pub fn start(output: impl Into<PathBuf>) -> Result<FlamegraphRecorder, ProfilingError> {
        let output = output.into();
        let title = output
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_else(|| "flamegraph".to_owned());
        FlamegraphRecorder::start_with(output, title, DEFAULT_FREQUENCY_HZ)
    }

    /// Starts sampling at `frequency_hz` with an explicit SVG title.
    pub fn start_with(
        output: impl Into<PathBuf>,
        title: impl Into<String>,
        frequency_hz: i32,
    ) -> Result<FlamegraphRecorder, ProfilingError> {
        let output = output.into();
        let guard = pprof::ProfilerGuardBuilder::default()
            .frequency(frequency_hz)
            .blocklist(&BLOCKLIST)
            .build()
            .map_err(|source| ProfilingError::Start {
                output: output.clone(),
                source,
            })?;
        Ok(FlamegraphRecorder {
            guard,
            output,
            title: title.into(),
        })
    }

    /// Where the SVG will be written.
    pub fn output(&self) -> &Path {
        &self.output
    }

    /// Stops sampling and writes the flamegraph SVG (creating its directory if needed).
    pub fn finish(self) -> Result<FlamegraphWritten, ProfilingError> {
        let FlamegraphRecorder {
            guard,
            output,
            title,
        } = self;
        let report = guard
            .report()
            .build()
            .map_err(|source| ProfilingError::Report {
                output: output.clone(),
                source,
            })?;
        // Sampling stops here, before the (comparatively slow) drawing and writing.
        drop(guard);
        let samples: u64 = report
            .data
            .values()
            .map(|&count| u64::try_from(count).unwrap_or(0))
            .sum();
        if samples == 0 {
            return Err(ProfilingError::NoSamples { output });
        }
        let mut options = pprof::flamegraph::Options::default();
        options.title = title;
        let mut svg = Vec::new();
        report
            .flamegraph_with_options(&mut svg, &mut options)
            .map_err(|error| ProfilingError::Write {
                output: output.clone(),
                source: std::io::Error::other(error),
            })?;
        let write = || -> std::io::Result<()> {
            if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&output, &svg)
        };
        write().map_err(|source| ProfilingError::Write {
            output: output.clone(),
            source,
        })?;
        Ok(FlamegraphWritten {
            path: output,
            samples,
        })
    }
}

impl fmt::Debug for FlamegraphRecorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlamegraphRecorder")
            .field("output", &self.output)
            .field("title", &self.title)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// Burns CPU in a function whose name must show up in the flamegraph.
    #[inline(never)]
    fn profiling_test_busy_loop(duration: Duration) -> u64 {
        let start = Instant::now();
        let mut state = 1u64;
        while start.elapsed() < duration {
            for _ in 0..10_000 {
                state =
                    std::hint::black_box(state.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        }
        state
    }

    #[test]
    fn records_a_flamegraph_naming_the_hot_function_and_refuses_a_second_recorder() {
        let dir = std::env::temp_dir().join(format!("dcsum-profiling-{}", std::process::id()));
        let output = dir.join("nested/busy.svg");
        let recorder = FlamegraphRecorder::start(&output).expect("profiler starts");
        let second = FlamegraphRecorder::start(dir.join("second.svg"));
        assert!(
            matches!(second, Err(ProfilingError::Start { .. })),
            "a second recorder must be refused while one runs: {second:?}"
        );
        profiling_test_busy_loop(Duration::from_millis(300));
        let written = recorder.finish().expect("flamegraph written");
        assert_eq!(written.path, output);
        assert!(written.samples > 10, "only {} samples", written.samples);
        let svg = std::fs::read_to_string(&output).expect("svg readable");
        assert!(svg.contains("<svg"), "not an SVG");
        assert!(
            svg.contains("profiling_test_busy_loop"),
            "the hot function is missing from the flamegraph"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
