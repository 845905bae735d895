//! The "reference (Go)" rows: builds and runs `comparisons/go-reference`, a small Go program with
//! the reference implementation's shape (dispatchers in a `sync.Map`, each status read under its
//! dispatcher's own lock, the excluded states filtered, the checksum added; a maintainer keeping a
//! dispatcher → node map and per-node checksums), and turns what it prints into rows the report
//! sets beside this crate's strategies.
//!
//! Why a Go program: the other rows of the report compare this crate's strategies with a Rust
//! imitation of the reference node's walk ([`crate::fixtures`]). The reference itself is Go, with
//! a different map, runtime and memory layout; measuring a program of its shape on the same
//! machine, in the same run, says what the speedups are against the real thing's shape and not
//! only against our imitation of it. It is still an imitation (written from the reference pull
//! request's description, not its code), and a different language and runtime: the report says
//! so next to the rows.
//!
//! Nothing the Go program says is reported as a speed unless its answers are right: it walks the
//! exact set the Rust heartbeat rows walk (the same SplitMix64 IDs and state formula as
//! [`crate::fixtures::synthetic_dispatchers`], described in `comparisons/go-reference/README.md`),
//! prints the fingerprint every timed routine returned, and [`check`] compares each with the
//! naive oracle computed here; any disagreement is an error, never a row.
//!
//! Building needs only `go` on `PATH` (Go 1.19 or later, standard library only): the build runs
//! offline (`GOPROXY=off`) with its cache under the Cargo target directory, so neither the network
//! nor a writable home directory is needed. Without `go` the main job prints one line saying so
//! and how to get it ([`HOW_TO_GET_GO`]) and goes on without these rows.

use crate::fixtures::{synthetic_state, IdStream};
use crate::maintainer;
use crate::measure::{MeasureConfig, Measurement};
use crate::rows::{GoHeartbeatRow, GoReferenceResults, MaintainerRow};
use dispatcher_checksum::kernels::{naive, IdWords};
use dispatcher_checksum::lifecycle::StateSet;
use dispatcher_checksum::Fingerprint;
use serde::Deserialize;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Where the Go program's source lives (resolved when this crate is compiled).
pub const SOURCE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../comparisons/go-reference");

/// The output layout this parser reads; the Go program's `Format` constant.
pub const FORMAT: &str = "dcsum-go-reference/2";

/// How to get `go`, for the line the main job prints when it is not on `PATH`.
pub const HOW_TO_GET_GO: &str =
    "install Go 1.19 or later (Debian/Ubuntu: `apt-get install golang-go`)";

/// The file name of the built program inside [`build_dir`].
const BINARY: &str = "dcsum-go-reference";

/// Whether the main job runs the Go reference program.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GoReferenceMode {
    /// Not at all.
    Skip,
    /// When `go` is on `PATH` and the program builds; otherwise say why and go on without it.
    #[default]
    Auto,
    /// Always: a missing `go` or a failed build is an error (CI uses this).
    Require,
}

impl FromStr for GoReferenceMode {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "skip" => Ok(GoReferenceMode::Skip),
            "auto" => Ok(GoReferenceMode::Auto),
            "require" => Ok(GoReferenceMode::Require),
            other => Err(format!(
                "{other:?}: expected auto, require or skip for the reference (Go) rows"
            )),
        }
    }
}

impl fmt::Display for GoReferenceMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GoReferenceMode::Skip => "skip",
            GoReferenceMode::Auto => "auto",
            GoReferenceMode::Require => "require",
        })
    }
}

/// Why the Go reference rows could not be produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GoReferenceError {
    /// `go` is not on `PATH`.
    GoNotFound,
    /// The program's source directory is missing (a binary moved away from its checkout).
    SourceMissing(PathBuf),
    /// `go build` failed; its output.
    Build(String),
    /// The program could not be started, or exited with an error; what it said.
    Run(String),
    /// Its output is not the JSON this parser expects.
    Parse(String),
    /// It printed an answer that disagrees with the naive oracle: its numbers must not be shown.
    WrongAnswer(String),
}

impl fmt::Display for GoReferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GoReferenceError::GoNotFound => write!(f, "`go` is not on PATH: {HOW_TO_GET_GO}"),
            GoReferenceError::SourceMissing(path) => write!(
                f,
                "the Go reference program's source is not at {}",
                path.display()
            ),
            GoReferenceError::Build(output) => {
                write!(f, "building the Go reference program failed: {output}")
            }
            GoReferenceError::Run(what) => write!(f, "the Go reference program failed: {what}"),
            GoReferenceError::Parse(what) => {
                write!(f, "the Go reference program's output is not valid: {what}")
            }
            GoReferenceError::WrongAnswer(what) => write!(
                f,
                "the Go reference program computed a wrong answer, so none of its timings are \
                 reported: {what}"
            ),
        }
    }
}

impl std::error::Error for GoReferenceError {}

/// The Go program's sizes and timing settings for one run.
#[derive(Clone, Debug, PartialEq)]
pub struct GoRunConfig {
    /// Dispatchers per node for the heartbeat walk (the main job's heartbeat sizes).
    pub heartbeat_sizes: Vec<usize>,
    /// Seed of the heartbeat workload (the one the Rust heartbeat rows use).
    pub seed: u64,
    /// Dispatchers the maintainer tracks (0: leave the maintainer out).
    pub maintainer_size: usize,
    /// Warm-up, batch length and batch count, as for the Rust rows.
    pub measure: MeasureConfig,
    /// Seconds of timed batches per measurement at most (at least 3 batches are timed): a 10M
    /// `sync.Map` walk takes seconds, and the main job's usual batch count of it would take
    /// minutes.
    pub budget: Duration,
}

/// The main job's Go reference program, when there is one to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prepared {
    /// Built and ready.
    Ready(GoProgram),
    /// Not run; why (one line for the report and the console).
    Absent(String),
}

/// Finds `go`, builds the program, and returns what to run, as `mode` asks: under
/// [`GoReferenceMode::Auto`] a missing `go` or a failed build is [`Prepared::Absent`] with the
/// reason, under [`GoReferenceMode::Require`] it is an error.
pub fn prepare(mode: GoReferenceMode) -> Result<Prepared, GoReferenceError> {
    if mode == GoReferenceMode::Skip {
        return Ok(Prepared::Absent(
            "skipped (`--go-reference skip`)".to_string(),
        ));
    }
    let built = find_go()
        .ok_or(GoReferenceError::GoNotFound)
        .and_then(|go| GoProgram::build(&go));
    match (built, mode) {
        (Ok(program), _) => Ok(Prepared::Ready(program)),
        (Err(error), GoReferenceMode::Require) => Err(error),
        (Err(error), _) => Ok(Prepared::Absent(format!(
            "{error}; the reference (Go) rows are left out"
        ))),
    }
}

/// The first executable called `go` on `PATH`.
pub fn find_go() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("go"))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.with_extension("exe").is_file() || path.is_file()
}

/// Where the build puts the program and Go's caches: `go-reference/` in the Cargo target
/// directory (`CARGO_TARGET_DIR` when set, else the workspace's `target/`). A relative
/// `CARGO_TARGET_DIR` is taken from the workspace root, where cargo is run: Go refuses a relative
/// `GOPATH`, and a test runs in its package's directory, not cargo's.
pub fn build_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                workspace.join(dir)
            }
        })
        .unwrap_or_else(|| workspace.join("target"));
    target.join("go-reference")
}

/// A built Go reference program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoProgram {
    /// The executable.
    pub binary: PathBuf,
    /// `go version` of the toolchain that built it.
    pub toolchain: String,
}

impl GoProgram {
    /// Builds the program with `go` into [`build_dir`]. The environment makes the build hermetic
    /// and offline: module downloads and toolchain switches are off, the build and module caches
    /// live under the target directory unless `GOCACHE` / `GOPATH` name others, cgo is off (no C
    /// compiler needed) and the user's `GOFLAGS` and workspace files are ignored.
    pub fn build(go: &Path) -> Result<GoProgram, GoReferenceError> {
        let source = Path::new(SOURCE_DIR);
        if !source.join("go.mod").is_file() {
            return Err(GoReferenceError::SourceMissing(source.to_path_buf()));
        }
        let dir = build_dir();
        std::fs::create_dir_all(&dir).map_err(|error| {
            GoReferenceError::Build(format!("cannot create {}: {error}", dir.display()))
        })?;
        let go_command = |args: &[&str]| {
            let mut command = Command::new(go);
            command.args(args).current_dir(source);
            // Go's caches default to the home directory, which may not be writable; a cache the
            // caller chose (CI shares one between its target directories) is kept.
            for (variable, default) in [("GOCACHE", "cache"), ("GOPATH", "gopath")] {
                if std::env::var_os(variable).is_none_or(|v| v.is_empty()) {
                    command.env(variable, dir.join(default));
                }
            }
            command
                .env("GOPROXY", "off")
                .env("GOTOOLCHAIN", "local")
                .env("GOTELEMETRY", "off")
                .env("GOFLAGS", "")
                .env("GOWORK", "off")
                .env("GO111MODULE", "on")
                .env("CGO_ENABLED", "0");
            command
        };
        let toolchain = go_command(&["version"])
            .output()
            .map_err(|error| {
                GoReferenceError::Build(format!("cannot run {}: {error}", go.display()))
            })
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())?;
        // Build to a name of this build's own, then rename: another build (a parallel test, in
        // this process or another) may be running or building the same program, and a rename
        // never disturbs either.
        static BUILDS: AtomicUsize = AtomicUsize::new(0);
        let binary = dir.join(BINARY);
        let staging = dir.join(format!(
            "{BINARY}.{}-{}.tmp",
            std::process::id(),
            BUILDS.fetch_add(1, Ordering::Relaxed)
        ));
        let staging_arg = staging.to_string_lossy().into_owned();
        let output = go_command(&["build", "-trimpath", "-o", &staging_arg, "."])
            .output()
            .map_err(|error| {
                GoReferenceError::Build(format!("cannot run {}: {error}", go.display()))
            })?;
        if !output.status.success() {
            let _ = std::fs::remove_file(&staging);
            return Err(GoReferenceError::Build(format!(
                "`go build` in {} ({toolchain}) exited with {}: {}",
                source.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        std::fs::rename(&staging, &binary).map_err(|error| {
            GoReferenceError::Build(format!(
                "cannot move the program to {}: {error}",
                binary.display()
            ))
        })?;
        Ok(GoProgram { binary, toolchain })
    }

    /// Runs the program, forwards each of its progress lines to `progress`, parses its output and
    /// checks every answer in it ([`check`]).
    pub fn run(
        &self,
        config: &GoRunConfig,
        progress: &mut dyn FnMut(&str),
    ) -> Result<GoReferenceResults, GoReferenceError> {
        let start = Instant::now();
        let sizes: Vec<String> = config
            .heartbeat_sizes
            .iter()
            .map(usize::to_string)
            .collect();
        let measure = &config.measure;
        let mut child = Command::new(&self.binary)
            .args([
                format!("-sizes={}", sizes.join(",")),
                format!("-seed={}", config.seed),
                format!("-batches={}", measure.repetitions.max(1)),
                format!("-warmup-ms={}", measure.warm_up.as_millis()),
                format!("-batch-ms={}", measure.batch_time.as_millis().max(1)),
                format!("-budget-s={}", config.budget.as_secs_f64()),
                format!("-maintainer-size={}", config.maintainer_size),
                format!("-nodes={}", maintainer::NODES),
                format!("-maintainer-seed={}", maintainer::SEED),
                format!("-fresh-seed={}", maintainer::FRESH_SEED),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|error| {
                GoReferenceError::Run(format!("cannot start {}: {error}", self.binary.display()))
            })?;
        // stdout on a thread of its own, stderr here: the progress callback stays on this thread,
        // and neither pipe can fill up and stall the program while the other is read.
        let mut stdout = child.stdout.take().expect("stdout is piped");
        let reader = std::thread::spawn(move || {
            let mut text = String::new();
            stdout.read_to_string(&mut text).map(|_| text)
        });
        let mut diagnostics = String::new();
        if let Some(stderr) = child.stderr.take() {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                match line.strip_prefix("progress: ") {
                    Some(what) => progress(&format!("reference (Go): {what}")),
                    None => {
                        diagnostics.push_str(&line);
                        diagnostics.push('\n');
                    }
                }
            }
        }
        let status = child
            .wait()
            .map_err(|error| GoReferenceError::Run(format!("waiting for it: {error}")))?;
        let stdout = reader
            .join()
            .map_err(|_| GoReferenceError::Run("the output reader panicked".into()))?
            .map_err(|error| GoReferenceError::Run(format!("reading its output: {error}")))?;
        if !status.success() {
            return Err(GoReferenceError::Run(format!(
                "{} exited with {status}: {}",
                self.binary.display(),
                diagnostics.trim()
            )));
        }
        let output = parse_output(&stdout)?;
        let mut results = check(&output, config)?;
        results.elapsed_seconds = start.elapsed().as_secs_f64();
        Ok(results)
    }
}

/// The Go program's JSON document (its `Output` type).
#[derive(Clone, Debug, Deserialize)]
pub struct GoOutput {
    /// Must be [`FORMAT`].
    pub format: String,
    /// `runtime.Version()`.
    pub go_version: String,
    /// `runtime.GOMAXPROCS(0)`.
    pub gomaxprocs: usize,
    /// The seeds and settings it ran with.
    pub settings: GoSettings,
    /// One entry per heartbeat size, in the order asked.
    pub heartbeat: Vec<GoHeartbeatOutput>,
    /// The maintainer operations, unless they were skipped.
    pub maintainer: Option<GoMaintainerOutput>,
}

/// The settings the Go program echoes.
#[derive(Clone, Debug, Deserialize)]
pub struct GoSettings {
    /// Seed of the heartbeat workload.
    pub seed: u64,
    /// Seed of the maintainer's IDs.
    pub maintainer_seed: u64,
    /// Nodes of the maintainer.
    pub nodes: usize,
}

/// One timing as the Go program prints it (seconds per call).
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct GoMeasurement {
    /// Median over the batches.
    pub median: f64,
    /// Fastest batch.
    pub min: f64,
    /// Slowest batch.
    pub max: f64,
    /// First quartile.
    pub q1: f64,
    /// Third quartile.
    pub q3: f64,
    /// Calls per batch.
    pub calls_per_batch: u64,
    /// Batches timed.
    pub batches: usize,
}

/// A timed walk and the fingerprint its last call returned.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct GoTimedWalk {
    /// The timing.
    #[serde(flatten)]
    pub timing: GoMeasurement,
    /// What the walk computed.
    pub fingerprint: Fingerprint,
}

/// One heartbeat size of the Go program's output.
#[derive(Clone, Debug, Deserialize)]
pub struct GoHeartbeatOutput {
    /// Dispatchers on the node.
    pub dispatchers: usize,
    /// Fingerprint of every generated ID, whatever its state (tells a generator difference from
    /// a state-rule difference).
    pub generated: Fingerprint,
    /// Fingerprint of the included IDs, folded straight from the generator.
    pub included: Fingerprint,
    /// The `sync.Map` walk.
    pub sync_map: GoTimedWalk,
    /// The plain-map walk.
    pub plain_map: GoTimedWalk,
}

/// The Go program's maintainer output.
#[derive(Clone, Debug, Deserialize)]
pub struct GoMaintainerOutput {
    /// Dispatchers tracked.
    pub dispatchers: usize,
    /// Nodes.
    pub nodes: usize,
    /// One move per call.
    #[serde(rename = "move")]
    pub move_one: GoMeasurement,
    /// One add per call.
    #[serde(rename = "add")]
    pub add_one: GoMeasurement,
    /// One remove per call.
    #[serde(rename = "remove")]
    pub remove_one: GoMeasurement,
    /// Moves the Go program ran (its warm-up included), in the ring order of
    /// [`maintainer::SteadyState`].
    pub moves_done: u64,
    /// Add/remove rounds of [`maintainer::ROUND`] it ran after the moves.
    pub churn_rounds: u64,
    /// Dispatchers tracked after the timed operations.
    pub tracked_after: usize,
    /// The union of every node's expected checksum afterwards.
    pub total: Fingerprint,
    /// Node 0's expected checksum afterwards.
    pub node0: Fingerprint,
    /// Node 1's expected checksum afterwards.
    pub node1: Fingerprint,
}

/// Parses the Go program's stdout. Never panics: anything that is not the expected document is a
/// [`GoReferenceError::Parse`] saying what is wrong and where.
pub fn parse_output(text: &str) -> Result<GoOutput, GoReferenceError> {
    if text.trim().is_empty() {
        return Err(GoReferenceError::Parse("it printed nothing".into()));
    }
    let output: GoOutput = serde_json::from_str(text).map_err(|error| {
        GoReferenceError::Parse(format!("{error} (expected the `{FORMAT}` JSON document)"))
    })?;
    if output.format != FORMAT {
        return Err(GoReferenceError::Parse(format!(
            "format {:?}, expected {FORMAT:?}: the program and this parser are from different \
             versions",
            output.format
        )));
    }
    for row in &output.heartbeat {
        let n = row.dispatchers;
        validate(&format!("heartbeat {n}, sync.Map"), &row.sync_map.timing)?;
        validate(&format!("heartbeat {n}, plain map"), &row.plain_map.timing)?;
    }
    if let Some(m) = &output.maintainer {
        validate("maintainer move", &m.move_one)?;
        validate("maintainer add", &m.add_one)?;
        validate("maintainer remove", &m.remove_one)?;
    }
    Ok(output)
}

fn validate(what: &str, m: &GoMeasurement) -> Result<Measurement, GoReferenceError> {
    let all = [m.median, m.min, m.max, m.q1, m.q3];
    if !all.iter().all(|t| t.is_finite() && *t > 0.0) {
        return Err(GoReferenceError::Parse(format!(
            "{what}: times must be positive and finite, got {m:?}"
        )));
    }
    if !(m.min <= m.median && m.median <= m.max) || m.batches == 0 || m.calls_per_batch == 0 {
        return Err(GoReferenceError::Parse(format!(
            "{what}: expected min <= median <= max and at least one batch and call, got {m:?}"
        )));
    }
    Ok(Measurement {
        median: m.median,
        min: m.min,
        max: m.max,
        q1: m.q1,
        q3: m.q3,
        calls_per_batch: m.calls_per_batch,
        batches: m.batches,
    })
}

/// The naive oracle of the heartbeat workload `synthetic_dispatchers(n, seed)`: the fingerprint
/// of every generated ID, and of those in an included state. Folds chunks with the naive kernel,
/// so a 10M workload needs no 160 MB buffer.
pub fn heartbeat_oracle(n: usize, seed: u64) -> (Fingerprint, Fingerprint) {
    const CHUNK: usize = 1 << 16;
    let included_states = StateSet::DEFAULT_INCLUDED;
    let (mut all, mut included) = (Fingerprint::EMPTY, Fingerprint::EMPTY);
    let mut ids = IdStream::new(seed);
    let (mut all_chunk, mut included_chunk): (Vec<IdWords>, Vec<IdWords>) =
        (Vec::with_capacity(CHUNK), Vec::with_capacity(CHUNK));
    let mut index = 0usize;
    while index < n {
        all_chunk.clear();
        included_chunk.clear();
        for _ in 0..CHUNK.min(n - index) {
            let words = ids.next_id().words();
            all_chunk.push(words);
            if included_states.contains(synthetic_state(index as u64)) {
                included_chunk.push(words);
            }
            index += 1;
        }
        all = all.merge(naive::fingerprint(&all_chunk).into());
        included = included.merge(naive::fingerprint(&included_chunk).into());
    }
    (all, included)
}

/// The maintainer workload's end state after `moves` moves and `rounds` add/remove rounds of
/// [`maintainer::SteadyState`] over `n` dispatchers (what the Go program ran, in the same order):
/// every tracked ID's fingerprint, node 0's and node 1's. The library's tracker replays the
/// operations and is itself held to the naive oracle of the ring (`SteadyState::check`), so the
/// Go program's answers are checked against the naive oracle through it.
pub fn maintainer_oracle(
    n: usize,
    moves: u64,
    rounds: u64,
) -> (Fingerprint, Fingerprint, Fingerprint) {
    let mut steady = maintainer::SteadyState::new(n);
    steady.moves(moves);
    for _ in 0..rounds {
        steady.churn_round(maintainer::ROUND);
    }
    steady.check("the Go program's operations replayed");
    let tracker = steady.tracker();
    let total = tracker
        .nodes()
        .filter_map(|node| tracker.expected(node))
        .fold(Fingerprint::EMPTY, |all, f| all.merge(f));
    let node = |k| {
        tracker
            .expected(dispatcher_checksum::protocol::NodeId(k))
            .unwrap_or(Fingerprint::EMPTY)
    };
    (total, node(0), node(1))
}

fn expect_same(what: String, go: Fingerprint, oracle: Fingerprint) -> Result<(), GoReferenceError> {
    if go == oracle {
        Ok(())
    } else {
        Err(GoReferenceError::WrongAnswer(format!(
            "{what}: the Go program says {go}, the naive oracle {oracle}"
        )))
    }
}

/// Checks the Go program's output against what `config` asked for and against the naive oracle,
/// and returns the rows. Every fingerprint is checked: the generated set's (a mismatch there means
/// the two generators differ), the included set's, and the one each timed walk returned.
pub fn check(
    output: &GoOutput,
    config: &GoRunConfig,
) -> Result<GoReferenceResults, GoReferenceError> {
    if output.settings.seed != config.seed
        || output.settings.maintainer_seed != maintainer::SEED
        || output.settings.nodes != maintainer::NODES as usize
    {
        return Err(GoReferenceError::Parse(format!(
            "it ran with {:?}, not the seeds and nodes it was given",
            output.settings
        )));
    }
    let sizes: Vec<usize> = output.heartbeat.iter().map(|r| r.dispatchers).collect();
    if sizes != config.heartbeat_sizes {
        return Err(GoReferenceError::Parse(format!(
            "heartbeat sizes {sizes:?}, expected {:?}",
            config.heartbeat_sizes
        )));
    }
    let mut heartbeat = Vec::with_capacity(output.heartbeat.len());
    for row in &output.heartbeat {
        let n = row.dispatchers;
        let (generated, included) = heartbeat_oracle(n, config.seed);
        expect_same(
            format!(
                "heartbeat {n}: every generated ID (the Go generator differs from \
                 bench/src/fixtures.rs; see comparisons/go-reference/README.md)"
            ),
            row.generated,
            generated,
        )?;
        expect_same(
            format!("heartbeat {n}: the included IDs (the state rule differs)"),
            row.included,
            included,
        )?;
        expect_same(
            format!("heartbeat {n}: the sync.Map walk"),
            row.sync_map.fingerprint,
            included,
        )?;
        expect_same(
            format!("heartbeat {n}: the plain-map walk"),
            row.plain_map.fingerprint,
            included,
        )?;
        heartbeat.push(GoHeartbeatRow {
            dispatchers: n,
            sync_map: validate("sync.Map", &row.sync_map.timing)?,
            plain_map: validate("plain map", &row.plain_map.timing)?,
        });
    }
    let maintainer = match (&output.maintainer, config.maintainer_size) {
        (None, 0) => None,
        (Some(m), n) if m.dispatchers == n && n > 0 && m.nodes == maintainer::NODES as usize => {
            if m.tracked_after != n {
                return Err(GoReferenceError::WrongAnswer(format!(
                    "maintainer: {} dispatchers tracked after the steady-size operations, \
                     expected {n}",
                    m.tracked_after
                )));
            }
            let (total, node0, node1) = maintainer_oracle(n, m.moves_done, m.churn_rounds);
            expect_same(
                format!("maintainer {n}: every node's checksum together"),
                m.total,
                total,
            )?;
            expect_same(format!("maintainer {n}: node 0's checksum"), m.node0, node0)?;
            expect_same(format!("maintainer {n}: node 1's checksum"), m.node1, node1)?;
            Some(MaintainerRow {
                dispatchers: n,
                nodes: m.nodes,
                move_one: validate("maintainer move", &m.move_one)?,
                add_one: validate("maintainer add", &m.add_one)?,
                remove_one: validate("maintainer remove", &m.remove_one)?,
                batched: None,
            })
        }
        (got, n) => {
            return Err(GoReferenceError::Parse(format!(
                "maintainer: asked for {n} dispatchers over {} nodes, got {:?}",
                maintainer::NODES,
                got.as_ref().map(|m| (m.dispatchers, m.nodes))
            )))
        }
    };
    Ok(GoReferenceResults {
        go_version: output.go_version.clone(),
        gomaxprocs: output.gomaxprocs,
        heartbeat,
        maintainer,
        elapsed_seconds: 0.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::synthetic_dispatchers;
    use dispatcher_checksum::DispatcherId;

    fn measurement_json(median: f64) -> String {
        format!(
            r#""median": {median}, "min": {median}, "max": {median}, "q1": {median}, "q3": {median},
               "calls_per_batch": 1, "batches": 3"#
        )
    }

    fn fingerprint_json(f: Fingerprint) -> String {
        format!(
            r#"{{"count": {}, "xorHigh": {}, "xorLow": {}, "sumHigh": {}, "sumLow": {}}}"#,
            f.count, f.xor_high, f.xor_low, f.sum_high, f.sum_low
        )
    }

    /// A document as the Go program would print it for `n` dispatchers and no maintainer, with
    /// `walk` as what both walks returned.
    fn document(n: usize, walk: Fingerprint) -> String {
        let (generated, included) = heartbeat_oracle(n, 1);
        format!(
            r#"{{"format": "{FORMAT}", "go_version": "go1.19.8", "gomaxprocs": 2, "num_cpu": 2,
                "target": "amd64-linux",
                "settings": {{"seed": 1, "maintainer_seed": 7, "nodes": 64}},
                "heartbeat": [{{"dispatchers": {n}, "build_seconds": 0.1,
                    "generated": {}, "included": {},
                    "sync_map": {{{}, "fingerprint": {}}},
                    "plain_map": {{{}, "fingerprint": {}}}}}],
                "maintainer": null}}"#,
            fingerprint_json(generated),
            fingerprint_json(included),
            measurement_json(2e-3),
            fingerprint_json(walk),
            measurement_json(1e-3),
            fingerprint_json(walk),
        )
    }

    fn config(n: usize) -> GoRunConfig {
        GoRunConfig {
            heartbeat_sizes: vec![n],
            seed: 1,
            maintainer_size: 0,
            measure: MeasureConfig::QUICK,
            budget: Duration::from_secs(1),
        }
    }

    #[test]
    fn the_id_stream_matches_the_values_the_go_test_pins() {
        // comparisons/go-reference/reference_test.go pins the same two IDs for its generator.
        let ids: Vec<DispatcherId> = IdStream::new(1).take(2).collect();
        assert_eq!(
            ids,
            [
                DispatcherId::new(0xa7b7_7319_d39f_7883, 0xed71_fd2d_7cca_751a),
                DispatcherId::new(0x499f_bfbc_1e7e_f79b, 0x1b0b_ce69_1021_4d9a),
            ]
        );
    }

    #[test]
    fn the_heartbeat_oracle_is_the_fixture_workloads_oracle() {
        for n in [1, 1000, (1 << 16) + 3] {
            let dispatchers: Vec<_> = synthetic_dispatchers(n, 1).collect();
            let all: Fingerprint = dispatchers.iter().map(|d| d.id).collect();
            let included = crate::experiments::oracle(dispatchers.iter().map(|d| (&d.id, d.state)));
            assert_eq!(heartbeat_oracle(n, 1), (all, included), "{n}");
        }
    }

    #[test]
    fn a_right_document_parses_and_checks() {
        let (_, included) = heartbeat_oracle(500, 1);
        let output = parse_output(&document(500, included)).expect("valid document");
        let results = check(&output, &config(500)).expect("right answers");
        assert_eq!(results.go_version, "go1.19.8");
        assert_eq!(results.heartbeat[0].sync_map.median, 2e-3);
        assert_eq!(results.heartbeat[0].plain_map.batches, 3);
    }

    #[test]
    fn a_wrong_walk_is_an_error_not_a_row() {
        let (_, mut wrong) = heartbeat_oracle(500, 1);
        wrong.add(DispatcherId::new(1, 2));
        let output = parse_output(&document(500, wrong)).expect("well-formed");
        let error = check(&output, &config(500)).unwrap_err();
        assert!(matches!(error, GoReferenceError::WrongAnswer(_)), "{error}");
        assert!(error.to_string().contains("sync.Map walk"), "{error}");
        // Asking for another size than it measured is refused too.
        let (_, included) = heartbeat_oracle(500, 1);
        let output = parse_output(&document(500, included)).unwrap();
        assert!(check(&output, &config(501)).is_err());
    }

    #[test]
    fn bad_output_is_a_clear_error_never_a_panic() {
        let (_, included) = heartbeat_oracle(10, 1);
        let good = document(10, included);
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "printed nothing"),
            ("not json".into(), "expected the"),
            ("{\"format\": 3}".into(), "invalid type"),
            (good[..good.len() / 2].to_string(), "EOF"),
            (
                good.replace(FORMAT, "dcsum-go-reference/0"),
                "different versions",
            ),
            (
                good.replace("\"median\": 0.002", "\"median\": -1"),
                "positive",
            ),
            (
                good.replace("\"median\": 0.002", "\"median\": 1e9"),
                "min <= median",
            ),
            (
                good.replace("\"batches\": 3", "\"batches\": 0"),
                "at least one batch",
            ),
            (good.replace("\"count\"", "\"cnt\""), "unknown field"),
            (
                good.replace("\"heartbeat\"", "\"heartbeats\""),
                "missing field",
            ),
            ("[1, 2]".into(), "invalid type"),
            ("{\"format\": \"dcsum-go-reference/1\"".into(), "EOF"),
        ];
        for (text, expected) in cases {
            let error = parse_output(&text).expect_err(&text);
            assert!(matches!(error, GoReferenceError::Parse(_)), "{error}");
            assert!(
                error.to_string().contains(expected),
                "{text:?}: {error} (expected it to mention {expected:?})"
            );
        }
    }

    #[test]
    fn modes_parse_and_print_back() {
        for mode in [
            GoReferenceMode::Skip,
            GoReferenceMode::Auto,
            GoReferenceMode::Require,
        ] {
            assert_eq!(mode.to_string().parse::<GoReferenceMode>(), Ok(mode));
        }
        assert!("always"
            .parse::<GoReferenceMode>()
            .unwrap_err()
            .contains("auto"));
        assert_eq!(
            prepare(GoReferenceMode::Skip),
            Ok(Prepared::Absent("skipped (`--go-reference skip`)".into()))
        );
    }
}
