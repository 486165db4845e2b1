//! CMS SignedData: encapsulated verification, and detached verification for both purposes
//! over a fixed plaintext (the BER reader, the SignedData parser and the signer checks).
#![no_main]

use awala_gateway::protocols::awala::cms::{
    verify, verify_detached, HANDSHAKE_NONCE_SIGNATURE_OID, PARCEL_DELIVERY_SIGNATURE_OID,
};
use libfuzzer_sys::fuzz_target;

/// What a detached signature is checked against; any fixed value will do.
const PLAINTEXT: &[u8] = b"awala-gateway fuzz: detached signature plaintext";

fuzz_target!(|data: &[u8]| {
    let _ = verify(data);
    let _ = verify_detached(data, &PARCEL_DELIVERY_SIGNATURE_OID, PLAINTEXT);
    let _ = verify_detached(data, &HANDSHAKE_NONCE_SIGNATURE_OID, PLAINTEXT);
});
