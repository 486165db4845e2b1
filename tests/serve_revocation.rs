//! `awala-gateway admin private-gateways | private-gateway ID | revoke ID` against the real
//! binary, with private gateways driven by the published clients (e2e/revocation.mjs): the
//! listing shows what is stored for each, and revocation closes the open session, purges the
//! parcels and makes every binding refuse the gateway while the other carries on.

mod support;

use std::process::Command;

use support::gateway::{Gateway, GatewayOptions};
use support::node::PausingScript;

const TOKEN: &str = "revocation-test-token";

fn admin(port: u16, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_awala-gateway"))
        .arg("admin")
        .args([
            "--url",
            &format!("http://127.0.0.1:{port}"),
            "--token",
            TOKEN,
        ])
        .args(args)
        .output()
        .expect("run awala-gateway admin");
    assert!(output.status.success(), "admin {args:?}: {output:?}");
    String::from_utf8(output.stdout).expect("utf-8")
}

fn json(port: u16, args: &[&str]) -> serde_json::Value {
    let mut with_json = vec!["--json"];
    with_json.extend_from_slice(args);
    serde_json::from_str(&admin(port, &with_json)).expect("json")
}

fn gateway_in<'a>(listing: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    listing
        .as_array()
        .expect("an array")
        .iter()
        .find(|gateway| gateway["id"] == id)
        .unwrap_or_else(|| panic!("{id} not listed in {listing}"))
}

/// `gateway_collection_sessions`, as `/metrics` has it.
fn live_sessions(port: u16) -> i64 {
    let metrics = support::gateway::request(port, "GET", "/metrics", &[], b"").expect("metrics");
    let text = String::from_utf8_lossy(&metrics.body).into_owned();
    text.lines()
        .find_map(|line| line.strip_prefix("gateway_collection_sessions "))
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no gateway_collection_sessions in:\n{text}"))
}

#[test]
fn private_gateways_are_listed_and_revoked_through_the_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = GatewayOptions {
        roles: Some("poweb,pohttp,cogrpc,workers".into()),
        env: vec![("AWALA_ADMIN_TOKEN".into(), TOKEN.into())],
        ..GatewayOptions::default()
    };
    let gateway = Gateway::start_with(dir.path(), "gw.example.com", &options);
    let port = gateway.admin_port;
    let args = vec![
        gateway.port.to_string(),
        gateway.pohttp_port.to_string(),
        gateway.cogrpc_port.to_string(),
    ];
    let mut script = PausingScript::start("e2e/revocation.mjs", &args);
    let line = script.wait_for_prefix("revoke ");
    let ids: Vec<&str> = line.split_whitespace().skip(1).collect();
    let (revoked, other) = (ids[0], ids[1]);

    let listing = json(port, &["private-gateways"]);
    let before = gateway_in(&listing, revoked);
    assert_eq!(before["parcels_stored"], 3, "{before}");
    assert!(before["bytes_stored"].as_u64().expect("bytes") > 0);
    assert_eq!(before["live_sessions"], 1, "{before}");
    assert_eq!(before["revoked"], false);
    assert!(before["certificate_expiry"].is_string(), "{before}");
    assert!(before["last_seen"].is_string(), "{before}");
    assert_eq!(gateway_in(&listing, other)["parcels_stored"], 1);
    let summary = admin(port, &["private-gateways"]);
    assert!(
        summary.contains(revoked) && summary.contains("active"),
        "{summary}"
    );

    assert_eq!(live_sessions(port), 1);

    let outcome = admin(port, &["revoke", revoked]);
    assert_eq!(
        outcome.trim(),
        format!("revoked {revoked}: 3 parcels purged, 1 sessions closed")
    );
    let shown = json(port, &["private-gateway", revoked]);
    assert_eq!(shown["revoked"], true, "{shown}");
    assert_eq!(shown["parcels_stored"], 0, "{shown}");
    assert!(admin(port, &["private-gateway", revoked]).contains("REVOKED"));
    script.send("revoked");
    script.finish_and_check(&[
        "open session closed by the revocation",
        "collection handshake refused",
        "parcel delivery refused",
        "parcel for it from the internet refused",
        "cargo collection refused",
        "re-registration refused",
        "other gateway unaffected",
    ]);
    assert_eq!(live_sessions(port), 0, "the revoked session is gone");
    let again = admin(port, &["revoke", revoked]);
    assert!(again.contains("revoked already"), "{again}");
    let unknown = Command::new(env!("CARGO_BIN_EXE_awala-gateway"))
        .args([
            "admin",
            "--url",
            &format!("http://127.0.0.1:{port}"),
            "--token",
            TOKEN,
        ])
        .args(["private-gateway", "0unknown"])
        .output()
        .expect("run");
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("404"));
}
