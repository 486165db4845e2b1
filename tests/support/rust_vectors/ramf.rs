//! The RAMF helpers shared by the parcel and cargo sections: one signed message per item,
//! with session-encrypted payloads.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::super::manifest::{Decrypt, Item};
use super::pki::{Node, Pki};
use super::{iso, manifest_item, object, sha256_hex, Output};
use awala_gateway::protocols::awala::cms::{session_encrypt, EnvelopeOptions};
use awala_gateway::protocols::awala::keys::HashAlgorithm;
use awala_gateway::protocols::awala::messages::Recipient;
use awala_gateway::protocols::awala::pki::Certificate;
use awala_gateway::protocols::awala::ramf::{
    Cargo, CargoCollectionAuthorization, MessageDraft, Parcel,
};

/// Encrypts to one of the PKI's session keys.
pub fn encrypt_to(pki: &Pki, session: &str, plaintext: &[u8], options: EnvelopeOptions) -> Vec<u8> {
    let recipient = pki.session(session).pair.session_key();
    session_encrypt(plaintext, &recipient, options)
        .unwrap()
        .envelope
}

/// The `decrypt` block: the session key (with its id) and the expected plaintext.
pub fn decrypt_block(out: &Output, pki: &Pki, session: &str, name: &str, plain: &[u8]) -> Decrypt {
    let pair = &pki.session(session).pair;
    Decrypt {
        session_private_key: out.file(
            &format!("keys/{session}-session.pkcs8.der"),
            &pair.private_key.to_pkcs8_der().unwrap(),
        ),
        plaintext: out.file(&format!("plain/{name}.bin"), plain),
        session_key_id: Some(pki.session(session).key_id_hex()),
    }
}

pub fn recipient(id: &str, internet_address: Option<&str>) -> Recipient {
    Recipient {
        id: id.into(),
        internet_address: internet_address.map(Into::into),
    }
}

/// One RAMF message to sign and describe as an item; `mangle` corrupts the written file.
pub struct Spec<'a> {
    pub name: &'static str,
    pub kind: &'static str,
    pub recipient: Recipient,
    pub creation_date: DateTime<Utc>,
    pub ttl: u32,
    pub payload: Vec<u8>,
    pub sender: &'a Node,
    pub sender_cert: &'a Certificate,
    pub chain: Vec<Certificate>,
    pub hash: HashAlgorithm,
    pub trusted: Vec<String>,
    pub expect: &'static str,
    pub reason: Option<&'static str>,
    pub validate_at: Option<DateTime<Utc>>,
    pub decrypt: Option<Decrypt>,
    pub mangle: Option<fn(&mut Vec<u8>)>,
}

/// Signs `spec` and registers its item; returns the unmangled serialisation.
pub fn write(out: &mut Output, spec: Spec<'_>) -> Vec<u8> {
    let draft = MessageDraft {
        recipient: spec.recipient.clone(),
        id: format!("{}-id", spec.name),
        creation_date: spec.creation_date,
        ttl: spec.ttl,
        payload: spec.payload.clone(),
    };
    let (key, cert, chain, hash) = (&spec.sender.key, spec.sender_cert, &spec.chain, spec.hash);
    let bytes = match spec.kind {
        "parcel" => Parcel::serialize(&draft, key, cert, chain, hash),
        "cargo" => Cargo::serialize(&draft, key, cert, chain, hash),
        "cca" => CargoCollectionAuthorization::serialize(&draft, key, cert, chain, hash),
        other => panic!("not a RAMF kind: {other}"),
    }
    .unwrap();
    let mut file_bytes = bytes.clone();
    if let Some(mangle) = spec.mangle {
        mangle(&mut file_bytes);
    }
    let fields = match spec.expect {
        "malformed" => Default::default(),
        _ => object(json!({
            "id": draft.id,
            "recipient_id": spec.recipient.id,
            "recipient_internet_address": spec.recipient.internet_address,
            "creation_date": iso(spec.creation_date),
            "ttl": spec.ttl,
            "payload_sha256": sha256_hex(&spec.payload),
            "sender_id": spec.sender.id,
            "sender_ca_count": chain.len(),
        })),
    };
    let file = out.file(&format!("{}.der", spec.name), &file_bytes);
    out.item(Item {
        validate_at: spec.validate_at.map(iso),
        trusted_certificates: spec.trusted,
        decrypt: spec.decrypt,
        ..manifest_item(
            spec.name,
            spec.kind,
            &file,
            spec.expect,
            spec.reason,
            fields,
        )
    });
    bytes
}
