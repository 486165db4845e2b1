//! Black-box tests of `awala-gateway serve`: the real binary, a temp data dir, a free port.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use awala_gateway::protocols::awala::keys::IdentityPrivateKey;
use awala_gateway::protocols::awala::messages::{
    NodeConnectionParams, PrivateNodeRegistration, PrivateNodeRegistrationAuthorization,
    PrivateNodeRegistrationRequest,
};
use awala_gateway::protocols::awala::pki::Certificate;
use chrono::Utc;
use support::gateway::Gateway;

const ADDRESS: &str = "gw.example.com";
const PNRR: &str = "application/vnd.awala.node-registration.request";
const PARCEL: &str = "application/vnd.awala.parcel";

/// A refused request: path, method, headers, body, expected status.
type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, Vec<u8>, u16);

fn connection_params(gateway: &Gateway) -> NodeConnectionParams {
    let response = gateway.request("GET", "/connection-params.der", &[], b"");
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("application/vnd.etsi.tsl.der")
    );
    NodeConnectionParams::decode(&response.body).expect("connection params parse")
}

#[test]
fn serve_health_params_restart_and_key_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = Gateway::start(dir.path(), ADDRESS);
    let health = gateway.request("GET", "/", &[], b"");
    assert_eq!(health.header("content-type"), Some("text/plain"));
    assert!(String::from_utf8_lossy(&health.body).contains("PoWeb"));
    assert_eq!(gateway.request("HEAD", "/", &[], b"").status, 200);

    let params = connection_params(&gateway);
    assert_eq!(params.internet_address, ADDRESS);
    let node_id = params.identity_key.node_id();
    let mode = std::fs::metadata(dir.path().join("kek.bin"))
        .expect("kek file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(gateway.stop().success(), "clean exit on SIGTERM");

    let again = Gateway::start(dir.path(), ADDRESS);
    let params_again = connection_params(&again);
    assert_eq!(params_again.identity_key.node_id(), node_id);
    assert_eq!(params_again.session_key, params.session_key);
}

#[test]
fn serve_refuses_bad_requests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = Gateway::start(dir.path(), ADDRESS);
    let digest = "ab".repeat(32);
    let cases: Vec<Case> = vec![
        (
            "/v1/pre-registrations",
            "POST",
            vec![("content-type", "application/json")],
            digest.clone().into_bytes(),
            415,
        ),
        (
            "/v1/pre-registrations",
            "POST",
            vec![],
            digest.clone().into_bytes(),
            415,
        ),
        (
            "/v1/pre-registrations",
            "POST",
            vec![("content-type", "text/plain")],
            b"abc".to_vec(),
            400,
        ),
        (
            "/v1/pre-registrations",
            "POST",
            vec![("content-type", "text/plain")],
            "AB".repeat(32).into_bytes(),
            400,
        ),
        (
            "/v1/pre-registrations",
            "POST",
            vec![("content-type", "text/plain")],
            vec![b'a'; 65],
            413,
        ),
        (
            "/v1/pre-registration",
            "POST",
            vec![("content-type", "text/plain")],
            vec![b'a'; 10_000],
            413,
        ),
        (
            "/v1/nodes",
            "POST",
            vec![("content-type", "text/plain")],
            b"x".to_vec(),
            415,
        ),
        (
            "/v1/nodes",
            "POST",
            vec![("content-type", PNRR)],
            b"not der".to_vec(),
            400,
        ),
        (
            "/v1/nodes",
            "POST",
            vec![("content-type", PNRR)],
            vec![0x30, 0x80, 0, 0],
            400,
        ),
        (
            "/v1/nodes",
            "POST",
            vec![("content-type", PNRR), ("content-length", "2097152")],
            Vec::new(),
            413,
        ),
        (
            "/v1/parcels",
            "POST",
            vec![("content-type", "text/plain")],
            b"x".to_vec(),
            415,
        ),
        (
            "/v1/parcels",
            "POST",
            vec![("content-type", PARCEL)],
            b"x".to_vec(),
            401,
        ),
        (
            "/v1/parcels",
            "POST",
            vec![("content-type", PARCEL), ("authorization", "Bearer AQID")],
            b"x".to_vec(),
            401,
        ),
        (
            "/v1/parcels",
            "POST",
            vec![
                ("content-type", PARCEL),
                ("authorization", "Relaynet-Countersignature !!!"),
            ],
            b"x".to_vec(),
            401,
        ),
        (
            "/v1/parcels",
            "POST",
            vec![
                ("content-type", PARCEL),
                ("authorization", "Relaynet-Countersignature AQID"),
            ],
            b"x".to_vec(),
            401,
        ),
        (
            "/v1/parcels",
            "POST",
            vec![
                ("content-type", PARCEL),
                ("authorization", "Awala-Countersignature AQID"),
                ("content-length", "9000000"),
            ],
            Vec::new(),
            413,
        ),
        ("/v1/parcels", "GET", vec![], Vec::new(), 405),
        ("/v1/nodes", "GET", vec![], Vec::new(), 405),
        ("/nowhere", "GET", vec![], Vec::new(), 404),
    ];
    for (path, method, headers, body, expected) in cases {
        let response = gateway.request(method, path, &headers, &body);
        assert_eq!(response.status, expected, "{method} {path} {headers:?}");
        if expected == 405 {
            assert_eq!(response.header("allow"), Some("POST"));
        }
        if expected == 401 {
            assert_eq!(
                response.header("www-authenticate"),
                Some("Relaynet-Countersignature")
            );
        }
    }
    let options = gateway.request("OPTIONS", "/", &[], b"");
    assert_eq!(options.status, 204);
    assert_eq!(options.header("allow"), Some("GET, HEAD"));
    // Still healthy after all that.
    assert_eq!(gateway.request("GET", "/", &[], b"").status, 200);
}

#[test]
fn serve_registers_a_private_gateway() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = Gateway::start(dir.path(), ADDRESS);
    let params = connection_params(&gateway);
    let pg_key = IdentityPrivateKey::generate(2048).expect("key");
    let digest = hex::encode(pg_key.public_key().digest());
    let response = gateway.request(
        "POST",
        "/v1/pre-registrations",
        &[("content-type", "text/plain")],
        digest.as_bytes(),
    );
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("application/vnd.awala.node-registration.authorization")
    );
    let pnra = PrivateNodeRegistrationAuthorization::deserialize_and_verify(
        &response.body,
        &params.identity_key,
        Utc::now(),
    )
    .expect("pnra signed by the gateway");
    assert_eq!(pnra.gateway_data, pg_key.public_key().digest());

    let pnrr = PrivateNodeRegistrationRequest {
        private_node_public_key: pg_key.public_key(),
        pnra_serialized: response.body.clone(),
    }
    .sign(&pg_key)
    .expect("pnrr");
    let response = gateway.request("POST", "/v1/nodes", &[("content-type", PNRR)], &pnrr);
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    assert_eq!(
        response.header("content-type"),
        Some("application/vnd.awala.node-registration.registration")
    );
    let registration = PrivateNodeRegistration::decode(&response.body).expect("pnr");
    assert_eq!(registration.internet_gateway_internet_address, ADDRESS);
    assert!(registration.session_key.is_some());
    let pg_certificate = Certificate::from_der(&registration.private_node_certificate_der).unwrap();
    let gateway_certificate = Certificate::from_der(&registration.gateway_certificate_der).unwrap();
    pg_certificate
        .verify_issued_by(&gateway_certificate)
        .expect("issued by the gateway");
    assert_eq!(pg_certificate.subject_id(), pg_key.public_key().node_id());

    // A PNRA granted to another key: 403.
    let other_key = IdentityPrivateKey::generate(2048).expect("key");
    let stolen = PrivateNodeRegistrationRequest {
        private_node_public_key: other_key.public_key(),
        pnra_serialized: pnrr_pnra(&pnrr),
    }
    .sign(&other_key)
    .expect("pnrr");
    let response = gateway.request("POST", "/v1/nodes", &[("content-type", PNRR)], &stolen);
    assert_eq!(response.status, 403);
}

fn pnrr_pnra(pnrr: &[u8]) -> Vec<u8> {
    PrivateNodeRegistrationRequest::deserialize_and_verify(pnrr)
        .expect("pnrr")
        .pnra_serialized
}

#[test]
fn serve_print_config() {
    let output = Command::new(env!("CARGO_BIN_EXE_awala-gateway"))
        .args(["serve", "--print-config", "--internet-address", ADDRESS])
        .output()
        .expect("run");
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).expect("utf-8");
    assert!(
        text.contains("internet_address = \"gw.example.com\""),
        "{text}"
    );
    assert!(text.contains("version = 1"), "{text}");
    // Documented: meaning, default, variable and flag of each key.
    assert!(
        text.contains("# default: 10000; env: AWALA_LIMITS_QUEUE_CAPACITY\nqueue_capacity = 10000"),
        "{text}"
    );
    assert!(
        text.contains("env: AWALA_LOG_FORMAT; flag: --log-format\nformat = \"text\""),
        "{text}"
    );
    // And read back by `--config` as the same configuration.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("printed.toml");
    std::fs::write(&file, &text).expect("write");
    let again = Command::new(env!("CARGO_BIN_EXE_awala-gateway"))
        .args(["serve", "--print-config", "--config"])
        .arg(&file)
        .output()
        .expect("run");
    assert!(again.status.success(), "{again:?}");
    assert_eq!(String::from_utf8_lossy(&again.stdout), text);
}
