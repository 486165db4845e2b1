//! `awala-gateway inspect` as operators run it: exit 0 valid, 1 invalid or malformed (reason on
//! stderr), 2 usage; JSON description on stdout; `-` reads standard input.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use chrono::{Duration, Utc};

use awala_gateway::protocols::awala::keys::{HashAlgorithm, IdentityPrivateKey};
use awala_gateway::protocols::awala::messages::Recipient;
use awala_gateway::protocols::awala::pki::{
    issue_gateway_certificate, self_issue_identity_certificate,
};
use awala_gateway::protocols::awala::ramf::{Cargo, MessageDraft};

fn inspect(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_awala-gateway"))
        .arg("inspect")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(bytes) = stdin {
        child.stdin.take().unwrap().write_all(bytes).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

/// A cargo from a private gateway to its Internet gateway, plus both certificates on disk.
fn write_cargo(dir: &Path) {
    let now = Utc::now();
    let ig = IdentityPrivateKey::generate(2048).unwrap();
    let pg = IdentityPrivateKey::generate(2048).unwrap();
    let start = now - Duration::hours(1);
    let end = now + Duration::days(10);
    let ig_cert = self_issue_identity_certificate(&ig, start, end).unwrap();
    let pg_cert =
        issue_gateway_certificate(&pg.public_key(), &ig, Some(&ig_cert), start, end, 1).unwrap();
    let other = self_issue_identity_certificate(&pg, start, end).unwrap();
    let draft = MessageDraft::new(
        Recipient {
            id: ig_cert.subject_id().to_string(),
            internet_address: Some("gateway.example.com".to_string()),
        },
        b"not really encrypted".to_vec(),
        now,
        3600,
    );
    let cargo = Cargo::serialize(&draft, &pg, &pg_cert, &[], HashAlgorithm::Sha256).unwrap();
    std::fs::write(dir.join("cargo.der"), cargo).unwrap();
    std::fs::write(dir.join("ig.der"), ig_cert.der()).unwrap();
    std::fs::write(dir.join("other.der"), other.der()).unwrap();
}

#[test]
fn valid_cargo_exits_zero_with_a_json_description() {
    let dir = tempfile::tempdir().unwrap();
    write_cargo(dir.path());
    let path = |name: &str| dir.path().join(name).to_string_lossy().to_string();
    let output = inspect(&[&path("cargo.der"), "--trust", &path("ig.der")], None);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let description: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(description["type"], "cargo");
    assert_eq!(
        description["recipient_internet_address"],
        "gateway.example.com"
    );
    assert_eq!(description["chain_length"], 2);
}

#[test]
fn untrusted_cargo_exits_one_with_the_reason_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    write_cargo(dir.path());
    let path = |name: &str| dir.path().join(name).to_string_lossy().to_string();
    let output = inspect(&[&path("cargo.der"), "--trust", &path("other.der")], None);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("invalid:"));
}

#[test]
fn expired_cargo_is_invalid_at_a_later_instant() {
    let dir = tempfile::tempdir().unwrap();
    write_cargo(dir.path());
    let later = (Utc::now() + Duration::days(2)).to_rfc3339();
    let path = dir.path().join("cargo.der");
    let output = inspect(&[path.to_str().unwrap(), "--at", &later], None);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("expired"));
}

#[test]
fn standard_input_is_read_with_a_dash() {
    let dir = tempfile::tempdir().unwrap();
    write_cargo(dir.path());
    let bytes = std::fs::read(dir.path().join("cargo.der")).unwrap();
    let output = inspect(&["-"], Some(&bytes));
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}

#[test]
fn garbage_is_malformed_and_exits_one() {
    let output = inspect(&["-"], Some(b"\x30\x03\x02\x01"));
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("malformed:"));
}

#[test]
fn usage_errors_exit_two() {
    assert_eq!(inspect(&[], None).status.code(), Some(2));
    assert_eq!(inspect(&["--nope", "x"], None).status.code(), Some(2));
    assert_eq!(inspect(&["/nonexistent/file"], None).status.code(), Some(2));
    assert_eq!(
        inspect(&["-", "--kind", "bogus"], Some(b"")).status.code(),
        Some(2)
    );
    assert_eq!(
        inspect(&["-", "--at", "yesterday"], Some(b""))
            .status
            .code(),
        Some(2)
    );
}
