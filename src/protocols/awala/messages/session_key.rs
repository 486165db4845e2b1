//! The `SEQUENCE { keyId [0] OCTET STRING, publicKey [1] OCTET STRING }` session-key structure
//! shared by PrivateNodeRegistration and NodeConnectionParams.

use der::Tag;

use super::asn1::{constructed, ctx, envelope_limit, tlv, DerReader};
use super::error::MessageError;
use crate::protocols::awala::error::Asn1Error;
use crate::protocols::awala::keys::{SessionKey, SessionKeyId, SessionPublicKey};
use crate::protocols::awala::limits::{MAX_SESSION_KEY_ID_LENGTH, MAX_SPKI_LENGTH};

/// Longest encoded session-key structure's contents.
pub(super) fn session_key_limit() -> usize {
    envelope_limit(&[MAX_SESSION_KEY_ID_LENGTH, MAX_SPKI_LENGTH])
}

/// Encodes `key` under `tag` (a constructed context tag).
pub(super) fn encode_session_key(tag: Tag, key: &SessionKey) -> Result<Vec<u8>, Asn1Error> {
    constructed(
        tag,
        &[
            tlv(ctx(0), key.id.as_bytes())?,
            tlv(ctx(1), key.public_key.spki_der())?,
        ],
    )
}

/// Decodes the contents of a session-key structure.
pub(super) fn decode_session_key(contents: &[u8]) -> Result<SessionKey, MessageError> {
    let mut fields = DerReader::new(contents);
    let id = fields.expect(ctx(0), "session key id", MAX_SESSION_KEY_ID_LENGTH)?;
    let spki = fields.expect(ctx(1), "session public key", MAX_SPKI_LENGTH)?;
    fields.finish("session key")?;
    Ok(SessionKey {
        id: SessionKeyId::from(id),
        public_key: SessionPublicKey::from_spki_der(spki)?,
    })
}
