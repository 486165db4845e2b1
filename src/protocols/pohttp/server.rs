//! PoHTTP server side: delivery statuses and error-body negotiation (RS-007, notes §6.1).

use crate::protocols::error_code::GatewayErrorCode;
use crate::protocols::poweb::media;

/// Status of a parcel stored durably.
pub const ACCEPTED_STATUS: u16 = 202;
/// Body REF sends with 202 (`application/json`).
pub const ACCEPTED_BODY: &str = "{}";

/// HTTP status for a failed parcel delivery.
///
/// The generic table, except that an unauthenticated parcel (untrusted chain, bad signature) is
/// `403`: PoHTTP has no credentials besides the parcel's own chain, so there is nothing a 401
/// challenge could ask for, and JS clients treat 403 as "invalid parcel, never retry".
pub fn delivery_failure_status(code: GatewayErrorCode) -> u16 {
    match code {
        GatewayErrorCode::Unauthorized | GatewayErrorCode::Forbidden => 403,
        other => other.http_status(),
    }
}

/// An error response body and its `Content-Type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorBody {
    /// Exact `Content-Type` to send.
    pub content_type: &'static str,
    /// The body.
    pub body: String,
}

/// Build an error body in the form the client accepts: JSON `{"message":…}` when `Accept` is
/// absent or admits JSON (REF always sent JSON, so that stays the default), `text/plain`
/// otherwise (RS-007).
pub fn error_body(message: &str, accept_opt: Option<&str>) -> ErrorBody {
    if accept_opt.is_none_or(accepts_json) {
        ErrorBody {
            content_type: media::JSON,
            body: media::json_error_body(message),
        }
    } else {
        ErrorBody {
            content_type: media::TEXT_PLAIN,
            body: message.to_owned(),
        }
    }
}

/// Whether any media range in an `Accept` value admits `application/json` with a non-zero
/// quality.
fn accepts_json(accept: &str) -> bool {
    accept.split(',').any(|range| {
        let mut parts = range.split(';');
        let media_range = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let refused = parts.any(|param| {
            let param = param.trim();
            param
                .strip_prefix("q=")
                .is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0))
        });
        let admits = matches!(
            media_range.as_str(),
            "application/json" | "application/*" | "*/*"
        ) || media_range.ends_with("+json");
        admits && !refused
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use GatewayErrorCode::*;

    #[test]
    fn delivery_statuses() {
        let cases = [
            (Malformed, 400),
            (Unauthorized, 403),
            (Forbidden, 403),
            (TooLarge, 413),
            (UnsupportedMediaType, 415),
            (Conflict, 409),
            (Unavailable, 503),
            (Internal, 500),
        ];
        for (code, status) in cases {
            assert_eq!(delivery_failure_status(code), status, "{code:?}");
        }
    }

    #[test]
    fn json_by_default_and_when_admitted() {
        for accept in [
            None,
            Some("application/json"),
            Some("text/plain, application/json;q=0.5"),
            Some("*/*"),
            Some("application/*"),
            Some("application/problem+json"),
            Some("application/json, text/plain, */*"),
            Some("Application/JSON"),
        ] {
            let body = error_body("Invalid parcel: expired", accept);
            assert_eq!(body.content_type, "application/json", "{accept:?}");
            assert_eq!(body.body, r#"{"message":"Invalid parcel: expired"}"#);
        }
    }

    #[test]
    fn text_otherwise() {
        for accept in [
            Some("text/plain"),
            Some("text/*"),
            Some(""),
            Some("application/json;q=0, text/plain"),
            Some("application/json; q=0.0"),
        ] {
            let body = error_body("parcel is malformed", accept);
            assert_eq!(body.content_type, "text/plain", "{accept:?}");
            assert_eq!(body.body, "parcel is malformed");
        }
    }
}
