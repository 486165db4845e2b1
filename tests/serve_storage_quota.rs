//! Storage quotas per private gateway against the real binary, driven by the published clients
//! (e2e/storage-quota.mjs): one flooded gateway is refused with 507 past its quota while another
//! gets through, and the refusals are counted.

mod support;

use support::gateway::{Gateway, GatewayOptions};

const QUOTA: u32 = 20;

#[test]
fn a_flooded_gateway_is_refused_past_its_quota_and_another_gets_through() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = GatewayOptions {
        roles: Some("poweb,pohttp,workers".into()),
        env: vec![(
            "AWALA_LIMITS_MAX_PARCELS_STORED_PER_PRIVATE_GATEWAY".into(),
            QUOTA.to_string(),
        )],
        ..GatewayOptions::default()
    };
    let gateway = Gateway::start_with(dir.path(), "gw.example.com", &options);
    let args = vec![
        gateway.port.to_string(),
        gateway.pohttp_port.to_string(),
        QUOTA.to_string(),
    ];
    support::node::run_e2e(
        "e2e/storage-quota.mjs",
        &args,
        &[
            "flood past the quota refused with 507",
            "normal gateway stored everything during the flood",
            "normal gateway collected everything",
            "flooded gateway collected what was stored",
            "room again after collecting",
        ],
    );
    let metrics = support::gateway::request(gateway.admin_port, "GET", "/metrics", &[], b"")
        .expect("metrics");
    let text = String::from_utf8_lossy(&metrics.body);
    let refused = text
        .lines()
        .find(|line| line.starts_with(r#"gateway_quota_refusals_total{quota="parcels_stored"}"#))
        .unwrap_or_else(|| panic!("no quota refusals counted:\n{text}"));
    let count: u64 = refused
        .rsplit(' ')
        .next()
        .and_then(|value| value.parse().ok())
        .expect("a count");
    assert!(count >= 10, "{refused}");
    assert!(
        text.contains(r#"gateway_requests_total{binding="pohttp",endpoint="deliver_parcel",outcome="client_error"}"#),
        "507 counts as the client's doing:\n{text}"
    );
}
