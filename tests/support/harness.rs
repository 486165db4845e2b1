//! Running the Node (relaynet-core) and Java (Bouncy Castle) harnesses from Rust tests.

use std::path::Path;
use std::process::Command;

use super::manifest::repository_root;

/// Runs a harness command and returns its standard output, panicking with its output on failure.
fn run(command: &mut Command, what: &str) -> String {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("{what}: could not start: {error}"));
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

pub fn relaynet_core_generate(out: &Path) {
    let dir = repository_root().join("tests/interop");
    run(
        Command::new("node")
            .arg("vectors/generate.mjs")
            .arg(out)
            .current_dir(&dir),
        "relaynet-core vector generator",
    );
}

pub fn relaynet_core_check(dir: &Path) -> String {
    let harness = repository_root().join("tests/interop");
    run(
        Command::new("node")
            .arg("vectors/check.mjs")
            .arg("-v")
            .arg(dir)
            .current_dir(&harness),
        "relaynet-core checker",
    )
}

pub fn bouncy_castle_generate(out: &Path) {
    run(
        Command::new("bash")
            .arg(repository_root().join("tests/jvm/run.sh"))
            .arg("gen")
            .arg(out),
        "bouncy castle vector generator",
    );
}

pub fn bouncy_castle_check(dir: &Path) -> String {
    run(
        Command::new("env")
            .arg("VERBOSE=1")
            .arg("bash")
            .arg(repository_root().join("tests/jvm/run.sh"))
            .arg("check")
            .arg(dir),
        "bouncy castle checker",
    )
}
