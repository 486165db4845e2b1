//! Test fixtures: a few RSA keys generated once per test binary, and a complete Awala chain
//! (IG self-issued → PG → private endpoint → PDA) at a fixed instant.

use std::sync::OnceLock;

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::certificate::Certificate;
use super::issue::{
    issue_delivery_authorization, issue_endpoint_certificate, issue_gateway_certificate,
    self_issue_identity_certificate,
};
use openssl::asn1::{Asn1Object, Asn1OctetString, Asn1Time};
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Public};
use openssl::x509::extension::BasicConstraints;
use openssl::x509::{X509Builder, X509Extension, X509Name, X509NameBuilder};

use crate::protocols::awala::keys::{IdentityPrivateKey, IdentityPublicKey};

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

/// A certificate built by OpenSSL rather than by us: PKCS#1 v1.5 signature, PrintableString
/// CN, optional AKI and extra extensions. Used to test what other tools emit.
pub(crate) struct OpensslCertificate<'a> {
    pub(crate) subject_key: PKey<Public>,
    /// `None` makes the certificate self-issued (issuer name = subject name).
    pub(crate) issuer: Option<&'a Certificate>,
    pub(crate) issuer_key: &'a IdentityPrivateKey,
    /// Zero-based, as in the DER (2 = v3).
    pub(crate) version: i32,
    pub(crate) serial: Vec<u8>,
    pub(crate) authority_key_id: bool,
    pub(crate) ca: bool,
    /// An extra extension (OID, critical) with a NULL value.
    pub(crate) extra_extension: Option<(&'static str, bool)>,
}

impl<'a> OpensslCertificate<'a> {
    pub(crate) fn new(
        subject_key: &IdentityPublicKey,
        issuer: Option<&'a Certificate>,
        issuer_key: &'a IdentityPrivateKey,
    ) -> Self {
        OpensslCertificate {
            subject_key: subject_key.pkey().clone(),
            issuer,
            issuer_key,
            version: 2,
            serial: vec![0x2a],
            authority_key_id: true,
            ca: false,
            extra_extension: None,
        }
    }

    pub(crate) fn der(&self) -> Vec<u8> {
        let mut builder = X509Builder::new().unwrap();
        builder.set_version(self.version).unwrap();
        let serial = BigNum::from_slice(&self.serial).unwrap();
        builder
            .set_serial_number(&serial.to_asn1_integer().unwrap())
            .unwrap();
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "openssl-made").unwrap();
        let name = name.build();
        builder.set_subject_name(&name).unwrap();
        match self.issuer {
            Some(issuer) => {
                let issuer_name = X509Name::from_der(issuer.subject_name_der()).unwrap();
                builder.set_issuer_name(&issuer_name).unwrap();
            }
            None => builder.set_issuer_name(&name).unwrap(),
        }
        builder.set_pubkey(&self.subject_key).unwrap();
        let start = Asn1Time::from_unix(now().timestamp() - 3_600).unwrap();
        let end = Asn1Time::from_unix(now().timestamp() + 3_600).unwrap();
        builder.set_not_before(&start).unwrap();
        builder.set_not_after(&end).unwrap();
        if self.version == 2 {
            let mut constraints = BasicConstraints::new();
            constraints.critical();
            if self.ca {
                constraints.ca();
            }
            builder
                .append_extension(constraints.build().unwrap())
                .unwrap();
        }
        if self.authority_key_id {
            let digest = self.issuer_key.public_key().digest();
            let value = [&[0x30, 0x22, 0x80, 0x20][..], &digest[..]].concat();
            builder
                .append_extension(raw_extension("2.5.29.35", false, &value))
                .unwrap();
        }
        if let Some((oid, critical)) = self.extra_extension {
            builder
                .append_extension(raw_extension(oid, critical, &[0x05, 0x00]))
                .unwrap();
        }
        builder
            .sign(self.issuer_key.pkey(), MessageDigest::sha256())
            .unwrap();
        builder.build().to_der().unwrap()
    }
}

fn raw_extension(oid: &str, critical: bool, value: &[u8]) -> X509Extension {
    let oid = Asn1Object::from_str(oid).unwrap();
    let value = Asn1OctetString::new_from_bytes(value).unwrap();
    X509Extension::new_from_der(&oid, critical, &value).unwrap()
}
