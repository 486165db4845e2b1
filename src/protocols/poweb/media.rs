//! Media types and error bodies of the HTTP bindings (PoWeb, and PoHTTP through re-use).
//!
//! Outbound `Content-Type` values must be sent exactly as written here: the JS and JVM clients
//! compare PNRA/PNR content types for exact equality, so never append `; charset=…`. Inbound
//! values are matched leniently with [`content_type_matches`], because some Ktor versions add a
//! charset parameter.

use serde::Serialize;

/// A parcel (PoWeb delivery, PoHTTP delivery in both directions).
pub const PARCEL: &str = "application/vnd.awala.parcel";
/// Pre-registration request body: 64 lowercase hex characters.
pub const PRE_REGISTRATION_REQUEST: &str = "text/plain";
/// A Private Node Registration Authorization (pre-registration response).
pub const REGISTRATION_AUTHORIZATION: &str =
    "application/vnd.awala.node-registration.authorization";
/// A Private Node Registration Request (registration request).
pub const REGISTRATION_REQUEST: &str = "application/vnd.awala.node-registration.request";
/// A Private Node Registration (registration response).
pub const REGISTRATION: &str = "application/vnd.awala.node-registration.registration";
/// NodeConnectionParams; odd, but it is what REF sends and what Android gateways accept.
pub const CONNECTION_PARAMS: &str = "application/vnd.etsi.tsl.der";
/// Health banners and text error bodies.
pub const TEXT_PLAIN: &str = "text/plain";
/// JSON error bodies.
pub const JSON: &str = "application/json";

/// Whether an inbound `Content-Type` value names `expected`, ignoring parameters, whitespace
/// around the media type and ASCII case (media types are case-insensitive, RFC 9110 §8.3.1).
///
/// A missing header never matches.
pub fn content_type_matches(header_opt: Option<&str>, expected: &str) -> bool {
    let Some(header) = header_opt else {
        return false;
    };
    let media_type = header.split(';').next().unwrap_or_default().trim();
    media_type.eq_ignore_ascii_case(expected)
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    message: &'a str,
}

/// The JSON error body every HTTP binding sends: `{"message":"…"}`.
pub fn json_error_body(message: &str) -> String {
    // Serialising a struct of one string field cannot fail; fall back to a constant rather than
    // panic so this stays total.
    serde_json::to_string(&ErrorBody { message })
        .unwrap_or_else(|_| String::from("{\"message\":\"internal error\"}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_strings_are_pinned() {
        assert_eq!(PARCEL, "application/vnd.awala.parcel");
        assert_eq!(
            REGISTRATION_AUTHORIZATION,
            "application/vnd.awala.node-registration.authorization"
        );
        assert_eq!(
            REGISTRATION_REQUEST,
            "application/vnd.awala.node-registration.request"
        );
        assert_eq!(
            REGISTRATION,
            "application/vnd.awala.node-registration.registration"
        );
        assert_eq!(CONNECTION_PARAMS, "application/vnd.etsi.tsl.der");
        assert_eq!(PRE_REGISTRATION_REQUEST, "text/plain");
        for value in [
            PARCEL,
            REGISTRATION_AUTHORIZATION,
            REGISTRATION,
            CONNECTION_PARAMS,
        ] {
            assert!(!value.contains(';'), "{value} must carry no parameter");
        }
    }

    #[test]
    fn matcher_ignores_parameters_case_and_spaces() {
        let accepted = [
            "application/vnd.awala.parcel",
            "application/vnd.awala.parcel; charset=utf-8",
            "application/vnd.awala.parcel;charset=UTF-8",
            " Application/VND.Awala.Parcel ",
        ];
        for value in accepted {
            assert!(content_type_matches(Some(value), PARCEL), "{value}");
        }
    }

    #[test]
    fn matcher_refuses_other_types_and_absence() {
        let refused = [
            "",
            "application/vnd.awala.parcel+der",
            "application/octet-stream",
            "text/plain",
            "application/vnd.awala.parcelx; a=b",
        ];
        for value in refused {
            assert!(!content_type_matches(Some(value), PARCEL), "{value}");
        }
        assert!(!content_type_matches(None, PARCEL));
    }

    #[test]
    fn json_error_body_escapes() {
        assert_eq!(
            json_error_body("parcel is invalid"),
            r#"{"message":"parcel is invalid"}"#
        );
        assert_eq!(
            json_error_body("say \"hi\"\n"),
            r#"{"message":"say \"hi\"\n"}"#
        );
    }
}
