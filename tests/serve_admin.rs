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

/// The dead letters of `queue`, as the CLI prints them in JSON.
fn dead_letters(port: u16, queue: &str) -> Vec<serde_json::Value> {
    let output = admin(port, &["--token", TOKEN, "--json", "dead-letters", queue]);
    assert!(output.status.success(), "{output:?}");
    let listed: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    listed.as_array().expect("a list").clone()
}

/// Waits until `queue` holds `count` dead letters, and returns them.
fn wait_for_dead_letters(port: u16, queue: &str, count: usize) -> Vec<serde_json::Value> {
    let started = std::time::Instant::now();
    loop {
        let letters = dead_letters(port, queue);
        if letters.len() == count {
            return letters;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "wanted {count} dead letters, have {letters:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn dead_letters_are_retried_and_dropped_through_the_cli() {
    use awala_gateway::backends::queue::{QueueMessage, QueueName};
    let dir = tempfile::tempdir().expect("tempdir");
    let (gateway, options) = start(dir.path());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // Two messages the outbound worker cannot read: it dead-letters them.
    let queue = runtime.block_on(distributed::open_queue(dir.path(), &options));
    for body in [&b"not an outbound parcel"[..], b"nor this"] {
        runtime
            .block_on(queue.publish(
                QueueName::OutboundParcels,
                QueueMessage::new(bytes::Bytes::from_static(body)),
            ))
            .expect("publish");
    }
    let port = gateway.admin_port;
    let letters = wait_for_dead_letters(port, "outbound_parcels", 2);
    let first = letters[0]["message_id"].as_str().expect("an id").to_owned();
    let second = letters[1]["message_id"].as_str().expect("an id").to_owned();
    assert_eq!(letters[0]["body_bytes"], 22, "{letters:?}");
    let metrics = support::gateway::request(port, "GET", "/metrics", &[], b"").expect("metrics");
    let text = String::from_utf8_lossy(&metrics.body);
    assert!(
        text.contains(r#"gateway_parcels_delivered_total{outcome="dead_lettered"} 2"#),
        "dead letters are counted as drops:\n{text}"
    );

    // Retried, it goes back to the worker, which dead-letters it again: still two.
    let retried = admin(
        port,
        &[
            "--token",
            TOKEN,
            "dead-letters",
            "outbound_parcels",
            "retry",
            &first,
        ],
    );
    let stdout = String::from_utf8_lossy(&retried.stdout);
    assert!(retried.status.success(), "{retried:?}");
    assert_eq!(stdout.trim(), format!("retried {first}"));
    let started = std::time::Instant::now();
    loop {
        let letters = dead_letters(port, "outbound_parcels");
        let ids: Vec<&str> = letters
            .iter()
            .filter_map(|letter| letter["message_id"].as_str())
            .collect();
        // The embedded queue gives the message a new id; a broker keeps the CloudEvents id
        // but moves it to the back.
        if letters.len() == 2 && ids[0] == second {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the retried letter never came back: {letters:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    let dropped = admin(
        port,
        &[
            "--token",
            TOKEN,
            "dead-letters",
            "outbound_parcels",
            "drop",
            &second,
        ],
    );
    assert!(dropped.status.success(), "{dropped:?}");
    assert_eq!(
        String::from_utf8_lossy(&dropped.stdout).trim(),
        format!("dropped {second}")
    );
    let left = dead_letters(port, "outbound_parcels");
    assert_eq!(left.len(), 1, "{left:?}");
    assert_ne!(left[0]["message_id"], second.as_str());

    let again = admin(
        port,
        &[
            "--token",
            TOKEN,
            "dead-letters",
            "outbound_parcels",
            "drop",
            &second,
        ],
    );
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("404"),
        "{again:?}"
    );
    let untokened = admin(port, &["dead-letters", "outbound_parcels", "drop", "1"]);
    assert!(String::from_utf8_lossy(&untokened.stderr).contains("401"));
}
