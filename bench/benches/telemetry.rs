//! What the opt-in telemetry costs a node's heartbeat: `NodeChecksums::heartbeat` at MATCH and
//! at MISMATCH (the not-OK counter goes up at every one), `telemetry/heartbeat-<state>/<build>`,
//! where `<build>` is `off` (the default build: the hooks are empty) or `metrics+tracing`
//! (`--features telemetry`: the library's `metrics` and `tracing` features, with a Prometheus
//! recorder installed and a subscriber at INFO writing to a sink, as a service would run it).
//! Compare the two in one run:
//!
//! ```text
//! cargo bench -p dispatcher-checksum-bench --bench telemetry
//! cargo bench -p dispatcher-checksum-bench --bench telemetry --features telemetry
//! ```
//!
//! The verdicts are asserted outside the timed loop.

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use dispatcher_checksum::protocol::{
    ActualSet, ChangefeedId, ChecksumState, ChecksumUpdate, Mode, NodeChecksums, NodeId,
    VerifierConfig,
};
use dispatcher_checksum::{ComponentState, DispatcherId, Fingerprint};
use std::hint::black_box;
use std::time::Duration;

/// The build being measured, the last part of the ids.
const BUILD: &str = if cfg!(feature = "telemetry") {
    "metrics+tracing"
} else {
    "off"
};

/// Installs what a service would: a Prometheus recorder and a subscriber at INFO (to a sink).
#[cfg(feature = "telemetry")]
fn install_telemetry() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    metrics::set_global_recorder(recorder).expect("the first recorder");
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::sink)
        .with_max_level(tracing::Level::INFO)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the first subscriber");
}

/// A node running 1,000 dispatchers whose expected value is `expected(actual)`.
fn node(expected: impl Fn(Fingerprint) -> Fingerprint) -> NodeChecksums {
    let node = NodeId(7);
    let mut checksums: NodeChecksums =
        NodeChecksums::new(node, 1, false, VerifierConfig::REFERENCE)
            .with_changefeed(ChangefeedId::new(1, 2, "orders", "default"));
    let actual = checksums
        .verifier_mut(Mode::Default)
        .unwrap()
        .actual_set_mut();
    for n in 0..1000u64 {
        actual.on_dispatcher_added(DispatcherId::new(n, !n), ComponentState::Working);
    }
    let fingerprint = expected(actual.actual_fingerprint());
    checksums
        .apply_update(&ChecksumUpdate {
            node,
            epoch: 1,
            mode: Mode::Default,
            seq: 1,
            fingerprint,
        })
        .expect("applied");
    checksums
}

fn heartbeat(c: &mut Criterion) {
    #[cfg(feature = "telemetry")]
    install_telemetry();
    eprintln!("telemetry: build {BUILD}; `--features telemetry` measures the other build");
    let mut group = c.benchmark_group("telemetry");
    for (state, expected) in [
        (
            ChecksumState::Match,
            (|f| f) as fn(Fingerprint) -> Fingerprint,
        ),
        (ChecksumState::Mismatch, |_| Fingerprint::EMPTY),
    ] {
        let mut checksums = node(expected);
        let now = Duration::from_secs(1);
        let (_, verdict) = checksums.heartbeat(Mode::Default, 1, now).unwrap();
        assert_eq!(verdict.state, state);
        let name = format!("heartbeat-{}", state.name().to_lowercase());
        group.bench_function(BenchmarkId::new(name, BUILD), |b| {
            b.iter(|| checksums.heartbeat(Mode::Default, black_box(1), black_box(now)))
        });
        let (_, verdict) = checksums.heartbeat(Mode::Default, 1, now).unwrap();
        assert_eq!(verdict.state, state);
    }
    group.finish();
}

criterion_group!(name = benches; config = common::criterion(); targets = heartbeat);
criterion_main!(benches);
