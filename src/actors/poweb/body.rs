//! Reading request bodies within a size limit and a deadline, and the replies every handler
//! shares.

use std::time::Duration;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, BytesMut, Payload};
use actix_web::{HttpRequest, HttpResponse};
use futures::StreamExt;
use thiserror::Error;

use crate::protocols::error_code::{GatewayErrorCode, HasErrorCode};
use crate::protocols::poweb::{content_type_matches, json_error_body, media};

/// Why a body could not be read.
#[derive(Debug, Error)]
pub enum BodyError {
    #[error("payload is over the limit of {limit} octets")]
    TooLarge { limit: usize },
    #[error("payload could not be read: {0}")]
    Incomplete(String),
    #[error("payload was not received within {} seconds", .deadline.as_secs())]
    TimedOut { deadline: Duration },
}

impl HasErrorCode for BodyError {
    fn error_code(&self) -> GatewayErrorCode {
        match self {
            BodyError::TooLarge { .. } => GatewayErrorCode::TooLarge,
            BodyError::Incomplete(_) => GatewayErrorCode::Malformed,
            BodyError::TimedOut { .. } => GatewayErrorCode::TimedOut,
        }
    }
}

/// How long a handler waits for a whole request body; the HTTP server registers it as app data
/// (`limits.http_body_timeout_seconds`), so no handler can forget it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTimeout(pub Duration);

/// Used when no server registered a [`BodyTimeout`] (handlers driven directly, in tests).
const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// Reads the whole body, refusing it as soon as it is known to exceed `limit`: from
/// `Content-Length` before reading anything, else when the chunks received pass the limit. So
/// memory per request is bounded by `limit` whatever the client sends (house style, practice 2).
///
/// The whole read has one deadline ([`BodyTimeout`]): actix-web only times out request heads, so
/// without it a client trickling a byte at a time would hold its load-shield permit forever.
pub async fn read_capped(
    request: &HttpRequest,
    payload: Payload,
    limit: usize,
) -> Result<Bytes, BodyError> {
    let deadline = request
        .app_data::<BodyTimeout>()
        .map_or(DEFAULT_BODY_TIMEOUT, |timeout| timeout.0);
    tokio::time::timeout(deadline, read_within(request, payload, limit))
        .await
        .unwrap_or(Err(BodyError::TimedOut { deadline }))
}

async fn read_within(
    request: &HttpRequest,
    mut payload: Payload,
    limit: usize,
) -> Result<Bytes, BodyError> {
    let declared_opt = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared_opt.is_some_and(|declared| declared > limit as u64) {
        return Err(BodyError::TooLarge { limit });
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| BodyError::Incomplete(error.to_string()))?;
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Whether the request's `Content-Type` names `expected` (parameters ignored, see `media`).
pub fn has_content_type(request: &HttpRequest, expected: &str) -> bool {
    let header_opt = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    content_type_matches(header_opt, expected)
}

/// A `200` with exactly `content_type` (never a charset: clients compare it verbatim).
pub fn ok(content_type: &'static str, body: impl Into<Bytes>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(content_type)))
        .body(body.into())
}

/// An error reply with the JSON body `{"message":…}` all HTTP bindings send.
pub fn error(status: u16, message: &str) -> HttpResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(media::JSON)))
        .body(json_error_body(message))
}

/// A failure on our side: logged with its cause and counted, answered without details.
pub fn server_failure(
    metrics: &crate::telemetry::Metrics,
    stage: &'static str,
    failure: &(impl HasErrorCode + std::fmt::Display),
) -> HttpResponse {
    let code = failure.error_code();
    tracing::error!(stage, error = %failure, "poweb request failed");
    metrics.record_error(code.name(), stage);
    let message = if code == GatewayErrorCode::Unavailable {
        "service temporarily unavailable; retry later"
    } else {
        "internal server error"
    };
    error(code.http_status(), message)
}
