//! The telemetry example (`examples/telemetry.rs`) in process: a maintainer and two nodes in real
//! time for two seconds, then one scrape of its Prometheus endpoint over HTTP on loopback, and
//! the series an operator's dashboard would read.

#[allow(dead_code)] // `main` is the example's own entry point.
#[path = "../examples/telemetry.rs"]
mod example;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

fn scrape(address: std::net::SocketAddr) -> String {
    let mut stream = TcpStream::connect(address).expect("connect to the loopback endpoint");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn the_example_serves_the_protocol_series_over_http() {
    let address = example::serve_metrics(0).expect("serve on loopback");
    assert!(address.ip().is_loopback());
    example::run_cluster(Duration::from_secs(2));
    let response = scrape(address);
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    for series in [
        "# TYPE dispatcher_checksum_node_not_ok gauge",
        "dispatcher_checksum_node_not_ok{keyspace=\"default\",changefeed=\"orders\",node=\"2\",mode=\"default\",state=\"mismatch\"}",
        "# TYPE dispatcher_checksum_node_not_ok_heartbeats_total counter",
        "dispatcher_checksum_updates_sent_total{keyspace=\"default\",changefeed=\"orders\",mode=\"default\",kind=\"flush\"}",
        "dispatcher_checksum_acks_pending{keyspace=\"default\",changefeed=\"orders\",mode=\"default\"}",
        "dispatcher_checksum_gate_decisions_total{keyspace=\"default\",changefeed=\"orders\",decision=\"advance\"}",
        "dispatcher_checksum_gate_held_total{keyspace=\"default\",changefeed=\"orders\",node=\"",
        "# HELP dispatcher_checksum_ack_pending_seconds",
    ] {
        assert!(body.contains(series), "{series} missing from:\n{body}");
    }
    // Moves ran: node 2 mismatched at some heartbeats, and the gate both held and advanced.
    let value = |prefix: &str| -> f64 {
        body.lines()
            .find(|line| line.starts_with(prefix))
            .and_then(|line| line.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{prefix} in:\n{body}"))
    };
    assert!(value("dispatcher_checksum_node_not_ok_heartbeats_total{keyspace=\"default\",changefeed=\"orders\",node=\"2\",mode=\"default\",state=\"mismatch\"}") >= 1.0);
    assert!(value("dispatcher_checksum_gate_decisions_total{keyspace=\"default\",changefeed=\"orders\",decision=\"advance\"}") >= 1.0);
}
