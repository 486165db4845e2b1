//! Test helpers: throwaway signer certificates and a DER → BER rewriter that mimics what
//! relaynet-core (pkijs) and Bouncy Castle emit.

use std::sync::OnceLock;

use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::x509::extension::SubjectKeyIdentifier;
use openssl::x509::{X509Builder, X509NameBuilder};

use super::super::keys::IdentityPrivateKey;
use super::tlv::{split_tlv, DerReader};

/// A signer: an RSA-2048 key and a minimal self-signed v3 certificate (with SKI) for it.
pub(crate) struct TestSigner {
    pub key: IdentityPrivateKey,
    pub certificate_der: Vec<u8>,
}

/// Two signers, generated once per test binary (RSA key generation is slow).
pub(crate) fn signers() -> &'static [TestSigner; 2] {
    static SIGNERS: OnceLock<[TestSigner; 2]> = OnceLock::new();
    SIGNERS.get_or_init(|| [new_signer("signer", 1), new_signer("other", 2)])
}

pub(crate) fn new_signer(common_name: &str, serial: u32) -> TestSigner {
    let key = IdentityPrivateKey::generate(2048).unwrap();
    let certificate_der = self_signed_certificate(&key, common_name, serial);
    TestSigner {
        key,
        certificate_der,
    }
}

pub(crate) fn self_signed_certificate(
    key: &IdentityPrivateKey,
    common_name: &str,
    serial: u32,
) -> Vec<u8> {
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", common_name).unwrap();
    let name = name.build();
    let mut builder = X509Builder::new().unwrap();
    builder.set_version(2).unwrap();
    let serial = Asn1Integer::from_bn(&BigNum::from_u32(serial).unwrap()).unwrap();
    builder.set_serial_number(&serial).unwrap();
    builder.set_subject_name(&name).unwrap();
    builder.set_issuer_name(&name).unwrap();
    builder.set_pubkey(key.pkey()).unwrap();
    builder
        .set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    builder
        .set_not_after(&Asn1Time::days_from_now(1).unwrap())
        .unwrap();
    let ski = SubjectKeyIdentifier::new()
        .build(&builder.x509v3_context(None, None))
        .unwrap();
    builder.append_extension(ski).unwrap();
    builder.sign(key.pkey(), MessageDigest::sha256()).unwrap();
    builder.build().to_der().unwrap()
}

/// How to turn DER into BER.
pub(crate) struct BerStyle<'a> {
    /// Constructed elements shallower than this get indefinite lengths.
    pub indefinite_depth: usize,
    /// Segment size for strings that [`BerStyle::split`] selects.
    pub segment: usize,
    /// Whether a primitive string with `(tag, parent tag)` becomes a constructed one.
    pub split: &'a dyn Fn(u8, u8) -> bool,
    /// Segmented strings use indefinite lengths (Bouncy Castle) rather than definite (pkijs).
    pub indefinite_segments: bool,
}

/// Rewrites one DER element in `style`.
pub(crate) fn to_ber(der: &[u8], style: &BerStyle<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    rewrite(der, 0, 0, style, &mut out);
    out
}

fn rewrite(der: &[u8], depth: usize, parent: u8, style: &BerStyle<'_>, out: &mut Vec<u8>) {
    let (tlv, rest) = split_tlv(der).unwrap();
    assert!(rest.is_empty());
    let constructed = tlv.tag & 0x20 != 0;
    if !constructed && (style.split)(tlv.tag, parent) {
        let mut segments = Vec::new();
        for piece in tlv.content.chunks(style.segment.max(1)) {
            segments.extend(super::tlv::tlv(0x04, &[piece]));
        }
        if tlv.content.is_empty() {
            segments.extend([0x04, 0x00]);
        }
        wrap(tlv.tag | 0x20, &segments, style.indefinite_segments, out);
        return;
    }
    if !constructed {
        out.extend_from_slice(tlv.raw);
        return;
    }
    let mut children = Vec::new();
    let mut reader = DerReader::new(tlv.content);
    while !reader.is_empty() {
        let child = reader.read_any().unwrap();
        rewrite(child.raw, depth + 1, tlv.tag, style, &mut children);
    }
    wrap(tlv.tag, &children, depth < style.indefinite_depth, out);
}

fn wrap(tag: u8, content: &[u8], indefinite: bool, out: &mut Vec<u8>) {
    if indefinite {
        out.extend([tag, 0x80]);
        out.extend_from_slice(content);
        out.extend([0, 0]);
    } else {
        out.extend(super::tlv::tlv(tag, &[content]));
    }
}
