//! `POST /v1/pre-registrations` (and the spec's `/v1/pre-registration`): a hex SHA-256 digest of
//! a key in, a PNRA for that key out (notes §5.1). Nothing is stored: the signed PNRA is the
//! state, and it expires within 10 seconds.
//!
//! Open to anyone, so it is rate limited per source address, and the signature is made on the
//! bounded signing pool ([`super::registration_limits`]).

use actix_web::web::Payload;
use actix_web::{HttpRequest, HttpResponse};
use chrono::Utc;

use super::body::{error, has_content_type, ok, read_capped, server_failure};
use super::connection_params::Failure;
use super::registration_limits::pool_failure;
use super::PowebState;
use crate::protocols::awala::limits::PNRA_VALIDITY;
use crate::protocols::awala::messages::PrivateNodeRegistrationAuthorization;
use crate::protocols::error_code::HasErrorCode;
use crate::protocols::poweb::pre_registration::PRE_REGISTRATION_MAX_BODY;
use crate::protocols::poweb::{media, parse_pre_registration_body, PowebEndpoint};

const STAGE: &str = "poweb_pre_register_node";

pub async fn handle(request: &HttpRequest, payload: Payload, state: &PowebState) -> HttpResponse {
    let limits = &state.registrations;
    if let Some(limited) = limits.refusal(request, &state.metrics, PowebEndpoint::PreRegisterNode) {
        return limited;
    }
    if !has_content_type(request, media::PRE_REGISTRATION_REQUEST) {
        return error(415, "content type should be text/plain");
    }
    let body = match read_capped(request, payload, PRE_REGISTRATION_MAX_BODY).await {
        Ok(body) => body,
        Err(failure) => return error(failure.error_code().http_status(), &failure.to_string()),
    };
    let digest = match parse_pre_registration_body(&body) {
        Ok(digest) => digest,
        Err(failure) => return error(failure.error_code().http_status(), &failure.to_string()),
    };
    let authorization = PrivateNodeRegistrationAuthorization {
        expiry_date: Utc::now() + PNRA_VALIDITY,
        gateway_data: digest.to_vec(),
    };
    let identity = state.identity.clone();
    let signed = limits
        .pool()
        .run(move || authorization.sign(identity.private_key()))
        .await;
    match signed {
        Ok(Ok(pnra)) => ok(media::REGISTRATION_AUTHORIZATION, pnra),
        Ok(Err(failure)) => server_failure(&state.metrics, STAGE, &Failure(failure.to_string())),
        Err(failure) => pool_failure(&state.metrics, STAGE, &failure),
    }
}
