//! What relaynet-core 1.88.2 and Bouncy Castle 1.72 (awala-jvm's settings) produce, read by the
//! Rust core: every artifact parsed, validated, decrypted and described as the producer says.

mod support;

use support::{harness, manifest};

fn assert_all_pass(producer: &str, dir: &std::path::Path) {
    let (count, failures) = manifest::check_manifest(dir);
    assert!(count > 40, "{producer}: only {count} items");
    assert!(
        failures.is_empty(),
        "{producer}: {} of {count} items failed:\n{}",
        failures.len(),
        failures
            .iter()
            .map(|(name, reason)| format!("  {name}: {reason}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn relaynet_core_artifacts_are_read_by_rust() {
    let dir = tempfile::tempdir().unwrap();
    harness::relaynet_core_generate(dir.path());
    assert_all_pass("relaynet-core", dir.path());
}

#[test]
fn bouncy_castle_artifacts_are_read_by_rust() {
    let dir = tempfile::tempdir().unwrap();
    harness::bouncy_castle_generate(dir.path());
    assert_all_pass("bouncy castle", dir.path());
}
