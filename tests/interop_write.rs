//! What the Rust core produces, read by relaynet-core 1.88.2, Bouncy Castle 1.72 (awala-jvm's
//! settings) and the Rust core itself: every artifact parsed, validated, decrypted and described
//! as `tests/support/rust_vectors` says it made it.

mod support;

use support::rust_vectors::{write_rust_vectors, RELAYNET_CORE_SKIPS};
use support::{harness, manifest};

/// The summary line every checker ends with: `N passed, N failed[, N skipped]`.
fn summary(stdout: &str) -> (usize, usize, usize) {
    let line = stdout
        .lines()
        .rev()
        .find(|line| line.contains(" passed, "))
        .unwrap_or_else(|| panic!("no summary line in:\n{stdout}"));
    let count = |word: &str| {
        line.split(", ")
            .find_map(|part| part.strip_suffix(word)?.trim().parse().ok())
            .unwrap_or(0)
    };
    (count(" passed"), count(" failed"), count(" skipped"))
}

/// Asserts no item failed, every skip is a documented one, and the rest passed.
fn assert_checker_agrees(checker: &str, stdout: &str, items: usize, documented_skips: &[&str]) {
    let (passed, failed, skipped) = summary(stdout);
    let failures: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAIL ")).collect();
    assert_eq!(
        failed,
        0,
        "{checker} rejected items:\n{}",
        failures.join("\n")
    );
    for line in stdout.lines().filter(|l| l.starts_with("skip ")) {
        let name = line["skip ".len()..].split(':').next().unwrap();
        assert!(
            documented_skips.contains(&name),
            "{checker} skipped an item without a documented reason: {line}"
        );
    }
    assert!(
        passed >= items - documented_skips.len(),
        "{checker}: {passed} passed, {skipped} skipped, of {items} items:\n{stdout}"
    );
}

/// The Node checker needs the pinned npm packages; the script installs them only when missing.
fn install_relaynet_core() {
    let script = manifest::repository_root().join("tests/interop/setup.sh");
    let status = std::process::Command::new("sh")
        .arg(script)
        .status()
        .unwrap();
    assert!(status.success(), "tests/interop/setup.sh failed: {status}");
}

#[test]
fn rust_artifacts_are_read_by_relaynet_core() {
    install_relaynet_core();
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_rust_vectors(dir.path());
    let stdout = harness::relaynet_core_check(dir.path());
    let items = manifest.items.len();
    assert_checker_agrees("relaynet-core", &stdout, items, RELAYNET_CORE_SKIPS);
}

#[test]
fn rust_artifacts_are_read_by_bouncy_castle() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_rust_vectors(dir.path());
    let stdout = harness::bouncy_castle_check(dir.path());
    assert_checker_agrees("bouncy castle", &stdout, manifest.items.len(), &[]);
}

#[test]
fn rust_artifacts_are_read_by_rust() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_rust_vectors(dir.path());
    let (count, failures) = manifest::check_manifest(dir.path());
    assert_eq!(count, manifest.items.len());
    assert!(
        failures.is_empty(),
        "{} of {count} items failed:\n{}",
        failures.len(),
        failures
            .iter()
            .map(|(name, reason)| format!("  {name}: {reason}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
