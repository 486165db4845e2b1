//! A key-encryption key shared by replicas (`--kek-file`, `AWALA_KEK`) on the real binary:
//! replicas with their own data directories unseal the same identity, and a wrong or malformed
//! key stops start-up with a clear message.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::gateway::{free_port, Gateway, GatewayOptions};

const ADDRESS: &str = "gw.example.com";

fn with_kek_file(kek_file: &Path) -> GatewayOptions {
    GatewayOptions {
        roles: Some("poweb".into()),
        extra_args: vec!["--kek-file".into(), kek_file.display().to_string()],
        ..Default::default()
    }
}

/// Copies the metadata database of a stopped gateway, which holds its sealed identity key.
fn copy_database(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    for name in ["gateway.sqlite", "gateway.sqlite-wal"] {
        if from.join(name).exists() {
            std::fs::copy(from.join(name), to.join(name)).expect("copy database");
        }
    }
}

/// Runs `serve` expecting it to fail at start-up; kills it (and fails) if it keeps running.
fn serve_expecting_failure(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_awala-gateway"))
        .args(["serve", "--roles", "poweb", "--internet-address", ADDRESS])
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--poweb-listen", &format!("127.0.0.1:{}", free_port())])
        .args(["--admin-listen", &format!("127.0.0.1:{}", free_port())])
        .args(args)
        .env("AWALA_LOG_LEVEL", "warn")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn awala-gateway");
    let started = Instant::now();
    while child.try_wait().expect("try_wait").is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("serve kept running with a bad key-encryption key");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.wait_with_output().expect("output")
}

#[test]
fn replicas_sharing_a_kek_file_unseal_the_same_identity() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kek_file = dir.path().join("shared-kek");
    let (first_dir, second_dir) = (dir.path().join("first"), dir.path().join("second"));

    // The first start creates the shared KEK file (private) and the identity sealed with it.
    let first = Gateway::start_with(&first_dir, ADDRESS, &with_kek_file(&kek_file));
    let params = first.request("GET", "/connection-params.der", &[], b"");
    assert_eq!(params.status, 200);
    let mode = std::fs::metadata(&kek_file)
        .expect("kek file")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    assert!(
        !first_dir.join("kek.bin").exists(),
        "the data directory gets no key of its own"
    );
    assert!(first.stop().success());

    // A replica with its own data directory but the same database and KEK: both run at once
    // and answer the same connection parameters, so both unsealed the same identity key.
    copy_database(&first_dir, &second_dir);
    let first = Gateway::start_with(&first_dir, ADDRESS, &with_kek_file(&kek_file));
    let second = Gateway::start_with(&second_dir, ADDRESS, &with_kek_file(&kek_file));
    for gateway in [&first, &second] {
        let again = gateway.request("GET", "/connection-params.der", &[], b"");
        assert_eq!(again.status, 200);
        assert_eq!(again.body, params.body, "same identity and session key");
    }
    assert!(first.stop().success());
    assert!(second.stop().success());

    // The key given as a value (hex of the file's octets) is the same key.
    let third_dir = dir.path().join("third");
    copy_database(&first_dir, &third_dir);
    let kek_hex = hex::encode(std::fs::read(&kek_file).expect("read kek"));
    let third = Gateway::start_with(
        &third_dir,
        ADDRESS,
        &GatewayOptions {
            roles: Some("poweb".into()),
            env: vec![("AWALA_KEK".into(), kek_hex)],
            ..Default::default()
        },
    );
    let again = third.request("GET", "/connection-params.der", &[], b"");
    assert_eq!(again.body, params.body);
    assert!(third.stop().success());
}

#[test]
fn a_wrong_or_malformed_kek_stops_start_up_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("data");
    let gateway = Gateway::start_with(&data_dir, ADDRESS, &GatewayOptions::default());
    assert!(gateway.stop().success());

    // Another key than the one the identity was sealed with, as a file and as a value.
    let wrong_file = dir.path().join("wrong-kek");
    std::fs::write(&wrong_file, [7u8; 32]).expect("write");
    std::fs::set_permissions(&wrong_file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let wrong_hex = hex::encode([7u8; 32]);
    for (args, env) in [
        (
            vec!["--kek-file", wrong_file.to_str().expect("utf-8")],
            vec![],
        ),
        (vec![], vec![("AWALA_KEK", wrong_hex.as_str())]),
    ] {
        let output = serve_expecting_failure(&data_dir, &args, &env);
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("loading the gateway identity")
                && stderr.contains("key-encryption key")
                && stderr.contains("is not the one it was sealed with"),
            "{stderr}"
        );
    }

    // A malformed value, and a KEK file others can read.
    let output = serve_expecting_failure(&data_dir, &[], &[("AWALA_KEK", "c2hvcnQ=")]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("AWALA_KEK") && stderr.contains("expected 32"),
        "{stderr}"
    );
    std::fs::set_permissions(&wrong_file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let output = serve_expecting_failure(
        &data_dir,
        &["--kek-file", wrong_file.to_str().expect("utf-8")],
        &[],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("chmod 600"), "{stderr}");
}
