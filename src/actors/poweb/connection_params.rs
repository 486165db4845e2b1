//! `GET|HEAD /connection-params.der`: our Internet address, identity key and initial unbound
//! session key, which Android gateways fetch instead of hard-coding our certificate.

use actix_web::HttpResponse;

use super::body::{ok, server_failure};
use super::PowebState;
use crate::protocols::awala::messages::NodeConnectionParams;
use crate::protocols::error_code::GatewayErrorCode;
use crate::protocols::poweb::media;

pub fn handle(state: &PowebState) -> HttpResponse {
    let params = NodeConnectionParams {
        internet_address: state.internet_address.clone(),
        identity_key: state.identity.public_key(),
        session_key: state.identity.unbound_session_key().clone(),
    };
    match params.encode() {
        Ok(der) => ok(media::CONNECTION_PARAMS, der),
        // Only a bad configured address can fail here, and config validation refuses those.
        Err(error) => server_failure(
            &state.metrics,
            "poweb_connection_params",
            &Failure(error.to_string()),
        ),
    }
}

/// An encoding failure of our own making.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct Failure(pub String);

impl crate::protocols::error_code::HasErrorCode for Failure {
    fn error_code(&self) -> GatewayErrorCode {
        GatewayErrorCode::Internal
    }
}
