use std::sync::OnceLock;

use chrono::Duration;
use proptest::prelude::*;

use super::*;
use crate::protocols::awala::error::ProtocolErrorKind;

fn key(index: usize) -> &'static IdentityPrivateKey {
    static KEYS: OnceLock<Vec<IdentityPrivateKey>> = OnceLock::new();
    &KEYS.get_or_init(|| {
        (0..2)
            .map(|_| IdentityPrivateKey::generate(2048).expect("key"))
            .collect()
    })[index]
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).expect("date")
}

fn authorization() -> PrivateNodeRegistrationAuthorization {
    PrivateNodeRegistrationAuthorization {
        expiry_date: now() + Duration::seconds(10),
        gateway_data: key(1).public_key().digest().to_vec(),
    }
}

#[test]
fn pnra_layout_and_round_trip() {
    let gateway = key(0);
    let serialized = authorization().sign(gateway).expect("sign");
    assert_eq!(&serialized[..2], &[0x30, 0x82]);
    assert_eq!(&serialized[4..6], &[0x80, 0x0E]);
    assert_eq!(&serialized[6..20], b"20270115080010");
    let verified = PrivateNodeRegistrationAuthorization::deserialize_and_verify(
        &serialized,
        &gateway.public_key(),
        now(),
    )
    .expect("verify");
    assert_eq!(verified, authorization());
    // Valid up to and including the expiry instant.
    let at_expiry = now() + Duration::seconds(10);
    assert!(
        PrivateNodeRegistrationAuthorization::deserialize_and_verify(
            &serialized,
            &gateway.public_key(),
            at_expiry
        )
        .is_ok()
    );
}

#[test]
fn pnra_signature_covers_the_plaintext_structure() {
    let gateway = key(0);
    let serialized = authorization().sign(gateway).expect("sign");
    let mut fields = DerReader::open(&serialized, Tag::Sequence, "pnra", usize::MAX).expect("open");
    let expiry = fields.expect(ctx(0), "expiry", 14).expect("expiry");
    let data = fields.expect(ctx(1), "data", 64).expect("data");
    let signature = fields.expect(ctx(2), "signature", 1024).expect("signature");
    let mut plaintext = vec![
        0x30, 0x3F, 0x80, 0x0B, 0x2B, 0x06, 0x01, 0x04, 0x01, 0x83, 0xCA, 0x54, 0x00, 0x02, 0x00,
    ];
    plaintext.extend_from_slice(&[0x81, 0x0E]);
    plaintext.extend_from_slice(expiry);
    plaintext.extend_from_slice(&[0x82, 0x20]);
    plaintext.extend_from_slice(data);
    assert_eq!(plaintext.len(), 0x3F + 2);
    assert!(gateway
        .public_key()
        .verify_pss(&plaintext, signature, pss())
        .expect("verify"));
}

#[test]
fn pnra_failures() {
    let gateway = key(0);
    let serialized = authorization().sign(gateway).expect("sign");
    let expired = PrivateNodeRegistrationAuthorization::deserialize_and_verify(
        &serialized,
        &gateway.public_key(),
        now() + Duration::seconds(11),
    )
    .expect_err("expired");
    assert!(matches!(expired, MessageError::Expired { .. }));
    assert_eq!(expired.kind(), ProtocolErrorKind::Invalid);

    let wrong_key = PrivateNodeRegistrationAuthorization::deserialize_and_verify(
        &serialized,
        &key(1).public_key(),
        now(),
    )
    .expect_err("wrong key");
    assert_eq!(wrong_key, MessageError::BadSignature("pnra"));

    // Moving the expiry date one second later breaks the signature.
    let mut tampered = serialized.clone();
    tampered[19] += 1;
    let tampered = PrivateNodeRegistrationAuthorization::deserialize_and_verify(
        &tampered,
        &gateway.public_key(),
        now(),
    )
    .expect_err("tampered");
    assert_eq!(tampered, MessageError::BadSignature("pnra"));

    let mut trailing = serialized;
    trailing.push(0);
    let trailing = PrivateNodeRegistrationAuthorization::deserialize_and_verify(
        &trailing,
        &gateway.public_key(),
        now(),
    )
    .expect_err("trailing");
    assert_eq!(trailing.kind(), ProtocolErrorKind::Malformed);
}

fn request() -> (PrivateNodeRegistrationRequest, Vec<u8>) {
    let pnra = authorization().sign(key(0)).expect("sign");
    let request = PrivateNodeRegistrationRequest {
        private_node_public_key: key(1).public_key(),
        pnra_serialized: pnra,
    };
    let serialized = request.sign(key(1)).expect("sign");
    (request, serialized)
}

#[test]
fn pnrr_round_trip() {
    let (request, serialized) = request();
    // The SPKI is wrapped in a primitive [0], not inlined as a SEQUENCE.
    assert_eq!(&serialized[4..8], &[0x80, 0x82, 0x01, 0x26]);
    let verified =
        PrivateNodeRegistrationRequest::deserialize_and_verify(&serialized).expect("verify");
    assert_eq!(verified, request);
    PrivateNodeRegistrationAuthorization::deserialize_and_verify(
        &verified.pnra_serialized,
        &key(0).public_key(),
        now(),
    )
    .expect("pnra");
}

#[test]
fn pnrr_failures() {
    let (request, serialized) = request();
    assert!(matches!(
        request.sign(key(0)),
        Err(MessageError::InvalidArgument(_))
    ));

    // Swap in another key: the countersignature no longer verifies.
    let other_spki = key(0).public_key().spki_der().to_vec();
    let own_spki = key(1).public_key().spki_der().to_vec();
    let position = serialized
        .windows(own_spki.len())
        .position(|window| window == own_spki.as_slice())
        .expect("spki");
    let mut wrong_key = serialized.clone();
    wrong_key[position..position + own_spki.len()].copy_from_slice(&other_spki);
    assert_eq!(
        PrivateNodeRegistrationRequest::deserialize_and_verify(&wrong_key),
        Err(MessageError::BadSignature("pnrr"))
    );

    // Tamper with the embedded PNRA.
    let mut tampered = serialized.clone();
    let pnra_position = position + own_spki.len() + 6;
    tampered[pnra_position] ^= 0x01;
    assert_eq!(
        PrivateNodeRegistrationRequest::deserialize_and_verify(&tampered),
        Err(MessageError::BadSignature("pnrr"))
    );

    let truncated = &serialized[..serialized.len() - 1];
    assert_eq!(
        PrivateNodeRegistrationRequest::deserialize_and_verify(truncated)
            .expect_err("truncated")
            .kind(),
        ProtocolErrorKind::Malformed
    );
}

proptest! {
    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = PrivateNodeRegistrationAuthorization::deserialize_and_verify(&bytes, &key(0).public_key(), now());
        let _ = PrivateNodeRegistrationRequest::deserialize_and_verify(&bytes);
    }

    #[test]
    fn pnrr_decode_survives_mutation(index in any::<usize>(), byte in any::<u8>()) {
        let (_, mut serialized) = request();
        let index = index % serialized.len();
        serialized[index] = byte;
        let _ = PrivateNodeRegistrationRequest::deserialize_and_verify(&serialized);
    }
}
