//! Awala PKI: X.509 certificates, their issuance and certification path validation.
//!
//! Pure code: no I/O, no clock (callers pass `now`). Certificates follow the profile both
//! reference libraries emit (see `awala-protocol-notes.md` §1.3–§1.6), including the parts
//! stock X.509 stacks reject: BMPString CNs, 32-byte key ids, AKI on self-issued certificates,
//! `pathLenConstraint` on non-CA certificates and RSA-PSS parameters with explicit NULLs.
//!
//! Layout:
//! - [`certificate`]: [`Certificate`], parsed once from DER, cheap to clone.
//! - [`algorithm`]: signature `AlgorithmIdentifier`s (RSA-PSS, PKCS#1 v1.5 on input).
//! - [`issue`]: issuing certificates with the Awala profile.
//! - [`path`]: building and validating certification paths.
//! - [`cache`]: [`SignatureCache`], which spares repeated RSA checks of the same chain.
//! - [`certificate_cache`]: [`CertificateCache`], which spares parsing the same chain again.
//! - [`error`]: the [`PkiError`] type.

pub mod algorithm;
pub mod cache;
pub mod certificate;
pub mod certificate_cache;
pub mod error;
pub mod issue;
mod lenient;
mod memo;
pub mod path;
#[cfg(test)]
pub(crate) mod testing;

pub use cache::SignatureCache;
pub use certificate::Certificate;
pub use certificate_cache::CertificateCache;
pub use error::PkiError;
pub use issue::{
    issue_certificate, issue_delivery_authorization, issue_endpoint_certificate,
    issue_gateway_certificate, self_issue_identity_certificate, CertificateIssuance,
};
pub use path::build_certification_path;
