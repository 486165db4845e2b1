//! The published CogRPC client (`@relaycorp/cogrpc` 1.4.6) collects cargo from the real binary,
//! with a CCA made by relaynet-core 1.88.2 after a PoWeb registration:
//! `tests/interop/e2e/collect-cargo.mjs` does the talking, this starts the gateway.

mod support;

use std::path::Path;
use std::process::Command;

use support::gateway::{Gateway, GatewayOptions};

#[test]
fn serve_cargo_collection_with_the_js_cogrpc_client() {
    let interop = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop");
    let setup = Command::new("sh")
        .arg(interop.join("setup.sh"))
        .status()
        .expect("run setup.sh");
    assert!(setup.success(), "npm setup failed");

    let dir = tempfile::tempdir().expect("tempdir");
    let options = GatewayOptions {
        roles: Some("poweb,cogrpc".into()),
        ..Default::default()
    };
    let gateway = Gateway::start_with(dir.path(), "gw.example.com", &options);
    let cogrpc_port = gateway.cogrpc_port;
    let output = Command::new("node")
        .current_dir(&interop)
        .arg("e2e/collect-cargo.mjs")
        .arg(format!("http://127.0.0.1:{}", gateway.port))
        .arg(cogrpc_port.to_string())
        .arg("gw.example.com")
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for check in [
        "ok registered",
        "ok parcel stored",
        "ok cargo validates against the CDA issuer",
        "ok cargo decrypts and carries the parcel",
        "ok reused CCA refused",
        "ok invalid CCA refused",
        "ok parcels stay until acknowledged",
    ] {
        assert!(stdout.contains(check), "missing {check:?} in:\n{stdout}");
    }
}
