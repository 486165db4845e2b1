//! `awala-gateway inspect` as operators run it: exit 0 valid, 1 invalid or malformed (reason on
//! stderr), 2 usage; JSON description on stdout; `-` reads standard input.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use chrono::{Duration, Utc};
use serde_json::Value;

use awala_gateway::protocols::awala::keys::{HashAlgorithm, IdentityPrivateKey};
use awala_gateway::protocols::awala::messages::Recipient;
use awala_gateway::protocols::awala::pki::{
    issue_gateway_certificate, self_issue_identity_certificate, Certificate,
};
use awala_gateway::protocols::awala::ramf::{Cargo, MessageDraft};

mod support;

use support::{harness, manifest::repository_root};

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

/// What relaynet-core produces (`tests/interop/vectors`), and the instant it produced it at:
/// its PNRAs expire ten seconds later, so checks run `--at` that instant.
fn relaynet_core_vectors() -> (tempfile::TempDir, String) {
    let setup = Command::new("bash")
        .arg(repository_root().join("tests/interop/setup.sh"))
        .status()
        .expect("run setup.sh");
    assert!(setup.success(), "npm setup failed");
    let dir = tempfile::tempdir().unwrap();
    harness::relaynet_core_generate(dir.path());
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("manifest.json")).unwrap()).unwrap();
    let created_at = manifest["created_at"].as_str().unwrap().to_string();
    (dir, created_at)
}

fn certificate_at(path: &Path) -> Certificate {
    Certificate::from_der(&std::fs::read(path).unwrap()).unwrap()
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| panic!("{error}: {output:?}"))
}

#[test]
fn relaynet_core_pnr_shows_both_certificates_and_the_session_key() {
    let (dir, at) = relaynet_core_vectors();
    let path = |name: &str| dir.path().join(name).to_string_lossy().to_string();
    let private_gateway = certificate_at(&dir.path().join("certs/pg.der"));
    let internet_gateway = certificate_at(&dir.path().join("certs/ig.der"));

    let output = inspect(&[&path("pnr.der"), "--at", &at], None);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let pnr = json(&output);
    assert_eq!(pnr["type"], "pnr");
    assert_eq!(pnr["private_node_id"], private_gateway.subject_id());
    assert_eq!(pnr["gateway_id"], internet_gateway.subject_id());
    let node_certificate = &pnr["private_node_certificate"];
    assert_eq!(node_certificate["subject_id"], private_gateway.subject_id());
    assert_eq!(node_certificate["issuer_id"], internet_gateway.subject_id());
    let gateway_certificate = &pnr["gateway_certificate"];
    assert_eq!(
        gateway_certificate["subject_id"],
        internet_gateway.subject_id()
    );
    assert_eq!(
        gateway_certificate["issuer_id"],
        internet_gateway.subject_id()
    );
    assert_eq!(gateway_certificate["is_ca"], true);
    for (described, certificate) in [
        (node_certificate, &private_gateway),
        (gateway_certificate, &internet_gateway),
    ] {
        let date = |field: &str| {
            chrono::DateTime::parse_from_rfc3339(described[field].as_str().unwrap())
                .unwrap()
                .with_timezone(&Utc)
        };
        assert_eq!(date("not_before"), certificate.not_before());
        assert_eq!(date("not_after"), certificate.not_after());
    }
    assert_eq!(pnr["internet_address"], "gateway.example.com");
    assert_eq!(pnr["session_key_id"].as_str().map(str::len), Some(16));
    assert_eq!(pnr["session_key_curve"], "P-256");

    let output = inspect(&[&path("pnr-without-session-key.der"), "--at", &at], None);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let pnr = json(&output);
    assert_eq!(pnr["private_node_id"], private_gateway.subject_id());
    assert_eq!(pnr["session_key_id"], Value::Null);
    assert_eq!(pnr["session_key_curve"], Value::Null);
}

#[test]
fn relaynet_core_pnra_is_valid_unchecked_or_invalid_by_the_key_given() {
    let (dir, at) = relaynet_core_vectors();
    let path = |name: &str| dir.path().join(name).to_string_lossy().to_string();
    let gateway_id = certificate_at(&dir.path().join("certs/ig.der"))
        .subject_id()
        .to_string();
    // The private gateway's key did not sign the authorisation.
    let private_gateway = certificate_at(&dir.path().join("certs/pg.der"));
    std::fs::write(
        dir.path().join("pg.spki.der"),
        private_gateway.subject_public_key().spki_der(),
    )
    .unwrap();

    let output = inspect(&[&path("pnra.der"), "--at", &at], None);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let pnra = json(&output);
    assert_eq!(pnra["type"], "pnra");
    assert_eq!(pnra["signature"], "not checked (no --signer-key)");
    assert!(pnra["expiry_date"].is_string(), "{pnra}");

    let right_key = path("keys/ig-identity.spki.der");
    let output = inspect(
        &[&path("pnra.der"), "--at", &at, "--signer-key", &right_key],
        None,
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let pnra = json(&output);
    assert_eq!(pnra["signature"], "valid");
    assert_eq!(pnra["signer_id"], gateway_id.as_str());

    let wrong_key = path("pg.spki.der");
    let output = inspect(
        &[&path("pnra.der"), "--at", &at, "--signer-key", &wrong_key],
        None,
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("invalid:"));
    assert_eq!(
        json(&output)["signature"],
        "does not verify with the given keys"
    );

    // Without a key the expiry still counts.
    let output = inspect(&[&path("pnra-expired.der"), "--at", &at], None);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("expired"));
}
