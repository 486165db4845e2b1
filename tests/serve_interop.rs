//! The published PoWeb client (`@relaycorp/relaynet-poweb` 1.6.35) registers with the real
//! binary: `tests/interop/e2e/registration.mjs` does the talking, this starts the gateway.

mod support;

use std::path::Path;
use std::process::Command;

use support::gateway::Gateway;

#[test]
fn serve_registration_with_the_js_poweb_client() {
    let interop = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop");
    let setup = Command::new("sh")
        .arg(interop.join("setup.sh"))
        .status()
        .expect("run setup.sh");
    assert!(setup.success(), "npm setup failed");

    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = Gateway::start(dir.path(), "gw.example.com");
    let output = Command::new("node")
        .current_dir(&interop)
        .arg("e2e/registration.mjs")
        .arg(format!("http://127.0.0.1:{}", gateway.port))
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
        "ok certificate chains to the gateway certificate",
        "ok session key present",
        "ok registration with another key refused",
    ] {
        assert!(stdout.contains(check), "missing {check:?} in:\n{stdout}");
    }
}
