//! Where CogRPC's status codes deviate from the generic table, because real clients need it.
//!
//! Couriers retry on `UNAVAILABLE` and give up on anything else, so every server-side failure
//! is `UNAVAILABLE` (REF answers "internal server error; try again later" with it), never
//! `INTERNAL`.

use tonic::Code;

use crate::protocols::error_code::GatewayErrorCode;

/// The check of `CollectCargo` that failed, in REF's order (notes §7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectCargoStep {
    /// Reading the `authorization` metadata and deserialising the CCA.
    Authorization,
    /// Validating the CCA: timing, signature, chain to our certificate.
    CcaValidation,
    /// The CCA names another gateway as recipient.
    Recipient,
    /// Decrypting the CCR inside the CCA with our session keys.
    Decryption,
    /// Single use: the CCA was already fulfilled.
    Replay,
    /// Building or streaming the cargo.
    CargoGeneration,
}

/// gRPC status code for a failed `CollectCargo`.
///
/// Client-caused failures follow REF: `UNAUTHENTICATED` for the CCA itself, its validity and
/// its decryption; `INVALID_ARGUMENT` for a CCA addressed to another gateway;
/// `PERMISSION_DENIED` for a replayed CCA (the JVM client reports "CCA refused").
///
/// Deliberate deviation: REF answers `UNAUTHENTICATED` for *any* decryption error, including a
/// key-store outage, which makes couriers discard a valid CCA (original notes §8 item 5). Here
/// `Unavailable`/`Internal` at any step give `UNAVAILABLE`, so the courier retries.
pub fn collect_cargo_failure_code(step: CollectCargoStep, code: GatewayErrorCode) -> Code {
    if code.is_retriable() {
        return Code::Unavailable;
    }
    match step {
        CollectCargoStep::Authorization
        | CollectCargoStep::CcaValidation
        | CollectCargoStep::Decryption => Code::Unauthenticated,
        CollectCargoStep::Recipient => Code::InvalidArgument,
        CollectCargoStep::Replay => Code::PermissionDenied,
        CollectCargoStep::CargoGeneration => Code::Unavailable,
    }
}

/// What `DeliverCargo` does with one cargo that could not be accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CargoDisposition {
    /// Acknowledge and drop it: the ACK proves receipt, not acceptance (AwalaNetwork/specs#38),
    /// so the courier can delete cargo that will never be valid.
    AckAndDrop,
    /// End the call with this status, without acknowledging; the courier keeps the cargo and
    /// retries later.
    Fail(Code),
}

/// How `DeliverCargo` treats a cargo whose processing failed with `code`.
pub fn deliver_cargo_disposition(code: GatewayErrorCode) -> CargoDisposition {
    if code.is_retriable() {
        CargoDisposition::Fail(Code::Unavailable)
    } else {
        CargoDisposition::AckAndDrop
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CollectCargoStep::*;
    use GatewayErrorCode::*;

    const CLIENT_CODES: [GatewayErrorCode; 6] = [
        Malformed,
        Unauthorized,
        Forbidden,
        TooLarge,
        UnsupportedMediaType,
        Conflict,
    ];

    #[test]
    fn collect_cargo_follows_ref_for_client_failures() {
        let cases = [
            (Authorization, Code::Unauthenticated),
            (CcaValidation, Code::Unauthenticated),
            (Recipient, Code::InvalidArgument),
            (Decryption, Code::Unauthenticated),
            (Replay, Code::PermissionDenied),
            (CargoGeneration, Code::Unavailable),
        ];
        for (step, expected) in cases {
            for code in CLIENT_CODES {
                assert_eq!(
                    collect_cargo_failure_code(step, code),
                    expected,
                    "{step:?} {code:?}"
                );
            }
        }
    }

    #[test]
    fn server_failures_are_always_unavailable() {
        for step in [
            Authorization,
            CcaValidation,
            Recipient,
            Decryption,
            Replay,
            CargoGeneration,
        ] {
            assert_eq!(
                collect_cargo_failure_code(step, Unavailable),
                Code::Unavailable
            );
            assert_eq!(
                collect_cargo_failure_code(step, Internal),
                Code::Unavailable
            );
        }
    }

    #[test]
    fn invalid_cargo_is_acked_and_outages_fail_the_call() {
        for code in CLIENT_CODES {
            assert_eq!(
                deliver_cargo_disposition(code),
                CargoDisposition::AckAndDrop
            );
        }
        for code in [Unavailable, Internal] {
            assert_eq!(
                deliver_cargo_disposition(code),
                CargoDisposition::Fail(Code::Unavailable)
            );
        }
    }
}
