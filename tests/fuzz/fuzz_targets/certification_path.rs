//! Certification paths in both encodings (relaynet-core's OCTET STRINGs and the JVM's re-tagged
//! SEQUENCEs) and certificate rotation messages.
#![no_main]

use awala_gateway::protocols::awala::messages::{CertificateRotation, CertificationPath};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((path, encoding)) = CertificationPath::decode_with_encoding(data) {
        // What decodes must encode again in the same form.
        let _ = path.encode_as(encoding);
    }
    let _ = CertificateRotation::deserialize(data);
});
