//! Session EnvelopedData: reading the key ids and originator key, and decrypting with a fixed
//! P-256 session key (ECDH, the KDF, key unwrap and the content cipher on hostile parameters).
#![no_main]

use std::sync::OnceLock;

use awala_gateway::protocols::awala::cms::{session_decrypt, session_envelope_info};
use awala_gateway::protocols::awala::keys::{EcCurve, SessionPrivateKey};
use libfuzzer_sys::fuzz_target;

/// Generated once per process: the inputs cannot be encrypted to it, but every step up to
/// the key unwrap runs on the envelope's own values.
fn recipient_key() -> &'static SessionPrivateKey {
    static KEY: OnceLock<SessionPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| SessionPrivateKey::generate(EcCurve::P256).expect("P-256 key"))
}

fuzz_target!(|data: &[u8]| {
    let _ = session_envelope_info(data);
    let _ = session_decrypt(data, recipient_key());
});
