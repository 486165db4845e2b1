use super::*;
use proptest::prelude::*;

fn example_id() -> String {
    format!("0066d9{}f5d2", "0".repeat(55))
}

fn example() -> FieldSet {
    FieldSet {
        recipient: Recipient {
            id: example_id(),
            internet_address: Some("example.com".to_string()),
        },
        id: "msg-1".to_string(),
        creation_date: DateTime::from_timestamp(1_795_417_760, 0).expect("date"),
        ttl: 3600,
        payload: b"payload".to_vec(),
    }
}

#[test]
fn matches_notes_example() {
    let mut expected = vec![0x30, 0x76, 0xA0, 0x50, 0x80, 0x41];
    expected.extend_from_slice(example_id().as_bytes());
    expected.extend_from_slice(&[0x81, 0x0B]);
    expected.extend_from_slice(b"example.com");
    expected.extend_from_slice(&[0x81, 0x05]);
    expected.extend_from_slice(b"msg-1");
    expected.extend_from_slice(&[0x82, 0x0E]);
    expected.extend_from_slice(b"20261123070920");
    expected.extend_from_slice(&[0x83, 0x02, 0x0E, 0x10, 0x84, 0x07]);
    expected.extend_from_slice(b"payload");
    assert_eq!(example().encode().expect("encode"), expected);
    assert_eq!(FieldSet::decode(&expected).expect("decode"), example());
}

#[test]
fn omits_absent_internet_address() {
    let mut fields = example();
    fields.recipient.internet_address = None;
    let encoded = fields.encode().expect("encode");
    assert_eq!(&encoded[2..6], &[0xA0, 0x43, 0x80, 0x41]);
    assert_eq!(FieldSet::decode(&encoded).expect("decode"), fields);
}

#[test]
fn expiry_is_creation_plus_ttl() {
    let fields = example();
    assert_eq!(fields.expiry_date().timestamp(), 1_795_417_760 + 3600);
}

/// Encodes without the encoder's own checks, to feed invalid values to the decoder.
fn encode_unchecked(fields: &FieldSet, date: &str) -> Vec<u8> {
    let mut recipient = vec![tlv(ctx(0), fields.recipient.id.as_bytes()).expect("tlv")];
    if let Some(address) = &fields.recipient.internet_address {
        recipient.push(tlv(ctx(1), address.as_bytes()).expect("tlv"));
    }
    constructed(
        Tag::Sequence,
        &[
            constructed(ctx_constructed(0), &recipient).expect("tlv"),
            tlv(ctx(1), fields.id.as_bytes()).expect("tlv"),
            tlv(ctx(2), date.as_bytes()).expect("tlv"),
            tlv(ctx(3), &integer_contents(fields.ttl)).expect("tlv"),
            tlv(ctx(4), &fields.payload).expect("tlv"),
        ],
    )
    .expect("tlv")
}

#[test]
fn rejects_invalid_fields() {
    let valid = example();
    assert!(FieldSet::decode(&encode_unchecked(&valid, "20261123070920")).is_ok());
    let mut cases = Vec::new();
    let mut upper = valid.clone();
    upper.recipient.id = upper.recipient.id.to_uppercase();
    cases.push((upper, "20261123070920"));
    let mut empty_id = valid.clone();
    empty_id.recipient.id = String::new();
    cases.push((empty_id, "20261123070920"));
    let mut bad_domain = valid.clone();
    bad_domain.recipient.internet_address = Some("not a domain".to_string());
    cases.push((bad_domain, "20261123070920"));
    let mut long_id = valid.clone();
    long_id.id = "a".repeat(65);
    cases.push((long_id, "20261123070920"));
    let mut long_ttl = valid.clone();
    long_ttl.ttl = MAX_TTL_SECONDS + 1;
    cases.push((long_ttl, "20261123070920"));
    cases.push((valid.clone(), "20261123070920Z"));
    cases.push((valid.clone(), "20261323070920"));
    for (fields, date) in cases {
        assert!(
            FieldSet::decode(&encode_unchecked(&fields, date)).is_err(),
            "{fields:?} {date}"
        );
        if date == "20261123070920" {
            assert!(fields.encode().is_err(), "{fields:?}");
        }
    }
    let mut max = valid;
    max.id = "a".repeat(64);
    max.ttl = MAX_TTL_SECONDS;
    assert_eq!(
        FieldSet::decode(&max.encode().expect("encode")).expect("decode"),
        max
    );
}

#[test]
fn rejects_trailing_octets_and_constructed_payload() {
    let mut encoded = example().encode().expect("encode");
    encoded.push(0);
    assert!(FieldSet::decode(&encoded).is_err());
    let constructed_payload = {
        let mut bytes = example().encode().expect("encode");
        let offset = bytes.len() - 9;
        bytes[offset] = 0xA4;
        bytes
    };
    assert!(FieldSet::decode(&constructed_payload).is_err());
}

#[test]
fn oversize_payload_is_too_large() {
    use crate::protocols::awala::error::ProtocolErrorKind;
    let mut fields = example();
    fields.payload = vec![0; MAX_RAMF_PAYLOAD_LENGTH + 1];
    let error =
        FieldSet::decode(&encode_unchecked(&fields, "20261123070920")).expect_err("too large");
    assert_eq!(error.kind(), ProtocolErrorKind::TooLarge);
    fields.payload.pop();
    assert_eq!(
        FieldSet::decode(&fields.encode().expect("encode")).expect("decode"),
        fields
    );
}

#[test]
fn rejects_negative_ttl_and_trailing_dot() {
    let mut encoded = example().encode().expect("encode");
    // TTL contents 0E 10 become 8E 10: negative.
    let position = encoded
        .windows(4)
        .position(|w| w == [0x83, 0x02, 0x0E, 0x10])
        .expect("ttl");
    encoded[position + 2] = 0x8E;
    assert!(FieldSet::decode(&encoded).is_err());
    let mut dotted = example();
    dotted.recipient.internet_address = Some("example.com.".to_string());
    assert!(FieldSet::decode(&encode_unchecked(&dotted, "20261123070920")).is_err());
}

fn field_sets() -> impl Strategy<Value = FieldSet> {
    (
        "0[a-f0-9]{64}",
        proptest::option::of("[a-z]{1,10}\\.[a-z]{2,5}"),
        "[ -~]{0,64}",
        0i64..253_402_300_799,
        0..=MAX_TTL_SECONDS,
        proptest::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(
            |(id, internet_address, message_id, seconds, ttl, payload)| FieldSet {
                recipient: Recipient {
                    id,
                    internet_address,
                },
                id: message_id,
                creation_date: DateTime::from_timestamp(seconds, 0).expect("date"),
                ttl,
                payload,
            },
        )
}

proptest! {
    #[test]
    fn round_trips(fields in field_sets()) {
        let encoded = fields.encode().expect("encode");
        prop_assert_eq!(FieldSet::decode(&encoded).expect("decode"), fields);
    }

    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = FieldSet::decode(&bytes);
    }

    #[test]
    fn decode_survives_mutation(fields in field_sets(), index in any::<usize>(), byte in any::<u8>()) {
        let mut encoded = fields.encode().expect("encode");
        let index = index % encoded.len();
        encoded[index] = byte;
        let _ = FieldSet::decode(&encoded);
    }
}
