//! X.509 certificates: parsing (including the lenient Awala profile) and, when one parses,
//! certification path building with itself as the only trust anchor.
#![no_main]

use awala_gateway::protocols::awala::pki::{build_certification_path, Certificate};
use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(certificate) = Certificate::from_der(data) else {
        return;
    };
    // The accessors used by the describers and the path builder.
    let _ = certificate.common_name();
    let _ = certificate.issuer_id();
    let _ = certificate.path_len_constraint();
    let _ = certificate.verify_issued_by(&certificate);
    let trusted = [certificate.clone()];
    for now in [certificate.not_before(), fixed_now()] {
        let _ = build_certification_path(&certificate, &[], &trusted, now, None);
        let _ = build_certification_path(&certificate, &trusted, &trusted, now, None);
    }
});

/// A fixed instant, so runs are reproducible.
fn fixed_now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_000_000, 0).expect("valid timestamp")
}
