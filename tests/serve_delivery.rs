//! Parcel delivery through the real binary, driven only by the published clients
//! (`tests/interop/e2e/delivery.mjs`): PoHTTP in, PoWeb in, refusals.

mod support;

use support::gateway::{Gateway, GatewayOptions};
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
