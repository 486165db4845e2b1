//! `DeliverCargo`: a courier streams cargo; each one is checked and put on the cargo mailbox,
//! and acknowledged only once the mailbox has it (protocol notes §7.2, original notes §1.4.1).
//!
//! - Malformed or invalid cargo is acknowledged and dropped: the ACK proves receipt, not
//!   acceptance, so the courier can delete cargo that will never be valid.
//! - A mailbox failure ends the call with `UNAVAILABLE` without acknowledging that cargo; the
//!   ACKs already sent stand, and the courier retries the rest later.
//! - Cargo is handled one at a time and the ACK channel is small, so a courier that does not
//!   read its ACKs stops being read from (HTTP/2 flow control does the rest): one call holds at
//!   most one cargo plus [`ACK_BUFFER`] ACKs in memory.
//! - The call ends with OK once the client half-closes and every cargo read was answered; a
//!   cancelled call (the JS client cancels after its last ACK) just stops.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::Stream;
use thiserror::Error;
use tokio::sync::mpsc;
use tonic::codegen::tokio_stream::wrappers::ReceiverStream;
use tonic::{Status, Streaming};

use crate::actors::gateway::GatewayContext;
use crate::actors::mailbox::IncomingCargo;
use crate::backends::queue::QueueName;
use crate::backends::{BackendError, BackendErrorKind};
use crate::protocols::awala::error::ProtocolErrorKind;
use crate::protocols::awala::ramf::{Cargo, RamfError, ValidationError};
use crate::protocols::cogrpc::{
    deliver_cargo_disposition, CargoDelivery, CargoDeliveryAck, CargoDisposition, CogrpcEndpoint,
};
use crate::protocols::error_code::{GatewayErrorCode, HasErrorCode};
use crate::telemetry::{Binding, RequestOutcome};

/// The response stream of `DeliverCargo`.
pub type DeliverStream = Pin<Box<dyn Stream<Item = Result<CargoDeliveryAck, Status>> + Send>>;

/// ACKs written but not yet sent to the courier.
pub const ACK_BUFFER: usize = 4;

/// `stage` label of errors recorded here.
const STAGE: &str = "deliver_cargo";

/// Why one cargo was not accepted.
#[derive(Debug, Error)]
pub enum DeliverError {
    #[error("cargo is malformed: {0}")]
    Malformed(#[from] RamfError),
    #[error("cargo is invalid: {0}")]
    Invalid(#[from] ValidationError),
    /// Trusted, but addressed to another node (a sender deeper in our PKI).
    #[error("cargo is addressed to {0}, not to this gateway")]
    OtherRecipient(String),
    #[error("private gateway {0} was revoked")]
    Revoked(String),
    #[error("cargo could not be queued: {0}")]
    Backend(#[from] BackendError),
    /// The checking task failed (a panic while parsing untrusted bytes).
    #[error("cargo check failed: {0}")]
    Internal(String),
}

impl DeliverError {
    /// Bounded `error_type` label.
    fn label(&self) -> &'static str {
        match self {
            DeliverError::Malformed(_) => "cargo_malformed",
            DeliverError::Invalid(_) => "cargo_invalid",
            DeliverError::OtherRecipient(_) => "cargo_other_recipient",
            DeliverError::Revoked(_) => "cargo_sender_revoked",
            DeliverError::Backend(_) => "cargo_queue_failed",
            DeliverError::Internal(_) => "cargo_check_failed",
        }
    }
}

impl HasErrorCode for DeliverError {
    fn error_code(&self) -> GatewayErrorCode {
        match self {
            DeliverError::Malformed(error) if error.kind() == ProtocolErrorKind::TooLarge => {
                GatewayErrorCode::TooLarge
            }
            DeliverError::Malformed(_) => GatewayErrorCode::Malformed,
            DeliverError::Invalid(_)
            | DeliverError::OtherRecipient(_)
            | DeliverError::Revoked(_) => GatewayErrorCode::Forbidden,
            DeliverError::Backend(error) if error.kind == BackendErrorKind::Unavailable => {
                GatewayErrorCode::Unavailable
            }
            DeliverError::Backend(_) | DeliverError::Internal(_) => GatewayErrorCode::Internal,
        }
    }
}

/// Starts serving one `DeliverCargo` call: the returned stream carries its ACKs.
pub fn deliver_cargo(
    context: Arc<GatewayContext>,
    deliveries: Streaming<CargoDelivery>,
) -> DeliverStream {
    let (acks, receiver) = mpsc::channel(ACK_BUFFER);
    tokio::spawn(serve_call(context, deliveries, acks));
    Box::pin(ReceiverStream::new(receiver))
}

/// How a call ended, for the request metric.
enum CallEnd {
    /// Half-closed by the client after every cargo was answered.
    Completed,
    /// Cancelled by the client or its connection went away.
    Gone,
    /// Ended by us with `UNAVAILABLE`.
    Failed,
}

async fn serve_call(
    context: Arc<GatewayContext>,
    mut deliveries: Streaming<CargoDelivery>,
    acks: mpsc::Sender<Result<CargoDeliveryAck, Status>>,
) {
    let started = Instant::now();
    let end = loop {
        let delivery = match deliveries.message().await {
            Ok(Some(delivery)) => delivery,
            Ok(None) => break CallEnd::Completed,
            Err(status) => {
                tracing::debug!(code = ?status.code(), "cargo delivery call ended by the client");
                break CallEnd::Gone;
            }
        };
        let reply = match accept_cargo(&context, Bytes::from(delivery.cargo), Utc::now()).await {
            Ok(()) => Ok(CargoDeliveryAck { id: delivery.id }),
            Err(error) => {
                context.metrics.record_error(error.label(), STAGE);
                match deliver_cargo_disposition(error.error_code()) {
                    CargoDisposition::AckAndDrop => {
                        tracing::info!(%error, delivery_id = %delivery.id, "dropping cargo");
                        Ok(CargoDeliveryAck { id: delivery.id })
                    }
                    CargoDisposition::Fail(code) => {
                        tracing::warn!(%error, "cargo not accepted; ending the call");
                        Err(Status::new(code, "internal server error; try again later"))
                    }
                }
            }
        };
        let failed = reply.is_err();
        if acks.send(reply).await.is_err() {
            break CallEnd::Gone;
        }
        if failed {
            break CallEnd::Failed;
        }
    };
    let outcome = match end {
        CallEnd::Completed | CallEnd::Gone => RequestOutcome::Ok,
        CallEnd::Failed => RequestOutcome::Unavailable,
    };
    context.metrics.record_request(
        Binding::Cogrpc,
        CogrpcEndpoint::DeliverCargo.name(),
        outcome,
        started.elapsed(),
    );
}

/// Checks one cargo and puts it on the cargo mailbox; returns once the mailbox has it.
pub async fn accept_cargo(
    context: &Arc<GatewayContext>,
    cargo_bytes: Bytes,
    now: DateTime<Utc>,
) -> Result<(), DeliverError> {
    let checking = Arc::clone(context);
    let bytes = cargo_bytes.clone();
    // Signature checks are CPU work on untrusted bytes: a blocking thread, and a panic boundary.
    tokio::task::spawn_blocking(move || check_cargo(&checking, &bytes, now))
        .await
        .map_err(|join| DeliverError::Internal(join.to_string()))??;
    let message = IncomingCargo {
        cargo: cargo_bytes,
        received_at: now,
    };
    context
        .backends
        .queue
        .publish(QueueName::IncomingCargo, message.to_queue_message())
        .await?;
    Ok(())
}

/// Parses the cargo and validates it against our certificates: its sender must be a private
/// gateway we issued a certificate to, and we must be its recipient.
fn check_cargo(
    context: &GatewayContext,
    cargo_bytes: &[u8],
    now: DateTime<Utc>,
) -> Result<(), DeliverError> {
    let cargo = Cargo::deserialize_cached(cargo_bytes, &context.certificate_cache)?;
    let anchors = context.identity.trust_anchors(now);
    cargo.validate_with_trust(&anchors, &context.validation_context(now))?;
    if cargo.recipient().id != context.identity.node_id() {
        return Err(DeliverError::OtherRecipient(cargo.recipient().id.clone()));
    }
    context
        .check_not_revoked(cargo.sender_certificate().subject_id(), now)
        .map_err(DeliverError::Revoked)?;
    Ok(())
}

#[cfg(test)]
#[path = "deliver_tests.rs"]
mod tests;
