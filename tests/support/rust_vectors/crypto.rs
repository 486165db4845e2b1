//! Detached signatures (PoWeb), encapsulated SignedData and session EnvelopedData.

use std::collections::BTreeMap;

use serde_json::json;

use super::super::manifest::{Decrypt, Detached, Item};
use super::parcels::Parcels;
use super::pki::{Node, Pki};
use super::{manifest_item, object, sha256_hex, Output};
use awala_gateway::protocols::awala::cms::{
    self, session_encrypt, sign_detached, EnvelopeOptions, HANDSHAKE_NONCE_SIGNATURE_OID,
    PARCEL_DELIVERY_SIGNATURE_OID,
};
use awala_gateway::protocols::awala::keys::{random_bytes, HashAlgorithm};
use awala_gateway::protocols::awala::pki::Certificate;

/// What the binding-message section reuses.
pub struct Signatures {
    pub nonce: Vec<u8>,
    pub handshake_signature: Vec<u8>,
}

pub fn write_detached_signatures(
    out: &mut Output,
    pki: &Pki,
    certs: &BTreeMap<&'static str, String>,
    parcels: &Parcels,
) -> Signatures {
    let nodes = &pki.nodes;
    let parcel = &parcels.bytes["parcel-valid-sha256"];
    let parcel_path = "parcel-valid-sha256.der".to_string(); // written by the parcel section
    let nonce = random_bytes(16);
    let nonce_path = out.file("plain/handshake-nonce.bin", &nonce);
    let other_nonce_path = out.file("plain/other-nonce.bin", &[0x42; 16]);
    let sign = |oid, plaintext: &[u8], signer: &Node, cert: &Certificate| {
        sign_detached(
            oid,
            plaintext,
            &signer.key,
            cert.der(),
            HashAlgorithm::Sha256,
        )
        .unwrap()
    };
    let (delivery_oid, handshake_oid) = (
        &PARCEL_DELIVERY_SIGNATURE_OID,
        &HANDSHAKE_NONCE_SIGNATURE_OID,
    );
    let (pg, pg_cert) = (&nodes.pg, pki.cert("pg"));
    let handshake_signature = sign(handshake_oid, &nonce, pg, pg_cert);
    let cases = [
        (
            "detached-parcel-delivery",
            sign(delivery_oid, parcel, pg, pg_cert),
            &parcel_path,
            delivery_oid,
            pg,
            None,
        ),
        (
            "detached-handshake-nonce",
            handshake_signature.clone(),
            &nonce_path,
            handshake_oid,
            pg,
            None,
        ),
        (
            "detached-untrusted-signer",
            sign(handshake_oid, &nonce, &nodes.rsa4096, pki.cert("rsa4096-self")),
            &nonce_path,
            handshake_oid,
            &nodes.rsa4096,
            Some("signer certificate does not chain to the trusted IG certificate"),
        ),
        (
            "detached-wrong-purpose",
            sign(delivery_oid, &nonce, pg, pg_cert),
            &nonce_path,
            handshake_oid,
            pg,
            Some("signed as a parcel-delivery countersignature (…0.3.0), checked as a handshake signature (…0.3.1)"),
        ),
        (
            "detached-wrong-plaintext",
            handshake_signature.clone(),
            &other_nonce_path,
            handshake_oid,
            pg,
            Some("signature over another nonce"),
        ),
    ];
    for (name, signature, plaintext, oid, signer, reason) in cases {
        let file = out.file(&format!("{name}.der"), &signature);
        let expect = if reason.is_some() { "invalid" } else { "valid" };
        let fields = object(json!({ "signer_id": signer.id }));
        out.item(Item {
            trusted_certificates: vec![certs["ig"].clone()],
            detached: Some(Detached {
                plaintext: plaintext.clone(),
                oid: oid.to_string(),
            }),
            ..manifest_item(name, "detached_signature", &file, expect, reason, fields)
        });
    }
    Signatures {
        nonce,
        handshake_signature,
    }
}

pub fn write_signed_data(out: &mut Output, pki: &Pki, certs: &BTreeMap<&'static str, String>) {
    let pg = &pki.nodes.pg;
    let plaintext = b"Signed by the private gateway, attached chain = [IG certificate]".to_vec();
    let ig_der = vec![pki.cert("ig").der().to_vec()];
    let sign = |plain: &[u8], hash| {
        cms::sign(plain, &pg.key, pki.cert("pg").der(), &ig_der, hash).unwrap()
    };
    let trusted = vec![certs["ig"].clone()];
    for (hash, short) in [
        (HashAlgorithm::Sha256, "sha256"),
        (HashAlgorithm::Sha384, "sha384"),
        (HashAlgorithm::Sha512, "sha512"),
    ] {
        let name = format!("signed-data-{short}");
        let file = out.file(&format!("{name}.der"), &sign(&plaintext, hash));
        let fields = object(json!({
            "plaintext_sha256": sha256_hex(&plaintext),
            "signer_id": pg.id,
            "hash": short,
        }));
        out.item(Item {
            trusted_certificates: trusted.clone(),
            ..manifest_item(&name, "signed_data", &file, "valid", None, fields)
        });
    }
    // Flip one octet of the encapsulated plaintext: still parses, the digest no longer matches.
    let mut bytes = sign(&plaintext, HashAlgorithm::Sha256);
    let offset = bytes
        .windows(plaintext.len())
        .position(|window| window == plaintext.as_slice())
        .expect("plaintext is encapsulated verbatim");
    bytes[offset] ^= 0x20;
    let mut tampered = plaintext.clone();
    tampered[0] ^= 0x20;
    let name = "signed-data-tampered-content";
    let file = out.file(&format!("{name}.der"), &bytes);
    let fields = object(json!({
        "plaintext_sha256": sha256_hex(&tampered),
        "signer_id": pg.id,
        "hash": "sha256",
    }));
    let reason = Some("one octet of the encapsulated content changed after signing");
    out.item(Item {
        trusted_certificates: trusted,
        ..manifest_item(name, "signed_data", &file, "invalid", reason, fields)
    });
}

pub fn write_session_envelopes(out: &mut Output, pki: &Pki) {
    // Over 1 KiB, so the ciphertext needs a two-octet length.
    let plaintext = b"Session-encrypted plaintext ".repeat(64);
    let plaintext_path = out.file("plain/envelope.bin", &plaintext);
    let js = EnvelopeOptions::relaynet_core_js();
    let cases = [
        ("session-envelope-p256", "igP256", "igP256", EnvelopeOptions::default(), None),
        ("session-envelope-p256-js-options", "igP256", "igP256", js, None),
        ("session-envelope-p384", "igP384", "igP384", EnvelopeOptions::default(), None),
        ("session-envelope-p521", "igP521", "igP521", EnvelopeOptions::default(), None),
        (
            "session-envelope-unknown-key-id",
            "igP256",
            "igOther",
            EnvelopeOptions::default(),
            Some("recipient key id differs from the supplied key (its id is in decrypt.session_key_id)"),
        ),
    ];
    for (name, recipient, decrypt_with, options, reason) in cases {
        let recipient = pki.session(recipient);
        let decrypt_with_session = pki.session(decrypt_with);
        let encryption =
            session_encrypt(&plaintext, &recipient.pair.session_key(), options).unwrap();
        let file = out.file(&format!("{name}.der"), &encryption.envelope);
        let expect = if reason.is_some() { "invalid" } else { "valid" };
        let fields = object(json!({
            "recipient_key_id": recipient.key_id_hex(),
            "originator_key_id": hex::encode(encryption.originator_key.id.as_bytes()),
            "curve": recipient.curve,
        }));
        let key = decrypt_with_session
            .pair
            .private_key
            .to_pkcs8_der()
            .unwrap();
        out.item(Item {
            decrypt: Some(Decrypt {
                session_private_key: out
                    .file(&format!("keys/{decrypt_with}-session.pkcs8.der"), &key),
                session_key_id: Some(decrypt_with_session.key_id_hex()),
                plaintext: plaintext_path.clone(),
            }),
            ..manifest_item(name, "session_envelope", &file, expect, reason, fields)
        });
    }
}
