//! Running the Node end-to-end scripts of `tests/interop/e2e/` against a running gateway.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;

static SETUP: Once = Once::new();

/// The interop harness folder, with its pinned npm packages installed (once per test binary).
pub fn interop_dir() -> PathBuf {
    let interop = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop");
    SETUP.call_once(|| {
        let status = Command::new("sh")
            .arg(interop.join("setup.sh"))
            .status()
            .expect("run setup.sh");
        assert!(status.success(), "npm setup failed");
    });
    interop
}

/// Runs `node <script> <args>` from the interop folder; panics with its output unless it exits
/// 0 and printed every `ok <check>` line named in `checks`.
pub fn run_e2e(script: &str, args: &[String], checks: &[&str]) -> String {
    let output = Command::new("node")
        .current_dir(interop_dir())
        .arg(script)
        .args(args)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} {args:?} failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for check in checks {
        assert!(
            stdout.contains(&format!("ok {check}")),
            "missing {check:?} in:\n{stdout}"
        );
    }
    stdout
}
