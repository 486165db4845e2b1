//! `POST /v1/nodes`: a PNRR in, a PNR out (notes §5.1, REF steps in original notes §1.2.4).
//!
//! Checks in REF's order: the PNRR and its countersignature, then the PNRA inside it (our
//! signature, not expired), then that the PNRA was granted to the key being registered. Only
//! then is anything issued or stored: a private gateway certificate from our latest certificate
//! and a session key bound to the new private gateway, which the PNR carries (Android requires
//! it). There is no registry of private gateways: holding a certificate we issued is enough.
//!
//! Rate limited per source address; the RSA work runs on the bounded signing pool
//! ([`super::registration_limits`]).

use actix_web::web::Payload;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};

use super::body::{error, has_content_type, ok, read_capped, server_failure};
use super::registration_limits::pool_failure;
use super::PowebState;
use crate::actors::identity::{GatewayIdentity, IdentityError};
use crate::protocols::awala::error::ProtocolErrorKind;
use crate::protocols::awala::messages::{
    MessageError, PrivateNodeRegistration, PrivateNodeRegistrationAuthorization,
    PrivateNodeRegistrationRequest,
};
use crate::protocols::awala::pki::Certificate;
use crate::protocols::error_code::{GatewayErrorCode, HasErrorCode};
use crate::protocols::poweb::{
    media, registration_failure_status, PowebEndpoint, RegistrationStep, REGISTRATION_MAX_BODY,
};

const STAGE: &str = "poweb_register_node";

/// Why the checks or the issuance on the signing pool did not give a certificate.
enum Refusal {
    /// The client's fault, at `step`.
    Client {
        step: RegistrationStep,
        code: GatewayErrorCode,
        message: &'static str,
    },
    /// Ours.
    Identity(IdentityError),
}

pub async fn handle(request: &HttpRequest, payload: Payload, state: &PowebState) -> HttpResponse {
    let limits = &state.registrations;
    if let Some(limited) = limits.refusal(request, &state.metrics, PowebEndpoint::RegisterNode) {
        return limited;
    }
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
    // Two RSA verifications and one signature: on the signing pool, never on an I/O worker.
    let identity = state.identity.clone();
    let checked = limits
        .pool()
        .run(move || check_and_issue(&identity, &body, now))
        .await;
    let certificate = match checked {
        Ok(Ok(issued)) => issued,
        Ok(Err(Refusal::Client {
            step,
            code,
            message,
        })) => return refuse(step, code, message),
        Ok(Err(Refusal::Identity(failure))) => {
            return server_failure(&state.metrics, STAGE, &failure)
        }
        Err(failure) => return pool_failure(&state.metrics, STAGE, &failure),
    };
    // Revocation is of the key: a revoked gateway may not come back with a new certificate.
    if state
        .gateway
        .private_gateways
        .is_revoked(certificate.subject_id())
    {
        tracing::info!(
            pg_id = certificate.subject_id(),
            "refused registration of a revoked private gateway"
        );
        return refuse(
            RegistrationStep::KeyDigest,
            GatewayErrorCode::Forbidden,
            "this private gateway was revoked",
        );
    }
    match register(state, certificate, now).await {
        Ok(pnr) => ok(media::REGISTRATION, pnr),
        Err(failure) => server_failure(&state.metrics, STAGE, &failure),
    }
}

/// The checks in REF's order, then the certificate for the key being registered.
fn check_and_issue(
    identity: &GatewayIdentity,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Certificate, Refusal> {
    let pnrr = PrivateNodeRegistrationRequest::deserialize_and_verify(body).map_err(|failure| {
        tracing::info!(error = %failure, "refused registration request");
        Refusal::Client {
            step: RegistrationStep::Request,
            code: message_error_code(&failure),
            message: "payload is not a valid private node registration request",
        }
    })?;
    let pnra = PrivateNodeRegistrationAuthorization::deserialize_and_verify(
        &pnrr.pnra_serialized,
        &identity.public_key(),
        now,
    )
    .map_err(|failure| {
        tracing::info!(error = %failure, "refused registration authorization");
        Refusal::Client {
            step: RegistrationStep::Authorization,
            code: message_error_code(&failure),
            message: "request contains an invalid authorization",
        }
    })?;
    if pnra.gateway_data != pnrr.private_node_public_key.digest() {
        return Err(Refusal::Client {
            step: RegistrationStep::KeyDigest,
            code: GatewayErrorCode::Forbidden,
            message: "authorization was granted to a different private gateway",
        });
    }
    identity
        .issue_private_gateway_certificate(&pnrr.private_node_public_key, now)
        .map_err(Refusal::Identity)
}

/// Stores the bound session key, and serialises the PNR.
async fn register(
    state: &PowebState,
    certificate: Certificate,
    now: DateTime<Utc>,
) -> Result<Vec<u8>, IdentityError> {
    let identity = &state.identity;
    state
        .gateway
        .backends
        .metadata
        .record_registration(certificate.subject_id(), certificate.not_after(), now)
        .await?;
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
