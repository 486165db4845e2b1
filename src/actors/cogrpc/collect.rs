//! `CollectCargo`: a courier presents a CCA and receives the cargo we build for its private
//! gateway (protocol notes §7.3, §8.3).
//!
//! Every check runs before the response stream exists, so a refused CCA ends the call with its
//! status and no message. The CCA is recorded as used before any cargo is built: two couriers
//! racing with one CCA get one stream between them. The cargo itself is built by a spawned
//! task feeding a bounded channel, so a courier reads cargo while the next one is built and a
//! slow courier holds back the building; the stream ends with OK after the last cargo (none
//! when nothing is queued), or with `UNAVAILABLE` if building fails.

use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::Stream;
use tokio::sync::mpsc;
use tonic::metadata::MetadataMap;
use tonic::Status;

use super::cargo_builder::{stream_cargo, CargoPlan, DeliverySink};
use super::cca_authorization::{authorize_cca, AuthorizedCca};
use super::collect_error::CollectError;
use crate::actors::gateway::GatewayContext;
use crate::backends::BackendError;
use crate::protocols::awala::keys::{SessionKey, SessionPublicKey};
use crate::protocols::cogrpc::{CargoDelivery, CogrpcEndpoint, CollectCargoStep};
use crate::protocols::error_code::HasErrorCode;

/// The response stream of `CollectCargo`.
pub type CollectStream = Pin<Box<dyn Stream<Item = Result<CargoDelivery, Status>> + Send>>;

/// Cargo ready and waiting for the courier while the next one is built.
const READY_CARGO: usize = 1;

/// Checks the CCA in `metadata` and returns the stream of cargo for its private gateway.
pub async fn collect_cargo(
    context: Arc<GatewayContext>,
    metadata: &MetadataMap,
) -> Result<CollectStream, Status> {
    let now = Utc::now();
    match start(context.clone(), metadata, now).await {
        Ok(stream) => Ok(stream),
        Err(error) => {
            report(&context, &error);
            Err(error.to_status())
        }
    }
}

async fn start(
    context: Arc<GatewayContext>,
    metadata: &MetadataMap,
    now: DateTime<Utc>,
) -> Result<CollectStream, CollectError> {
    let cca = authorize_cca(&context, metadata, now).await?;
    // Before the CCA is used up: without a key to encrypt to, the courier may retry it later.
    let peer_session_key = peer_session_key(&context, &cca.pg_id).await?;
    let fresh = context
        .backends
        .metadata
        .record_cca_fulfilment(&cca.pg_id, &cca.cca_id, cca.cca_expiry)
        .await
        .map_err(CollectError::backend(CollectCargoStep::Replay))?;
    if !fresh {
        return Err(CollectError::AlreadyFulfilled);
    }
    let AuthorizedCca {
        pg_id,
        pg_certificate,
        cda,
        ..
    } = cca;
    let plan = CargoPlan {
        pg_id,
        pg_certificate,
        cda,
        peer_session_key,
        now,
    };
    let (sink, receiver) = mpsc::channel(READY_CARGO);
    spawn_producer(context, plan, sink);
    Ok(Box::pin(futures::stream::unfold(
        receiver,
        |mut receiver| async move { receiver.recv().await.map(|item| (item, receiver)) },
    )))
}

/// The private gateway's latest session key (normally the one its CCA just carried).
async fn peer_session_key(
    context: &GatewayContext,
    pg_id: &str,
) -> Result<SessionKey, CollectError> {
    let stored = context
        .backends
        .metadata
        .get_peer_session_key(pg_id)
        .await
        .map_err(CollectError::backend(CollectCargoStep::CargoGeneration))?
        .ok_or(CollectError::NoPeerSessionKey)?;
    let public_key = SessionPublicKey::from_spki_der(&stored.spki_der).map_err(|error| {
        CollectError::Backend {
            step: CollectCargoStep::CargoGeneration,
            source: BackendError::corrupt(format!("stored peer session key: {error}")),
        }
    })?;
    Ok(SessionKey {
        id: stored.key_id.into(),
        public_key,
    })
}

/// Builds the cargo in its own task. A failure, panics included, ends the stream with its
/// status instead of a premature OK that would tell the courier it has everything.
fn spawn_producer(context: Arc<GatewayContext>, plan: CargoPlan, sink: DeliverySink) {
    tokio::spawn(async move {
        let failure_sink = sink.clone();
        let pg_id = plan.pg_id.clone();
        let outcome = match tokio::spawn(stream_cargo(context.clone(), plan, sink)).await {
            Ok(outcome) => outcome,
            Err(join) => Err(CollectError::Task(join.to_string())),
        };
        match outcome {
            Ok(cargo_count) => {
                tracing::info!(%pg_id, cargo_count, "cargo collected");
            }
            Err(error) => {
                report(&context, &error);
                // The courier may be gone already; nothing else to tell.
                let _ = failure_sink.send(Err(error.to_status())).await;
            }
        }
    });
}

fn report(context: &GatewayContext, error: &CollectError) {
    let code = error.error_code();
    context
        .metrics
        .record_error(code.name(), CogrpcEndpoint::CollectCargo.name());
    if code.is_retriable() {
        tracing::error!(%error, step = ?error.step(), "cargo collection failed");
    } else {
        tracing::info!(%error, step = ?error.step(), "cargo collection refused");
    }
}

#[cfg(test)]
#[path = "collect_tests.rs"]
mod tests;
