//! `POST /`: a parcel for one of our private peers (notes §6.1).
//!
//! `202` only after the parcel is durably stored for its private gateway; `400` when the body is
//! not a parcel, `403` when it is well formed but invalid (expired, untrusted, wrong recipient),
//! `415` for another content type, `503`/`500` when storage fails (clients retry those).

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::web::Payload;
use actix_web::{HttpRequest, HttpResponse};
use chrono::Utc;

use super::PohttpState;
use crate::actors::poweb::body::{has_content_type, read_capped};
use crate::protocols::awala::limits::MAX_PARCEL_LENGTH;
use crate::protocols::error_code::{GatewayErrorCode, HasErrorCode};
use crate::protocols::pohttp::server::ACCEPTED_BODY;
use crate::protocols::pohttp::{delivery_failure_status, error_body};
use crate::protocols::poweb::media;
use crate::telemetry::Binding;

const STAGE: &str = "pohttp_deliver_parcel";

pub async fn handle(request: &HttpRequest, payload: Payload, state: &PohttpState) -> HttpResponse {
    if !has_content_type(request, media::PARCEL) {
        return refuse(
            request,
            GatewayErrorCode::UnsupportedMediaType,
            "content type should be application/vnd.awala.parcel",
        );
    }
    let body = match read_capped(request, payload, MAX_PARCEL_LENGTH).await {
        Ok(body) => body,
        Err(failure) => return refuse(request, failure.error_code(), &failure.to_string()),
    };
    let size = body.len();
    match state.router.route_from_internet(body, Utc::now()).await {
        Ok(_) => {
            state.metrics.record_parcel_stored(Binding::Pohttp, size);
            HttpResponse::Accepted()
                .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(media::JSON)))
                .body(ACCEPTED_BODY)
        }
        Err(failure) => {
            let code = failure.error_code();
            if code == GatewayErrorCode::QuotaExceeded {
                tracing::info!(error = %failure, "refused pohttp parcel over a storage quota");
                return refuse(request, code, &failure.to_string());
            }
            if code.is_retriable() {
                tracing::error!(stage = STAGE, error = %failure, "pohttp delivery failed");
                state.metrics.record_error(code.name(), STAGE);
                return refuse(request, code, "parcel could not be stored; retry later");
            }
            tracing::info!(error = %failure, "refused pohttp parcel");
            let message = match code {
                GatewayErrorCode::Malformed | GatewayErrorCode::TooLarge => {
                    "Payload is not a valid RAMF-serialized parcel".to_owned()
                }
                _ => format!("Invalid parcel: {failure}"),
            };
            refuse(request, code, &message)
        }
    }
}

/// An error reply in the body format the client's `Accept` asks for (JSON by default).
fn refuse(request: &HttpRequest, code: GatewayErrorCode, message: &str) -> HttpResponse {
    let accept_opt = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok());
    let body = error_body(message, accept_opt);
    let status = StatusCode::from_u16(delivery_failure_status(code))
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status)
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static(body.content_type),
        ))
        .body(body.body)
}
