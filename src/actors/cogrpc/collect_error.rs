//! Why a `CollectCargo` call failed, and the status it ends with.
//!
//! Each variant knows the check it belongs to ([`CollectCargoStep`], REF's order) and its
//! generic error code; [`collect_cargo_failure_code`] turns the pair into the gRPC code couriers
//! expect. Backend outages are retriable at every step, so couriers keep a valid CCA for later.

use thiserror::Error;

use crate::actors::identity::IdentityError;
use crate::backends::{BackendError, BackendErrorKind};
use crate::protocols::awala::ramf::{RamfError, ValidationError};
use crate::protocols::cogrpc::{collect_cargo_failure_code, CcaMetadataError, CollectCargoStep};
use crate::protocols::error_code::{GatewayErrorCode, HasErrorCode};

/// Status message for failures on our side: the detail goes to the log, not to the courier.
const INTERNAL_MESSAGE: &str = "internal server error; try again later";

#[derive(Debug, Error)]
pub enum CollectError {
    #[error(transparent)]
    Authorization(#[from] CcaMetadataError),
    #[error("CCA is malformed: {0}")]
    Malformed(RamfError),
    #[error("CCA is invalid: {0}")]
    Invalid(ValidationError),
    #[error("private gateway {0} was revoked")]
    Revoked(String),
    #[error("CCA recipient is a different gateway")]
    OtherRecipient,
    /// The CCR does not decrypt with any session key we hold for this sender, or is not a CCR.
    #[error("invalid CCA: {0}")]
    Undecryptable(String),
    #[error("CCA was already fulfilled")]
    AlreadyFulfilled,
    /// A store failed while the check of `step` ran.
    #[error("storage failed: {source}")]
    Backend {
        step: CollectCargoStep,
        source: BackendError,
    },
    /// We hold no session key of the private gateway, so no cargo can be encrypted for it.
    #[error("no session key is known for the private gateway")]
    NoPeerSessionKey,
    #[error("cargo could not be built: {0}")]
    Build(String),
    #[error("cargo could not be built: {0}")]
    Identity(#[from] IdentityError),
    /// A task of the call failed (a panic while handling untrusted bytes, a cancelled runtime).
    #[error("collection task failed: {0}")]
    Task(String),
}

impl CollectError {
    pub fn backend(step: CollectCargoStep) -> impl FnOnce(BackendError) -> CollectError {
        move |source| CollectError::Backend { step, source }
    }

    /// The check this failure belongs to.
    pub fn step(&self) -> CollectCargoStep {
        match self {
            CollectError::Authorization(_) | CollectError::Malformed(_) => {
                CollectCargoStep::Authorization
            }
            CollectError::Invalid(_) | CollectError::Revoked(_) => CollectCargoStep::CcaValidation,
            CollectError::OtherRecipient => CollectCargoStep::Recipient,
            CollectError::Undecryptable(_) => CollectCargoStep::Decryption,
            CollectError::AlreadyFulfilled => CollectCargoStep::Replay,
            CollectError::Backend { step, .. } => *step,
            CollectError::NoPeerSessionKey
            | CollectError::Build(_)
            | CollectError::Identity(_)
            | CollectError::Task(_) => CollectCargoStep::CargoGeneration,
        }
    }

    /// The status the call ends with.
    pub fn to_status(&self) -> tonic::Status {
        let code = self.error_code();
        let grpc_code = collect_cargo_failure_code(self.step(), code);
        if code.is_retriable() {
            tonic::Status::new(grpc_code, INTERNAL_MESSAGE)
        } else {
            tonic::Status::new(grpc_code, self.to_string())
        }
    }
}

impl HasErrorCode for CollectError {
    fn error_code(&self) -> GatewayErrorCode {
        match self {
            CollectError::Authorization(error) => error.error_code(),
            CollectError::Malformed(_)
            | CollectError::Invalid(_)
            | CollectError::Undecryptable(_)
            | CollectError::Revoked(_) => GatewayErrorCode::Unauthorized,
            CollectError::OtherRecipient => GatewayErrorCode::Forbidden,
            CollectError::AlreadyFulfilled => GatewayErrorCode::Conflict,
            CollectError::Backend { source, .. }
                if source.kind == BackendErrorKind::Unavailable =>
            {
                GatewayErrorCode::Unavailable
            }
            CollectError::Identity(error) => error.error_code(),
            CollectError::NoPeerSessionKey => GatewayErrorCode::Unavailable,
            CollectError::Backend { .. } | CollectError::Build(_) | CollectError::Task(_) => {
                GatewayErrorCode::Internal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    #[test]
    fn client_failures_follow_ref() {
        let cases = [
            (
                CollectError::Authorization(CcaMetadataError::MissingValue),
                Code::Unauthenticated,
            ),
            (
                CollectError::Undecryptable("unknown key".into()),
                Code::Unauthenticated,
            ),
            (CollectError::OtherRecipient, Code::InvalidArgument),
            (CollectError::AlreadyFulfilled, Code::PermissionDenied),
        ];
        for (error, code) in cases {
            let status = error.to_status();
            assert_eq!(status.code(), code, "{error}");
            assert_eq!(status.message(), error.to_string());
        }
    }

    #[test]
    fn key_store_outages_are_retriable_and_hide_details() {
        let error = CollectError::Backend {
            step: CollectCargoStep::Decryption,
            source: BackendError::unavailable("sealer down at 10.0.0.1"),
        };
        let status = error.to_status();
        assert_eq!(status.code(), Code::Unavailable);
        assert_eq!(status.message(), INTERNAL_MESSAGE);
        let corrupt = CollectError::Backend {
            step: CollectCargoStep::Decryption,
            source: BackendError::corrupt("sealed key does not open"),
        };
        assert_eq!(corrupt.to_status().code(), Code::Unavailable);
        assert_eq!(
            CollectError::NoPeerSessionKey.to_status().code(),
            Code::Unavailable
        );
    }
}
