//! `POST /v1/nodes`: a PNRR in, a PNR out (notes §5.1, REF steps in original notes §1.2.4).
//!
//! Checks in REF's order: the PNRR and its countersignature, then the PNRA inside it (our
//! signature, not expired), then that the PNRA was granted to the key being registered. Only
//! then is anything issued or stored: a private gateway certificate from our latest certificate
//! and a session key bound to the new private gateway, which the PNR carries (Android requires
//! it). There is no registry of private gateways: holding a certificate we issued is enough.

use actix_web::web::Payload;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};

use super::body::{error, has_content_type, ok, read_capped, server_failure};
use super::PowebState;
use crate::actors::identity::IdentityError;
use crate::protocols::awala::error::ProtocolErrorKind;
use crate::protocols::awala::keys::IdentityPublicKey;
use crate::protocols::awala::messages::{
    MessageError, PrivateNodeRegistration, PrivateNodeRegistrationAuthorization,
    PrivateNodeRegistrationRequest,
};
use crate::protocols::error_code::{GatewayErrorCode, HasErrorCode};
use crate::protocols::poweb::{
    media, registration_failure_status, RegistrationStep, REGISTRATION_MAX_BODY,
};

const STAGE: &str = "poweb_register_node";

pub async fn handle(request: &HttpRequest, payload: Payload, state: &PowebState) -> HttpResponse {
    let refuse = |step, code: GatewayErrorCode, message: &str| {
        error(registration_failure_status(step, code), message)
    };
    if !has_content_type(request, media::REGISTRATION_REQUEST) {
        return refuse(
            RegistrationStep::Request,
            GatewayErrorCode::UnsupportedMediaType,
            "content type should be application/vnd.awala.node-registration.request",
        );
    }
    let body = match read_capped(request, payload, REGISTRATION_MAX_BODY).await {
        Ok(body) => body,
        Err(failure) => {
            return refuse(
                RegistrationStep::Request,
                failure.error_code(),
                &failure.to_string(),
            )
        }
    };
    let now = Utc::now();
    let pnrr = match PrivateNodeRegistrationRequest::deserialize_and_verify(&body) {
        Ok(pnrr) => pnrr,
        Err(failure) => {
            tracing::info!(error = %failure, "refused registration request");
            return refuse(
                RegistrationStep::Request,
                message_error_code(&failure),
                "payload is not a valid private node registration request",
            );
        }
    };
    let pnra = match PrivateNodeRegistrationAuthorization::deserialize_and_verify(
        &pnrr.pnra_serialized,
        &state.identity.public_key(),
        now,
    ) {
        Ok(pnra) => pnra,
        Err(failure) => {
            tracing::info!(error = %failure, "refused registration authorization");
            return refuse(
                RegistrationStep::Authorization,
                message_error_code(&failure),
                "request contains an invalid authorization",
            );
        }
    };
    if pnra.gateway_data != pnrr.private_node_public_key.digest() {
        return refuse(
            RegistrationStep::KeyDigest,
            GatewayErrorCode::Forbidden,
            "authorization was granted to a different private gateway",
        );
    }
    match register(state, &pnrr.private_node_public_key, now).await {
        Ok(pnr) => ok(media::REGISTRATION, pnr),
        Err(failure) => server_failure(&state.metrics, STAGE, &failure),
    }
}

/// Issues the certificate and the bound session key, and serialises the PNR.
async fn register(
    state: &PowebState,
    private_gateway_key: &IdentityPublicKey,
    now: DateTime<Utc>,
) -> Result<Vec<u8>, IdentityError> {
    let identity = &state.identity;
    let certificate = identity.issue_private_gateway_certificate(private_gateway_key, now)?;
    let session_key = identity
        .create_bound_session_key(certificate.subject_id(), now)
        .await?;
    let registration = PrivateNodeRegistration {
        private_node_certificate_der: certificate.der().to_vec(),
        gateway_certificate_der: identity.latest_certificate().der().to_vec(),
        internet_gateway_internet_address: state.internet_address.clone(),
        session_key: Some(session_key),
    };
    tracing::info!(private_gateway_id = %certificate.subject_id(), "registered private gateway");
    registration
        .encode()
        .map_err(|failure| IdentityError::Inconsistent(failure.to_string()))
}

/// The class of a core message failure; the core cannot import the error table (it imports
/// nothing from the crate), so the binding side maps its kinds.
fn message_error_code(failure: &MessageError) -> GatewayErrorCode {
    match failure.kind() {
        ProtocolErrorKind::Malformed => GatewayErrorCode::Malformed,
        ProtocolErrorKind::Invalid | ProtocolErrorKind::UnknownKey => GatewayErrorCode::Forbidden,
        // An oversized field inside a body that fit the limit is a malformed request.
        ProtocolErrorKind::TooLarge => GatewayErrorCode::Malformed,
        // Verifying untrusted bytes can trip a crypto primitive (an odd key, say); that is still
        // the client's input, and answering 500 would invite retries.
        ProtocolErrorKind::Internal => GatewayErrorCode::Malformed,
    }
}
