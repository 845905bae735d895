//! Every numeric flag of every subcommand over boundary and random values (zero, one, the type's
//! maximum, negative, non-numeric, huge, and seeded random ones): each value either runs within a
//! small budget (exit 0, or 1 for a finding) or is a usage error on one line (exit 2,
//! `dcsum: ...`), never a panic (exit 101) nor an abort (a signal, 134).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What one invocation did.
#[derive(Debug)]
enum Outcome {
    Exited {
        code: i32,
        stderr: String,
    },
    /// Killed by a signal (an abort, a stack overflow).
    Signalled {
        status: String,
        stderr: String,
    },
    /// Still running at the budget, and killed; `stderr` is what it said up front.
    Running {
        stderr: String,
    },
}

fn scratch() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli_flags");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `dcsum ARGS` with its output in files (no pipe to fill) and kills it at `budget`.
fn run(args: &[String], budget: Duration) -> Outcome {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let dir = scratch();
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    let stdout = dir.join(format!("stdout.{run}"));
    let stderr = dir.join(format!("stderr.{run}"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_dcsum"))
        .args(args)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .expect("run dcsum");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > budget {
            child.kill().ok();
            child.wait().ok();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let text = std::fs::read_to_string(&stderr).unwrap_or_default();
    std::fs::remove_file(&stdout).ok();
    std::fs::remove_file(&stderr).ok();
    let stderr = text;
    match status {
        None => Outcome::Running { stderr },
        Some(status) => match status.code() {
            Some(code) => Outcome::Exited { code, stderr },
            None => Outcome::Signalled {
                status: format!("{status:?}"),
                stderr,
            },
        },
    }
}

/// The values every numeric flag is tried with.
fn values(rng: &mut ChaCha8Rng) -> Vec<String> {
    let mut values: Vec<String> = [
        "0",
        "1",
        "2",
        "-1",
        "-0",
        "abc",
        "",
        "1.5",
        "nan",
        "inf",
        "-inf",
        "1e300",
        "4294967295",
        "4294967296",
        "4000000000",
        "100000000000",
        "9223372036854775807",
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999999999999",
        "0x10",
        "1K",
        "1G",
        "1Gi",
    ]
    .map(String::from)
    .to_vec();
    for _ in 0..4 {
        values.push(rng.random::<u64>().to_string());
        values.push(rng.random_range(0..=1000u64).to_string());
        values.push(format!("{:.3}", rng.random_range(-2.0..2.0f64)));
    }
    values
}

/// A subcommand's flags and the arguments that keep a valid run short.
struct Subcommand {
    prefix: Vec<String>,
    flags: &'static [&'static str],
    budget: Duration,
    /// Whether a valid value may still be running at the budget (the headline comparison
    /// measures for minutes by design); it must then have said so on stderr.
    long_when_valid: bool,
}

fn ids_file(dir: &Path, name: &str, count: u64) -> String {
    let path = dir.join(name);
    let text: String = (0..count).map(|i| format!("{} {i}\n", i * 7 + 1)).collect();
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn subcommands() -> Vec<Subcommand> {
    let dir = scratch();
    let strings = |args: &[&str]| args.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let expected = ids_file(&dir, "expected.txt", 20);
    let actual = ids_file(&dir, "actual.txt", 18);
    let out_dir = dir.join("reports").display().to_string();
    vec![
        Subcommand {
            prefix: strings(&["simulate", "--seeds", "1", "--fault-seconds", "1"]),
            flags: &[
                "--seed",
                "--nodes",
                "--dispatchers",
                "--loss",
                "--dup",
                "--reorder",
                "--max-delay-ms",
                "--failovers",
                "--error-restarts",
                "--moves",
                "--move-dest-fails",
                "--restarts",
                "--leaves",
                "--replacements",
                "--drifts",
                "--coordinator-failovers",
                "--zombie",
                "--operators-per-second",
                "--rebalance-per-minute",
                "--threads",
            ],
            budget: Duration::from_secs(30),
            long_when_valid: false,
        },
        // The flags the default prefix fixes, each alone.
        Subcommand {
            prefix: strings(&["simulate", "--fault-seconds", "1"]),
            flags: &["--seeds"],
            budget: Duration::from_secs(30),
            long_when_valid: true,
        },
        Subcommand {
            prefix: strings(&["simulate", "--seeds", "1"]),
            flags: &["--fault-seconds"],
            budget: Duration::from_secs(30),
            long_when_valid: true,
        },
        Subcommand {
            prefix: strings(&["simulate", "--fault-seconds", "1", "--trace"]),
            flags: &[""],
            budget: Duration::from_secs(30),
            long_when_valid: false,
        },
        Subcommand {
            prefix: strings(&["simulate", "--fault-seconds", "1", "--rebalance"]),
            flags: &["", "1000/"],
            budget: Duration::from_secs(30),
            long_when_valid: true,
        },
        Subcommand {
            prefix: strings(&["simulate", "--verdict", "--seeds"]),
            flags: &[""],
            budget: Duration::from_secs(5),
            long_when_valid: true,
        },
        Subcommand {
            prefix: strings(&["check", "--seeds", "1", "--budget", "0", "--threads", "1"]),
            flags: &[
                "--seed",
                "--seeds",
                "--budget",
                "--nodes",
                "--dispatchers",
                "--fault-seconds",
                "--operators-per-second",
                "--threads",
                "--timeout-seconds",
            ],
            budget: Duration::from_secs(5),
            long_when_valid: true,
        },
        Subcommand {
            prefix: strings(&["kernels", "--json"]),
            flags: &["--sizes"],
            budget: Duration::from_secs(30),
            long_when_valid: false,
        },
        Subcommand {
            prefix: vec!["diff".into(), expected.clone(), actual.clone()],
            flags: &["--sketch-bytes", "--max-bytes"],
            budget: Duration::from_secs(30),
            long_when_valid: false,
        },
        Subcommand {
            prefix: vec!["fingerprint".into(), expected.clone()],
            flags: &["--exclude-state"],
            budget: Duration::from_secs(30),
            long_when_valid: false,
        },
        Subcommand {
            prefix: strings(&["--quick", "--go-reference", "skip", "--json", "--out-dir"])
                .into_iter()
                .chain([out_dir])
                .collect(),
            flags: &["--sizes", "--threads"],
            budget: Duration::from_secs(5),
            long_when_valid: true,
        },
    ]
}

#[test]
fn no_flag_value_panics_aborts_or_runs_unbounded() {
    let mut rng = ChaCha8Rng::seed_from_u64(19);
    let mut failures = Vec::new();
    let mut tried = 0;
    for subcommand in subcommands() {
        for flag in subcommand.flags {
            for value in values(&mut rng) {
                let mut args = subcommand.prefix.clone();
                // An empty flag name: the value is the prefix's last flag's (or a positional
                // prefix's) value; a flag ending in `/` is a prefix of the value.
                if flag.is_empty() {
                    args.push(value.clone());
                } else if flag.ends_with('/') {
                    args.push(format!("{flag}{value}"));
                } else {
                    args.push(format!("{flag}={value}"));
                }
                tried += 1;
                let outcome = run(&args, subcommand.budget);
                let verdict = match &outcome {
                    Outcome::Exited { code: 0 | 1, .. } => Ok(()),
                    Outcome::Exited { code: 2, stderr } => {
                        let lines: Vec<&str> = stderr.lines().collect();
                        if lines.len() == 1 && lines[0].starts_with("dcsum") {
                            Ok(())
                        } else {
                            Err("a usage error that is not one `dcsum: ...` line")
                        }
                    }
                    Outcome::Exited { .. } => Err("an exit code other than 0, 1, 2"),
                    Outcome::Signalled { status, stderr } => {
                        failures.push(format!("dcsum {}: {status}: {stderr}", args.join(" ")));
                        continue;
                    }
                    Outcome::Running { stderr } => {
                        if subcommand.long_when_valid && !stderr.trim().is_empty() {
                            Ok(())
                        } else {
                            Err("still running at the budget without saying what it does")
                        }
                    }
                };
                if let Err(what) = verdict {
                    failures.push(format!("dcsum {}: {what}: {outcome:?}", args.join(" ")));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {tried} invocations failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn a_run_that_checks_nothing_is_refused() {
    for args in [
        vec!["simulate", "--seeds", "0"],
        vec!["simulate", "--verdict", "--seeds", "0"],
        vec!["simulate", "--verdict", "--plant-bug", "no-resend"],
        vec!["simulate", "--rebalance", "1000/4", "--gate", "none"],
        vec!["simulate", "--trace", "3", "--seeds", "10"],
    ] {
        let args: Vec<String> = args.into_iter().map(String::from).collect();
        match run(&args, Duration::from_secs(30)) {
            Outcome::Exited { code: 2, stderr } => {
                assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
                assert!(stderr.starts_with("dcsum: "), "{args:?}: {stderr}");
            }
            other => panic!("{args:?}: {other:?}"),
        }
    }
}
