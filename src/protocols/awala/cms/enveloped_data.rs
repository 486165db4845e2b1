//! Channel-session EnvelopedData (notes §3.4): ECDH key agreement with a fresh originator key
//! per message, X9.63 KDF, AES key wrap and AES-CBC content encryption.

use openssl::aes::{unwrap_key, wrap_key, AesKey};
use openssl::symm;

use super::super::keys::{
    random_bytes, HashAlgorithm, SessionKey, SessionKeyId, SessionKeyPair, SessionPrivateKey,
    SessionPublicKey,
};
use super::super::limits::{MAX_SDU_PLAINTEXT_LENGTH, UKM_LENGTH};
use super::algorithms::integer_der;
use super::ber;
use super::envelope_options::{kdf_scheme_oid, EnvelopeOptions, KeyWrap};
use super::enveloped_data_parse::{curve_from_point_length, parse_envelope, ParsedEnvelope};
use super::error::CmsError;
use super::kdf::{shared_info, x963_kdf};
use super::oids::{self, ID_DATA, ID_EC_PUBLIC_KEY, ID_ENVELOPED_DATA, ORIGINATOR_SESSION_KEY_ID};
use super::tlv::{
    context, context_constructed, tlv, TAG_BIT_STRING, TAG_OCTET_STRING, TAG_SEQUENCE, TAG_SET,
};

/// AES-CBC block and IV length.
const AES_BLOCK: usize = 16;
/// RFC 3394 wrapping adds one 64-bit block to the key.
const KEY_WRAP_OVERHEAD: usize = 8;

/// A new envelope and the originator key pair made for it (store its private half: the peer
/// will encrypt its next message to it).
#[derive(Debug)]
pub struct SessionEncryption {
    pub envelope: Vec<u8>,
    pub originator_key: SessionKeyPair,
}

/// The key ids and originator key of an envelope, readable without decrypting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEnvelopeInfo {
    /// Id of the recipient's session key: look the private key up by it.
    pub recipient_key_id: SessionKeyId,
    /// The sender's new session key, to record for replies.
    pub originator_key: SessionKey,
}

/// A decrypted envelope.
#[derive(Debug, Clone)]
pub struct SessionDecryption {
    pub plaintext: Vec<u8>,
    pub info: SessionEnvelopeInfo,
}

/// Encrypts `plaintext` (at most `MAX_SDU_PLAINTEXT_LENGTH` octets) for `recipient` as strict
/// DER, with a fresh originator key on the recipient's curve and a 64-octet random UKM.
pub fn session_encrypt(
    plaintext: &[u8],
    recipient: &SessionKey,
    options: EnvelopeOptions,
) -> Result<SessionEncryption, CmsError> {
    let ukm = random_bytes(UKM_LENGTH);
    encrypt_with(plaintext, recipient, options, Some(&ukm), false)
}

/// [`session_encrypt`] with the UKM and the KDF `keyInfo` form chosen by the caller, so tests
/// can produce the variants other implementations may send (no UKM, `{wrapOID, NULL}`).
pub(super) fn encrypt_with(
    plaintext: &[u8],
    recipient: &SessionKey,
    options: EnvelopeOptions,
    ukm: Option<&[u8]>,
    wrap_params_null: bool,
) -> Result<SessionEncryption, CmsError> {
    if plaintext.len() > MAX_SDU_PLAINTEXT_LENGTH {
        return Err(CmsError::TooLarge {
            what: "plaintext to encrypt",
            actual: plaintext.len(),
            limit: MAX_SDU_PLAINTEXT_LENGTH,
        });
    }
    let originator = SessionKeyPair::generate(recipient.public_key.curve())
        .map_err(|e| CmsError::internal(e.to_string()))?;
    let shared_secret = originator
        .private_key
        .derive_shared_secret(&recipient.public_key)
        .map_err(|e| CmsError::internal(e.to_string()))?;
    let kek = derive_kek(
        options.kdf_hash,
        options.key_wrap,
        wrap_params_null,
        &shared_secret,
        ukm,
    );
    let cek = random_bytes(options.content_cipher.key_len());
    let iv = random_bytes(AES_BLOCK);
    let ciphertext = symm::encrypt(options.content_cipher.cipher(), &cek, Some(&iv), plaintext)?;
    let wrapped_key = wrap(&kek, &cek)?;

    let originator_public = originator.private_key.public_key();
    let originator_algorithm = tlv(
        TAG_SEQUENCE,
        &[
            &oids::oid_der(&ID_EC_PUBLIC_KEY),
            &oids::oid_der(&originator_public.curve().oid()),
        ],
    );
    let point_bits = tlv(TAG_BIT_STRING, &[&[0], &originator_public.to_point()]);
    let key_encryption_algorithm = tlv(
        TAG_SEQUENCE,
        &[
            &oids::oid_der(&kdf_scheme_oid(options.kdf_hash)),
            &tlv(TAG_SEQUENCE, &[&oids::oid_der(&options.key_wrap.oid())]),
        ],
    );
    let recipient_encrypted_key = tlv(
        TAG_SEQUENCE,
        &[
            &tlv(
                context_constructed(0),
                &[&tlv(TAG_OCTET_STRING, &[recipient.id.as_bytes()])],
            ),
            &tlv(TAG_OCTET_STRING, &[&wrapped_key]),
        ],
    );
    let ukm_field = ukm
        .map(|ukm| tlv(context_constructed(1), &[&tlv(TAG_OCTET_STRING, &[ukm])]))
        .unwrap_or_default();
    let key_agreement = tlv(
        context_constructed(1),
        &[
            &integer_der(3),
            &tlv(
                context_constructed(0),
                &[&tlv(
                    context_constructed(1),
                    &[&originator_algorithm, &point_bits],
                )],
            ),
            &ukm_field,
            &key_encryption_algorithm,
            &tlv(TAG_SEQUENCE, &[&recipient_encrypted_key]),
        ],
    );
    let encrypted_content_info = tlv(
        TAG_SEQUENCE,
        &[
            &oids::oid_der(&ID_DATA),
            &tlv(
                TAG_SEQUENCE,
                &[
                    &oids::oid_der(&options.content_cipher.oid()),
                    &tlv(TAG_OCTET_STRING, &[&iv]),
                ],
            ),
            &tlv(context(0), &[&ciphertext]),
        ],
    );
    let unprotected_attributes = tlv(
        context_constructed(1),
        &[&tlv(
            TAG_SEQUENCE,
            &[
                &oids::oid_der(&ORIGINATOR_SESSION_KEY_ID),
                &tlv(
                    TAG_SET,
                    &[&tlv(TAG_OCTET_STRING, &[originator.id.as_bytes()])],
                ),
            ],
        )],
    );
    let enveloped_data = tlv(
        TAG_SEQUENCE,
        &[
            &integer_der(2),
            &tlv(TAG_SET, &[&key_agreement]),
            &encrypted_content_info,
            &unprotected_attributes,
        ],
    );
    let envelope = tlv(
        TAG_SEQUENCE,
        &[
            &oids::oid_der(&ID_ENVELOPED_DATA),
            &tlv(context_constructed(0), &[&enveloped_data]),
        ],
    );
    Ok(SessionEncryption {
        envelope,
        originator_key: originator,
    })
}

/// Reads the recipient key id and the originator key of a (BER or DER) envelope.
pub fn session_envelope_info(envelope: &[u8]) -> Result<SessionEnvelopeInfo, CmsError> {
    let der = ber::normalize(envelope)?;
    let parsed = parse_envelope(&der)?;
    envelope_info(&parsed)
}

/// Decrypts a (BER or DER) envelope with the recipient's session private key.
///
/// `UnknownKey` when the key does not open the envelope (other curve, or the wrapped key fails
/// its integrity check); `Invalid` when the key opens it but the content does not decrypt.
pub fn session_decrypt(
    envelope: &[u8],
    recipient_private_key: &SessionPrivateKey,
) -> Result<SessionDecryption, CmsError> {
    let der = ber::normalize(envelope)?;
    let parsed = parse_envelope(&der)?;
    let info = envelope_info(&parsed)?;
    if info.originator_key.public_key.curve() != recipient_private_key.curve() {
        return Err(CmsError::UnknownKey(
            "the envelope's originator key is on another curve".to_string(),
        ));
    }
    let shared_secret = recipient_private_key
        .derive_shared_secret(&info.originator_key.public_key)
        .map_err(|e| CmsError::internal(e.to_string()))?;
    let cek = unwrap_content_key(&parsed, &shared_secret)?;
    if cek.len() != parsed.content_cipher.key_len() {
        return Err(CmsError::invalid(
            "content-encryption key length does not match the cipher",
        ));
    }
    if parsed.encrypted_content.is_empty() || parsed.encrypted_content.len() % AES_BLOCK != 0 {
        return Err(CmsError::invalid("ciphertext is not whole aes blocks"));
    }
    let plaintext = symm::decrypt(
        parsed.content_cipher.cipher(),
        &cek,
        Some(parsed.iv),
        &parsed.encrypted_content,
    )
    .map_err(|_| CmsError::invalid("content does not decrypt"))?;
    Ok(SessionDecryption { plaintext, info })
}

fn envelope_info(parsed: &ParsedEnvelope<'_>) -> Result<SessionEnvelopeInfo, CmsError> {
    let curve = parsed
        .originator_curve
        .or_else(|| curve_from_point_length(parsed.originator_point))
        .ok_or_else(|| CmsError::invalid("cannot tell the originator key's curve"))?;
    let public_key = SessionPublicKey::from_point(curve, parsed.originator_point)
        .map_err(CmsError::from_input_key)?;
    if parsed.originator_key_id.is_empty() || parsed.recipient_key_id.is_empty() {
        return Err(CmsError::invalid("empty session key id"));
    }
    Ok(SessionEnvelopeInfo {
        recipient_key_id: SessionKeyId::from(parsed.recipient_key_id),
        originator_key: SessionKey {
            id: SessionKeyId::from(parsed.originator_key_id),
            public_key,
        },
    })
}

/// Unwraps the CEK, trying `keyInfo = {wrapOID}` first and then `{wrapOID, NULL}` as pkijs does.
fn unwrap_content_key(
    parsed: &ParsedEnvelope<'_>,
    shared_secret: &[u8],
) -> Result<Vec<u8>, CmsError> {
    let wrapped = parsed.encrypted_key;
    // AES_unwrap_key panics on lengths that are not whole 64-bit blocks; check first.
    if wrapped.len() % 8 != 0
        || wrapped.len() < 16 + KEY_WRAP_OVERHEAD
        || wrapped.len() > 32 + KEY_WRAP_OVERHEAD
    {
        return Err(CmsError::invalid(
            "wrapped key length is not that of an aes key",
        ));
    }
    for wrap_params_null in [false, true] {
        let kek = derive_kek(
            parsed.kdf_hash,
            parsed.key_wrap,
            wrap_params_null,
            shared_secret,
            parsed.ukm,
        );
        if let Some(cek) = unwrap(&kek, wrapped) {
            return Ok(cek);
        }
    }
    Err(CmsError::UnknownKey(
        "the session key does not unwrap the content-encryption key".to_string(),
    ))
}

fn derive_kek(
    kdf_hash: HashAlgorithm,
    key_wrap: KeyWrap,
    wrap_params_null: bool,
    shared_secret: &[u8],
    ukm: Option<&[u8]>,
) -> Vec<u8> {
    let info = shared_info(&key_wrap.oid(), wrap_params_null, ukm, key_wrap.key_len());
    x963_kdf(kdf_hash, shared_secret, &info, key_wrap.key_len())
}

fn wrap(kek: &[u8], cek: &[u8]) -> Result<Vec<u8>, CmsError> {
    let key = AesKey::new_encrypt(kek).map_err(|_| CmsError::internal("bad key-wrap key"))?;
    let mut out = vec![0u8; cek.len() + KEY_WRAP_OVERHEAD];
    wrap_key(&key, None, &mut out, cek).map_err(|_| CmsError::internal("key wrap failed"))?;
    Ok(out)
}

/// None when the integrity check fails (wrong KEK).
fn unwrap(kek: &[u8], wrapped: &[u8]) -> Option<Vec<u8>> {
    let key = AesKey::new_decrypt(kek).ok()?;
    let mut out = vec![0u8; wrapped.len() - KEY_WRAP_OVERHEAD];
    let written = unwrap_key(&key, None, &mut out, wrapped).ok()?;
    out.truncate(written);
    Some(out)
}
