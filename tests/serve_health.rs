//! `/live`, `/ready` and `/health` on the admin listener of the real binary: the backends, the
//! roles it runs and their workers.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::gateway::{request, Gateway, GatewayOptions};

#[test]
fn health_names_the_roles_and_their_running_workers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = Gateway::start_with(
        dir.path(),
        "gw.example.com",
        &GatewayOptions {
            roles: Some("poweb,workers".into()),
            ..Default::default()
        },
    );
    // The workers start just after the listeners: wait for both subtrees to report.
    let started = Instant::now();
    let body = loop {
        let health = request(gateway.admin_port, "GET", "/health", &[], b"").expect("health");
        let body: serde_json::Value = serde_json::from_slice(&health.body).expect("json");
        let workers = body["roles"]
            .as_array()
            .and_then(|roles| roles.iter().find(|role| role["role"] == "workers"))
            .cloned();
        let components = workers
            .as_ref()
            .and_then(|workers| workers["components"].as_array().map(Vec::len));
        if health.status == 200 && components == Some(2) {
            break body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "workers never reported: {} {body}",
            health.status
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(body["status"], "ok");
    for backend in ["queue", "metadata", "objects", "pubsub", "keys"] {
        assert_eq!(body["backends"][backend]["status"], "ok", "{body}");
    }
    let roles: Vec<&str> = body["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .filter_map(|role| role["role"].as_str())
        .collect();
    assert_eq!(roles, ["poweb", "workers"], "{body}");
    let workers = &body["roles"][1];
    assert_eq!(workers["up"], true);
    for component in workers["components"].as_array().expect("components") {
        assert_eq!(component["state"], "running", "{body}");
        assert!(component["running"].as_u64() >= Some(1), "{body}");
    }
}

#[test]
fn ready_fails_on_an_exposed_kek_file_while_live_still_answers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = Gateway::start(dir.path(), "gw.example.com");
    let ready = request(gateway.admin_port, "GET", "/ready", &[], b"").expect("ready");
    assert_eq!(ready.status, 200);
    let live = request(gateway.admin_port, "GET", "/live", &[], b"").expect("live");
    assert_eq!(live.status, 200);

    // A real fault of a real backend: the KEK file became readable by others.
    let kek = dir.path().join("kek.bin");
    std::fs::set_permissions(&kek, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    for path in ["/ready", "/health"] {
        let response = request(gateway.admin_port, "GET", path, &[], b"").expect(path);
        assert_eq!(response.status, 503, "{path}");
        let body: serde_json::Value = serde_json::from_slice(&response.body).expect("json");
        assert_eq!(body["status"], "unavailable");
        assert_eq!(body["backends"]["keys"]["status"], "error", "{body}");
        assert_eq!(body["backends"]["metadata"]["status"], "ok", "{body}");
    }
    let live = request(gateway.admin_port, "GET", "/live", &[], b"").expect("live");
    assert_eq!(live.status, 200);
    std::fs::set_permissions(&kek, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let ready = request(gateway.admin_port, "GET", "/ready", &[], b"").expect("ready");
    assert_eq!(ready.status, 200);
}

#[test]
fn an_unknown_test_fault_point_stops_serve_at_start_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = Command::new(env!("CARGO_BIN_EXE_awala-gateway"))
        .args(["serve", "--roles", "workers", "--data-dir"])
        .arg(dir.path())
        .args(["--admin-listen", "127.0.0.1:0"])
        .env("AWALA_TEST_FAULTS", "nowhere=1")
        .stdin(Stdio::null())
        .output()
        .expect("run awala-gateway");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown fault point `nowhere`"), "{stderr}");
}
