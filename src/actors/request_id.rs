//! Request ids: one per request on every binding, taken from the client's `X-Request-Id` when it
//! is usable and generated otherwise, carried as a field of the request's span (so every log
//! line the request causes names it) and returned in the response's `X-Request-Id`.
//!
//! A client's id is kept only if it is 1 to 128 visible ASCII characters: anything else could
//! forge log lines or blow up log storage, so it is replaced rather than refused (a bad id is
//! never a reason to fail a delivery).

use std::fmt;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

/// The header, in both directions (HTTP, and gRPC metadata on CogRPC).
pub const HEADER: &str = "x-request-id";
/// Longest client-supplied id kept.
pub const MAX_LEN: usize = 128;

/// A request id: visible ASCII, 1 to [`MAX_LEN`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// The client's id if it is usable, a new random one otherwise.
    pub fn from_client(supplied: Option<&[u8]>) -> Self {
        match supplied {
            Some(bytes)
                if (1..=MAX_LEN).contains(&bytes.len())
                    && bytes.iter().all(|b| (0x21..=0x7e).contains(b)) =>
            {
                // Visible ASCII is UTF-8.
                Self(String::from_utf8_lossy(bytes).into_owned())
            }
            _ => Self::generate(),
        }
    }

    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The binding an actix-web app serves, as app data, so one middleware names it in spans.
#[derive(Debug, Clone, Copy)]
pub struct BindingName(pub &'static str);

/// actix-web middleware (`from_fn`): the request's span, its id, and one log line per answer
/// (5xx at warn, 4xx at info, the rest at debug, so a busy gateway's info log holds refusals,
/// not every parcel).
pub async fn http(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = RequestId::from_client(request.headers().get(HEADER).map(HeaderValue::as_bytes));
    let binding = request.app_data::<BindingName>().map_or("http", |b| b.0);
    let span = tracing::info_span!(
        "request",
        binding,
        request_id = %id,
        method = %request.method(),
        path = %request.path(),
    );
    let mut response = next.call(request).instrument(span.clone()).await?;
    let status = response.status().as_u16();
    span.in_scope(|| match status {
        // 507 is a peer over its storage quota, not our failure.
        507 => tracing::info!(status, "answered"),
        500.. => tracing::warn!(status, "answered"),
        400.. => tracing::info!(status, "answered"),
        _ => tracing::debug!(status, "answered"),
    });
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(HEADER), value);
    }
    Ok(response)
}

/// The span of one CogRPC call (tonic's `trace_fn`); gRPC metadata are HTTP/2 headers.
pub fn grpc_span<B>(request: &tonic::codegen::http::Request<B>) -> tracing::Span {
    let id = RequestId::from_client(request.headers().get(HEADER).map(|v| v.as_bytes()));
    tracing::info_span!("request", binding = "cogrpc", request_id = %id, path = %request.uri().path())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_usable_client_id_is_kept() {
        assert_eq!(RequestId::from_client(Some(b"req-42")).as_str(), "req-42");
        let longest = "a".repeat(MAX_LEN);
        assert_eq!(
            RequestId::from_client(Some(longest.as_bytes())).as_str(),
            longest
        );
    }

    #[test]
    fn an_unusable_client_id_is_replaced_by_a_uuid() {
        let too_long = "a".repeat(MAX_LEN + 1);
        for supplied in [
            None,
            Some(&b""[..]),
            Some(b"has space"),
            Some(b"line\nbreak"),
            Some("caf\u{e9}".as_bytes()),
            Some(too_long.as_bytes()),
        ] {
            let id = RequestId::from_client(supplied);
            assert!(
                uuid::Uuid::parse_str(id.as_str()).is_ok(),
                "{supplied:?} gave {id}"
            );
        }
        assert_ne!(RequestId::generate(), RequestId::generate());
    }
}
