//! Small DER helpers shared by the message codecs.
//!
//! The Awala structures use IMPLICIT context tags on VisibleString, DATE-TIME and INTEGER, which
//! the `der` derive macros cannot express without wrapper types, so we read and write TLVs by
//! hand on top of `der`'s header and length codecs (which reject non-canonical lengths).

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use der::{Decode, Encode, Header, Reader, SliceReader, Tag, TagNumber};

use crate::protocols::awala::error::Asn1Error;

/// A primitive context-specific tag `[n]`.
pub(super) fn ctx(number: u8) -> Tag {
    Tag::ContextSpecific {
        constructed: false,
        number: TagNumber::new(number),
    }
}

/// A constructed context-specific tag `[n]`.
pub(super) fn ctx_constructed(number: u8) -> Tag {
    Tag::ContextSpecific {
        constructed: true,
        number: TagNumber::new(number),
    }
}

/// Encodes one TLV.
pub(super) fn tlv(tag: Tag, content: &[u8]) -> Result<Vec<u8>, Asn1Error> {
    let header = Header::new(tag, content.len()).map_err(|e| Asn1Error::Encode(e.to_string()))?;
    let mut out = Vec::with_capacity(content.len() + 6);
    header
        .encode_to_vec(&mut out)
        .map_err(|e| Asn1Error::Encode(e.to_string()))?;
    out.extend_from_slice(content);
    Ok(out)
}

/// Encodes a constructed TLV whose content is the concatenation of already-encoded `parts`.
pub(super) fn constructed(tag: Tag, parts: &[Vec<u8>]) -> Result<Vec<u8>, Asn1Error> {
    tlv(tag, &parts.concat())
}

/// Encodes a VisibleString under `tag`, refusing characters outside 0x20–0x7E.
pub(super) fn visible_string(
    tag: Tag,
    value: &str,
    what: &'static str,
) -> Result<Vec<u8>, Asn1Error> {
    if !is_visible(value.as_bytes()) {
        return Err(Asn1Error::Encode(format!(
            "{what} has non-visible characters"
        )));
    }
    tlv(tag, value.as_bytes())
}

fn is_visible(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| (0x20..=0x7E).contains(b))
}

/// Decodes VisibleString contents, checking every character.
pub(super) fn read_visible_string(value: &[u8], what: &'static str) -> Result<String, Asn1Error> {
    if !is_visible(value) {
        return Err(Asn1Error::malformed(format!(
            "{what} has non-visible characters"
        )));
    }
    // Visible ASCII is valid UTF-8, so this cannot fail; map anyway rather than unwrap.
    String::from_utf8(value.to_vec())
        .map_err(|_| Asn1Error::malformed(format!("{what} is not ascii")))
}

/// Encodes a DATE-TIME as the 14 digits `YYYYMMDDHHmmss` (UTC, no `Z`, second precision).
pub(super) fn date_time_digits(date: &DateTime<Utc>) -> Result<String, Asn1Error> {
    if !(0..=9999).contains(&date.year()) {
        return Err(Asn1Error::Encode(format!(
            "year {} does not fit DATE-TIME",
            date.year()
        )));
    }
    Ok(format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        date.year(),
        date.month(),
        date.day(),
        date.hour(),
        date.minute(),
        date.second()
    ))
}

/// Decodes the 14-digit DATE-TIME contents into a real UTC date.
pub(super) fn read_date_time(value: &[u8], what: &'static str) -> Result<DateTime<Utc>, Asn1Error> {
    if value.len() != 14 || !value.iter().all(u8::is_ascii_digit) {
        return Err(Asn1Error::malformed(format!("{what} is not 14 digits")));
    }
    let number = |range: std::ops::Range<usize>| {
        value[range]
            .iter()
            .fold(0u32, |acc, digit| acc * 10 + u32::from(digit - b'0'))
    };
    let year =
        i32::try_from(number(0..4)).map_err(|_| Asn1Error::malformed("year out of range"))?;
    NaiveDate::from_ymd_opt(year, number(4..6), number(6..8))
        .and_then(|d| d.and_hms_opt(number(8..10), number(10..12), number(12..14)))
        .map(|naive| naive.and_utc())
        .ok_or_else(|| Asn1Error::malformed(format!("{what} is not a real date")))
}

/// Minimal two's-complement INTEGER contents for an unsigned value.
pub(super) fn integer_contents(value: u32) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(3);
    let mut out = Vec::with_capacity(5);
    // A leading 0x00 keeps values with the top bit set positive.
    if bytes[first] & 0x80 != 0 {
        out.push(0);
    }
    out.extend_from_slice(&bytes[first..]);
    out
}

/// Decodes DER INTEGER contents as a non-negative `u32`.
pub(super) fn read_unsigned_integer(value: &[u8], what: &'static str) -> Result<u32, Asn1Error> {
    let first = *value
        .first()
        .ok_or_else(|| Asn1Error::malformed(format!("{what} is empty")))?;
    if value.len() > 1
        && ((first == 0 && value[1] & 0x80 == 0) || (first == 0xFF && value[1] & 0x80 != 0))
    {
        return Err(Asn1Error::malformed(format!(
            "{what} is not minimally encoded"
        )));
    }
    if first & 0x80 != 0 {
        return Err(Asn1Error::malformed(format!("{what} is negative")));
    }
    if value.len() > 5 {
        return Err(Asn1Error::malformed(format!("{what} is out of range")));
    }
    let number = value.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    u32::try_from(number).map_err(|_| Asn1Error::malformed(format!("{what} is out of range")))
}

/// One decoded element: its tag, its whole encoding and its contents.
#[derive(Debug, Clone, Copy)]
pub(super) struct Element<'a> {
    pub tag: Tag,
    pub encoded: &'a [u8],
    pub value: &'a [u8],
}

/// Reads consecutive DER elements from a slice, checking declared lengths against limits.
pub(super) struct DerReader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> DerReader<'a> {
    /// A reader over consecutive elements (not wrapped in an outer TLV).
    pub fn new(bytes: &'a [u8]) -> Self {
        DerReader { bytes, position: 0 }
    }

    /// Opens `bytes` as exactly one element tagged `tag` and returns a reader over its contents.
    pub fn open(
        bytes: &'a [u8],
        tag: Tag,
        what: &'static str,
        limit: usize,
    ) -> Result<Self, Asn1Error> {
        let mut outer = DerReader::new(bytes);
        let value = outer.expect(tag, what, limit)?;
        outer.finish(what)?;
        Ok(DerReader::new(value))
    }

    /// Whether every element has been read.
    pub fn is_empty(&self) -> bool {
        self.position >= self.bytes.len()
    }

    /// Reads the next element whatever its tag; its length must not exceed `limit`.
    pub fn read(&mut self, what: &'static str, limit: usize) -> Result<Element<'a>, Asn1Error> {
        let rest = self.bytes.get(self.position..).unwrap_or_default();
        if rest.is_empty() {
            return Err(Asn1Error::malformed(format!("{what} is missing")));
        }
        let mut reader = SliceReader::new(rest)?;
        let header = Header::decode(&mut reader)?;
        let header_length = usize::try_from(reader.position())?;
        let length = usize::try_from(header.length)?;
        if length > limit {
            return Err(Asn1Error::TooLarge {
                what,
                actual: length,
                limit,
            });
        }
        let end = header_length
            .checked_add(length)
            .filter(|end| *end <= rest.len())
            .ok_or_else(|| Asn1Error::malformed(format!("{what} is truncated")))?;
        self.position += end;
        Ok(Element {
            tag: header.tag,
            encoded: &rest[..end],
            value: &rest[header_length..end],
        })
    }

    /// Reads the next element, which must carry `tag`, and returns its contents.
    pub fn expect(
        &mut self,
        tag: Tag,
        what: &'static str,
        limit: usize,
    ) -> Result<&'a [u8], Asn1Error> {
        let element = self.read(what, limit)?;
        if element.tag != tag {
            return Err(Asn1Error::malformed(format!(
                "{what} has tag {} instead of {tag}",
                element.tag
            )));
        }
        Ok(element.value)
    }

    /// Fails if anything is left after the last expected element.
    pub fn finish(&self, what: &'static str) -> Result<(), Asn1Error> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Asn1Error::malformed(format!(
                "trailing octets after {what}"
            )))
        }
    }
}

/// Length limit for a structure made of parts each bounded by the given limits, plus headers.
pub(super) fn envelope_limit(parts: &[usize]) -> usize {
    parts
        .iter()
        .map(|p| p.saturating_add(8))
        .fold(8usize, usize::saturating_add)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_canonical_length() {
        let mut reader = DerReader::new(&[0x04, 0x81, 0x01, 0x61]);
        assert!(reader.read("x", 10).is_err());
    }

    #[test]
    fn rejects_indefinite_length() {
        let mut reader = DerReader::new(&[0x30, 0x80, 0x00, 0x00]);
        assert!(reader.read("x", 10).is_err());
    }

    #[test]
    fn checks_declared_length_before_reading() {
        // Declares 16 MiB with three octets of content.
        let mut reader = DerReader::new(&[0x04, 0x84, 0x01, 0x00, 0x00, 0x00, 1, 2, 3]);
        assert!(matches!(
            reader.read("x", 1024),
            Err(Asn1Error::TooLarge { .. })
        ));
    }

    #[test]
    fn integers_are_minimal() {
        assert_eq!(integer_contents(0), vec![0]);
        assert_eq!(integer_contents(127), vec![0x7F]);
        assert_eq!(integer_contents(128), vec![0, 0x80]);
        assert_eq!(integer_contents(3600), vec![0x0E, 0x10]);
        assert_eq!(integer_contents(u32::MAX), vec![0, 0xFF, 0xFF, 0xFF, 0xFF]);
        for value in [0, 1, 127, 128, 255, 256, 3600, 15_552_000, u32::MAX] {
            assert_eq!(
                read_unsigned_integer(&integer_contents(value), "i"),
                Ok(value)
            );
        }
        assert!(read_unsigned_integer(&[0, 0x7F], "i").is_err());
        assert!(read_unsigned_integer(&[0x80], "i").is_err());
        assert!(read_unsigned_integer(&[], "i").is_err());
    }

    #[test]
    fn date_times_are_fourteen_digits() {
        let date = read_date_time(b"20261123070920", "d").expect("date");
        assert_eq!(date_time_digits(&date).expect("digits"), "20261123070920");
        assert!(read_date_time(b"20261123070920Z", "d").is_err());
        assert!(read_date_time(b"2026112307092", "d").is_err());
        assert!(read_date_time(b"20260230070920", "d").is_err());
        assert!(read_date_time(b"20261123250920", "d").is_err());
    }
}
