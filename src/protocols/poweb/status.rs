//! Where PoWeb's HTTP statuses deviate from the generic table, because real clients need it.
//!
//! Handlers classify a failure with [`HasErrorCode`](crate::protocols::error_code::HasErrorCode)
//! as usual, then ask these functions, which know which step of the endpoint failed. Server-side
//! failures (`Unavailable`, `Internal`) always keep their generic 503/500 so clients retry.

use crate::protocols::error_code::GatewayErrorCode;

/// The step of `POST /v1/parcels` that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStep {
    /// Reading or verifying the `Authorization` countersignature and its chain.
    Countersignature,
    /// Parsing, validating and routing the parcel, then storing it.
    Parcel,
}

/// HTTP status for a failed parcel delivery.
///
/// - Every client-caused countersignature failure is `401` (send
///   [`WWW_AUTHENTICATE`](super::WWW_AUTHENTICATE)): REF does so even for a well-formed but
///   invalid signature, where RS-016 says 403, and clients only know the 401 path.
/// - A well-formed parcel that fails validation is `422`, which the JVM client maps to "rejected
///   parcel, do not retry" and the JS client to "refused parcel"; the generic table says 403.
pub fn delivery_failure_status(step: DeliveryStep, code: GatewayErrorCode) -> u16 {
    if code.is_retriable() {
        return code.http_status();
    }
    match (step, code) {
        (DeliveryStep::Countersignature, _) => 401,
        (DeliveryStep::Parcel, GatewayErrorCode::Forbidden | GatewayErrorCode::Unauthorized) => 422,
        (DeliveryStep::Parcel, other) => other.http_status(),
    }
}

/// The step of `POST /v1/nodes` that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationStep {
    /// Parsing the PNRR and checking its countersignature over the PNRA.
    Request,
    /// Parsing the embedded PNRA and verifying it was issued by us and has not expired.
    Authorization,
    /// Comparing the PNRA's digest with the PNRR's public key.
    KeyDigest,
}

/// HTTP status for a failed registration.
///
/// REF answers `400` for a malformed or unverifiable PNRR and for a malformed, expired or
/// badly signed PNRA, and `403` only when the PNRA was granted to another key; clients do not
/// distinguish further, so we keep exactly that split.
pub fn registration_failure_status(step: RegistrationStep, code: GatewayErrorCode) -> u16 {
    if code.is_retriable() {
        return code.http_status();
    }
    match (step, code) {
        (_, GatewayErrorCode::TooLarge | GatewayErrorCode::UnsupportedMediaType) => {
            code.http_status()
        }
        (RegistrationStep::Request | RegistrationStep::Authorization, _) => 400,
        (RegistrationStep::KeyDigest, _) => 403,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use GatewayErrorCode::*;

    #[test]
    fn countersignature_failures_are_all_401() {
        for code in [Malformed, Unauthorized, Forbidden, TooLarge, Conflict] {
            assert_eq!(
                delivery_failure_status(DeliveryStep::Countersignature, code),
                401
            );
        }
    }

    #[test]
    fn invalid_parcels_are_422_malformed_400() {
        assert_eq!(
            delivery_failure_status(DeliveryStep::Parcel, Forbidden),
            422
        );
        assert_eq!(
            delivery_failure_status(DeliveryStep::Parcel, Unauthorized),
            422
        );
        assert_eq!(
            delivery_failure_status(DeliveryStep::Parcel, Malformed),
            400
        );
        assert_eq!(delivery_failure_status(DeliveryStep::Parcel, TooLarge), 413);
        assert_eq!(
            delivery_failure_status(DeliveryStep::Parcel, UnsupportedMediaType),
            415
        );
    }

    #[test]
    fn server_failures_keep_generic_statuses() {
        for step in [DeliveryStep::Countersignature, DeliveryStep::Parcel] {
            assert_eq!(delivery_failure_status(step, Unavailable), 503);
            assert_eq!(delivery_failure_status(step, Internal), 500);
        }
        for step in [
            RegistrationStep::Request,
            RegistrationStep::Authorization,
            RegistrationStep::KeyDigest,
        ] {
            assert_eq!(registration_failure_status(step, Unavailable), 503);
            assert_eq!(registration_failure_status(step, Internal), 500);
        }
    }

    #[test]
    fn registration_statuses_follow_ref() {
        use RegistrationStep::*;
        assert_eq!(registration_failure_status(Request, Malformed), 400);
        assert_eq!(registration_failure_status(Request, Unauthorized), 400);
        assert_eq!(registration_failure_status(Authorization, Forbidden), 400);
        assert_eq!(registration_failure_status(Authorization, Malformed), 400);
        assert_eq!(registration_failure_status(KeyDigest, Forbidden), 403);
        assert_eq!(registration_failure_status(Request, TooLarge), 413);
        assert_eq!(
            registration_failure_status(Request, UnsupportedMediaType),
            415
        );
    }
}
