//! The published PoWeb client (`@relaycorp/relaynet-poweb` 1.6.35) collects parcels:
//! `tests/interop/e2e/collection.mjs` registers, makes parcels with relaynet-core and collects
//! them; this test runs the PoWeb server in-process and stores each parcel the script prints
//! through the real router, as PoHTTP will once it lands (the script then delivers itself).

mod collection;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use awala_gateway::config::LimitsConfig;
use base64::Engine;
use bytes::Bytes;
use chrono::Utc;
use collection::Harness;

/// Guards the whole script (it idles 9 s on purpose); a hang fails instead of blocking CI.
const SCRIPT_GUARD: Duration = Duration::from_secs(180);

#[actix_rt::test]
async fn js_poweb_client_collects_parcels() {
    let interop = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop");
    let setup = Command::new("sh")
        .arg(interop.join("setup.sh"))
        .status()
        .expect("run setup.sh");
    assert!(setup.success(), "npm setup failed");

    let harness = Harness::start(LimitsConfig::default()).await;
    let mut child = Command::new("node")
        .current_dir(&interop)
        .arg("e2e/collection.mjs")
        .arg(format!("http://127.0.0.1:{}", harness.port))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run node");
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });

    let mut transcript = Vec::new();
    let drive = async {
        while let Some(line) = lines.recv().await {
            if let Some(encoded) = line.strip_prefix("parcel ") {
                let parcel = base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .expect("base64 parcel");
                harness
                    .router
                    .route_from_internet(Bytes::from(parcel), Utc::now())
                    .await
                    .expect("the JS-made parcel is stored");
                stdin.write_all(b"stored\n").expect("write stdin");
                stdin.flush().expect("flush stdin");
            }
            transcript.push(line);
        }
    };
    tokio::time::timeout(SCRIPT_GUARD, drive)
        .await
        .expect("the script finished in time");
    let output = child.wait_with_output().expect("wait node");
    let stdout = transcript.join("\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for check in [
        "ok registered",
        "ok empty collection ends normally",
        "ok parcel collected and acknowledged",
        "ok acknowledged parcel is gone",
        "ok keep-alive pushes a parcel stored while open",
        "ok idle keep-alive socket stays open with pings",
    ] {
        assert!(stdout.contains(check), "missing {check:?} in:\n{stdout}");
    }
}
