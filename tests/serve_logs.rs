//! Logs of the real binary: `--log-format json`, and the request id of every binding (taken
//! from `X-Request-Id` when usable, generated otherwise, returned, and a field of every line
//! the request logs).

mod support;

use std::process::Command;

use support::gateway::{request, Gateway, GatewayOptions};

fn json_lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).expect("read the log");
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

/// The `answered` line of the request with `id`.
fn answered<'a>(lines: &'a [serde_json::Value], id: &str) -> Option<&'a serde_json::Value> {
    lines
        .iter()
        .find(|line| line["span"]["request_id"] == id && line["fields"]["message"] == "answered")
}

#[test]
fn json_logs_carry_the_request_id_of_every_binding() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("gateway.log");
    let options = GatewayOptions {
        extra_args: ["--log-format", "json", "--log-level", "debug"]
            .map(String::from)
            .to_vec(),
        stderr: Some(log.clone()),
        ..GatewayOptions::default()
    };
    let gateway = Gateway::start_with(&dir.path().join("data"), "gw.example.com", &options);

    let health = gateway.request("GET", "/", &[("X-Request-Id", "poweb-health-1")], b"");
    assert_eq!(health.status, 200);
    assert_eq!(health.header("x-request-id"), Some("poweb-health-1"));

    let refused = request(
        gateway.pohttp_port,
        "POST",
        "/",
        &[
            ("X-Request-Id", "pohttp-bad-parcel"),
            ("Content-Type", "application/vnd.awala.parcel"),
        ],
        b"not a parcel",
    )
    .expect("pohttp request");
    assert!((400..500).contains(&refused.status), "{refused:?}");
    assert_eq!(refused.header("x-request-id"), Some("pohttp-bad-parcel"));

    // Too long to keep: replaced, never refused.
    let long = "x".repeat(129);
    let replaced = gateway.request("GET", "/", &[("X-Request-Id", &long)], b"");
    assert_eq!(replaced.status, 200);
    let generated = replaced.header("x-request-id").expect("an id").to_owned();
    assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");

    let live = request(gateway.admin_port, "GET", "/live", &[], b"").expect("admin request");
    let admin_id = live.header("x-request-id").expect("an id").to_owned();
    assert!(uuid::Uuid::parse_str(&admin_id).is_ok(), "{admin_id}");

    assert!(gateway.stop().success());
    let lines = json_lines(&log);
    assert!(!lines.is_empty());
    for line in &lines {
        assert!(
            line["timestamp"].is_string() && line["level"].is_string(),
            "{line}"
        );
    }
    let bad = answered(&lines, "pohttp-bad-parcel").expect("the refusal is logged");
    assert_eq!(bad["level"], "INFO");
    assert_eq!(bad["span"]["binding"], "pohttp");
    assert_eq!(bad["span"]["method"], "POST");
    assert_eq!(bad["fields"]["status"], refused.status);
    let ok = answered(&lines, "poweb-health-1").expect("debug lines are on");
    assert_eq!(ok["level"], "DEBUG");
    assert_eq!(ok["span"]["binding"], "poweb");
    assert!(answered(&lines, &generated).is_some());
    let admin = answered(&lines, &admin_id).expect("the admin request is logged");
    assert_eq!(admin["span"]["binding"], "admin");
}

#[test]
fn a_bad_log_format_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = Command::new(env!("CARGO_BIN_EXE_awala-gateway"))
        .args(["serve", "--log-format", "yaml", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("run serve");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--log-format") && stderr.contains("expected text or json"),
        "{stderr}"
    );
}
