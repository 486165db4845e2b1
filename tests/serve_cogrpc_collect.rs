//! The published CogRPC client (`@relaycorp/cogrpc` 1.4.6) collects cargo from the real binary,
//! with a CCA made by relaynet-core 1.88.2 after a PoWeb registration:
//! `tests/interop/e2e/collect-cargo.mjs` does the talking, this starts the gateway.

mod support;

use support::gateway::{Gateway, GatewayOptions};
use support::node::run_e2e;

#[test]
fn serve_cargo_collection_with_the_js_cogrpc_client() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = GatewayOptions {
        roles: Some("poweb,cogrpc".into()),
        ..Default::default()
    };
    let gateway = Gateway::start_with(dir.path(), "gw.example.com", &options);
    run_e2e(
        "e2e/collect-cargo.mjs",
        &[
            format!("http://127.0.0.1:{}", gateway.port),
            gateway.cogrpc_port.to_string(),
            "gw.example.com".into(),
        ],
        &[
            "registered",
            "parcel stored",
            "cargo validates against the CDA issuer",
            "cargo decrypts and carries the parcel",
            "reused CCA refused",
            "invalid CCA refused",
            "parcels stay until acknowledged",
        ],
    );
    // Successful calls are counted once their stream ends, with their duration.
    let metrics = support::gateway::request(gateway.admin_port, "GET", "/metrics", &[], b"")
        .expect("metrics");
    let text = String::from_utf8(metrics.body).expect("utf-8");
    let ok_calls = text
        .lines()
        .find_map(|line| {
            line.strip_prefix(
                r#"gateway_requests_total{binding="cogrpc",endpoint="collect_cargo",outcome="ok"} "#,
            )
        })
        .and_then(|count| count.parse::<u64>().ok());
    assert!(
        ok_calls.unwrap_or(0) >= 1,
        "no successful call counted:\n{text}"
    );
    assert!(
        text.contains(
            r#"gateway_request_duration_seconds_count{binding="cogrpc",endpoint="collect_cargo"}"#
        ),
        "{text}"
    );
}
