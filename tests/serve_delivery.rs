//! Parcel delivery through the real binary, driven only by the published clients
//! (`tests/interop/e2e/delivery.mjs`): PoHTTP in, PoWeb in, refusals.

mod support;

use support::gateway::{free_port, Gateway, GatewayOptions};
use support::node::run_e2e;

const ADDRESS: &str = "gw.example.com";

fn ports(gateway: &Gateway) -> Vec<String> {
    vec![gateway.port.to_string(), gateway.pohttp_port.to_string()]
}

#[test]
fn pohttp_valid_duplicate_unauthorized_and_malformed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = Gateway::start(dir.path(), ADDRESS);
    let mut args = vec!["pohttp".to_string()];
    args.extend(ports(&gateway));
    run_e2e(
        "e2e/delivery.mjs",
        &args,
        &[
            "pohttp parcel accepted",
            "pohttp duplicate accepted",
            "pohttp unauthorized parcel refused",
            "pohttp malformed parcel refused",
        ],
    );
    // Telemetry is part of the contract: the delivery shows up in the admin listener's series.
    let metrics = support::gateway::request(gateway.admin_port, "GET", "/metrics", &[], b"")
        .expect("metrics");
    assert_eq!(metrics.status, 200);
    let text = String::from_utf8(metrics.body).expect("utf-8");
    for series in [
        r#"gateway_parcels_stored_total{binding="pohttp"} 2"#,
        r#"gateway_requests_total{binding="pohttp",endpoint="deliver_parcel",outcome="ok"} 2"#,
        r#"gateway_requests_total{binding="pohttp",endpoint="deliver_parcel",outcome="client_error"} 2"#,
        r#"gateway_mailbox_depth{queue="outbound_parcels"} 0"#,
        "gateway_request_duration_seconds_bucket",
    ] {
        assert!(text.contains(series), "missing {series} in:\n{text}");
    }
    let health =
        support::gateway::request(gateway.admin_port, "GET", "/health", &[], b"").expect("health");
    assert_eq!(health.status, 200);
}

#[test]
fn poweb_refuses_foreign_countersignatures_and_invalid_parcels() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = Gateway::start_with(
        dir.path(),
        ADDRESS,
        &GatewayOptions {
            roles: Some("poweb".into()),
            ..Default::default()
        },
    );
    let mut args = vec!["poweb-refused".to_string()];
    args.extend(ports(&gateway));
    run_e2e(
        "e2e/delivery.mjs",
        &args,
        &[
            "poweb delivery with a foreign countersignature refused",
            "poweb expired parcel refused",
        ],
    );
}

/// A gateway with the outbound worker, routing `pong.test` to a local endpoint on
/// `endpoint_port`, retrying after one second.
fn gateway_with_route(dir: &std::path::Path, endpoint_port: u16) -> Gateway {
    Gateway::start_with(
        dir,
        ADDRESS,
        &GatewayOptions::routed("poweb,pohttp,workers", endpoint_port),
    )
}

#[test]
fn poweb_parcel_reaches_the_internet_endpoint_byte_for_byte() {
    let dir = tempfile::tempdir().expect("tempdir");
    let endpoint_port = free_port();
    let gateway = gateway_with_route(dir.path(), endpoint_port);
    let mut args = vec!["to-internet".to_string()];
    args.extend(ports(&gateway));
    args.push(endpoint_port.to_string());
    run_e2e(
        "e2e/delivery.mjs",
        &args,
        &[
            "poweb parcel for the internet accepted",
            "poweb duplicate accepted",
            "endpoint received the parcel byte for byte",
        ],
    );
}

#[test]
fn delivery_is_retried_until_the_endpoint_is_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let endpoint_port = free_port();
    let gateway = gateway_with_route(dir.path(), endpoint_port);
    let mut args = vec!["endpoint-late".to_string()];
    args.extend(ports(&gateway));
    args.push(endpoint_port.to_string());
    run_e2e(
        "e2e/delivery.mjs",
        &args,
        &["endpoint received the parcel byte for byte"],
    );
}

/// The reported SSRF: a registered private gateway addressed a parcel to `127.0.0.1`, and the
/// worker POSTed to 127.0.0.1:443. Now the worker drops it without connecting and counts it.
#[test]
fn a_parcel_for_a_loopback_address_is_refused_not_delivered() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Port 443 may be taken or need privileges; when we get it, it must see no connection.
    let trap = std::net::TcpListener::bind("127.0.0.1:443").ok();
    let gateway = gateway_with_route(dir.path(), free_port());
    let mut args = vec!["to-address".to_string()];
    args.extend(ports(&gateway));
    args.push("127.0.0.1".to_string());
    run_e2e(
        "e2e/delivery.mjs",
        &args,
        &["poweb parcel for 127.0.0.1 accepted"],
    );

    let refused = r#"gateway_egress_refused_total{reason="loopback"} 1"#;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let metrics = support::gateway::request(gateway.admin_port, "GET", "/metrics", &[], b"")
            .expect("metrics");
        let text = String::from_utf8_lossy(&metrics.body).into_owned();
        if text.contains(refused) {
            assert!(
                text.contains(r#"gateway_parcels_delivered_total{outcome="refused"} 1"#),
                "{text}"
            );
            assert!(!text.contains(r#"outcome="retry""#), "{text}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no egress refusal counted:\n{text}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    if let Some(trap) = trap {
        trap.set_nonblocking(true).expect("nonblocking");
        assert!(
            trap.accept().is_err(),
            "the worker connected to 127.0.0.1:443"
        );
    }
}
