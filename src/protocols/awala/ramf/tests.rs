//! Round trips and validation rules of RAMF messages.

use std::sync::OnceLock;

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::protocols::awala::keys::{HashAlgorithm, IdentityPrivateKey};
use crate::protocols::awala::messages::Recipient;
use crate::protocols::awala::pki::{
    issue_gateway_certificate, self_issue_identity_certificate, Certificate,
};

struct Nodes {
    gateway_key: IdentityPrivateKey,
    gateway_certificate: Certificate,
    private_key: IdentityPrivateKey,
    private_certificate: Certificate,
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
}

/// Keys are slow to generate: one set for every case.
fn nodes() -> &'static Nodes {
    static NODES: OnceLock<Nodes> = OnceLock::new();
    NODES.get_or_init(|| {
        let gateway_key = IdentityPrivateKey::generate(2048).unwrap();
        let private_key = IdentityPrivateKey::generate(2048).unwrap();
        let start = now() - Duration::days(1);
        let end = now() + Duration::days(90);
        let gateway_certificate =
            self_issue_identity_certificate(&gateway_key, start, end).unwrap();
        let private_certificate = issue_gateway_certificate(
            &private_key.public_key(),
            &gateway_key,
            Some(&gateway_certificate),
            start,
            end,
            1,
        )
        .unwrap();
        Nodes {
            gateway_key,
            gateway_certificate,
            private_key,
            private_certificate,
        }
    })
}

fn draft(creation_date: DateTime<Utc>, ttl: u32) -> MessageDraft {
    MessageDraft::new(
        Recipient {
            id: nodes().gateway_certificate.subject_id().to_string(),
            internet_address: None,
        },
        b"payload".to_vec(),
        creation_date,
        ttl,
    )
}

fn cargo(draft: &MessageDraft) -> Cargo {
    let nodes = nodes();
    let bytes = Cargo::serialize(
        draft,
        &nodes.private_key,
        &nodes.private_certificate,
        &[],
        HashAlgorithm::Sha256,
    )
    .unwrap();
    Cargo::deserialize(&bytes).unwrap()
}

#[test]
fn future_dates_are_tolerated_up_to_the_configured_window() {
    let trusted = [nodes().gateway_certificate.clone()];
    let context = ValidationContext::new(now());
    let within = cargo(&draft(now() + Duration::minutes(4), 3600));
    assert!(within.validate_with_trust(&trusted, &context).is_ok());
    let beyond = cargo(&draft(now() + Duration::minutes(6), 3600));
    assert!(matches!(
        beyond.validate_with_trust(&trusted, &context),
        Err(ValidationError::FutureDated { .. })
    ));
    let strict = context.with_future_tolerance(std::time::Duration::ZERO);
    assert!(within.validate_with_trust(&trusted, &strict).is_err());
}

#[test]
fn a_message_is_valid_at_its_expiry_instant_and_not_after() {
    let message = cargo(&draft(now() - Duration::seconds(60), 60));
    assert!(message.validate(&ValidationContext::new(now())).is_ok());
    let later = ValidationContext::new(now() + Duration::seconds(1));
    assert!(matches!(
        message.validate(&later),
        Err(ValidationError::Expired { .. })
    ));
}

#[test]
fn the_sender_must_be_issued_by_the_recipient() {
    let nodes = nodes();
    let mut misaddressed = draft(now(), 60);
    misaddressed.recipient.id = nodes.private_certificate.subject_id().to_string();
    let message = cargo(&misaddressed);
    let trusted = [nodes.gateway_certificate.clone()];
    assert!(matches!(
        message.validate_with_trust(&trusted, &ValidationContext::new(now())),
        Err(ValidationError::RecipientMismatch { .. })
    ));
}

#[test]
fn oversize_parcels_are_refused_before_parsing() {
    let bytes = vec![0u8; crate::protocols::awala::limits::MAX_PARCEL_LENGTH + 1];
    assert!(matches!(
        Parcel::deserialize(&bytes),
        Err(RamfError::TooLarge { .. })
    ));
}

#[test]
fn messages_of_another_type_are_refused() {
    let nodes = nodes();
    let bytes = Cargo::serialize(
        &draft(now(), 60),
        &nodes.private_key,
        &nodes.private_certificate,
        &[],
        HashAlgorithm::Sha256,
    )
    .unwrap();
    assert!(matches!(
        Parcel::deserialize(&bytes),
        Err(RamfError::FormatSignature(_))
    ));
    let _ = &nodes.gateway_key;
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn fields_survive_a_round_trip(
        id in "[a-zA-Z0-9-]{1,64}",
        address in proptest::option::of("[a-z]{1,10}\\.[a-z]{2,5}"),
        offset in -86_400i64..0,
        ttl in 0u32..15_552_000,
        payload in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        let mut message = draft(now() + Duration::seconds(offset), ttl);
        message.id = id;
        message.recipient.internet_address = address;
        message.payload = payload;
        let parsed = cargo(&message);
        prop_assert_eq!(parsed.id(), message.id.as_str());
        prop_assert_eq!(parsed.recipient(), &message.recipient);
        prop_assert_eq!(parsed.creation_date(), message.creation_date);
        prop_assert_eq!(parsed.ttl(), message.ttl);
        prop_assert_eq!(parsed.payload(), &message.payload[..]);
        prop_assert_eq!(parsed.sender_certificate(), &nodes().private_certificate);
    }

    #[test]
    fn deserialize_never_panics_on_mutations(position in 0usize..4096, value in any::<u8>()) {
        let nodes = nodes();
        let mut bytes = Cargo::serialize(
            &draft(now(), 60),
            &nodes.private_key,
            &nodes.private_certificate,
            &[],
            HashAlgorithm::Sha256,
        )
        .unwrap();
        let position = position % bytes.len();
        bytes[position] = value;
        let _ = Cargo::deserialize(&bytes);
        let _ = Parcel::deserialize(&bytes[..position]);
    }
}
