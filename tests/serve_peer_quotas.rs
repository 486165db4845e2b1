//! Quotas per private gateway against the real binary, driven by the published clients: one
//! flooded gateway is refused with 507 past its storage quota (e2e/storage-quota.mjs), one
//! sending to a dead endpoint with 429 past its Internet-bound quota
//! (e2e/internet-bound-quota.mjs), one posting faster than its delivery rate with 429
//! (e2e/delivery-rate.mjs), while another gets through; the refusals are counted.

mod support;

use support::gateway::{free_port, Gateway, GatewayOptions};

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

fn quota_refusals(gateway: &Gateway, quota: &str) -> u64 {
    let metrics = support::gateway::request(gateway.admin_port, "GET", "/metrics", &[], b"")
        .expect("metrics");
    let text = String::from_utf8_lossy(&metrics.body).into_owned();
    let prefix = format!("gateway_quota_refusals_total{{quota=\"{quota}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(prefix.as_str()))
        .and_then(|value| value.parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_gateway_sending_to_a_dead_endpoint_is_refused_past_its_internet_bound_quota() {
    let dir = tempfile::tempdir().expect("tempdir");
    let endpoint_port = free_port();
    let mut options = GatewayOptions::routed("poweb,pohttp,workers", endpoint_port);
    options.env.push((
        "AWALA_LIMITS_MAX_INTERNET_BOUND_PER_PRIVATE_GATEWAY".into(),
        "5".into(),
    ));
    let gateway = Gateway::start_with(dir.path(), "gw.example.com", &options);
    support::node::run_e2e(
        "e2e/internet-bound-quota.mjs",
        &[
            gateway.port.to_string(),
            endpoint_port.to_string(),
            "5".to_owned(),
        ],
        &[
            "parcels past the quota refused with 429",
            "another gateway still gets through",
            "room again once delivered",
        ],
    );
    assert!(quota_refusals(&gateway, "internet_bound_pending") >= 3);
}

#[test]
fn a_gateway_over_its_delivery_rate_is_refused_and_another_gets_through() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = GatewayOptions {
        // No workers: the Internet-bound parcels just wait in the mailbox.
        roles: Some("poweb".into()),
        env: vec![
            (
                "AWALA_LIMITS_PRIVATE_GATEWAY_DELIVERIES_PER_SECOND".into(),
                "1".into(),
            ),
            (
                "AWALA_LIMITS_PRIVATE_GATEWAY_DELIVERY_BURST".into(),
                "10".into(),
            ),
        ],
        ..GatewayOptions::default()
    };
    let gateway = Gateway::start_with(dir.path(), "gw.example.com", &options);
    support::node::run_e2e(
        "e2e/delivery-rate.mjs",
        &[gateway.port.to_string(), "10".to_owned()],
        &[
            "deliveries past the burst refused with 429",
            "another gateway delivered everything meanwhile",
        ],
    );
    let metrics = support::gateway::request(gateway.admin_port, "GET", "/metrics", &[], b"")
        .expect("metrics");
    let text = String::from_utf8_lossy(&metrics.body);
    assert!(
        text.contains(r#"gateway_rate_limited_total{binding="poweb",endpoint="deliver_parcel"}"#),
        "{text}"
    );
}
