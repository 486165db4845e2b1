//! `awala-gateway keys` on the real binary: `init`, `show`, `rotate-certificate` and
//! `connection-params` read the same configuration as `serve` and agree with what it serves.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::gateway::{Gateway, GatewayOptions};

const ADDRESS: &str = "gw.example.com";

fn keys(data_dir: &Path, args: &[&str]) -> Output {
    let (command, rest) = args.split_first().expect("a command");
    Command::new(env!("CARGO_BIN_EXE_awala-gateway"))
        .args(["keys", command, "--data-dir"])
        .arg(data_dir)
        .args(["--internet-address", ADDRESS])
        .args(rest)
        .output()
        .expect("run awala-gateway keys")
}

fn stdout_of(output: &Output) -> String {
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout.clone()).expect("utf-8")
}

fn show(data_dir: &Path) -> serde_json::Value {
    serde_json::from_str(&stdout_of(&keys(data_dir, &["show"]))).expect("json")
}

#[test]
fn keys_commands_manage_the_identity_serve_uses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");

    let missing = keys(&data, &["show"]);
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("keys init"),
        "{missing:?}"
    );

    let node_id = stdout_of(&keys(&data, &["init"])).trim().to_owned();
    assert!(node_id.starts_with('0') && node_id.len() == 65, "{node_id}");
    assert_eq!(
        stdout_of(&keys(&data, &["init"])).trim(),
        node_id,
        "init keeps the identity"
    );

    let shown = show(&data);
    assert_eq!(shown["node_id"], node_id.as_str());
    assert_eq!(shown["internet_address"], ADDRESS);
    let first = shown["certificates"].as_array().expect("list").clone();
    assert_eq!(first.len(), 1, "{shown}");

    let rotated = stdout_of(&keys(&data, &["rotate-certificate"]));
    assert!(
        rotated.starts_with("issued identity certificate valid until"),
        "{rotated}"
    );
    let shown = show(&data);
    let certificates = shown["certificates"].as_array().expect("list");
    assert_eq!(
        certificates.len(),
        2,
        "the old certificate stays trusted: {shown}"
    );
    assert_eq!(
        certificates[1]["sha256"], first[0]["sha256"],
        "newest first: {shown}"
    );
    assert!(certificates[0]["not_after"].as_str() >= first[0]["not_after"].as_str());

    let params = dir.path().join("params.der");
    let path = params.display().to_string();
    stdout_of(&keys(&data, &["connection-params", "--output", &path]));
    let written = std::fs::read(&params).expect("read params");

    // `serve` on the same data directory has the same identity and serves the same bytes.
    let gateway = Gateway::start_with(
        &data,
        ADDRESS,
        &GatewayOptions {
            roles: Some("poweb".into()),
            ..GatewayOptions::default()
        },
    );
    let served = gateway.request("GET", "/connection-params.der", &[], b"");
    assert_eq!(served.status, 200);
    assert_eq!(served.body, written);
    let inspected = Command::new(env!("CARGO_BIN_EXE_awala-gateway"))
        .args(["inspect"])
        .arg(&params)
        .output()
        .expect("inspect");
    let description: serde_json::Value =
        serde_json::from_slice(&inspected.stdout).expect("inspect json");
    assert_eq!(description["type"], "node_connection_params");
    assert_eq!(description["node_id"], node_id.as_str());
}
