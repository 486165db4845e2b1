//! Control messages and payload plaintexts. The first octet picks the decoder (modulo
//! `DECODERS`; `seed.sh` uses the same numbering), the rest of the input is the message.
#![no_main]

use awala_gateway::protocols::awala::messages::{
    classify_item, CargoCollectionRequest, CargoMessageSet, FieldSet, HandshakeChallenge,
    HandshakeResponse, NodeConnectionParams, ParcelCollectionAck, ParcelDelivery,
    PrivateNodeRegistration, PrivateNodeRegistrationAuthorization, PrivateNodeRegistrationRequest,
    ServiceMessage,
};
use libfuzzer_sys::fuzz_target;

const DECODERS: u8 = 12;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    match selector % DECODERS {
        0 => {
            let _ = ParcelCollectionAck::deserialize(bytes);
        }
        1 => {
            if let Ok(set) = CargoMessageSet::decode(bytes) {
                for item in &set.messages {
                    let _ = classify_item(item);
                }
            }
        }
        2 => {
            let _ = ServiceMessage::decode(bytes);
        }
        3 => {
            let _ = CargoCollectionRequest::decode(bytes);
        }
        4 => {
            let _ = HandshakeChallenge::decode(bytes);
        }
        5 => {
            let _ = HandshakeResponse::decode(bytes);
        }
        6 => {
            let _ = ParcelDelivery::decode(bytes);
        }
        7 => {
            let _ = PrivateNodeRegistrationAuthorization::deserialize_unverified(bytes);
        }
        8 => {
            let _ = PrivateNodeRegistrationRequest::deserialize_and_verify(bytes);
        }
        9 => {
            let _ = PrivateNodeRegistration::decode(bytes);
        }
        10 => {
            let _ = NodeConnectionParams::decode(bytes);
        }
        _ => {
            let _ = FieldSet::decode(bytes);
        }
    }
});
