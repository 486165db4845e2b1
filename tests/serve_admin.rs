//! `awala-gateway admin` against the real binary: the bearer token, and `purge-expired`
//! deleting a body no record names (what a crash between the two writes leaves behind).

mod support;

use std::process::Command;

use awala_gateway::backends::metadata::ParcelIndexKey;
use support::gateway::{distributed, Gateway, GatewayOptions};

const TOKEN: &str = "admin-test-token";

fn admin(port: u16, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_awala-gateway"))
        .arg("admin")
        .args(["--url", &format!("http://127.0.0.1:{port}")])
        .args(args)
        .env_remove("AWALA_ADMIN_TOKEN")
        .output()
        .expect("run awala-gateway admin")
}

/// A gateway with workers (so a housekeeper) whose admin API wants [`TOKEN`].
fn start(data_dir: &std::path::Path) -> (Gateway, GatewayOptions) {
    let options = GatewayOptions {
        roles: Some("poweb,pohttp,workers".into()),
        env: vec![("AWALA_ADMIN_TOKEN".into(), TOKEN.into())],
        ..GatewayOptions::default()
    };
    let gateway = Gateway::start_with(data_dir, "gw.example.com", &options);
    (gateway, options)
}

#[test]
fn purge_expired_needs_the_token_and_deletes_unnamed_bodies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (gateway, options) = start(dir.path());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (_index, objects) = runtime.block_on(distributed::open_stores(dir.path(), &options));
    let received = chrono::Utc::now() - chrono::Duration::hours(3);
    let orphan = ParcelIndexKey::new("0pg", "0recipient", "0sender", "lost").object_key(received);
    runtime
        .block_on(objects.put(&orphan, bytes::Bytes::from_static(b"left by a crash")))
        .expect("put");

    let refused = admin(gateway.admin_port, &["purge-expired"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("401"), "{stderr}");
    let wrong = admin(gateway.admin_port, &["--token", "nope", "purge-expired"]);
    assert!(!wrong.status.success());

    let done = admin(
        gateway.admin_port,
        &["--token", TOKEN, "--json", "purge-expired"],
    );
    let stdout = String::from_utf8_lossy(&done.stdout);
    assert!(
        done.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(report["orphan_bodies"], 1, "{report}");
    assert_eq!(
        runtime.block_on(objects.get(&orphan)).expect("get"),
        None,
        "the body is gone"
    );

    let summary = admin(gateway.admin_port, &["--token", TOKEN, "purge-expired"]);
    let stdout = String::from_utf8_lossy(&summary.stdout);
    assert!(summary.status.success(), "{stdout}");
    assert!(
        stdout.contains("orphan_bodies") && stdout.contains('0'),
        "{stdout}"
    );
}

#[test]
fn queues_dead_letters_and_actors_describe_the_running_process() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (gateway, _options) = start(dir.path());
    let run = |args: &[&str]| {
        let mut all = vec!["--token", TOKEN];
        all.extend_from_slice(args);
        let output = admin(gateway.admin_port, &all);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "{args:?}: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    };

    let queues: serde_json::Value =
        serde_json::from_str(&run(&["--json", "queues"])).expect("json");
    let names: Vec<&str> = queues
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|queue| queue["queue"].as_str())
        .collect();
    assert_eq!(names, ["incoming_cargo", "outbound_parcels"], "{queues}");
    assert!(run(&["queues"]).contains("outbound_parcels"));

    assert!(run(&["dead-letters", "outbound_parcels"]).contains("no dead letters"));
    let unknown = admin(
        gateway.admin_port,
        &["--token", TOKEN, "dead-letters", "nope"],
    );
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("404"));

    // The workers' subtrees register just after the listeners: wait for them to show.
    let started = std::time::Instant::now();
    loop {
        let actors = run(&["actors"]);
        if actors.contains("workers (up)") && actors.contains("restarts 0") {
            assert!(actors.contains("poweb (up)"), "{actors}");
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "no workers in: {actors}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
