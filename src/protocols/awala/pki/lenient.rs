//! Leniencies real issuers need that strict DER parsing refuses.
//!
//! relaynet-core writes 8 random octets as the serial number without dropping a redundant
//! leading zero, so about 1 certificate in 512 has a non-minimal INTEGER (`02 08 00 3f …`).
//! `der` rejects it. We parse a copy whose serial is minimal and keep the original bytes for
//! everything that matters: the signature covers the original TBS, and CMS signer identifiers
//! carry the original serial.

use der::{Decode, Encode, Header, Length, Reader, SliceReader, Tag, TagNumber};

/// A copy of `der` with a minimal serial number, or `None` when the serial is already minimal
/// or the structure is not a certificate.
pub(super) fn with_minimal_serial(der: &[u8]) -> Option<Vec<u8>> {
    let mut outer = SliceReader::new(der).ok()?;
    let outer_header = Header::decode(&mut outer).ok()?;
    let outer_content = outer.read_slice(outer_header.length).ok()?;
    let mut outer_fields = SliceReader::new(outer_content).ok()?;
    let tbs = outer_fields.tlv_bytes().ok()?;
    let after_tbs = &outer_content[tbs.len()..];

    let mut tbs_reader = SliceReader::new(tbs).ok()?;
    let tbs_header = Header::decode(&mut tbs_reader).ok()?;
    let tbs_content = tbs_reader.read_slice(tbs_header.length).ok()?;
    let mut fields = SliceReader::new(tbs_content).ok()?;
    let version_tag = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber::N0,
    };
    let version = if fields.peek_tag().ok()? == version_tag {
        fields.tlv_bytes().ok()?
    } else {
        &[]
    };
    let serial_tlv = fields.tlv_bytes().ok()?;
    let rest_of_tbs = &tbs_content[version.len() + serial_tlv.len()..];

    let mut serial_reader = SliceReader::new(serial_tlv).ok()?;
    let serial_header = Header::decode(&mut serial_reader).ok()?;
    if serial_header.tag != Tag::Integer {
        return None;
    }
    let serial = serial_reader.read_slice(serial_header.length).ok()?;
    let minimal = minimal_integer(serial);
    if minimal.len() == serial.len() {
        return None;
    }

    let new_serial = tlv(Tag::Integer, &[minimal])?;
    let new_tbs = tlv(Tag::Sequence, &[version, &new_serial, rest_of_tbs])?;
    tlv(Tag::Sequence, &[&new_tbs, after_tbs])
}

/// The serial number's content octets exactly as they appear in `der` (the TBS's second field).
pub(super) fn raw_serial(tbs: &[u8]) -> Option<&[u8]> {
    let mut reader = SliceReader::new(tbs).ok()?;
    let header = Header::decode(&mut reader).ok()?;
    let content = reader.read_slice(header.length).ok()?;
    let mut fields = SliceReader::new(content).ok()?;
    if fields.peek_tag().ok()?.is_context_specific() {
        fields.tlv_bytes().ok()?;
    }
    let serial_tlv = fields.tlv_bytes().ok()?;
    let mut serial = SliceReader::new(serial_tlv).ok()?;
    let serial_header = Header::decode(&mut serial).ok()?;
    serial.read_slice(serial_header.length).ok()
}

/// Drops redundant leading octets of a two's-complement INTEGER.
fn minimal_integer(mut content: &[u8]) -> &[u8] {
    while content.len() > 1
        && ((content[0] == 0x00 && content[1] < 0x80) || (content[0] == 0xFF && content[1] >= 0x80))
    {
        content = &content[1..];
    }
    content
}

fn tlv(tag: Tag, parts: &[&[u8]]) -> Option<Vec<u8>> {
    let length: usize = parts.iter().map(|part| part.len()).sum();
    let header = Header::new(tag, Length::try_from(length).ok()?).ok()?;
    let mut out = Vec::with_capacity(length + 6);
    header.encode_to_vec(&mut out).ok()?;
    for part in parts {
        out.extend_from_slice(part);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redundant_leading_octets_are_dropped() {
        assert_eq!(minimal_integer(&[0x00, 0x3f, 0x01]), &[0x3f, 0x01]);
        assert_eq!(minimal_integer(&[0x00, 0x80]), &[0x00, 0x80]);
        assert_eq!(minimal_integer(&[0xff, 0x80]), &[0x80]);
        assert_eq!(minimal_integer(&[0x00]), &[0x00]);
    }

    #[test]
    fn relaynet_core_certificate_with_non_minimal_serial_parses_with_its_own_bytes() {
        let der = include_bytes!("../testdata/pki/js-pda-serial-leading-zero.der");
        let certificate = super::super::Certificate::from_der(der).unwrap();
        assert_eq!(certificate.der(), &der[..]);
        assert_eq!(certificate.serial_number()[0], 0x00);
        assert_eq!(certificate.serial_number().len(), 8);
    }
}
