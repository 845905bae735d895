//! The measured rows of one run: one type per table of the report, and everything together.

use crate::machine::MachineInfo;
use crate::measure::Measurement;
use serde::Serialize;
/// One N of the per-heartbeat comparison.
#[derive(Clone, Debug, Serialize)]
pub struct HeartbeatRow {
    /// Dispatchers on the node.
    pub dispatchers: usize,
    /// Walk the hash-map store, std SipHash map.
    pub recompute_std: Measurement,
    /// Walk the hash-map store, ahash map.
    pub recompute_ahash: Measurement,
    /// The widest single-thread masked kernel over the columnar store.
    pub columnar_single_thread: Measurement,
    /// The parallel masked kernel over the columnar store.
    pub columnar_parallel: Measurement,
    /// The automatic choice over the columnar store (what [`crate::fixtures::ColumnarStore::fingerprint`] runs).
    pub columnar_auto: Measurement,
    /// The incremental verifier's `verify`.
    pub incremental_verify: Measurement,
}

impl HeartbeatRow {
    /// The faster of the two hash-map walks.
    pub fn recompute_map_best(&self) -> f64 {
        self.recompute_std.median.min(self.recompute_ahash.median)
    }

    /// The fastest columnar recompute.
    pub fn columnar_best(&self) -> f64 {
        self.columnar_single_thread
            .median
            .min(self.columnar_parallel.median)
            .min(self.columnar_auto.median)
    }
}

/// One (N, C) point of the churn loop: apply C lifecycle changes, then verify.
#[derive(Clone, Debug, Serialize)]
pub struct ChurnRow {
    /// Dispatchers on the node.
    pub dispatchers: usize,
    /// Lifecycle changes per heartbeat interval.
    pub changes: usize,
    /// Changes applied to the ahash dispatcher store, then a walk.
    pub recompute_map: Measurement,
    /// Changes applied to the store and the columnar store, then the automatic masked kernel.
    pub recompute_columnar: Measurement,
    /// Changes applied to the store and the incremental actual set, then `verify`.
    pub incremental: Measurement,
}

/// One kernel at one size.
#[derive(Clone, Debug, Serialize)]
pub struct KernelRow {
    /// `contiguous` or `masked`.
    pub form: &'static str,
    /// IDs per call.
    pub ids: usize,
    /// Kernel name, `auto` for the automatic choice, `ceiling-1t` / `ceiling-all` for the reads.
    pub kernel: String,
    /// Bytes read per call (16 per ID, plus 1 per ID for the state byte when masked).
    pub bytes: usize,
    /// Per-call timing.
    pub time: Measurement,
    /// GB/s (10^9 bytes per second) at the median.
    pub gigabytes_per_second: f64,
    /// Throughput over the single-thread read ceiling's at this size and form.
    pub of_single_thread_ceiling: f64,
    /// Throughput over the all-threads read ceiling's at this size and form.
    pub of_all_threads_ceiling: f64,
}

/// The short-input bypass against the cached kernel at one length.
#[derive(Clone, Debug, Serialize)]
pub struct ShortInputRow {
    /// IDs per call.
    pub ids: usize,
    /// The scalar loop called directly (the bypass).
    pub inline_scalar: Measurement,
    /// The cached widest kernel through its function pointer.
    pub cached_widest: Measurement,
    /// The same two, masked.
    pub inline_scalar_masked: Measurement,
    /// The cached widest masked kernel.
    pub cached_widest_masked: Measurement,
}

/// One thread against rayon at one length.
#[derive(Clone, Debug, Serialize)]
pub struct ParallelRow {
    /// IDs per call.
    pub ids: usize,
    /// The widest single-thread kernel.
    pub single_thread: Measurement,
    /// The parallel kernel with its threshold forced to zero.
    pub forced_parallel: Measurement,
    /// The same two, masked.
    pub single_thread_masked: Measurement,
    /// The parallel masked kernel with its threshold forced to zero.
    pub forced_parallel_masked: Measurement,
}

/// At one size and form: the automatic choice against the fastest kernel measured there.
#[derive(Clone, Debug, Serialize)]
pub struct ChoiceCheck {
    /// `contiguous` or `masked`.
    pub form: &'static str,
    /// IDs per call.
    pub ids: usize,
    /// What the automatic choice runs at this length.
    pub chosen: String,
    /// The fastest kernel measured.
    pub fastest: String,
    /// The automatic choice's fastest batch over the fastest kernel's (1.0 = as fast). Decisions
    /// compare fastest batches: on a shared machine noise only ever adds time, so the fastest of
    /// several interleaved batches is the closest estimate of the undisturbed cost.
    pub ratio: f64,
    /// Whether the ratio is within the 5% target.
    pub within_target: bool,
}

/// What the measurements say the thresholds should be.
#[derive(Clone, Debug, Serialize)]
pub struct Thresholds {
    /// Smallest length from which the cached widest kernel beats the inline scalar loop at every
    /// measured length (contiguous and masked).
    pub short_input_ids: Option<usize>,
    /// Smallest length from which forced-parallel beats one thread at every measured length
    /// (contiguous and masked); `None` when it never does (one thread, or too small a range).
    pub parallel_min_ids: Option<usize>,
    /// The fastest single-thread kernel at each kernel size and form, `form/size: kernel`.
    pub fastest_single_thread: Vec<String>,
    /// The thresholds compiled into this binary, for comparison.
    pub compiled_short_input_ids: usize,
    /// The parallel threshold compiled into this binary.
    pub compiled_parallel_min_ids: usize,
    /// What the automatic choice's single-thread kernel is on this CPU.
    pub widest_single_thread: String,
}

/// The maintainer's per-dispatcher bookkeeping (see [`crate::maintainer`]); the Go reference
/// program's rows have the same shape.
#[derive(Clone, Debug, Serialize)]
pub struct MaintainerRow {
    /// Dispatchers tracked.
    pub dispatchers: usize,
    /// Nodes they are spread over.
    pub nodes: usize,
    /// One dispatcher moved to another node per call.
    #[serde(rename = "move")]
    pub move_one: Measurement,
    /// One new dispatcher added per call.
    #[serde(rename = "add")]
    pub add_one: Measurement,
    /// One dispatcher removed per call.
    #[serde(rename = "remove")]
    pub remove_one: Measurement,
    /// The batched calls per ID (this crate only; see [`crate::maintainer::batched_row`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batched: Option<BatchedRow>,
}

/// The batched calls' cost per ID at one size, each the median of a few calls (see
/// [`crate::maintainer::batched_row`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct BatchedRow {
    /// Dispatchers tracked.
    pub dispatchers: usize,
    /// IDs per drain and refill call (a node's share, at most
    /// [`crate::maintainer::DRAIN_IDS`]).
    pub drain_ids: usize,
    /// IDs per rebalance call.
    pub rebalance_ids: usize,
    /// `reset_full` of every tracked ID (from an empty tracker), ns per ID.
    pub bootstrap_ns_per_id: f64,
    /// `drain_ids` of one node removed in one call, ns per ID.
    pub drain_ns_per_id: f64,
    /// The same IDs added back in one call, ns per ID.
    pub refill_ns_per_id: f64,
    /// `rebalance_ids` moved to the next node in one call, ns per ID.
    pub rebalance_ns_per_id: f64,
}

/// One N of the Go reference program's heartbeat walk (see [`crate::go_reference`]).
#[derive(Clone, Debug, Serialize)]
pub struct GoHeartbeatRow {
    /// Dispatchers on the node.
    pub dispatchers: usize,
    /// The walk over the `sync.Map`, each status read under its dispatcher's lock: the
    /// reference's shape.
    pub sync_map: Measurement,
    /// The same walk over a plain Go map.
    pub plain_map: Measurement,
}

/// What the Go reference program measured, every answer already checked against the naive oracle.
#[derive(Clone, Debug, Serialize)]
pub struct GoReferenceResults {
    /// `runtime.Version()` of the Go program, such as `go1.19.8`.
    pub go_version: String,
    /// `GOMAXPROCS` the program ran with.
    pub gomaxprocs: usize,
    /// The heartbeat walk at each N.
    pub heartbeat: Vec<GoHeartbeatRow>,
    /// The maintainer operations (the same operations as [`HeadlineResults::maintainer`]).
    pub maintainer: Option<MaintainerRow>,
    /// Seconds the Go program ran (building its workloads included).
    pub elapsed_seconds: f64,
}

/// Reading one ID list as `dcsum fingerprint` does, beside a plain read of the same file. The
/// bench crate cannot run the reader (it lives in the `dcsum` crate, which depends on this one):
/// the `dcsum` binary measures these rows and adds them to [`HeadlineResults::ingest`].
#[derive(Clone, Debug, Serialize)]
pub struct IngestRow {
    /// The text form of every line: `uuid` (canonical UUIDs) or `high-low` (two decimal `u64`).
    pub form: &'static str,
    /// Lines in the list (one ID each).
    pub lines: usize,
    /// Bytes in the file.
    pub bytes: usize,
    /// Reading the file in blocks of the reader's size into a page-aligned buffer and discarding
    /// them: the ceiling.
    pub plain_read: Measurement,
    /// `dcsum::ingest::fingerprint_path`: the streaming reader `dcsum fingerprint` runs.
    pub streaming: Measurement,
    /// The simple reader (`dcsum::input::read_records_from_path`, then the automatic kernel
    /// choice over every ID): what `dcsum fingerprint` ran before the streaming reader.
    pub simple: Measurement,
}

impl IngestRow {
    /// GB/s (10^9 bytes per second) of input at `measurement`'s median.
    pub fn gigabytes_per_second(&self, measurement: &Measurement) -> f64 {
        measurement.throughput(self.bytes as f64) / 1e9
    }
}

/// Everything one run measured.
#[derive(Clone, Debug, Serialize)]
pub struct HeadlineResults {
    /// `default`, `quick` or `custom`.
    pub profile: &'static str,
    /// The machine.
    pub machine: MachineInfo,
    /// The read ceiling's instruction set.
    pub ceiling_width: &'static str,
    /// Per-heartbeat cost at each N.
    pub heartbeat: Vec<HeartbeatRow>,
    /// The churn loop.
    pub churn: Vec<ChurnRow>,
    /// Kernel throughput at each size.
    pub kernels: Vec<KernelRow>,
    /// The short-input evidence.
    pub short_input: Vec<ShortInputRow>,
    /// The parallel-threshold evidence.
    pub parallel: Vec<ParallelRow>,
    /// The automatic choice against the fastest kernel.
    pub choice: Vec<ChoiceCheck>,
    /// The recommended thresholds.
    pub thresholds: Thresholds,
    /// The maintainer's per-dispatcher bookkeeping.
    pub maintainer: MaintainerRow,
    /// Reading ID lists (`dcsum fingerprint`'s streaming reader against a plain read and the
    /// simple reader); empty when the run did not measure them.
    pub ingest: Vec<IngestRow>,
    /// The Go reference program's rows, when it ran.
    pub go_reference: Option<GoReferenceResults>,
    /// Why the Go reference rows are missing, when they are.
    pub go_reference_absent: Option<String>,
    /// Seconds the whole run took.
    pub elapsed_seconds: f64,
}
