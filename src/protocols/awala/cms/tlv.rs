//! A minimal DER TLV reader and writer for the CMS structures.
//!
//! Why not `der`/`cms` types: the verify path needs the *received* bytes of several elements
//! (signedAttrs, issuer Name, SPKI, certificates) and must not allocate per field; walking
//! borrowed TLVs gives both. Input reaching this reader has been through [`super::ber`], so
//! lengths are definite; only low tag numbers (< 31) occur in the CMS layers we walk.

use super::error::CmsError;

// Universal tags used by the CMS layers.
pub(crate) const TAG_INTEGER: u8 = 0x02;
pub(crate) const TAG_BIT_STRING: u8 = 0x03;
pub(crate) const TAG_OCTET_STRING: u8 = 0x04;
pub(crate) const TAG_NULL: u8 = 0x05;
pub(crate) const TAG_OID: u8 = 0x06;
pub(crate) const TAG_SEQUENCE: u8 = 0x30;
pub(crate) const TAG_SET: u8 = 0x31;

/// Context-specific tag `[n]`, primitive form.
pub(crate) const fn context(n: u8) -> u8 {
    0x80 | n
}

/// Context-specific tag `[n]`, constructed form.
pub(crate) const fn context_constructed(n: u8) -> u8 {
    0xA0 | n
}

/// One element: its tag, its content octets and the whole encoding (header included).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub raw: &'a [u8],
}

/// Reads consecutive DER elements from a slice, borrowing everything.
#[derive(Debug, Clone)]
pub(crate) struct DerReader<'a> {
    input: &'a [u8],
}

impl<'a> DerReader<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        DerReader { input }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.input.is_empty()
    }

    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.input.first().copied()
    }

    /// The next element, whatever its tag.
    pub(crate) fn read_any(&mut self) -> Result<Tlv<'a>, CmsError> {
        let (tlv, rest) = split_tlv(self.input)?;
        self.input = rest;
        Ok(tlv)
    }

    /// The next element, which must carry `tag`; returns its content.
    pub(crate) fn read(&mut self, tag: u8, what: &str) -> Result<&'a [u8], CmsError> {
        Ok(self.read_tlv(tag, what)?.content)
    }

    /// The next element, which must carry `tag`.
    pub(crate) fn read_tlv(&mut self, tag: u8, what: &str) -> Result<Tlv<'a>, CmsError> {
        match self.peek_tag() {
            Some(found) if found == tag => self.read_any(),
            Some(found) => Err(CmsError::malformed(format!(
                "{what}: expected tag {tag:#04x}, found {found:#04x}"
            ))),
            None => Err(CmsError::malformed(format!("{what}: missing"))),
        }
    }

    /// The next element if it carries `tag`.
    pub(crate) fn read_optional(&mut self, tag: u8) -> Result<Option<Tlv<'a>>, CmsError> {
        if self.peek_tag() == Some(tag) {
            self.read_any().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Fails if anything is left: trailing elements mean a structure we do not understand.
    pub(crate) fn finish(&self, what: &str) -> Result<(), CmsError> {
        if self.input.is_empty() {
            Ok(())
        } else {
            Err(CmsError::malformed(format!(
                "{what}: {} unexpected trailing octets",
                self.input.len()
            )))
        }
    }
}

/// Splits the first DER element off `input`.
pub(crate) fn split_tlv(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), CmsError> {
    let tag = *input
        .first()
        .ok_or_else(|| CmsError::malformed("unexpected end of input"))?;
    if tag & 0x1F == 0x1F {
        return Err(CmsError::malformed(
            "high tag numbers are not expected here",
        ));
    }
    let (length, length_octets) = read_definite_length(&input[1..])?;
    let header_len = 1 + length_octets;
    let end = header_len
        .checked_add(length)
        .filter(|end| *end <= input.len())
        .ok_or_else(|| CmsError::malformed("element longer than its input"))?;
    let tlv = Tlv {
        tag,
        content: &input[header_len..end],
        raw: &input[..end],
    };
    Ok((tlv, &input[end..]))
}

/// A definite length and the number of octets it took. Indefinite lengths are refused: the BER
/// normaliser has removed them from anything that reaches this reader.
pub(crate) fn read_definite_length(input: &[u8]) -> Result<(usize, usize), CmsError> {
    let first = *input
        .first()
        .ok_or_else(|| CmsError::malformed("missing length"))?;
    if first < 0x80 {
        return Ok((first as usize, 1));
    }
    let count = (first & 0x7F) as usize;
    if count == 0 {
        return Err(CmsError::malformed("indefinite length in der"));
    }
    // Four octets cover 4 GiB; anything longer cannot fit in the inputs we accept.
    if count > 4 || input.len() < 1 + count {
        return Err(CmsError::malformed("length field too long or truncated"));
    }
    let length = input[1..=count]
        .iter()
        .fold(0usize, |acc, octet| (acc << 8) | *octet as usize);
    Ok((length, 1 + count))
}

// === Writer ===

/// Appends a DER length.
pub(crate) fn push_length(out: &mut Vec<u8>, length: usize) {
    if length < 0x80 {
        out.push(length as u8);
        return;
    }
    let bytes = (length as u64).to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    out.push(0x80 | (8 - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

/// A DER element whose content is the concatenation of `parts`.
pub(crate) fn tlv(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let length: usize = parts.iter().map(|p| p.len()).sum();
    let mut out = Vec::with_capacity(length + 6);
    out.push(tag);
    push_length(&mut out, length);
    for part in parts {
        out.extend_from_slice(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_round_trip_in_short_and_long_forms() {
        for length in [0usize, 1, 127, 128, 255, 256, 65_535, 65_536, 9_437_184] {
            let mut out = Vec::new();
            push_length(&mut out, length);
            assert_eq!(read_definite_length(&out).unwrap(), (length, out.len()));
        }
    }

    #[test]
    fn reader_rejects_overlong_and_trailing_elements() {
        assert!(split_tlv(&[0x04, 0x05, 1, 2]).is_err());
        assert!(split_tlv(&[0x04, 0x80, 0, 0]).is_err());
        let reader = DerReader::new(&[0x05, 0x00]);
        assert!(reader.finish("x").is_err());
        let mut reader = DerReader::new(&[0x05, 0x00]);
        assert_eq!(reader.read(TAG_NULL, "null").unwrap(), &[] as &[u8]);
        assert!(reader.finish("x").is_ok());
    }
}
