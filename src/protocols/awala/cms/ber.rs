//! BER → DER normalisation for CMS input.
//!
//! relaynet-core (pkijs) and Bouncy Castle emit BER: indefinite lengths (`80 … 00 00`) and
//! constructed OCTET STRINGs split into segments. [`normalize`] rewrites just those two things,
//! so that [`super::tlv::DerReader`] can walk the result:
//! - every indefinite length becomes definite;
//! - every constructed universal OCTET STRING (`24`) becomes one primitive `04`.
//!
//! Subtrees that need neither are copied byte for byte, never re-encoded: the signature covers
//! the received signedAttrs, and certificates must stay as issued. DER input (what we and most
//! strict producers emit) is returned borrowed, without a copy.
//!
//! A constructed context-tagged string such as EnvelopedData's `[0] IMPLICIT OCTET STRING`
//! cannot be recognised without the schema; it comes out as `A0 len { 04 … }`, and the parser
//! that knows the schema joins the segments with [`join_octet_segments`].

use std::borrow::Cow;

use super::super::limits::{MAX_BER_DEPTH, MAX_RAMF_MESSAGE_LENGTH};
use super::error::CmsError;
use super::tlv::{push_length, DerReader, TAG_OCTET_STRING};

const TAG_CONSTRUCTED_OCTET_STRING: u8 = 0x24;

/// The DER form of one BER element spanning all of `input`. Borrowed when already DER-shaped.
pub(crate) fn normalize(input: &[u8]) -> Result<Cow<'_, [u8]>, CmsError> {
    if input.len() > MAX_RAMF_MESSAGE_LENGTH {
        return Err(CmsError::TooLarge {
            what: "cms value",
            actual: input.len(),
            limit: MAX_RAMF_MESSAGE_LENGTH,
        });
    }
    let mut plan = Plan::new();
    let end = scan(input, 0, input.len(), 0, &mut plan)?;
    if end != input.len() {
        return Err(CmsError::malformed(format!(
            "{} trailing octets after the cms value",
            input.len() - end
        )));
    }
    if plan.is_empty() {
        return Ok(Cow::Borrowed(input));
    }
    let mut out = Vec::with_capacity(input.len());
    let mut emitter = Emitter {
        input,
        plan,
        cursor: 0,
    };
    emitter.emit(0, &mut out)?;
    Ok(Cow::Owned(out))
}

/// Concatenates the content of a string element that may be primitive or (after
/// normalisation) a constructed sequence of primitive OCTET STRING segments.
pub(crate) fn join_octet_segments<'a>(
    constructed: bool,
    content: &'a [u8],
) -> Result<Cow<'a, [u8]>, CmsError> {
    if !constructed {
        return Ok(Cow::Borrowed(content));
    }
    let mut joined = Vec::with_capacity(content.len());
    let mut reader = DerReader::new(content);
    while !reader.is_empty() {
        joined.extend_from_slice(reader.read(TAG_OCTET_STRING, "string segment")?);
    }
    Ok(Cow::Owned(joined))
}

// === Header parsing ===

#[derive(Debug, Clone, Copy)]
struct Header {
    /// Octets of the tag alone.
    tag_len: usize,
    /// Octets of tag + length.
    len: usize,
    /// First tag octet (class, constructed bit, low tag number or 0x1F).
    tag: u8,
    /// None for the indefinite form.
    length: Option<usize>,
}

impl Header {
    fn constructed(&self) -> bool {
        self.tag & 0x20 != 0
    }
}

fn read_header(input: &[u8]) -> Result<Header, CmsError> {
    let tag = *input
        .first()
        .ok_or_else(|| CmsError::malformed("unexpected end of ber input"))?;
    let mut pos = 1;
    if tag & 0x1F == 0x1F {
        // High tag number: base-128 octets, the last without the top bit. Four are plenty.
        loop {
            let octet = *input
                .get(pos)
                .ok_or_else(|| CmsError::malformed("truncated ber tag"))?;
            pos += 1;
            if octet & 0x80 == 0 {
                break;
            }
            if pos > 5 {
                return Err(CmsError::malformed("ber tag number too large"));
            }
        }
    }
    let tag_len = pos;
    let first = *input
        .get(pos)
        .ok_or_else(|| CmsError::malformed("truncated ber length"))?;
    pos += 1;
    let length = if first == 0x80 {
        None
    } else if first < 0x80 {
        Some(first as usize)
    } else {
        let count = (first & 0x7F) as usize;
        let octets = input
            .get(pos..pos + count)
            .filter(|_| count <= 4)
            .ok_or_else(|| CmsError::malformed("ber length field too long or truncated"))?;
        pos += count;
        Some(
            octets
                .iter()
                .fold(0usize, |acc, o| (acc << 8) | *o as usize),
        )
    };
    let header = Header {
        tag_len,
        len: pos,
        tag,
        length,
    };
    if let Some(length) = length {
        // Checked before anyone allocates or slices on the strength of it.
        if length > input.len() - pos {
            return Err(CmsError::malformed("ber element longer than its input"));
        }
    } else if !header.constructed() {
        return Err(CmsError::malformed(
            "indefinite length on a primitive element",
        ));
    }
    Ok(header)
}

fn is_end_of_contents(input: &[u8]) -> bool {
    input.len() >= 2 && input[0] == 0 && input[1] == 0
}

// === Scan: validate and plan the rewrite ===

/// The elements that need rewriting, as `(start, end)` offsets in pre-order. Emission walks
/// the tree in the same order, so it consumes the plan with a cursor instead of re-scanning
/// subtrees to rediscover which ones changed.
type Plan = Vec<(usize, usize)>;

/// Validates the element at `input[start..]` (bounded by `limit`), records it in `plan` if it
/// or a descendant needs rewriting, and returns its end offset.
fn scan(
    input: &[u8],
    start: usize,
    limit: usize,
    depth: usize,
    plan: &mut Plan,
) -> Result<usize, CmsError> {
    if depth > MAX_BER_DEPTH {
        return Err(CmsError::malformed("ber nesting too deep"));
    }
    let header = read_header(&input[start..limit])?;
    if !header.constructed() {
        return Ok(start + header.len + header.length.unwrap_or(0));
    }
    let entry = plan.len();
    plan.push((start, 0));
    let mut pos = start + header.len;
    let end = match header.length {
        Some(length) => {
            let end = pos + length;
            while pos < end {
                pos = scan(input, pos, end, depth + 1, plan)?;
            }
            end
        }
        None => loop {
            if is_end_of_contents(&input[pos..limit]) {
                break pos + 2;
            }
            if pos >= limit {
                return Err(CmsError::malformed("missing end-of-contents octets"));
            }
            pos = scan(input, pos, limit, depth + 1, plan)?;
        },
    };
    let rewrite = header.tag == TAG_CONSTRUCTED_OCTET_STRING
        || header.length.is_none()
        || plan.len() > entry + 1;
    if rewrite {
        plan[entry].1 = end;
    } else {
        // Nothing below was recorded either (a rewritten child forces a rewritten parent).
        plan.pop();
    }
    Ok(end)
}

// === Emit: write the DER-shaped form ===

struct Emitter<'a> {
    input: &'a [u8],
    plan: Plan,
    cursor: usize,
}

impl Emitter<'_> {
    /// Writes the element at `start` to `out`; returns its end offset in the input.
    fn emit(&mut self, start: usize, out: &mut Vec<u8>) -> Result<usize, CmsError> {
        let header = read_header(&self.input[start..])?;
        let planned = self.plan.get(self.cursor).copied();
        let Some((_, end)) = planned.filter(|(planned_start, _)| *planned_start == start) else {
            // Not in the plan: definite all the way down, so copy it as received.
            let end = start + header.len + header.length.unwrap_or(0);
            out.extend_from_slice(&self.input[start..end]);
            return Ok(end);
        };
        self.cursor += 1;
        let content_end = if header.length.is_some() {
            end
        } else {
            end - 2
        };
        let content = start + header.len..content_end;
        if header.tag == TAG_CONSTRUCTED_OCTET_STRING {
            let mut joined = Vec::with_capacity(content.len());
            collect_segments(&self.input[content], 0, &mut joined)?;
            // Nested segments were planned too; they are consumed by the join.
            while self.plan.get(self.cursor).is_some_and(|(s, _)| *s < end) {
                self.cursor += 1;
            }
            out.push(TAG_OCTET_STRING);
            push_length(out, joined.len());
            out.extend_from_slice(&joined);
            return Ok(end);
        }
        let mut children = Vec::with_capacity(content.len());
        let mut pos = content.start;
        while pos < content.end {
            pos = self.emit(pos, &mut children)?;
        }
        out.extend_from_slice(&self.input[start..start + header.tag_len]);
        push_length(out, children.len());
        out.extend_from_slice(&children);
        Ok(end)
    }
}

/// Content octets of a scanned element (without the end-of-contents marker).
fn content_of<'a>(input: &'a [u8], header: &Header, end: usize) -> &'a [u8] {
    match header.length {
        Some(_) => &input[header.len..end],
        None => &input[header.len..end - 2],
    }
}

/// Appends the octets of every primitive OCTET STRING segment under a constructed one.
fn collect_segments(content: &[u8], depth: usize, out: &mut Vec<u8>) -> Result<(), CmsError> {
    if depth > MAX_BER_DEPTH {
        return Err(CmsError::malformed("ber nesting too deep"));
    }
    let mut pos = 0;
    while pos < content.len() {
        let rest = &content[pos..];
        let header = read_header(rest)?;
        let end = scan(rest, 0, rest.len(), depth, &mut Plan::new())?;
        let segment = content_of(rest, &header, end);
        match header.tag {
            TAG_OCTET_STRING => out.extend_from_slice(segment),
            TAG_CONSTRUCTED_OCTET_STRING => collect_segments(segment, depth + 1, out)?,
            other => {
                return Err(CmsError::malformed(format!(
                    "octet string segment with tag {other:#04x}"
                )))
            }
        }
        pos += end;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::protocols::awala::cms::test_support::{to_ber, BerStyle};
    use crate::protocols::awala::error::ProtocolErrorKind;

    fn kind(input: &[u8]) -> ProtocolErrorKind {
        normalize(input).unwrap_err().kind()
    }

    #[test]
    fn der_is_borrowed() {
        let der = [0x30, 0x05, 0x04, 0x03, 1, 2, 3];
        assert!(matches!(normalize(&der).unwrap(), Cow::Borrowed(_)));
    }

    #[test]
    fn indefinite_lengths_and_segmented_strings_become_der() {
        // SEQUENCE(indefinite) { OCTET STRING(constructed, indefinite) { 01 02, { 03 } }, NULL }
        let ber = [
            0x30, 0x80, 0x24, 0x80, 0x04, 0x02, 1, 2, 0x24, 0x03, 0x04, 0x01, 3, 0x00, 0x00, 0x05,
            0x00, 0x00, 0x00,
        ];
        let der = [0x30, 0x07, 0x04, 0x03, 1, 2, 3, 0x05, 0x00];
        assert_eq!(&*normalize(&ber).unwrap(), &der);
    }

    #[test]
    fn context_tagged_constructed_strings_are_left_to_the_schema() {
        let ber = [0xA0, 0x80, 0x04, 0x01, 1, 0x04, 0x01, 2, 0x00, 0x00];
        let der = normalize(&ber).unwrap();
        assert_eq!(&*der, &[0xA0, 0x06, 0x04, 0x01, 1, 0x04, 0x01, 2]);
        assert_eq!(&*join_octet_segments(true, &der[2..]).unwrap(), &[1, 2]);
    }

    #[test]
    fn definite_subtrees_are_copied_verbatim() {
        // A non-minimal length (81 03) inside an indefinite parent must survive untouched.
        let ber = [0x30, 0x80, 0x31, 0x81, 0x03, 0x02, 0x01, 0x05, 0x00, 0x00];
        assert_eq!(
            &*normalize(&ber).unwrap(),
            &[0x30, 0x06, 0x31, 0x81, 0x03, 0x02, 0x01, 0x05]
        );
    }

    #[test]
    fn structural_errors_are_malformed() {
        assert_eq!(kind(&[]), ProtocolErrorKind::Malformed);
        assert_eq!(kind(&[0x04, 0x05, 1]), ProtocolErrorKind::Malformed);
        assert_eq!(
            kind(&[0x04, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]),
            ProtocolErrorKind::Malformed
        );
        assert_eq!(
            kind(&[0x04, 0x80, 0x00, 0x00]),
            ProtocolErrorKind::Malformed
        );
        assert_eq!(
            kind(&[0x30, 0x80, 0x05, 0x00]),
            ProtocolErrorKind::Malformed
        );
        assert_eq!(kind(&[0x05, 0x00, 0x00]), ProtocolErrorKind::Malformed);
        assert_eq!(
            kind(&[0x24, 0x03, 0x02, 0x01, 0x00]),
            ProtocolErrorKind::Malformed
        );
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_malformed() {
        let depth = MAX_BER_DEPTH + 2;
        let mut ber = [0x30, 0x80].repeat(depth);
        ber.extend([0x00, 0x00].repeat(depth));
        assert_eq!(kind(&ber), ProtocolErrorKind::Malformed);
    }

    #[test]
    fn oversized_input_is_too_large() {
        let input = vec![0u8; MAX_RAMF_MESSAGE_LENGTH + 1];
        assert_eq!(kind(&input), ProtocolErrorKind::TooLarge);
    }

    proptest! {
        #[test]
        fn ber_forms_of_der_normalise_back_to_it(
            content in proptest::collection::vec(any::<u8>(), 0..5_000),
            segment in 1usize..2_000,
            indefinite_depth in 0usize..4,
            indefinite_segments in any::<bool>(),
        ) {
            let inner = crate::protocols::awala::cms::tlv::tlv(0x04, &[&content]);
            let der = crate::protocols::awala::cms::tlv::tlv(
                0x30,
                &[&crate::protocols::awala::cms::tlv::tlv(0xA0, &[&inner]), &[0x05, 0x00]],
            );
            let split = |tag: u8, _: u8| tag == 0x04;
            let style = BerStyle { indefinite_depth, segment, split: &split, indefinite_segments };
            let ber = to_ber(&der, &style);
            prop_assert_eq!(&*normalize(&ber).unwrap(), &der[..]);
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = normalize(&bytes);
        }
    }
}
