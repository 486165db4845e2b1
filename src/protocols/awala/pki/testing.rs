//! Test fixtures: a few RSA keys generated once per test binary, and a complete Awala chain
//! (IG self-issued → PG → private endpoint → PDA) at a fixed instant.

use std::sync::OnceLock;

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::certificate::Certificate;
use super::issue::{
    issue_delivery_authorization, issue_endpoint_certificate, issue_gateway_certificate,
    self_issue_identity_certificate,
};
use crate::protocols::awala::keys::IdentityPrivateKey;

/// Keys are slow to generate, so tests share these.
pub(crate) struct TestKeys {
    pub(crate) internet_gateway: IdentityPrivateKey,
    pub(crate) private_gateway: IdentityPrivateKey,
    pub(crate) endpoint: IdentityPrivateKey,
    pub(crate) peer_endpoint: IdentityPrivateKey,
    pub(crate) other: IdentityPrivateKey,
}

pub(crate) fn keys() -> &'static TestKeys {
    static KEYS: OnceLock<TestKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let generate = || IdentityPrivateKey::generate(2048).expect("rsa key generation");
        TestKeys {
            internet_gateway: generate(),
            private_gateway: generate(),
            endpoint: generate(),
            peer_endpoint: generate(),
            other: generate(),
        }
    })
}

/// The instant the fixture chain is valid around.
pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

pub(crate) struct Chain {
    pub(crate) internet_gateway: Certificate,
    pub(crate) private_gateway: Certificate,
    pub(crate) endpoint: Certificate,
    /// Issued by the endpoint to the peer endpoint's key.
    pub(crate) pda: Certificate,
}

/// IG (CA, 2) → PG (CA, 1) → PE (CA, 0) → PDA (non-CA, 0), all valid from `now - 1 h`.
pub(crate) fn chain() -> Chain {
    let keys = keys();
    let start = now() - Duration::hours(1);
    let end = now() + Duration::days(30);
    let internet_gateway =
        self_issue_identity_certificate(&keys.internet_gateway, start, end + Duration::days(300))
            .unwrap();
    let private_gateway = issue_gateway_certificate(
        &keys.private_gateway.public_key(),
        &keys.internet_gateway,
        Some(&internet_gateway),
        start,
        end,
        1,
    )
    .unwrap();
    let endpoint = issue_endpoint_certificate(
        &keys.endpoint.public_key(),
        &keys.private_gateway,
        Some(&private_gateway),
        start,
        end,
    )
    .unwrap();
    let pda = issue_delivery_authorization(
        &keys.peer_endpoint.public_key(),
        &keys.endpoint,
        &endpoint,
        start,
        end,
    )
    .unwrap();
    Chain {
        internet_gateway,
        private_gateway,
        endpoint,
        pda,
    }
}
