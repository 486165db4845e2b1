//! Certificates, certification paths and certificate rotations.

use serde_json::Value;

use super::report::{self, Report};
use super::{ArtifactKind, InspectOptions, Verdict};
use crate::protocols::awala::messages::{
    CertificateRotation, CertificationPath, CertificationPathEncoding,
};
use crate::protocols::awala::pki::{build_certification_path, Certificate};

pub(super) fn inspect_certificate(
    bytes: &[u8],
    options: &InspectOptions<'_>,
    report: &mut Report,
) -> Verdict {
    let certificate = match Certificate::from_der(bytes) {
        Ok(certificate) => certificate,
        Err(error) => return Verdict::Malformed(error.to_string()),
    };
    if let Value::Object(fields) = report::certificate(&certificate) {
        for (key, value) in fields {
            report.set(&key, value);
        }
    }
    if let Some(common_name) = certificate.common_name() {
        report.set("common_name", common_name);
    }
    validate_chain(&certificate, &[], options, report)
}

pub(super) fn inspect_path(
    kind: ArtifactKind,
    bytes: &[u8],
    options: &InspectOptions<'_>,
    report: &mut Report,
) -> Verdict {
    let decoded = if kind == ArtifactKind::CertificateRotation {
        CertificateRotation::deserialize(bytes).and_then(|rotation| {
            // Re-read the path to learn which encoding the sender used.
            let body = &bytes[bytes.len().min(7)..];
            CertificationPath::decode_with_encoding(body)
                .map(|(_, encoding)| (rotation.path, encoding))
        })
    } else {
        CertificationPath::decode_with_encoding(bytes)
    };
    let (path, encoding) = match decoded {
        Ok(decoded) => decoded,
        Err(error) => return Verdict::Malformed(error.to_string()),
    };
    report.set("leaf_sha256", report::digest(&path.leaf_der));
    report.set(
        "ca_sha256",
        report::digests(path.certificate_authorities_der.iter().map(Vec::as_slice)),
    );
    report.set(
        "encoding",
        match encoding {
            CertificationPathEncoding::Js => "js",
            CertificationPathEncoding::Jvm => "jvm",
        },
    );
    let leaf = match Certificate::from_der(&path.leaf_der) {
        Ok(leaf) => leaf,
        Err(error) => return Verdict::Malformed(format!("leaf certificate: {error}")),
    };
    let authorities: Result<Vec<Certificate>, _> = path
        .certificate_authorities_der
        .iter()
        .map(|der| Certificate::from_der(der))
        .collect();
    let authorities = match authorities {
        Ok(authorities) => authorities,
        Err(error) => return Verdict::Malformed(format!("ca certificate: {error}")),
    };
    report.set("leaf", report::certificate(&leaf));
    report.set(
        "certificate_authorities",
        Value::Array(authorities.iter().map(report::certificate).collect()),
    );
    validate_chain(&leaf, &authorities, options, report)
}

/// With trust anchors, a path to one of them; without, the certificate's own validity.
fn validate_chain(
    leaf: &Certificate,
    intermediates: &[Certificate],
    options: &InspectOptions<'_>,
    report: &mut Report,
) -> Verdict {
    if options.trusted.is_empty() {
        return if leaf.is_valid_at(options.now) {
            Verdict::Valid
        } else {
            Verdict::Invalid(format!("certificate is not valid at {}", options.now))
        };
    }
    match build_certification_path(leaf, intermediates, options.trusted, options.now, None) {
        Ok(path) => {
            report.set("chain_length", path.len());
            Verdict::Valid
        }
        Err(error) => Verdict::Invalid(error.to_string()),
    }
}
