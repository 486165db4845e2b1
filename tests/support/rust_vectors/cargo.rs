//! Cargo in both directions and CCAs, as private gateways and our gateway build them.

use std::collections::BTreeMap;

use super::parcels::Parcels;
use super::pki::Pki;
use super::ramf::{decrypt_block, encrypt_to, recipient, write, Spec};
use super::{plus, Output, DAY, HOUR};
use awala_gateway::protocols::awala::cms::EnvelopeOptions;
use awala_gateway::protocols::awala::keys::HashAlgorithm;
use awala_gateway::protocols::awala::messages::{
    CargoCollectionRequest, CargoMessageSet, CertificateRotation, CertificationPath,
    CertificationPathEncoding, ParcelCollectionAck,
};

/// What the control-message section reuses.
pub struct CargoContext {
    pub pg_to_ig_set: Vec<u8>,
    pub pg_to_ig_items: Vec<Vec<u8>>,
    pub pca_to_pg: ParcelCollectionAck,
    pub ccr: Vec<u8>,
    pub rotation: CertificationPath,
}

pub fn write_cargo_and_ccas(
    out: &mut Output,
    pki: &Pki,
    certs: &BTreeMap<&'static str, String>,
    parcels: &Parcels,
) -> CargoContext {
    let (now, nodes) = (pki.now, &pki.nodes);
    let pca_to_pg = ParcelCollectionAck {
        sender_endpoint_id: nodes.peer.id.clone(),
        recipient_endpoint_id: nodes.pe.id.clone(),
        parcel_id: "parcel-collected-earlier".into(),
    };
    let pg_to_ig_items = vec![
        parcels.bytes["parcel-internet-bound"].clone(),
        parcels.bytes["parcel-valid-sha256"].clone(),
        pca_to_pg.serialize().unwrap(),
    ];
    let pg_to_ig_set = CargoMessageSet {
        messages: pg_to_ig_items.clone(),
    }
    .encode()
    .unwrap();
    let envelope = |session, plain: &[u8], options| encrypt_to(pki, session, plain, options);
    // PG → IG: signed by the PG's IG-issued certificate; back-dated 3 h like real gateways.
    let from_pg = |name, kind, session, plain: &[u8], plain_name, options| Spec {
        name,
        kind,
        recipient: recipient(&nodes.ig.id, Some(pki.ig_address)),
        creation_date: plus(now, -3 * HOUR),
        ttl: (14 * DAY) as u32,
        payload: envelope(session, plain, options),
        sender: &nodes.pg,
        sender_cert: pki.cert("pg"),
        chain: vec![],
        hash: HashAlgorithm::Sha256,
        trusted: vec![certs["ig"].clone()],
        expect: "valid",
        reason: None,
        validate_at: None,
        decrypt: Some(decrypt_block(out, pki, session, plain_name, plain)),
        mangle: None,
    };
    let set = pg_to_ig_set.as_slice();
    let js = EnvelopeOptions::relaynet_core_js();
    let mut specs = vec![
        from_pg(
            "cargo-pg-to-ig-p256",
            "cargo",
            "igP256",
            set,
            "cargo-pg-to-ig",
            Default::default(),
        ),
        from_pg(
            "cargo-pg-to-ig-p256-js-envelope",
            "cargo",
            "igP256",
            set,
            "cargo-pg-to-ig",
            js,
        ),
        from_pg(
            "cargo-pg-to-ig-p384",
            "cargo",
            "igP384",
            set,
            "cargo-pg-to-ig",
            Default::default(),
        ),
        from_pg(
            "cargo-pg-to-ig-p521",
            "cargo",
            "igP521",
            set,
            "cargo-pg-to-ig",
            Default::default(),
        ),
    ];

    // IG → PG, as the gateway builds it: signed with the CDA the PG issued to us, no chain, no
    // Internet address, back-dated 3 h; the PG trusts the certificate it issued the CDA from.
    // Android gateways get the rotation in the JVM encoding, desktop ones in the JS encoding.
    let rotation = CertificationPath {
        leaf_der: pki.cert("pg").der().to_vec(),
        certificate_authorities_der: vec![pki.cert("ig").der().to_vec()],
    };
    let pca_to_pe = ParcelCollectionAck {
        sender_endpoint_id: nodes.pe.id.clone(),
        recipient_endpoint_id: nodes.peer.id.clone(),
        parcel_id: "parcel-delivered-earlier".into(),
    };
    for (name, cda, anchor, encoding, plain_name) in [
        (
            "cargo-ig-to-pg",
            "cda",
            "pg-self",
            CertificationPathEncoding::Js,
            "cargo-ig-to-pg-js",
        ),
        (
            "cargo-ig-to-pg-jvm-cda",
            "cda-jvm-style",
            "pg",
            CertificationPathEncoding::Jvm,
            "cargo-ig-to-pg-jvm",
        ),
    ] {
        let rotation = CertificateRotation {
            path: rotation.clone(),
        };
        let plain = CargoMessageSet {
            messages: vec![
                parcels.bytes["parcel-valid-sha256"].clone(),
                pca_to_pe.serialize().unwrap(),
                rotation.serialize(encoding).unwrap(),
            ],
        }
        .encode()
        .unwrap();
        specs.push(Spec {
            recipient: recipient(&nodes.pg.id, None),
            ttl: (7 * DAY) as u32,
            sender: &nodes.ig,
            sender_cert: pki.cert(cda),
            trusted: vec![certs[anchor].clone()],
            // Only the sender side differs: payload and decrypt block are for the PG's key.
            ..from_pg(
                name,
                "cargo",
                "pgP256",
                &plain,
                plain_name,
                Default::default(),
            )
        });
    }

    // CCA: PG → IG, the CCR carries the CDA for the IG to sign its cargo with.
    let ccr = CargoCollectionRequest {
        cargo_delivery_authorization_der: pki.cert("cda").der().to_vec(),
    }
    .encode()
    .unwrap();
    let cca = |name| Spec {
        creation_date: plus(now, -90 * 60),
        ttl: (14 * DAY + 90 * 60) as u32,
        ..from_pg(name, "cca", "igP256", &ccr, "ccr", Default::default())
    };
    specs.push(cca("cca-valid"));
    specs.push(Spec {
        recipient: recipient(&nodes.pg.id, Some(pki.ig_address)),
        expect: "invalid",
        reason: Some("path[1] (the IG) is not the recipient"),
        ..cca("cca-wrong-recipient")
    });
    specs.push(Spec {
        decrypt: Some(decrypt_block(out, pki, "igOther", "ccr", &ccr)),
        expect: "invalid",
        reason: Some(
            "payload encrypted to another IG session key (decrypt.session_key_id differs)",
        ),
        ..cca("cca-unknown-session-key")
    });
    for spec in specs {
        write(out, spec);
    }
    CargoContext {
        pg_to_ig_set,
        pg_to_ig_items,
        pca_to_pg,
        ccr,
        rotation,
    }
}
