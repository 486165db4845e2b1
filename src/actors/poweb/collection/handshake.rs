//! The collection handshake (notes §5.3, DESIGN §6): every nonce signature in the response must
//! verify and chain to one of our certificates; the session collects for all their signers.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::actors::gateway::GatewayContext;
use crate::protocols::awala::cms::HANDSHAKE_NONCE_SIGNATURE_OID;
use crate::protocols::awala::limits::HANDSHAKE_NONCE_LENGTH;
use crate::protocols::awala::messages::HandshakeResponse;
use crate::protocols::poweb::PowebCloseReason;

/// A fresh challenge nonce: 16 random bytes, the raw bytes of a UUIDv4 as REF uses.
pub fn new_nonce() -> Vec<u8> {
    let nonce = uuid::Uuid::new_v4().as_bytes().to_vec();
    debug_assert_eq!(nonce.len(), HANDSHAKE_NONCE_LENGTH);
    nonce
}

/// Checks a handshake response to `nonce`; returns the private gateway ids it authenticates
/// (each once, in the order of their signatures) or why the socket must close.
///
/// CPU-bound (RSA verification per signature): run it on a blocking thread.
pub fn authenticate(
    gateway: &Arc<GatewayContext>,
    response: &[u8],
    nonce: &[u8],
    now: DateTime<Utc>,
) -> Result<Vec<String>, PowebCloseReason> {
    let response = HandshakeResponse::decode(response)
        .map_err(|_| PowebCloseReason::InvalidHandshakeResponse)?;
    if response.nonce_signatures.is_empty() {
        return Err(PowebCloseReason::MissingNonceSignatures);
    }
    let mut pg_ids: Vec<String> = Vec::with_capacity(response.nonce_signatures.len());
    for signature in &response.nonce_signatures {
        let signer = gateway
            .authenticate_private_gateway(signature, &HANDSHAKE_NONCE_SIGNATURE_OID, nonce, now)
            .map_err(|error| {
                tracing::info!(%error, "refusing a collection handshake");
                PowebCloseReason::InvalidNonceSignature
            })?;
        let pg_id = signer.subject_id().to_owned();
        if !pg_ids.contains(&pg_id) {
            pg_ids.push(pg_id);
        }
    }
    Ok(pg_ids)
}
