//! Parcels: a valid 3-certificate chain (PDA + PE + PG, trusted IG) and the ways it can fail.

use std::collections::BTreeMap;

use super::pki::Pki;
use super::ramf::{decrypt_block, encrypt_to, recipient, write, Spec};
use super::{plus, Output, DAY, HOUR};
use awala_gateway::protocols::awala::keys::{random_bytes, HashAlgorithm};
use awala_gateway::protocols::awala::messages::ServiceMessage;

/// What later sections reuse.
pub struct Parcels {
    pub bytes: BTreeMap<&'static str, Vec<u8>>,
    pub service_message: ServiceMessage,
    pub service_message_bytes: Vec<u8>,
}

pub fn write_parcels(
    out: &mut Output,
    pki: &Pki,
    certs: &BTreeMap<&'static str, String>,
) -> Parcels {
    let (now, nodes) = (pki.now, &pki.nodes);
    let service_message = ServiceMessage {
        content_type: "application/vnd.awala.ping-v1.ping".into(),
        content: b"ping from the peer endpoint".to_vec(),
    };
    let service_message_bytes = service_message.encode().unwrap();
    let payload = encrypt_to(pki, "peP256", &service_message_bytes, Default::default());
    let decrypt = || {
        let plain = &service_message_bytes;
        Some(decrypt_block(
            out,
            pki,
            "peP256",
            "parcel-service-message",
            plain,
        ))
    };
    // PDA + PE + PG, trusted IG: what a PG delivers to its IG for an Internet peer's reply.
    let base = |name| Spec {
        name,
        kind: "parcel",
        recipient: recipient(&nodes.pe.id, None),
        creation_date: plus(now, -HOUR),
        ttl: DAY as u32,
        payload: payload.clone(),
        sender: &nodes.peer,
        sender_cert: pki.cert("pda"),
        chain: vec![pki.cert("pe").clone(), pki.cert("pg").clone()],
        hash: HashAlgorithm::Sha256,
        trusted: vec![certs["ig"].clone()],
        expect: "valid",
        reason: None,
        validate_at: None,
        decrypt: None,
        mangle: None,
    };
    let internet_bound = |name| Spec {
        recipient: recipient(&nodes.rsa3072.id, Some("pohttp.example.org")),
        sender_cert: pki.cert("peer-self"),
        chain: vec![],
        trusted: vec![],
        ..base(name)
    };
    let mut specs = vec![
        Spec {
            decrypt: decrypt(),
            ..base("parcel-valid-sha256")
        },
        Spec {
            hash: HashAlgorithm::Sha384,
            decrypt: decrypt(),
            ..base("parcel-valid-sha384")
        },
        Spec {
            hash: HashAlgorithm::Sha512,
            decrypt: decrypt(),
            ..base("parcel-valid-sha512")
        },
        Spec {
            recipient: recipient(&nodes.pe.id, Some(pki.ig_address)),
            ..base("parcel-valid-internet-address")
        },
        Spec {
            validate_at: Some(plus(now, 20 * HOUR)),
            ..base("parcel-valid-at-later-time")
        },
        internet_bound("parcel-internet-bound"),
        Spec {
            creation_date: plus(now, -2 * DAY),
            ttl: HOUR as u32,
            expect: "invalid",
            reason: Some("expired (creation_date + ttl < validate_at)"),
            ..base("parcel-expired")
        },
        Spec {
            creation_date: plus(now, DAY),
            expect: "invalid",
            reason: Some(
                "creation_date a day after validate_at (beyond any clock-drift tolerance)",
            ),
            ..base("parcel-future-dated")
        },
        Spec {
            recipient: recipient(&nodes.pg.id, None),
            expect: "invalid",
            reason: Some("chain is valid but path[1] (the PE) is not the recipient"),
            ..base("parcel-wrong-recipient")
        },
        Spec {
            chain: vec![pki.cert("pg").clone()],
            expect: "invalid",
            reason: Some("PE certificate (intermediate) missing from the attached chain"),
            ..base("parcel-broken-chain")
        },
        Spec {
            trusted: vec![certs["rsa4096-self"].clone()],
            expect: "invalid",
            reason: Some("chain does not lead to the supplied trust anchor"),
            ..base("parcel-untrusted")
        },
        Spec {
            sender_cert: pki.cert("expired"),
            expect: "invalid",
            reason: Some("sender certificate expired (checked even without trust anchors)"),
            ..internet_bound("parcel-internet-bound-expired-sender")
        },
        Spec {
            // Our output is DER and SignerInfo.signature comes last: the final octet is the
            // RSA-PSS signature's, so the signature no longer verifies.
            mangle: Some(|bytes| *bytes.last_mut().unwrap() ^= 1),
            expect: "malformed",
            reason: Some("last octet of the RSA-PSS signature flipped (rejected on parsing)"),
            ..base("parcel-tampered-signature")
        },
        Spec {
            mangle: Some(|bytes| bytes.truncate(bytes.len() / 2)),
            expect: "malformed",
            reason: Some("truncated to half its length"),
            ..base("parcel-truncated")
        },
    ];
    // Over 64 KiB, so the field set and envelope need multi-octet lengths everywhere.
    let big = ServiceMessage {
        content_type: "application/octet-stream".into(),
        content: random_bytes(150_000),
    }
    .encode()
    .unwrap();
    specs.push(Spec {
        payload: encrypt_to(pki, "peP256", &big, Default::default()),
        decrypt: Some(decrypt_block(
            out,
            pki,
            "peP256",
            "parcel-large-service-message",
            &big,
        )),
        ..base("parcel-valid-large-payload")
    });
    let mut bytes = BTreeMap::new();
    for spec in specs {
        let name = spec.name;
        bytes.insert(name, write(out, spec));
    }
    Parcels {
        bytes,
        service_message,
        service_message_bytes,
    }
}
