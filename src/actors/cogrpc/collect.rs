//! `CollectCargo`: a courier presents a CCA and receives the cargo we build for its private
//! gateway (protocol notes §7.3, §8.3).
//!
//! Every check runs before the response stream exists, so a refused CCA ends the call with its
//! status and no message. The CCA is recorded as used before any cargo is built: two couriers
//! racing with one CCA get one stream between them. The cargo itself is built feeding a bounded
//! channel, so a courier reads cargo while the next one is built and a slow courier holds back
//! the building; the stream ends with OK after the last cargo (none when nothing is queued), or
//! with `UNAVAILABLE` if building fails.
//!
//! Each call is an actor ([`CollectCall`], like a PoWeb collection session) whose two steps,
//! the checks and the building, run in [`protect`]ed tasks. A panic in either ends the call with
//! the status of [`CollectError::Task`] (never a premature OK that would tell the courier it has
//! everything). Nothing is lost with it: building cargo deletes nothing (parcels go only with a
//! PCA, a PoWeb ACK or expiry), so the courier's next call collects the same parcels. The actor
//! is not restarted in place: a new call (a new CCA) is its restart.

use std::pin::Pin;
use std::sync::Arc;

use actix::prelude::*;
use chrono::{DateTime, Utc};
use futures::Stream;
use tokio::sync::{mpsc, oneshot};
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
use crate::supervision::{protect, start_with_capacity};

/// The response stream of `CollectCargo`.
pub type CollectStream = Pin<Box<dyn Stream<Item = Result<CargoDelivery, Status>> + Send>>;

/// Cargo ready and waiting for the courier while the next one is built.
const READY_CARGO: usize = 1;

/// The `actor` label of a call (in `gateway_errors_total` stages it is the endpoint's name).
pub const ACTOR_NAME: &str = "cogrpc_collect_cargo";

/// Checks the CCA in `metadata` and returns the stream of cargo for its private gateway.
pub async fn collect_cargo(
    context: Arc<GatewayContext>,
    metadata: &MetadataMap,
) -> Result<CollectStream, Status> {
    let (accepted, answer) = oneshot::channel();
    let (sink, receiver) = mpsc::channel(READY_CARGO);
    let call = CollectCall {
        context,
        metadata_opt: Some(metadata.clone()),
        now: Utc::now(),
        accepted_opt: Some(accepted),
        sink_opt: Some(sink),
    };
    // tonic runs handlers in plain tokio tasks, outside any arbiter's `LocalSet`, so the actor
    // is started by the arbiter of this thread (actix's system one in `serve`). It takes no
    // messages: its work is the two protected steps it spawns itself.
    match actix_rt::Arbiter::try_current() {
        Some(arbiter) => {
            // A refusal drops the call, and with it `accepted`: answered below.
            arbiter.spawn_fn(move || {
                start_with_capacity(call, 1);
            });
        }
        None => {
            tracing::error!("CollectCargo called outside an actix system");
            drop(call);
        }
    }
    match answer.await {
        Ok(Ok(())) => Ok(Box::pin(futures::stream::unfold(
            receiver,
            |mut receiver| async move { receiver.recv().await.map(|item| (item, receiver)) },
        ))),
        Ok(Err(status)) => Err(status),
        // The actor stopped without answering (its arbiter is going away).
        Err(_) => Err(CollectError::Task("the call stopped before answering".into()).to_status()),
    }
}

/// One `CollectCargo` call: checks the CCA, answers whether the stream may start, then builds
/// the cargo into the stream. Holds nothing a new call could not rebuild from the stores.
pub struct CollectCall {
    context: Arc<GatewayContext>,
    metadata_opt: Option<MetadataMap>,
    now: DateTime<Utc>,
    accepted_opt: Option<oneshot::Sender<Result<(), Status>>>,
    sink_opt: Option<DeliverySink>,
}

impl Actor for CollectCall {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let Some(metadata) = self.metadata_opt.take() else {
            return ctx.stop();
        };
        let checks = start(self.context.clone(), metadata, self.now);
        ctx.spawn(protect(checks).into_actor(self).map(|outcome, call, ctx| {
            match outcome.unwrap_or_else(|panic| Err(CollectError::Task(panic.message))) {
                Ok(plan) => {
                    call.answer(Ok(()));
                    call.build(plan, ctx);
                }
                Err(error) => {
                    report(&call.context, &error);
                    call.answer(Err(error.to_status()));
                    ctx.stop();
                }
            }
        }));
    }
}

impl CollectCall {
    fn answer(&mut self, outcome: Result<(), Status>) {
        if let Some(accepted) = self.accepted_opt.take() {
            // The caller may be gone (the courier hung up); nothing else to tell.
            let _ = accepted.send(outcome);
        }
    }

    /// Builds the cargo. A failure, panics included, ends the stream with its status.
    fn build(&mut self, plan: CargoPlan, ctx: &mut Context<Self>) {
        let Some(sink) = self.sink_opt.take() else {
            return ctx.stop();
        };
        let failure_sink = sink.clone();
        let pg_id = plan.pg_id.clone();
        let building = stream_cargo(self.context.clone(), plan, sink);
        ctx.spawn(
            protect(building)
                .into_actor(self)
                .map(move |outcome, call, ctx| {
                    match outcome.unwrap_or_else(|panic| Err(CollectError::Task(panic.message))) {
                        Ok(cargo_count) => {
                            tracing::info!(%pg_id, cargo_count, "cargo collected");
                            ctx.stop();
                        }
                        Err(error) => {
                            report(&call.context, &error);
                            let status = error.to_status();
                            // The courier may be gone already; nothing else to tell. Stop once the
                            // status is in the stream (it waits for room behind the ready cargo).
                            let ending = async move {
                                let _ = failure_sink.send(Err(status)).await;
                            };
                            ctx.wait(ending.into_actor(call).map(|(), _, ctx| ctx.stop()));
                        }
                    }
                }),
        );
    }
}

/// The checks, in REF's order, then the CCA recorded as used: what building needs.
async fn start(
    context: Arc<GatewayContext>,
    metadata: MetadataMap,
    now: DateTime<Utc>,
) -> Result<CargoPlan, CollectError> {
    let cca = authorize_cca(&context, &metadata, now).await?;
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
    Ok(CargoPlan {
        pg_id,
        pg_certificate,
        cda,
        peer_session_key,
        now,
    })
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
