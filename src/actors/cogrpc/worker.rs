//! The cargo unwrapping workers: supervised actors that consume the cargo mailbox, one job at a
//! time each (prefetch 1), and acknowledge a job only once its effects are durable (DESIGN §3, §4).
//!
//! A job ends in one of three ways:
//! - done, or the cargo can never be unwrapped (malformed, no key of ours opens it): ack, and
//!   count it in `gateway_cargo_unwrapped_total{outcome}`;
//! - a storage or key-store failure: retry with capped exponential backoff, so the cargo comes
//!   back later; failures other than `Unavailable` dead-letter it after `max_attempts`;
//! - the worker itself fails (panic, the queue unreachable): the actor stops, its supervisor
//!   starts a fresh one after the restart policy's delay, and the job it held comes back with
//!   its consumer gone. A job that keeps killing workers is dead-lettered by its attempt count.
//!
//! Each consumer's supervisor sits under a root of its own: when the supervisor runs out of
//! restarts it escalates, and the root starts it afresh after its own backoff, for ever (the
//! subtree is reported failing in `/health` meanwhile). No consumer stays stopped.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use chrono::Utc;
use tracing::Instrument;

use super::unwrap::unwrap_cargo;
use crate::actors::mailbox::IncomingCargo;
use crate::actors::parcel_router::ParcelRouter;
use crate::backends::queue::{Delivery, QueueName};
use crate::backends::{BackendError, BackendErrorKind};
use crate::config::Role;
use crate::protocols::error_code::{GatewayErrorCode, HasErrorCode};
use crate::supervision::faults::FaultPoint;
use crate::supervision::{protect, ChildLink, RestartCause, RestartPolicy, Supervisor};
use crate::telemetry::CargoOutcome;

/// The `actor` label of the unwrapping workers.
pub const ACTOR_NAME: &str = "cargo_unwrapper";
/// The `actor` label of each consumer's root, and the component's name in `/health`.
pub const COMPONENT: &str = "cargo_unwrapping";
/// `stage` label of errors recorded here.
const STAGE: &str = "cargo_unwrapping";

/// How the unwrapping workers run.
#[derive(Debug, Clone)]
pub struct UnwrapperSettings {
    /// Consumers working in parallel, each on one cargo at a time.
    pub consumers: usize,
    /// How often an idle worker reports the mailbox's depth.
    pub poll_interval: Duration,
    /// First delay before a failed cargo is retried; doubles per attempt up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Attempts after which a cargo that keeps failing other than with `Unavailable` (or keeps
    /// killing workers) is dead-lettered.
    pub max_attempts: u32,
    pub restart_policy: RestartPolicy,
    /// How each consumer's root restarts it once `restart_policy` is exhausted.
    pub root_policy: RestartPolicy,
}

impl Default for UnwrapperSettings {
    fn default() -> Self {
        UnwrapperSettings {
            consumers: 2,
            poll_interval: Duration::from_millis(500),
            initial_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(15 * 60),
            max_attempts: 10,
            restart_policy: RestartPolicy::default(),
            root_policy: RestartPolicy::for_root(),
        }
    }
}

impl UnwrapperSettings {
    fn backoff(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(20);
        self.initial_backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff)
    }
}

/// Starts `settings.consumers` supervised unwrapping workers on the current actix system, each
/// under a root that restarts it when its supervisor escalates.
pub fn start_cargo_unwrappers(
    router: Arc<ParcelRouter>,
    settings: UnwrapperSettings,
) -> Vec<Addr<Supervisor<Supervisor<CargoUnwrapper>>>> {
    let settings = Arc::new(settings);
    let consumers = settings.consumers.max(1);
    let context = router.context();
    let status = context
        .roles
        .register(Role::Workers.as_str(), COMPONENT, consumers);
    let metrics = context.metrics.clone();
    (0..consumers)
        .map(|_| {
            let subtree = {
                let (router, settings, status, metrics) = (
                    Arc::clone(&router),
                    Arc::clone(&settings),
                    Arc::clone(&status),
                    metrics.clone(),
                );
                move |link: ChildLink| {
                    let (router, worker_settings) = (Arc::clone(&router), Arc::clone(&settings));
                    Supervisor::new(
                        ACTOR_NAME,
                        settings.restart_policy.clone(),
                        move |link| CargoUnwrapper {
                            router: Arc::clone(&router),
                            settings: Arc::clone(&worker_settings),
                            link,
                        },
                        |_| {}, // The root hears of it through the link.
                    )
                    .with_metrics(metrics.clone())
                    .with_status(Arc::clone(&status), true)
                    .linked(link)
                }
            };
            Supervisor::root(
                COMPONENT,
                settings.root_policy.clone(),
                subtree,
                |escalation| {
                    tracing::error!(
                        actor = escalation.actor,
                        cause = escalation.cause.as_str(),
                        "cargo unwrapper keeps failing; still retrying at the longest backoff"
                    );
                },
            )
            .with_metrics(metrics.clone())
            .with_status(Arc::clone(&status), false)
            .start()
        })
        .collect()
}

/// One consumer of the cargo mailbox. Holds nothing it cannot rebuild: the job it was on when
/// it died goes back to the mailbox with its consumer.
pub struct CargoUnwrapper {
    router: Arc<ParcelRouter>,
    settings: Arc<UnwrapperSettings>,
    link: ChildLink,
}

impl Actor for CargoUnwrapper {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let work = consume(Arc::clone(&self.router), Arc::clone(&self.settings))
            .instrument(tracing::info_span!("actor", actor = "cargo_unwrapper"));
        ctx.spawn(protect(work).into_actor(self).map(|result, worker, ctx| {
            match result {
                Ok(Ok(())) => worker.link.completed(),
                Ok(Err(error)) => {
                    tracing::warn!(%error, "cargo unwrapper failed");
                    worker.link.fail(RestartCause::Error);
                }
                Err(panic) => {
                    tracing::error!(%panic, "cargo unwrapper panicked");
                    worker.link.fail(RestartCause::Panic);
                }
            }
            ctx.stop();
        }));
    }
}

/// Consumes the cargo mailbox one cargo at a time until the consumer fails or ends. The
/// consumer goes with the worker, and with it the cargo it held, which the mailbox delivers
/// again.
async fn consume(
    router: Arc<ParcelRouter>,
    settings: Arc<UnwrapperSettings>,
) -> Result<(), BackendError> {
    let context = router.context();
    let queue = &context.backends.queue;
    let mut consumer = queue.consume(QueueName::IncomingCargo, 1).await?;
    loop {
        let next = tokio::time::timeout(settings.poll_interval, consumer.next()).await;
        let delivery = match next {
            Err(_) => {
                report_depth(context).await?;
                continue;
            }
            Ok(None) => return Ok(()),
            Ok(Some(delivery)) => delivery?,
        };
        // Mid-work on purpose: the cargo must come back once its consumer is gone.
        context.faults.check(FaultPoint::CargoUnwrap);
        let span = tracing::info_span!(
            "cargo_unwrap",
            delivery = delivery.id.tag,
            attempts = delivery.attempts,
        );
        process(&router, &settings, delivery)
            .instrument(span)
            .await?;
    }
}

/// Nothing arrived for a while: report the mailbox's depth.
async fn report_depth(
    context: &crate::actors::gateway::GatewayContext,
) -> Result<(), BackendError> {
    let depth = context
        .backends
        .queue
        .depth(QueueName::IncomingCargo)
        .await?;
    let depth = i64::try_from(depth).unwrap_or(i64::MAX);
    context
        .metrics
        .set_mailbox_depth(QueueName::IncomingCargo.as_str(), depth);
    Ok(())
}

/// Unwraps one cargo and settles its delivery.
async fn process(
    router: &ParcelRouter,
    settings: &UnwrapperSettings,
    delivery: Delivery,
) -> Result<(), BackendError> {
    let context = router.context();
    let queue = &context.backends.queue;
    let metrics = &context.metrics;
    if delivery.attempts > settings.max_attempts {
        metrics.record_error("cargo_attempts_exhausted", STAGE);
        tracing::error!(attempts = delivery.attempts, "dead-lettering cargo");
        return settle(queue.dead_letter(&delivery.id, "too many attempts").await);
    }
    let incoming = match IncomingCargo::from_delivery(&delivery) {
        Ok(incoming) => incoming,
        Err(error) => {
            metrics.record_error("cargo_mailbox_message", STAGE);
            tracing::error!(%error, "dead-lettering a foreign cargo mailbox message");
            return settle(queue.dead_letter(&delivery.id, &error.to_string()).await);
        }
    };
    match unwrap_cargo(router, incoming.cargo, Utc::now()).await {
        Ok(report) => {
            tracing::debug!(?report, "cargo unwrapped");
            metrics.record_cargo_unwrapped(CargoOutcome::Ok);
            settle(queue.ack(&delivery.id).await)
        }
        Err(error) => match error.drop_outcome() {
            Some(outcome) => {
                tracing::info!(%error, "dropping cargo");
                metrics.record_cargo_unwrapped(outcome);
                settle(queue.ack(&delivery.id).await)
            }
            None => {
                metrics.record_error("cargo_unwrap_failed", STAGE);
                let transient = error.error_code() == GatewayErrorCode::Unavailable;
                if !transient && delivery.attempts >= settings.max_attempts {
                    tracing::error!(%error, attempts = delivery.attempts, "dead-lettering cargo");
                    return settle(queue.dead_letter(&delivery.id, &error.to_string()).await);
                }
                let delay = settings.backoff(delivery.attempts);
                tracing::warn!(%error, ?delay, "cargo unwrapping will be retried");
                settle(queue.retry(&delivery.id, delay).await)
            }
        },
    }
}

/// A stale delivery means another consumer has the cargo now: not this worker's failure.
fn settle(result: Result<(), BackendError>) -> Result<(), BackendError> {
    match result {
        Err(error) if error.kind == BackendErrorKind::Conflict => {
            tracing::warn!(%error, "cargo delivery went to another consumer meanwhile");
            Ok(())
        }
        other => other,
    }
}

#[cfg(test)]
#[path = "worker_tests.rs"]
mod tests;
