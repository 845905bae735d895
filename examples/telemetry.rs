//! A maintainer and two nodes of one changefeed in one process, in real time, with the protocol's
//! metrics on a Prometheus endpoint on loopback and its log events on stderr.
//!
//! ```text
//! cargo run --example telemetry --features metrics,tracing -- [SECONDS] [PORT]
//! curl http://127.0.0.1:PORT/metrics
//! ```
//!
//! SECONDS (default 5) is how long the cluster runs; PORT (default 0: any free port, printed) is
//! where the endpoint listens, on 127.0.0.1 only. Every second the maintainer moves one
//! dispatcher from node 1 to node 2; node 2 starts it a heartbeat later than node 1 stops it, so
//! both nodes pass through MISMATCH and the gate holds, then both MATCH again and the checkpoint
//! advances: the series move as they would in a service. The exporter is
//! `metrics-exporter-prometheus`'s recorder; the HTTP endpoint is a few lines of `std` here so
//! the example needs no async runtime.

use dispatcher_checksum::protocol::{
    telemetry, ActualSet, ChangefeedId, MaintainerChecksums, Mode, NodeChecksums, NodeId,
    TrackerConfig, VerifierConfig,
};
use dispatcher_checksum::{ComponentState, DispatcherId};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// Heartbeat and decision period (the reference node's heartbeat is 200 ms).
const TICK: Duration = Duration::from_millis(200);
/// Dispatchers each node starts with.
const PER_NODE: u64 = 50;

/// Installs the Prometheus recorder as the global one and serves its rendering at
/// `http://127.0.0.1:PORT/metrics` on a background thread; returns the bound address.
pub fn serve_metrics(port: u16) -> std::io::Result<SocketAddr> {
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .map_err(std::io::Error::other)?;
    telemetry::describe();
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    let address = listener.local_addr()?;
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            // One bad client must not stop the endpoint.
            let _ = answer(stream, &handle);
        }
    });
    Ok(address)
}

/// Answers one HTTP request with the current rendering (any path: this is a demo endpoint).
fn answer(mut stream: TcpStream, handle: &PrometheusHandle) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    // The request line and headers, up to the blank line.
    while reader.read_line(&mut line)? > 0 && line != "\r\n" && line != "\n" {
        line.clear();
    }
    let body = handle.render();
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

fn id(node: u64, n: u64) -> DispatcherId {
    DispatcherId::new(node, n)
}

/// Runs the cluster for `duration` in real time.
pub fn run_cluster(duration: Duration) {
    let changefeed = ChangefeedId::new(1, 1, "orders", "default");
    let nodes = [NodeId(1), NodeId(2)];
    let mut maintainer =
        MaintainerChecksums::new(changefeed.clone(), false, TrackerConfig::default());
    let mut running: Vec<NodeChecksums> = nodes
        .iter()
        .map(|&node| {
            NodeChecksums::new(node, 1, false, VerifierConfig::default())
                .with_changefeed(changefeed.clone())
        })
        .collect();
    let expected: Vec<(NodeId, Vec<DispatcherId>)> = nodes
        .iter()
        .map(|&node| {
            let ids = (0..PER_NODE).map(|n| id(u64::from(node.0), n)).collect();
            (node, ids)
        })
        .collect();
    for (checksums, (_, ids)) in running.iter_mut().zip(&expected) {
        let actual = checksums
            .verifier_mut(Mode::Default)
            .unwrap()
            .actual_set_mut();
        for &dispatcher in ids {
            actual.on_dispatcher_added(dispatcher, ComponentState::Working);
        }
    }
    let started = Instant::now();
    let report = maintainer.tracker_mut(Mode::Default).unwrap().reset_full(
        1,
        &nodes,
        expected,
        started.elapsed(),
    );
    let mut in_network = report.updates;
    maintainer.set_checkpoint(0);

    let mut moved = 0u64;
    // A moved dispatcher and the tick from which node 2 runs it.
    let mut pending_start: Option<(DispatcherId, u64)> = None;
    let mut tick = 0u64;
    while started.elapsed() < duration {
        let now = started.elapsed();
        tick += 1;
        // Deliver last tick's updates and their acks.
        for update in in_network.drain(..) {
            let index = (update.node.0 - 1) as usize;
            if let Some(ack) = running[index].apply_update(&update) {
                maintainer.handle_ack(ack);
            }
        }
        // Node 2 starts the moved dispatcher two ticks after node 1 stopped it (a tick after it
        // learned to expect it: one heartbeat of MISMATCH).
        if let Some((dispatcher, _)) = pending_start.filter(|&(_, at)| tick >= at) {
            pending_start = None;
            running[1]
                .verifier_mut(Mode::Default)
                .unwrap()
                .actual_set_mut()
                .on_dispatcher_added(dispatcher, ComponentState::Working);
        }
        // Every second: move one dispatcher from node 1 to node 2.
        if tick.is_multiple_of(5) && moved < PER_NODE {
            let dispatcher = id(1, moved);
            moved += 1;
            maintainer.tracker_mut(Mode::Default).unwrap().apply_delta(
                NodeId(2),
                &[dispatcher],
                &[],
            );
            running[0]
                .verifier_mut(Mode::Default)
                .unwrap()
                .actual_set_mut()
                .on_dispatcher_removed(dispatcher);
            pending_start = Some((dispatcher, tick + 2));
        }
        // Heartbeats: the upstream's "now" in milliseconds is each node's watermark.
        let watermark = now.as_millis() as u64;
        for checksums in &mut running {
            if let Some((heartbeat, _)) = checksums.heartbeat(Mode::Default, watermark, now) {
                maintainer.observe_heartbeat(heartbeat, now);
            }
        }
        maintainer.advance_checkpoint(None);
        in_network.extend(maintainer.flush_and_resend(now));
        std::thread::sleep(TICK.saturating_sub(started.elapsed() - now));
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = match args.next() {
        Some(text) => text
            .parse()
            .ok()
            .filter(|s| (1..=3600).contains(s))
            .ok_or_else(|| format!("SECONDS: expected 1..=3600, got {text:?}"))?,
        None => 5,
    };
    let port: u16 = match args.next() {
        Some(text) => text
            .parse()
            .map_err(|_| format!("PORT: expected 0..=65535, got {text:?}"))?,
        None => 0,
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::DEBUG)
        .init();
    let address = serve_metrics(port)?;
    println!("metrics at http://{address}/metrics for {seconds} s");
    run_cluster(Duration::from_secs(seconds));
    Ok(())
}
