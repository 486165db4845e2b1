//! `POST /v1/pre-registrations` (and the spec's `/v1/pre-registration`): a hex SHA-256 digest of
//! a key in, a PNRA for that key out (notes §5.1). Nothing is stored: the signed PNRA is the
//! state, and it expires within 10 seconds.

use actix_web::web::Payload;
use actix_web::{HttpRequest, HttpResponse};
use chrono::Utc;

use super::body::{error, has_content_type, ok, read_capped, server_failure};
use super::connection_params::Failure;
use super::PowebState;
use crate::protocols::awala::limits::PNRA_VALIDITY;
use crate::protocols::awala::messages::PrivateNodeRegistrationAuthorization;
use crate::protocols::error_code::HasErrorCode;
use crate::protocols::poweb::pre_registration::PRE_REGISTRATION_MAX_BODY;
use crate::protocols::poweb::{media, parse_pre_registration_body};

pub async fn handle(request: &HttpRequest, payload: Payload, state: &PowebState) -> HttpResponse {
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
    match authorization.sign(state.identity.private_key()) {
        Ok(pnra) => ok(media::REGISTRATION_AUTHORIZATION, pnra),
        Err(failure) => server_failure(
            &state.metrics,
            "poweb_pre_register_node",
            &Failure(failure.to_string()),
        ),
    }
}
