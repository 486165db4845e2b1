//! Recognition of an artifact from its bytes: the format signature first, then the ASN.1 shape
//! of plain DER values. Several control messages share a shape (a SEQUENCE of `[0]` and `[1]`
//! primitives), so content decides between them.

use super::ArtifactKind;
use crate::protocols::awala::messages::{self, MessageType};
use crate::protocols::awala::pki::Certificate;

const ID_SIGNED_DATA: [u8; 11] = [
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
];
const ID_ENVELOPED_DATA: [u8; 11] = [
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03,
];
const ID_DATA: [u8; 11] = [
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
];

/// The most plausible kind of `bytes`, or `None` if nothing fits.
pub fn detect(bytes: &[u8]) -> Option<ArtifactKind> {
    if let Some(message_type) = messages::detect(bytes) {
        return Some(match message_type {
            MessageType::Parcel => ArtifactKind::Parcel,
            MessageType::Cargo => ArtifactKind::Cargo,
            MessageType::Cca => ArtifactKind::Cca,
            MessageType::Pca => ArtifactKind::Pca,
            MessageType::CertificateRotation => ArtifactKind::CertificateRotation,
        });
    }
    if bytes.first() != Some(&0x30) {
        return None;
    }
    if let Some(kind) = detect_cms(bytes) {
        return Some(kind);
    }
    if Certificate::from_der(bytes).is_ok() {
        return Some(ArtifactKind::Certificate);
    }
    detect_control_message(bytes)
}

/// ContentInfo starts `30 <len> 06 09 <content type>`; BER may use an indefinite length.
fn detect_cms(bytes: &[u8]) -> Option<ArtifactKind> {
    let header = header_length(bytes)?;
    let content_type = bytes.get(header..header + ID_DATA.len())?;
    if content_type == ID_ENVELOPED_DATA {
        return Some(ArtifactKind::SessionEnvelope);
    }
    if content_type != ID_SIGNED_DATA {
        return None;
    }
    // The first id-data after the content type is encapContentInfo's eContentType. The
    // SEQUENCE around it holds nothing else when the signature is detached: `30 0b` in DER, or
    // an indefinite length closed right after the OID.
    let rest = &bytes[header + ID_DATA.len()..];
    let position = rest.windows(ID_DATA.len()).position(|w| w == ID_DATA)?;
    let sequence_header = rest.get(position.checked_sub(2)?..position)?;
    let after_oid = rest.get(position + ID_DATA.len());
    let detached = match sequence_header {
        [0x30, 0x0b] => true,
        [0x30, 0x80] => after_oid == Some(&0x00),
        _ => false,
    };
    Some(if detached {
        ArtifactKind::DetachedSignature
    } else {
        ArtifactKind::SignedData
    })
}

fn detect_control_message(bytes: &[u8]) -> Option<ArtifactKind> {
    let children = top_level_children(bytes)?;
    let tags: Vec<u8> = children.iter().map(|(tag, _)| *tag).collect();
    let content = |index: usize| {
        children
            .get(index)
            .map(|(_, content)| *content)
            .unwrap_or(&[])
    };
    let kind = match tags.as_slice() {
        [] => ArtifactKind::CargoMessageSet,
        tags if tags.iter().all(|tag| *tag == 0x04) => ArtifactKind::CargoMessageSet,
        [0x80, 0x81, 0x82] if is_date_time(content(0)) => ArtifactKind::Pnra,
        [0x80, 0x81, 0x82] if is_visible(content(2)) => ArtifactKind::Pnr,
        [0x80, 0x81, 0x82] => ArtifactKind::Pnrr,
        [0x80, 0x81, 0x82, 0xA3] => ArtifactKind::Pnr,
        [0x80, 0x81, 0xA2] => ArtifactKind::NodeConnectionParams,
        [0x80, 0x81] if messages::detect(content(1)) == Some(MessageType::Parcel) => {
            ArtifactKind::ParcelDelivery
        }
        [0x80, 0x81] => ArtifactKind::ServiceMessage,
        [0x80 | 0xA0, 0xA1] => ArtifactKind::CertificationPath,
        [0xA0] => ArtifactKind::HandshakeResponse,
        [0x80] if Certificate::from_der(content(0)).is_ok() => ArtifactKind::Ccr,
        [0x80] => ArtifactKind::HandshakeChallenge,
        _ => return None,
    };
    Some(kind)
}

/// `(tag, content)` of each element of a DER SEQUENCE, or `None` if it is not one.
fn top_level_children(bytes: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let (content, rest) = tlv(bytes)?;
    if !rest.is_empty() {
        return None;
    }
    let mut children = Vec::new();
    let mut remaining = content;
    while !remaining.is_empty() {
        let tag = remaining[0];
        let (child, after) = tlv(remaining)?;
        children.push((tag, child));
        remaining = after;
    }
    Some(children)
}

/// The content of the DER TLV at the start of `bytes`, and what follows it.
fn tlv(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let header = header_length(bytes)?;
    let length = match *bytes.get(1)? {
        short @ 0..=0x7F => short as usize,
        0x81..=0x84 => {
            let octets = (bytes[1] & 0x7F) as usize;
            bytes
                .get(2..2 + octets)?
                .iter()
                .fold(0usize, |acc, octet| (acc << 8) | *octet as usize)
        }
        _ => return None,
    };
    let end = header.checked_add(length)?;
    Some((bytes.get(header..end)?, &bytes[end..]))
}

/// Octets taken by the tag and length of the TLV at the start of `bytes` (single-octet tags).
fn header_length(bytes: &[u8]) -> Option<usize> {
    match *bytes.get(1)? {
        0..=0x80 => Some(2),
        0x81..=0x84 => Some(2 + (bytes[1] & 0x7F) as usize),
        _ => None,
    }
}

fn is_date_time(content: &[u8]) -> bool {
    content.len() == 14 && content.iter().all(u8::is_ascii_digit)
}

fn is_visible(content: &[u8]) -> bool {
    !content.is_empty() && content.iter().all(|octet| (0x20..0x7F).contains(octet))
}
